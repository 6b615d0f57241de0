"""Pages de l'évaluation : droits par rôle, jugements et recommandations, questionnaires des conseils
citoyens (réponse en ligne et correction, saisie papier, version à imprimer, résultats agrégés),
avenants, requêtes bornées, données de démonstration. Figer, adopter, publier (et les documents du
rapport servis par ces pages) : test_evaluation_adoption.py, sur le même monde."""

import datetime
import html
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.commitments.enums import CommitmentScope, CommitmentStatus
from cdv.commitments.models import Commitment
from cdv.core.upsert import UpsertStats
from cdv.evaluation import services
from cdv.evaluation.enums import Criterion, EvaluationKind, EvaluationStatus, QuestionnaireStatus
from cdv.evaluation.models import (
    Amendment,
    Answer,
    Evaluation,
    EvaluationQuestion,
    Judgement,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    Recommendation,
)
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective
from cdv.seed.demo_evaluation import BELLEVUE, DERVALLIERES, TITLE, load_demo_evaluation
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import assert_pdf_ua_metadata, pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

SECRET_FIRST, SECRET_LAST = "Philomène", "Introuvable"
SECRET_EMAIL = "philomene.introuvable@example.org"
KIND = "mi-parcours"


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def world(nantes):
    evaluation = Evaluation.objects.get(contract=nantes, kind=EvaluationKind.MID_TERM)
    derv_council = Partner.objects.get(name="Conseil citoyen des Dervallières (démonstration)")
    bell_council = Partner.objects.get(name="Conseil citoyen de Bellevue (démonstration)")
    partner = factories.PartnerFactory(name="Partenaire des tests d'évaluation")
    factories.SignatoryFactory(contract=nantes, partner=partner)
    other = factories.ContractFactory(slug="autre-contrat-evaluation")
    specs = {
        "pilot": (nantes, None, Role.PILOT),
        "evaluator": (nantes, None, Role.EVALUATOR),
        "reader": (nantes, partner, Role.READER),
        "editor": (nantes, partner, Role.EDITOR),
        "council": (nantes, derv_council, Role.COUNCIL_MEMBER),
        "council_bellevue": (nantes, bell_council, Role.COUNCIL_MEMBER),
        "pilot_other": (other, None, Role.PILOT),
    }
    users = factories.users_by_role(specs)
    council_user = users["council"]
    council_user.first_name, council_user.last_name, council_user.email = (
        SECRET_FIRST,
        SECRET_LAST,
        SECRET_EMAIL,
    )
    council_user.save()
    return {
        "nantes": nantes,
        "other": other,
        "evaluation": evaluation,
        "users": users,
        "derv": Questionnaire.objects.get(evaluation=evaluation, qpv__code=DERVALLIERES),
        "bell": Questionnaire.objects.get(evaluation=evaluation, qpv__code=BELLEVUE),
    }


def login(client, world, role):
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return user


def url(name, *args):
    return reverse(f"www:{name}", args=["nantes-metropole-2024-2030", *args])


def q_url(name, questionnaire, *args):
    return url(name, KIND, questionnaire.qpv.code, *args)


def answers_post(questionnaire, values):
    """{numéro: valeur} → données du formulaire de réponse."""
    return {f"item_{number}": value for number, value in values.items()}


def items_of(questionnaire):
    return {i.number: i for i in questionnaire.items.all()}


def scale_and_text_numbers(questionnaire):
    items = list(questionnaire.items.order_by("number"))
    scale = next(i.number for i in items if i.kind == "ECHELLE")
    free = next(i.number for i in items if i.kind == "TEXTE")
    return scale, free


def copil(world):
    return Meeting.objects.filter(contract=world["nantes"], kind=MeetingKind.COPIL).first()


def adopt(client, world):
    login(client, world, "pilot")
    response = client.post(url("evaluation_adopt", KIND), {"meeting": copil(world).pk, "confirm": "oui"})
    assert response.status_code == 302, text(response)[:2000]
    client.logout()
    world["evaluation"].refresh_from_db()
    assert world["evaluation"].status == EvaluationStatus.ADOPTED


# --- Données de démonstration ------------------------------------------------------------------------


def test_demo_data_shows_a_mid_term_evaluation_under_way(nantes):
    evaluation = Evaluation.objects.get(contract=nantes, kind=EvaluationKind.MID_TERM)
    assert evaluation.title == TITLE and evaluation.is_demo
    assert evaluation.status == EvaluationStatus.IN_PROGRESS
    assert (evaluation.period_start, evaluation.period_end) == (2024, 2026)
    questions = list(evaluation.questions.prefetch_related("enjeux"))
    assert 4 <= len(questions) <= 6
    assert {e.number for q in questions for e in q.enjeux.all()} == {1, 2, 3, 4}
    assert len({q.criterion for q in questions}) >= 4
    judgements = Judgement.objects.filter(question__evaluation=evaluation).select_related("author")
    assert 2 <= judgements.count() <= 3
    assert {j.author.email for j in judgements} == {"evaluation@example.org"}
    assert Recommendation.objects.filter(evaluation=evaluation).count() == 2
    questionnaires = Questionnaire.objects.filter(evaluation=evaluation).select_related("qpv")
    assert {q.qpv.code for q in questionnaires} == {DERVALLIERES, BELLEVUE}
    for questionnaire in questionnaires:
        assert questionnaire.status == QuestionnaireStatus.OPEN
        # Le conseil citoyen du quartier existe, avec un compte de démonstration.
        council = Partner.objects.get(kind="CONSEIL_CITOYEN", is_demo=True, qpvs=questionnaire.qpv)
        assert council.memberships.filter(contract=nantes, role=Role.COUNCIL_MEMBER).exists()
        responses = QuestionnaireResponse.objects.filter(questionnaire=questionnaire)
        assert responses.count() >= 2 and responses.filter(on_paper=True).exists()
        answers = Answer.objects.filter(response__questionnaire=questionnaire)
        assert answers.exclude(scale_value=None).exists() and answers.exclude(text="").exists()
        # Les clés sont anonymes : ni courriel, ni identifiant lisible.
        for key in responses.values_list("respondent_key", flat=True):
            assert "@" not in key and len(key) >= 32


def test_demo_online_response_is_found_by_the_council_account(nantes):
    from cdv.users.models import User

    questionnaire = Questionnaire.objects.get(evaluation__contract=nantes, qpv__code=DERVALLIERES)
    user = User.objects.get(email="conseil.dervallieres@example.org")
    key = services.respondent_key(questionnaire, user)
    assert QuestionnaireResponse.objects.filter(questionnaire=questionnaire, respondent_key=key).exists()


def test_loading_demo_twice_creates_nothing_new(nantes):
    models = [
        Evaluation,
        EvaluationQuestion,
        Judgement,
        Recommendation,
        Questionnaire,
        QuestionnaireItem,
        QuestionnaireResponse,
        Answer,
        Partner,
    ]
    counts = [m.objects.count() for m in models]
    histories = [m.history.count() for m in (Evaluation, EvaluationQuestion, Judgement, Questionnaire)]
    call_command("load_demo_data", verbosity=0)
    assert [m.objects.count() for m in models] == counts
    assert [
        m.history.count() for m in (Evaluation, EvaluationQuestion, Judgement, Questionnaire)
    ] == histories
    stats = UpsertStats()
    load_demo_evaluation(nantes, stats)
    assert not stats.changed, stats.by_model


def test_demo_leaves_an_adopted_or_real_evaluation_alone(nantes):
    evaluation = Evaluation.objects.get(contract=nantes, kind=EvaluationKind.MID_TERM)
    Evaluation.objects.filter(pk=evaluation.pk).update(status=EvaluationStatus.ADOPTED, title="Adoptée")
    stats = UpsertStats()
    load_demo_evaluation(nantes, stats)
    assert not stats.changed
    assert Evaluation.objects.get(pk=evaluation.pk).title == "Adoptée"


# --- Lecture selon le rôle --------------------------------------------------------------------------


def test_members_see_the_evaluation_under_way_with_evidence_judgements_and_council_view(client, world):
    evaluation = world["evaluation"]
    question = evaluation.questions.get(number=1)
    login(client, world, "pilot")
    response = client.get(url("evaluation", KIND))
    assert response.status_code == 200
    page = text(response)
    assert evaluation.title in page and "Évaluation en cours" in page
    assert question.text in page
    assert "Éléments de preuve" in page and "Taux d'emploi des 15-64 ans (démonstration)" in page
    assert question.judgement.text in page
    assert "Avis des conseils citoyens" in page
    item = world["derv"].items.get(number=1)
    assert f"Les Dervallières — 1. {item.text}" in page
    assert "Historique du jugement" in page
    assert 'name="q1-scale"' in response.content.decode()  # le pilote peut juger
    assert "Ajouter une recommandation" in page and "Figer une nouvelle version" in page
    assert "data-label=" in response.content.decode() and "<caption>" in response.content.decode()
    assert response.content.decode().count("<h1") == 1


def test_reader_reads_but_neither_judges_nor_sees_council_answers_before_adoption(client, world):
    login(client, world, "reader")
    response = client.get(url("evaluation", KIND))
    assert response.status_code == 200
    page = text(response)
    assert "Éléments de preuve" in page
    assert 'name="q1-scale"' not in response.content.decode()
    assert "Ajouter une recommandation" not in page and "Figer une nouvelle version" not in page
    assert "Les Dervallières — 1." not in page  # l'avis des conseils attend l'adoption
    response = client.post(url("evaluation_judgement", KIND, 1), {"q1-scale": 4, "q1-text": "Non."})
    assert response.status_code == 403
    assert client.get(q_url("questionnaire_results", world["derv"])).status_code == 404


def test_anonymous_sees_nothing_of_an_evaluation_under_way(client, world):
    evaluation, derv = world["evaluation"], world["derv"]
    services.freeze_report(user=world["users"]["pilot"], evaluation=evaluation)
    listing = client.get(url("evaluations"))
    assert listing.status_code == 200 and evaluation.title not in text(listing)
    for address in [
        url("evaluation", KIND),
        url("questionnaires", KIND),
        q_url("questionnaire", derv),
        q_url("questionnaire_results", derv),
        url("evaluation_document", KIND, "pdf"),
        url("evaluation_version_json", KIND, 1),
    ]:
        assert client.get(address).status_code == 404, address
    response = client.post(url("evaluation_judgement", KIND, 1), {"q1-scale": 4, "q1-text": "x"})
    assert response.status_code in (302, 403, 404)
    assert response.status_code != 302 or "/connexion/" in response["Location"]


def test_council_member_sees_on_the_evaluation_page_only_the_view_of_its_quartier(client, world):
    login(client, world, "council")
    response = client.get(url("evaluation", KIND))
    assert response.status_code == 200
    page = text(response)
    assert "Les Dervallières — 1." in page and "Bellevue — 1." not in page
    assert 'name="q1-scale"' not in response.content.decode()
    assert client.post(url("evaluation_recommendation", KIND), {"text": "Non."}).status_code == 403


def test_other_contract_pilot_sees_nothing(client, world):
    login(client, world, "pilot_other")
    assert client.get(url("evaluation", KIND)).status_code == 404
    assert client.get(q_url("questionnaire", world["derv"])).status_code == 404


def test_unknown_kind_is_404(client, world):
    login(client, world, "pilot")
    assert client.get(url("evaluation", "intermediaire")).status_code == 404
    assert client.get(url("evaluation", "finale")).status_code == 404


# --- Questionnaires : le conseil citoyen de son quartier, et de lui seul -----------------------------


def test_council_member_sees_and_answers_only_the_questionnaire_of_its_quartier(client, world):
    derv, bell = world["derv"], world["bell"]
    login(client, world, "council")
    listing = client.get(url("questionnaires", KIND))
    assert listing.status_code == 200
    assert "Les Dervallières" in text(listing) and "Bellevue" not in text(listing)
    assert client.get(q_url("questionnaire", derv)).status_code == 200
    for name in ["questionnaire", "questionnaire_results", "questionnaire_pdf"]:
        assert client.get(q_url(name, bell)).status_code == 404, name
    scale, _ = scale_and_text_numbers(bell)
    before = QuestionnaireResponse.objects.filter(questionnaire=bell).count()
    assert client.post(q_url("questionnaire", bell), answers_post(bell, {scale: 5})).status_code == 404
    assert QuestionnaireResponse.objects.filter(questionnaire=bell).count() == before
    with pytest.raises(services.EvaluationError):
        services.submit_answers(user=world["users"]["council"], questionnaire=bell, answers={scale: 5})


def test_answering_then_correcting_keeps_one_response_per_person(client, world):
    derv = world["derv"]
    scale, free = scale_and_text_numbers(derv)
    user = login(client, world, "council")
    count = QuestionnaireResponse.objects.filter(questionnaire=derv).count()
    response = client.get(q_url("questionnaire", derv))
    assert "Envoyer ma réponse" in text(response)
    response = client.post(
        q_url("questionnaire", derv), answers_post(derv, {scale: 2, free: "Plus de bancs sur la place."})
    )
    assert response.status_code == 302
    assert QuestionnaireResponse.objects.filter(questionnaire=derv).count() == count + 1
    # Elle revient : sa réponse est reprise, elle la corrige.
    page = client.get(q_url("questionnaire", derv)).content.decode()
    assert "Enregistrer mes corrections" in page and "Plus de bancs sur la place." in page
    assert re.search(rf'name="item_{scale}" value="2"[^>]*checked', page)
    response = client.post(q_url("questionnaire", derv), answers_post(derv, {scale: 4, free: ""}))
    assert response.status_code == 302
    assert QuestionnaireResponse.objects.filter(questionnaire=derv).count() == count + 1
    mine = QuestionnaireResponse.objects.get(
        questionnaire=derv, respondent_key=services.respondent_key(derv, user)
    )
    assert [(a.item.number, a.scale_value, a.text) for a in mine.answers.select_related("item")] == [
        (scale, 4, "")
    ]
    # Aucune trace de la personne dans la réponse.
    assert SECRET_EMAIL not in mine.respondent_key and str(user.pk) != mine.respondent_key


def test_empty_or_invalid_answers_are_refused_with_a_named_error(client, world):
    derv = world["derv"]
    scale, _ = scale_and_text_numbers(derv)
    login(client, world, "council")
    response = client.post(q_url("questionnaire", derv), answers_post(derv, {scale: ""}))
    assert response.status_code == 200
    assert "répondez à au moins une question" in text(response)
    response = client.post(q_url("questionnaire", derv), answers_post(derv, {scale: 9}))
    assert response.status_code == 200 and "field-error" in response.content.decode()


def test_a_closed_questionnaire_cannot_be_answered(client, world):
    derv = world["derv"]
    scale, _ = scale_and_text_numbers(derv)
    login(client, world, "pilot")
    response = client.post(q_url("questionnaire_status", derv), {"status": QuestionnaireStatus.CLOSED})
    assert response.status_code == 302
    derv.refresh_from_db()
    assert derv.status == QuestionnaireStatus.CLOSED
    client.logout()
    count = QuestionnaireResponse.objects.filter(questionnaire=derv).count()
    login(client, world, "council")
    page = client.get(q_url("questionnaire", derv))
    assert page.status_code == 200 and "n'est pas ouvert aux réponses" in text(page)
    assert "Envoyer ma réponse" not in text(page)
    assert client.post(q_url("questionnaire", derv), answers_post(derv, {scale: 3})).status_code == 403
    assert QuestionnaireResponse.objects.filter(questionnaire=derv).count() == count
    # Ni réouverture (clos n'est pas « en préparation »), ni changement d'état par un membre.
    assert client.post(q_url("questionnaire_status", derv), {"status": "OUVERT"}).status_code == 403


def test_pilot_opens_a_draft_questionnaire_and_others_cannot(client, world):
    nantes, evaluation = world["nantes"], world["evaluation"]
    qpv = nantes.qpvs.get(code="QN04413M")
    draft = services.create_questionnaire(
        user=world["users"]["pilot"],
        evaluation=evaluation,
        qpv=qpv,
        title="Questionnaire de Malakoff",
        items=[("Le quartier a-t-il changé ?", "ECHELLE", None)],
    )
    login(client, world, "evaluator")
    assert client.post(q_url("questionnaire_status", draft), {"status": "OUVERT"}).status_code == 403
    client.logout()
    login(client, world, "pilot")
    listing = text(client.get(url("questionnaires", KIND)))
    assert "Malakoff" in listing and "En préparation" in listing
    assert client.post(q_url("questionnaire_status", draft), {"status": "OUVERT"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == QuestionnaireStatus.OPEN


def test_paper_entry_adds_an_anonymous_response(client, world):
    derv = world["derv"]
    scale, free = scale_and_text_numbers(derv)
    for role in ["council", "evaluator"]:
        login(client, world, role)
        assert client.get(q_url("questionnaire_paper", derv)).status_code == 403, role
        client.logout()
    login(client, world, "pilot")
    assert client.get(q_url("questionnaire_paper", derv)).status_code == 200
    paper = QuestionnaireResponse.objects.filter(questionnaire=derv, on_paper=True)
    total, on_paper = derv.responses.count(), paper.count()
    for value in (1, 5):
        response = client.post(
            q_url("questionnaire_paper", derv), answers_post(derv, {scale: value, free: "Écrit à la main."})
        )
        assert response.status_code == 302
    assert derv.responses.count() == total + 2 and paper.count() == on_paper + 2
    listing = text(client.get(url("questionnaires", KIND)))
    assert "Saisir un formulaire papier" in listing


def test_printable_questionnaire_pdf_contains_the_questions(client, world):
    derv = world["derv"]
    login(client, world, "council")
    response = client.get(q_url("questionnaire_pdf", derv))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert_pdf_ua_metadata(response.content, title=derv.title)
    content = pdf_text(response.content)
    content = re.sub(r"\s+", " ", content)
    assert "Les Dervallières" in content
    for item in derv.items.all():
        assert re.sub(r"\s+", " ", item.text)[:40] in content, item.text
    assert "pas du tout" in content and "tout à fait" in content
    assert SECRET_LAST not in content


def test_results_are_aggregated_and_never_say_who(client, world):
    derv = world["derv"]
    scale, free = scale_and_text_numbers(derv)
    user = world["users"]["council"]
    services.submit_answers(
        user=user, questionnaire=derv, answers={scale: 5, free: "Zèbre : un texte libre."}
    )
    login(client, world, "council")
    response = client.get(q_url("questionnaire_results", derv))
    assert response.status_code == 200
    page = text(response)
    count = derv.responses.count()
    assert f"Réponses {count}" in page
    assert "Zèbre : un texte libre." in page and "moyenne" in page
    key = services.respondent_key(derv, user)
    for secret in (SECRET_FIRST, SECRET_LAST, SECRET_EMAIL, key):
        assert secret not in response.content.decode()


# --- Jugements, recommandations : l'évaluateur juge, sans toucher aux engagements --------------------


def test_evaluator_writes_a_judgement_with_history(client, world):
    evaluation = world["evaluation"]
    question = evaluation.questions.get(number=3)
    login(client, world, "evaluator")
    response = client.post(
        url("evaluation_judgement", KIND, 3),
        {"q3-scale": 2, "q3-text": "Les marches exploratoires ont associé les habitantes."},
    )
    assert response.status_code == 302 and response["Location"].endswith("#question-3")
    judgement = Judgement.objects.get(question=question)
    assert judgement.scale == 2 and judgement.author == world["users"]["evaluator"]
    response = client.post(
        url("evaluation_judgement", KIND, 3), {"q3-scale": 3, "q3-text": "Après relecture : largement."}
    )
    assert response.status_code == 302
    assert judgement.history.count() == 2
    page = text(client.get(url("evaluation", KIND)))
    assert "Après relecture : largement." in page
    assert "Historique du jugement (2 versions)" in page
    assert str(world["users"]["evaluator"]) in page


def test_judgement_errors_are_shown_on_the_form(client, world):
    login(client, world, "evaluator")
    response = client.post(url("evaluation_judgement", KIND, 2), {"q2-scale": 9, "q2-text": ""})
    assert response.status_code == 200
    page = text(response)
    assert "Le jugement n'est pas enregistré" in page
    assert "Appréciation sur la question 2" in page and "Jugement argumenté sur la question 2" in page
    assert client.post(url("evaluation_judgement", KIND, 99), {"q99-scale": 1}).status_code == 404


def test_evaluator_cannot_change_a_commitment(client, world):
    commitment = Commitment.objects.filter(contract=world["nantes"], is_demo=True).first()
    state = (commitment.title, commitment.status, commitment.version)
    login(client, world, "evaluator")
    edit = reverse("www:commitment_edit", args=[world["nantes"].slug, commitment.pk])
    assert client.get(edit).status_code in (403, 404)
    response = client.post(edit, {"title": "Changé par l'évaluateur", "version": commitment.version})
    assert response.status_code in (403, 404)
    for transition in ["proposer", "valider", "renvoyer", "demarrer", "clore"]:
        address = reverse("www:commitment_transition", args=[world["nantes"].slug, commitment.pk, transition])
        assert client.post(address).status_code in (403, 404)
    commitment.refresh_from_db()
    assert (commitment.title, commitment.status, commitment.version) == state


def test_recommendations_link_only_the_contract_plan(client, world):
    nantes, other, evaluation = world["nantes"], world["other"], world["evaluation"]
    enjeu = Enjeu.objects.get(contract=nantes, number=2)
    objective = Objective.objects.filter(enjeu=enjeu).first()
    commitment = Commitment.objects.filter(contract=nantes).first()
    foreign = factories.EnjeuFactory(contract=other, number=1)
    login(client, world, "evaluator")
    count = Recommendation.objects.filter(evaluation=evaluation).count()
    response = client.post(
        url("evaluation_recommendation", KIND), {"text": "Relier l'aide aux devoirs.", "enjeux": [foreign.pk]}
    )
    assert response.status_code == 200
    assert "La recommandation n'est pas enregistrée" in text(response)
    assert Recommendation.objects.filter(evaluation=evaluation).count() == count
    response = client.post(
        url("evaluation_recommendation", KIND),
        {
            "text": "Relier l'aide aux devoirs aux permanences.",
            "enjeux": [enjeu.pk],
            "objectives": [objective.pk],
            "commitments": [commitment.pk],
        },
    )
    assert response.status_code == 302
    recommendation = Recommendation.objects.get(evaluation=evaluation, number=count + 1)
    assert list(recommendation.enjeux.all()) == [enjeu]
    assert list(recommendation.commitments.all()) == [commitment]
    page = text(client.get(url("evaluation", KIND)))
    assert "Relier l'aide aux devoirs aux permanences." in page and commitment.title in page


# --- Avenants ---------------------------------------------------------------------------------------


def test_amendments_page_shows_before_and_after(client, world):
    nantes, evaluation = world["nantes"], world["evaluation"]
    objective = Objective.objects.filter(enjeu__contract=nantes, enjeu__number=1, number=1).get()
    action = Action.objects.for_contract(nantes).get(code="1.1.2")
    old_title = objective.title
    draft = Commitment.objects.filter(contract=nantes, status=CommitmentStatus.DRAFT).first()
    services.create_amendment(
        user=world["users"]["pilot"],
        contract=nantes,
        signed_on=datetime.date(2027, 9, 1),
        reason="Suites de l'évaluation à mi-parcours.",
        evaluation=evaluation,
        changes=[
            {
                "model": "objective",
                "object": objective,
                "data": {"title": "Rapprocher de l'emploi, quartier par quartier"},
            },
            {"model": "action", "object": action, "data": {"status": "EN_COURS"}},
            {"model": "commitment", "object": draft, "data": {"target": "Trente permis par an"}},
        ],
    )
    response = client.get(url("amendments"))
    assert response.status_code == 200
    page = text(response)
    assert "Avenant n° 1 du 1 septembre 2027" in page or "Avenant n° 1 du 1er septembre 2027" in page
    assert "Suites de l'évaluation à mi-parcours." in page
    assert old_title in page and "Rapprocher de l'emploi, quartier par quartier" in page
    assert "Avant" in page and "Après" in page and "modifié" in page
    assert "Trente permis par an" not in page  # engagement non publié : hors du site public
    assert "1 changement porte sur des engagements pas encore publiés" in page
    assert evaluation.title not in page  # évaluation en cours : ni lien ni titre pour le public
    login(client, world, "reader")
    page = text(client.get(url("amendments")))
    assert "Trente permis par an" in page and evaluation.title in page
    assert Amendment.objects.filter(contract=nantes).count() == 1


def test_contract_nav_links_to_the_evaluation(client, world):
    content = client.get(reverse("www:contract", args=[world["nantes"].slug])).content.decode()
    assert url("evaluations") in content


# --- Requêtes bornées -------------------------------------------------------------------------------


def _count_queries(client, address):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_evaluation_page_queries_do_not_grow_with_questions_or_commitments(client, world):
    nantes, evaluation = world["nantes"], world["evaluation"]
    pilot = world["users"]["pilot"]
    login(client, world, "pilot")
    address = url("evaluation", KIND)
    client.get(address)  # caches de Django (types de contenu, sessions)
    before = _count_queries(client, address)
    enjeux = list(Enjeu.objects.filter(contract=nantes))
    objectives = list(Objective.objects.filter(enjeu__contract=nantes))
    partner = Partner.objects.get(name="Partenaire des tests d'évaluation")
    qpvs = list(nantes.qpvs.order_by("code")[:3])
    for index in range(4):
        question = services.add_question(
            user=pilot,
            evaluation=evaluation,
            text=f"Question ajoutée {index} ?",
            criterion=Criterion.IMPACT,
            enjeux=enjeux,
            objectives=objectives,
        )
        services.save_judgement(user=pilot, question=question, scale=2, text=f"Jugement {index}.")
        commitment = Commitment.objects.create(
            contract=nantes,
            partner=partner,
            objective=objectives[index % len(objectives)],
            title=f"Engagement confirmé {index}",
            scope=CommitmentScope.QPV,
            status=CommitmentStatus.CONFIRMED,
        )
        commitment.qpvs.set(qpvs)
        services.add_recommendation(
            user=pilot,
            evaluation=evaluation,
            text=f"Recommandation {index}.",
            enjeux=enjeux,
            objectives=objectives,
            commitments=[commitment],
        )
    after = _count_queries(client, address)
    assert after == before, (before, after)
    assert before < 80
