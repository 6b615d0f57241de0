"""Évaluation : éléments de preuve sur des données construites à la main, questionnaires et anonymat,
droits, figement et adoption, avenants qui gardent l'état d'avant."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.evaluation import evidence, results, services
from cdv.evaluation.enums import EvaluationStatus, ItemKind, QuestionnaireStatus
from cdv.evaluation.models import (
    AmendmentChange,
    EvaluationReport,
    QuestionnaireResponse,
)
from cdv.evaluation.services import EvaluationError
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.monitoring.enums import ReportState
from cdv.monitoring.models import Feedback, ProgressReport, ReviewCampaign
from cdv.plan.models import Action, Objective
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Un contrat de deux QPV, deux enjeux, des engagements aux états connus, un indicateur."""
    contract = factories.ContractFactory()
    epci = contract.epci
    q1 = factories.QpvFactory(name="Quartier Nord", population=1000)
    q2 = factories.QpvFactory(name="Quartier Sud", population=3000)
    contract.qpvs.set([q1, q2])
    e1 = factories.EnjeuFactory(contract=contract, number=1, title="Emploi")
    e2 = factories.EnjeuFactory(contract=contract, number=2, title="Éducation")
    o1 = factories.ObjectiveFactory(enjeu=e1, number=1)
    o2 = factories.ObjectiveFactory(enjeu=e2, number=1)
    pilot = factories.MembershipFactory(contract=contract, role="PILOTE").user
    a, b = factories.PartnerFactory(name="Alpha"), factories.PartnerFactory(name="Bêta")

    def commit(partner, objective, status, scope="CONTRAT", qpvs=()):
        c = Commitment.objects.create(
            contract=contract, partner=partner, objective=objective, title="E", scope=scope, status=status
        )
        c.qpvs.set(qpvs)
        return c

    # Enjeu 1 : 5 engagements confirmés ou plus, 1 brouillon (ne compte pas).
    c_done = commit(a, o1, S.DONE, "QPV", [q1])
    commit(a, o1, S.PARTLY_DONE, "QPV", [q1])
    commit(a, o1, S.NOT_DONE)
    commit(b, o1, S.IN_PROGRESS, "QPV", [q2])
    commit(b, o1, S.ABANDONED)
    commit(b, o1, S.DRAFT)
    # Enjeu 2 : un engagement réalisé.
    commit(b, o2, S.DONE)
    CommitmentMeans.objects.create(
        commitment=c_done, year=2024, fte=2, amount_eur=10000, funding="DROIT_COMMUN"
    )
    CommitmentMeans.objects.create(
        commitment=c_done, year=2025, fte=2, amount_eur=10000, funding="DROIT_COMMUN"
    )
    CommitmentMeans.objects.create(
        commitment=c_done, year=2028, fte=9, amount_eur=99999, funding="DROIT_COMMUN"
    )
    for year, fte, eur, state in [
        (2024, 1, 4000, ReportState.ACCEPTED),
        (2025, 2, 11000, ReportState.ACCEPTED),
    ]:
        campaign = ReviewCampaign.objects.create(
            contract=contract,
            year=year,
            opens_on=datetime.date(year + 1, 1, 1),
            deadline=datetime.date(year + 1, 3, 1),
        )
        ProgressReport.objects.create(
            campaign=campaign, commitment=c_done, partner=a, fte_actual=fte, amount_actual=eur, state=state
        )
    campaign = ReviewCampaign.objects.get(contract=contract, year=2025)
    ProgressReport.objects.create(  # non accepté : ne compte pas
        campaign=campaign,
        commitment=commit(a, o1, S.IN_PROGRESS),
        partner=a,
        fte_actual=50,
        state=ReportState.SUBMITTED,
    )

    # Indicateur de l'enjeu 1 : taux en rapport des sommes. 2023 : QPV (100+600)/(1000+3000) = 17,5 %,
    # référence 10 % → écart 7,5 points. 2026 : (90+450)/(1000+3000) = 13,5 %, référence 9 % → 4,5 points.
    indicator = Indicator.objects.create(
        contract=contract,
        code="taux-test",
        name="Taux de test",
        enjeu=e1,
        unit="%",
        rate_scale=100,
        aggregation="RATIO",
        comparability_note="Série recalculée en 2025.",
    )
    for year, (n1, n2, ref) in {2023: (100, 600, 10), 2026: (90, 450, 9), 2029: (10, 10, 1)}.items():
        IndicatorValue.objects.create(
            indicator=indicator, territory=q1, year=year, numerator=n1, denominator=1000
        )
        IndicatorValue.objects.create(
            indicator=indicator, territory=q2, year=year, numerator=n2, denominator=3000
        )
        IndicatorValue.objects.create(indicator=indicator, territory=epci, year=year, value=ref)

    council = factories.PartnerFactory(name="Conseil citoyen Nord", kind="CONSEIL_CITOYEN")
    council.qpvs.set([q1])
    member = factories.MembershipFactory(contract=contract, role="CONSEILLER_CITOYEN", partner=council).user
    evaluator = factories.MembershipFactory(contract=contract, role="EVALUATEUR").user
    evaluation = services.create_evaluation(
        user=pilot,
        contract=contract,
        kind="MI_PARCOURS",
        title="Mi-parcours",
        period_start=2024,
        period_end=2026,
    )
    return {
        "contract": contract,
        "q1": q1,
        "q2": q2,
        "e1": e1,
        "e2": e2,
        "o1": o1,
        "o2": o2,
        "pilot": pilot,
        "member": member,
        "evaluator": evaluator,
        "evaluation": evaluation,
        "c_done": c_done,
    }


def test_evidence_realisation_rates_by_partner_enjeu_and_qpv(world):
    question = services.add_question(
        user=world["pilot"],
        evaluation=world["evaluation"],
        text="L'emploi progresse-t-il ?",
        criterion="EFFICACITE",
        enjeux=[world["e1"]],
    )
    [item] = evidence.assemble(world["evaluation"])
    assert item.question == question
    overall = item.overall
    # 6 engagés (dont l'engagement en cours ajouté pour le bilan non accepté) ; le brouillon ne compte pas.
    assert (overall.engaged, overall.done, overall.partly_done, overall.not_done, overall.abandoned) == (
        6,
        1,
        1,
        1,
        1,
    )
    assert overall.rate == Decimal("33.3") and overall.full_rate == Decimal("16.7")
    by_partner = {r.label: (r.engaged, r.rate) for r in item.by_partner}
    assert by_partner == {"Alpha": (4, Decimal("50.0")), "Bêta": (2, Decimal("0.0"))}
    assert [(r.label, r.engaged) for r in item.by_enjeu] == [("1. Emploi", 6)]
    by_qpv = {r.label: (r.engaged, r.rate) for r in item.by_qpv}
    assert by_qpv["Quartier Nord"] == (2, Decimal("100.0"))
    assert by_qpv["Quartier Sud"] == (1, Decimal("0.0"))
    assert by_qpv["Engagements de portée générale (tous les quartiers)"][0] == 3


def test_evidence_means_count_the_period_and_accepted_reports_only(world):
    services.add_question(
        user=world["pilot"],
        evaluation=world["evaluation"],
        text="Moyens ?",
        criterion="EFFICIENCE",
        objectives=[world["o1"]],
    )
    means = evidence.assemble(world["evaluation"])[0].means
    assert means.committed_fte == 4 and means.committed_eur == 20000  # 2028 hors période
    assert means.mobilised_fte == 3 and means.mobilised_eur == 15000  # le bilan transmis ne compte pas
    assert means.fte_ratio == Decimal("75.0") and means.eur_ratio == Decimal("75.0")


def test_evidence_indicator_gap_then_and_now_with_the_comparability_warning(world):
    services.add_question(
        user=world["pilot"],
        evaluation=world["evaluation"],
        text="L'écart se resserre-t-il ?",
        criterion="IMPACT",
        enjeux=[world["e1"]],
    )
    [item] = evidence.assemble(world["evaluation"])[0].indicators
    assert item.start.year == 2023 and item.start.qpv_value == Decimal("17.5")
    assert item.start.gap.points == Decimal("7.5")
    assert item.end.year == 2026 and item.end.qpv_value == Decimal("13.5")  # 2029 est hors période
    assert item.end.gap.points == Decimal("4.5")
    assert item.change.points == Decimal("-4.0")
    assert item.gap_change == Decimal("-3.0")
    assert item.warning == "Série recalculée en 2025."


def test_evidence_keeps_other_enjeux_apart_and_collects_published_feedback(world):
    q = services.add_question(
        user=world["pilot"],
        evaluation=world["evaluation"],
        text="Éducation ?",
        criterion="PERTINENCE",
        enjeux=[world["e2"]],
    )
    Feedback.objects.create(
        contract=world["contract"], kind="REUSSITE", text="Publié", enjeu=world["e2"], moderation="PUBLIE"
    )
    Feedback.objects.create(contract=world["contract"], kind="REUSSITE", text="En attente", enjeu=world["e2"])
    [item] = evidence.assemble(world["evaluation"])
    assert item.question == q and item.overall.engaged == 1 and item.overall.rate == Decimal("100.0")
    assert item.indicators == []
    assert [f.text for f in item.feedback] == ["Publié"]


def test_questionnaire_answers_are_anonymous_one_per_person_and_only_for_its_qpv(world):
    pilot, member, evaluation = world["pilot"], world["member"], world["evaluation"]
    question = services.add_question(user=pilot, evaluation=evaluation, text="Q ?", criterion="PARTICIPATION")
    north = services.create_questionnaire(
        user=pilot,
        evaluation=evaluation,
        qpv=world["q1"],
        title="Nord",
        items=[
            ("La vie a-t-elle changé ?", ItemKind.SCALE, question),
            ("Pourquoi ?", ItemKind.TEXT, question),
        ],
    )
    south = services.create_questionnaire(
        user=pilot,
        evaluation=evaluation,
        qpv=world["q2"],
        title="Sud",
        items=[("Note ?", ItemKind.SCALE, None)],
    )
    with pytest.raises(EvaluationError, match="tant que le questionnaire est ouvert"):
        services.submit_answers(user=member, questionnaire=north, answers={1: 4})
    services.set_questionnaire_status(user=pilot, questionnaire=north, status=QuestionnaireStatus.OPEN)
    services.set_questionnaire_status(user=pilot, questionnaire=south, status=QuestionnaireStatus.OPEN)
    services.submit_answers(user=member, questionnaire=north, answers={1: 2, 2: "Plus de bruit"})
    services.submit_answers(user=member, questionnaire=north, answers={1: 4, 2: "Plus calme"})  # corrige
    with pytest.raises(EvaluationError, match="conseil citoyen de ce quartier"):
        services.submit_answers(user=member, questionnaire=south, answers={1: 3})
    with pytest.raises(EvaluationError, match="la note va de 1 à 5"):
        services.submit_answers(user=member, questionnaire=north, answers={1: 9})
    with pytest.raises(EvaluationError, match="Question 7 inconnue"):
        services.submit_answers(user=member, questionnaire=north, answers={7: 1})
    services.enter_paper_response(user=pilot, questionnaire=north, answers={1: "5", 2: "Aire de jeux"})

    responses = QuestionnaireResponse.objects.filter(questionnaire=north)
    assert responses.count() == 2 and responses.filter(on_paper=True).count() == 1
    stored = " ".join(str(v) for v in responses.values_list("respondent_key", flat=True))
    assert str(member.pk) not in stored.split() and member.email not in stored
    [result, _] = results.questionnaire_results([north, south])
    scale, text = result.items
    assert (scale.count, scale.distribution, scale.mean) == (2, [0, 0, 0, 1, 1], Decimal("4.5"))
    assert text.texts == ["Aire de jeux", "Plus calme"]
    assert [i.item.pk for i in results.by_question([result])[question.pk]] == [scale.item.pk, text.item.pk]


def test_an_evaluator_judges_and_recommends_but_changes_no_commitment(world):
    evaluator, evaluation = world["evaluator"], world["evaluation"]
    question = services.add_question(
        user=world["pilot"], evaluation=evaluation, text="Q ?", criterion="IMPACT"
    )
    with pytest.raises(EvaluationError, match="Seul le pilote pose"):
        services.add_question(user=evaluator, evaluation=evaluation, text="Q2 ?", criterion="IMPACT")
    services.save_judgement(user=evaluator, question=question, scale=2, text="Premier avis.")
    judgement = services.save_judgement(user=evaluator, question=question, scale=3, text="Avis révisé.")
    assert [h.text for h in judgement.history.order_by("history_date")] == ["Premier avis.", "Avis révisé."]
    services.add_recommendation(
        user=evaluator, evaluation=evaluation, text="Renforcer.", enjeux=[world["e1"]]
    )
    with pytest.raises(EvaluationError, match="n'appartient pas à ce contrat"):
        services.add_recommendation(
            user=evaluator, evaluation=evaluation, text="X", enjeux=[factories.EnjeuFactory()]
        )
    with pytest.raises(EvaluationError, match="Seuls les évaluateurs"):
        services.save_judgement(user=world["member"], question=question, scale=1, text="Non.")

    from cdv.commitments import services as commitment_services
    from cdv.commitments.abilities import commitment_abilities

    assert not any(commitment_abilities(evaluator, world["c_done"]).get(k) for k in ("edit", "transition"))
    with pytest.raises(PermissionDenied, match="Vous ne pouvez pas modifier cet engagement"):
        commitment_services.update_commitment(
            user=evaluator,
            commitment=world["c_done"],
            data={"title": "Changé"},
            expected_version=world["c_done"].version,
        )
    world["c_done"].refresh_from_db()
    assert world["c_done"].title == "E"


def test_freezing_keeps_a_version_and_adoption_locks_the_evaluation(world):
    pilot, evaluation = world["pilot"], world["evaluation"]
    question = services.add_question(user=pilot, evaluation=evaluation, text="Q ?", criterion="IMPACT")
    services.save_judgement(user=world["evaluator"], question=question, scale=2, text="Avant.")
    v1 = services.freeze_report(user=pilot, evaluation=evaluation)
    services.save_judgement(user=world["evaluator"], question=question, scale=4, text="Après.")
    from cdv.monitoring.models import Meeting

    meeting = Meeting.objects.create(
        contract=world["contract"], kind="COPIL", title="COPIL", date="2027-06-01"
    )
    adopted = services.adopt(user=pilot, evaluation=evaluation, meeting=meeting, confirmed=True)
    v1.refresh_from_db()
    assert v1.payload["questions"][0]["judgement"]["text"] == "Avant."
    assert (
        adopted.version == 2
        and adopted.adopted
        and adopted.payload["questions"][0]["judgement"]["text"] == "Après."
    )
    assert len(adopted.checksum) == 64 and adopted.checksum != v1.checksum
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.ADOPTED and evaluation.adopting_meeting == meeting
    with pytest.raises(EvaluationError, match="adoptée : elle est figée"):
        services.save_judgement(user=world["evaluator"], question=question, scale=1, text="Trop tard.")
    with pytest.raises(EvaluationError, match="adoptée"):
        services.freeze_report(user=pilot, evaluation=evaluation)
    assert EvaluationReport.objects.filter(evaluation=evaluation).count() == 2


def test_only_the_pilot_opens_an_evaluation_within_the_contract_period(world):
    contract = world["contract"]
    with pytest.raises(EvaluationError, match="Seul le pilote"):
        services.create_evaluation(
            user=world["evaluator"],
            contract=contract,
            kind="FINALE",
            title="F",
            period_start=2024,
            period_end=2029,
        )
    with pytest.raises(EvaluationError, match="période doit rester"):
        services.create_evaluation(
            user=world["pilot"],
            contract=contract,
            kind="FINALE",
            title="F",
            period_start=2020,
            period_end=2029,
        )
    with pytest.raises(EvaluationError, match="déjà une évaluation"):
        services.create_evaluation(
            user=world["pilot"],
            contract=contract,
            kind="MI_PARCOURS",
            title="M",
            period_start=2024,
            period_end=2026,
        )


def test_an_amendment_changes_the_plan_and_keeps_the_earlier_version_readable(world):
    pilot, contract = world["pilot"], world["contract"]
    objective = world["o1"]
    old_title = objective.title
    amendment = services.create_amendment(
        user=pilot,
        contract=contract,
        signed_on=datetime.date(2027, 9, 1),
        reason="Suites de l'évaluation à mi-parcours",
        evaluation=world["evaluation"],
        changes=[
            {"model": "objective", "object": objective, "data": {"title": "Objectif recentré"}},
            {
                "model": "action",
                "object": None,
                "data": {
                    "objective": objective,
                    "code": "1.1.9",
                    "title": "Nouvelle action",
                    "summary_plain": "Nouvelle.",
                    "scope": "METROPOLE",
                },
            },
            {"model": "commitment", "object": world["c_done"], "data": {"target": "300 personnes"}},
        ],
    )
    assert amendment.number == 1
    changed, created, commitment_change = AmendmentChange.objects.filter(amendment=amendment).order_by("id")
    assert changed.before["title"] == old_title and changed.after["title"] == "Objectif recentré"
    assert created.kind == "CREATION" and created.before is None
    assert Action.objects.get(pk=created.object_id).title == "Nouvelle action"
    assert commitment_change.before["target"] == "" and commitment_change.after["target"] == "300 personnes"
    objective.refresh_from_db()
    last = objective.history.order_by("-history_date").first()
    assert last.history_change_reason.startswith("Avenant n° 1 : Suites de l'évaluation")
    assert objective.history.order_by("history_date").first().title == old_title


def test_a_bad_amendment_changes_nothing(world):
    pilot, contract = world["pilot"], world["contract"]
    other_objective = factories.ObjectiveFactory()
    before = Objective.objects.get(pk=world["o1"].pk).title
    with pytest.raises(EvaluationError, match="Changement 2 : cet objet n'appartient pas à ce contrat"):
        services.create_amendment(
            user=pilot,
            contract=contract,
            signed_on=datetime.date(2027, 9, 1),
            reason="Motif",
            changes=[
                {"model": "objective", "object": world["o1"], "data": {"title": "Changé"}},
                {"model": "objective", "object": other_objective, "data": {"title": "Volé"}},
            ],
        )
    with pytest.raises(EvaluationError, match="champ non modifiable par avenant : partner_id"):
        services.create_amendment(
            user=pilot,
            contract=contract,
            signed_on=datetime.date(2027, 9, 1),
            reason="Motif",
            changes=[{"model": "commitment", "object": world["c_done"], "data": {"partner_id": 1}}],
        )
    with pytest.raises(EvaluationError, match="Seul le pilote"):
        services.create_amendment(
            user=world["evaluator"],
            contract=contract,
            signed_on=datetime.date(2027, 9, 1),
            reason="M",
            changes=[{"model": "objective", "object": world["o1"], "data": {"title": "X"}}],
        )
    assert Objective.objects.get(pk=world["o1"].pk).title == before
    assert not contract.amendments.exists()


def test_the_adopted_version_says_adopted_with_its_date_and_meeting(world):
    from cdv.monitoring.models import Meeting

    meeting = Meeting.objects.create(
        contract=world["contract"], kind="COPIL", title="COPIL de juin", date="2027-06-01"
    )
    report = services.adopt(
        user=world["pilot"],
        evaluation=world["evaluation"],
        meeting=meeting,
        confirmed=True,
    )
    meta = report.payload["evaluation"]
    assert meta["status"] == "Adoptée par le comité de pilotage"
    assert meta["adopted_on"] == "2027-06-01" and meta["adopting_meeting"] == "COPIL de juin"


def test_evidence_keeps_only_decisions_of_public_meetings(world):
    from cdv.monitoring.models import Decision, Meeting

    services.add_question(
        user=world["pilot"],
        evaluation=world["evaluation"],
        text="Q ?",
        criterion="IMPACT",
        enjeux=[world["e1"]],
    )
    for kind in ("COPIL", "COTECH"):
        meeting = Meeting.objects.create(contract=world["contract"], kind=kind, title=kind, date="2026-03-01")
        Decision.objects.create(meeting=meeting, text=f"Décision {kind}").commitments.add(world["c_done"])
    assert [d.text for d in evidence.assemble(world["evaluation"])[0].decisions] == ["Décision COPIL"]


def test_the_create_amendment_command_applies_a_json_file_all_or_nothing(world, tmp_path):
    import json

    from django.core.management import CommandError, call_command

    pilot, contract = world["pilot"], world["contract"]
    pilot.email = "pilote.avenant@example.org"
    pilot.save()
    good = tmp_path / "avenant.json"
    good.write_text(
        json.dumps(
            {
                "date": "2027-09-15",
                "reason": "Suites de l'évaluation à mi-parcours",
                "evaluation": "mi-parcours",
                "changes": [
                    {"objective": "1.1", "data": {"title": "Objectif revu"}},
                    {"objective": None, "data": {"enjeu": 2, "number": 7, "title": "Objectif nouveau"}},
                ],
            }
        ),
        encoding="utf-8",
    )
    call_command("create_amendment", str(good), contract=contract.slug, user=pilot.email)
    amendment = contract.amendments.get()
    assert amendment.evaluation == world["evaluation"] and amendment.changes.count() == 2
    assert Objective.objects.get(pk=world["o1"].pk).title == "Objectif revu"
    assert Objective.objects.filter(enjeu=world["e2"], number=7, title="Objectif nouveau").exists()

    bad = tmp_path / "mauvais.json"
    bad.write_text(
        json.dumps(
            {
                "date": "2027-10-01",
                "reason": "Deuxième",
                "changes": [
                    {"objective": "1.1", "data": {"title": "Ne doit pas rester"}},
                    {"action": "9.9.9", "data": {"title": "Inconnue"}},
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="Changement 2 : action introuvable dans ce contrat"):
        call_command("create_amendment", str(bad), contract=contract.slug, user=pilot.email)
    assert Objective.objects.get(pk=world["o1"].pk).title == "Objectif revu"
    assert contract.amendments.count() == 1
