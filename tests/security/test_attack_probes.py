"""Sondes inter-partenaires et inter-contrats des pages (hors engagements, que sonde
tests/security/permissions/), table 2 : une personne qui a des droits essaie un identifiant qui
n'est pas le sien : objet d'un autre contrat sous l'URL de Nantes, objet de Nantes sous l'URL d'un
autre contrat, objet du partenaire B, champ caché portant un partenaire, un engagement, un
indicateur, un quartier, une instance d'ailleurs. Attendu : 404, 403, une erreur de formulaire sans
aucune écriture, ou (pour un champ que le formulaire n'a pas) un champ ignoré.

La table 1 (chaque rôle sur chaque vue) est dans test_attack_roles_participation.py et
test_attack_roles_steering.py ; ce fichier vérifie aussi que chaque URL des pages est sondée par
l'une ou l'autre, ou dit pourquoi elle ne l'est pas. Le monde, l'empreinte de la base et les essais
annulés : attack_world.py.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db.models import F

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.evaluation import services as evaluation_services
from cdv.evaluation.enums import QuestionnaireStatus
from cdv.monitoring import services as review_services
from cdv.monitoring.enums import MeetingKind, ReportState
from cdv.monitoring.models import Feedback, ProgressReport
from cdv.seed.demo_evaluation import BELLEVUE
from cdv.users.enums import Role

from . import test_attack_roles_participation as participation
from . import test_attack_roles_steering as steering
from .attack_world import (
    KIND,
    YEAR,
    answers,
    body,
    cahier_file,
    changed_tables,
    clear_refusal,
    client_for,
    decision_post,
    feedback_post,
    fingerprint,
    foreign_field,
    meeting_post,
    n,
    o,
    recommendation_post,
    report_post,
    rolled_back,
    send,
    sent_and_undone,
    submitted,
    u,
    write_count,
)

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_the_fingerprint_sees_a_write_and_its_history_row(world):
    before = fingerprint()
    with rolled_back():
        draft = world["commitments"]["a_draft"]
        draft.title = "Changé"
        draft.save()
        changed = changed_tables(before, fingerprint())
    assert changed == ["commitments.Commitment", "commitments.HistoricalCommitment"]
    assert changed_tables(before, fingerprint()) == []  # et l'essai est bien annulé
    # Le compteur voit une écriture, même d'une ligne à l'identique ; une page lue (la session, elle,
    # est gardée) ne le fait pas bouger. L'essai qui écrit rend les tables changées, celui qui n'écrit
    # rien, aucune ; tous deux sont annulés.
    client = client_for(world, "editor_a")
    with rolled_back():
        start = write_count()
        Commitment.objects.filter(pk=draft.pk).update(title=F("title"))
        assert write_count() == start + 1
        start = write_count()
        response, changed = sent_and_undone(lambda: client.get(u("my_space")))
        assert (response.status_code, changed, write_count()) == (200, [], start)
        _, changed = sent_and_undone(draft.save)
        assert changed == ["commitments.Commitment", "commitments.HistoricalCommitment"]
    assert changed_tables(before, fingerprint()) == []


# --- Table 2 : identifiants devinés, forgés, pris ailleurs ---------------------------------------


@dataclass(frozen=True)
class Forged:
    name: str
    role: str  # qui essaie : quelqu'un qui a des droits, mais pas sur cet objet-là
    request: Callable  # world -> (url, data)
    expect: str  # "404", "403", "form" (erreur de formulaire, rien d'écrit) ou "ignored"
    message: str = ""  # ce que la réponse dit (en français)
    check: Callable | None = None  # pour "ignored" : world -> la valeur forgée n'a servi à rien
    method: str = "post"
    setup: Callable | None = None
    absent: str = ""  # ce que la réponse ne doit pas montrer


CHOICE = "Sélectionnez un choix valide"  # ModelChoiceField : l'identifiant n'est pas dans la liste


def new_feedback(world, role):
    author = world["users"][role]
    return Feedback.objects.filter(author=author).exclude(pk__in=[f.pk for f in world["feedback"].values()])


def report_untouched_but_saved(world):
    a, b = (ProgressReport.objects.get(pk=world["reports"][k].pk) for k in ("a", "b"))
    return (
        a.partner == world["a"]
        and a.commitment == world["commitments"]["a_confirmed"]
        and a.campaign == world["campaign"]
        and a.state == ReportState.DRAFT
        and a.reviewer_comment == ""
        and a.progress_pct == 40  # le reste du formulaire, lui, est enregistré
        and b.version == world["reports"]["b"].version
    )


def only_the_slot_value_is_written(world):
    from cdv.indicators.models import IndicatorValue

    values = IndicatorValue.objects.filter(indicator__in=[world["share"], world["other_indicator"]])
    return [(v.indicator_id, v.territory_id) for v in values] == [(world["share"].pk, world["qpv"].pk)]


def value_entered_by_b(world):
    """Préparation : le référent B a saisi dans son bilan la valeur 2025 de l'indicateur partagé."""
    review_services.save_indicator_values(
        user=world["users"]["editor_b"],
        report=world["reports"]["b"],
        values=[(world["share"], world["qpv"], 30)],
    )


def value_of_b_is_kept(world):
    from cdv.indicators.models import IndicatorValue

    value = IndicatorValue.objects.get(indicator=world["share"], territory=world["qpv"], year=YEAR)
    return value.value == 30 and value.comment == "Saisi par Partenaire B (sondes) dans le bilan 2025."


def commitment_form(world, **extra):
    objective = world["commitments"]["a_draft"].objective
    return {
        "objective": objective.pk,
        "title": "Engagement forgé",
        "scope": CommitmentScope.CONTRACT,
        **extra,
    }


def forged_commitment_is_a_nantes_draft_of_a(world):
    created = Commitment.objects.get(title="Engagement forgé")
    return created.partner == world["a"] and created.contract == world["nantes"] and created.status == S.DRAFT


FORGED_PROBES = [
    Forged(
        "bulk_validation: engagement d'un autre contrat",
        "pilot",
        lambda w: (
            u("dashboard", n(w)),
            {"engagements": [w["commitments"]["other_a"].pk], "action": "valider"},
        ),
        "form",
        "ne font pas partie du contrat",
        absent="Engagement de A ailleurs",
    ),
    # Retours d'expérience : l'identifiant est cherché dans le contrat de l'URL
    Forged(
        "feedback_edit: id d'un autre contrat sous Nantes",
        "pilot_other",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["other"].pk), feedback_post()),
        "404",
    ),
    Forged(
        "feedback_edit: id de Nantes sous un autre contrat",
        "editor_a",
        lambda w: (u("feedback_edit", o(w), w["feedback"]["a"].pk), feedback_post()),
        "404",
    ),
    Forged(
        "feedback_edit: le retour du partenaire B",
        "editor_a",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["b"].pk), feedback_post()),
        "404",
    ),
    Forged(
        "feedback_moderate: id d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("feedback_moderate", n(w), w["feedback"]["other"].pk), {"decision": "publier"}),
        "404",
    ),
    Forged(
        "feedback_moderate: id de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("feedback_moderate", o(w), w["feedback"]["a"].pk), {"decision": "publier"}),
        "404",
    ),
    Forged(
        "feedback_create: champ caché partenaire = B",
        "editor_a",
        lambda w: (u("feedback_create", n(w)), feedback_post(partner=w["b"].pk)),
        "ignored",
        check=lambda w: [f.partner for f in new_feedback(w, "editor_a")] == [w["a"]],
    ),
    Forged(
        "feedback_create: pilote, partenaire hors contrat",
        "pilot",
        lambda w: (u("feedback_create", n(w)), feedback_post(partner=w["outsider"].pk)),
        "ignored",
        check=lambda w: [f.partner for f in new_feedback(w, "pilot")] == [None],
    ),
    *[
        Forged(
            f"feedback_create: {name} d'un autre contrat",
            "editor_a",
            foreign_field("feedback_create", feedback_post, name, key),
            "form",
            CHOICE,
        )
        for name, key in [
            ("qpvs", "other_qpv"),
            ("enjeu", "other_enjeu"),
            ("actions", "other_action"),
            ("indicators", "other_indicator"),
        ]
    ],
    Forged(
        "feedback_create: engagement d'un autre contrat",
        "editor_a",
        lambda w: (u("feedback_create", n(w)), feedback_post(commitments=w["commitments"]["other_a"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "feedback_edit: engagement d'un autre contrat",
        "editor_a",
        lambda w: (
            u("feedback_edit", n(w), w["feedback"]["a"].pk),
            feedback_post(commitments=w["commitments"]["other_a"].pk),
        ),
        "form",
        CHOICE,
    ),
    # Instances et décisions
    Forged(
        "meeting_edit: instance d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("meeting_edit", n(w), w["other_cotech"].pk), meeting_post()),
        "404",
    ),
    Forged(
        "meeting_edit: instance de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("meeting_edit", o(w), w["cotech"].pk), meeting_post()),
        "404",
    ),
    Forged(
        "meeting_create: quartier d'un autre contrat",
        "pilot",
        lambda w: (
            u("meeting_create", n(w)),
            meeting_post(kind=MeetingKind.NEIGHBOURHOOD, qpv=w["other_qpv"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "meeting_create: participant hors contrat",
        "pilot",
        lambda w: (u("meeting_create", n(w)), meeting_post(participants=w["outsider"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "meeting_edit: participant hors contrat",
        "pilot",
        lambda w: (u("meeting_edit", n(w), w["cotech"].pk), meeting_post(participants=w["outsider"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "decision_create: instance d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("decision_create", n(w), w["other_cotech"].pk), decision_post()),
        "404",
    ),
    Forged(
        "decision_edit: décision d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("decision_edit", n(w), w["other_decision"].pk), decision_post()),
        "404",
    ),
    Forged(
        "decision_edit: décision de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("decision_edit", o(w), w["decision"].pk), decision_post()),
        "404",
    ),
    Forged(
        "decision_create: porteur hors contrat",
        "pilot",
        lambda w: (u("decision_create", n(w), w["cotech"].pk), decision_post(owner=w["outsider"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "decision_create: action d'un autre contrat",
        "pilot",
        lambda w: (u("decision_create", n(w), w["cotech"].pk), decision_post(actions=w["other_action"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "decision_edit: engagement d'un autre contrat",
        "pilot",
        lambda w: (
            u("decision_edit", n(w), w["decision"].pk),
            decision_post(commitments=w["commitments"]["other_a"].pk),
        ),
        "form",
        CHOICE,
    ),
    # Évaluation : l'évaluation en cours d'un autre contrat n'existe pas pour qui n'en est pas membre
    Forged(
        "judgement: évaluation d'un autre contrat",
        "pilot",
        lambda w: (u("evaluation_judgement", o(w), KIND, 1), {"q1-scale": 1, "q1-text": "Forgé"}),
        "404",
    ),
    Forged(
        "recommendation: évaluation d'un autre contrat",
        "evaluator",
        lambda w: (u("evaluation_recommendation", o(w), KIND), {"text": "Forgée"}),
        "404",
    ),
    Forged(
        "freeze: évaluation d'un autre contrat",
        "pilot",
        lambda w: (u("evaluation_freeze", o(w), KIND), {}),
        "404",
    ),
    Forged(
        "adopt: évaluation d'un autre contrat",
        "pilot",
        lambda w: (
            u("evaluation_adopt", o(w), KIND),
            {"meeting": w["other_copil"].pk, "confirm": "oui"},
        ),
        "404",
    ),
    Forged(
        "version_json: version d'un autre contrat",
        "pilot",
        lambda w: (u("evaluation_version_json", o(w), KIND, 1), {}),
        "404",
        method="get",
        setup=lambda w: evaluation_services.freeze_report(
            user=w["users"]["pilot_other"], evaluation=w["other_questionnaire"].evaluation
        ),
    ),
    *[
        Forged(
            f"recommendation: {name} d'un autre contrat",
            "evaluator",
            foreign_field("evaluation_recommendation", recommendation_post, name, key, KIND),
            "form",
            CHOICE,
        )
        for name, key in [("enjeux", "other_enjeu"), ("objectives", "other_objective")]
    ],
    Forged(
        "recommendation: engagement d'un autre contrat",
        "evaluator",
        lambda w: (
            u("evaluation_recommendation", n(w), KIND),
            recommendation_post(commitments=w["commitments"]["other_a"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "adopt: COPIL d'un autre contrat",
        "pilot",
        lambda w: (
            u("evaluation_adopt", n(w), KIND),
            {"meeting": w["other_copil"].pk, "confirm": "oui"},
        ),
        "form",
        CHOICE,
    ),
    # Questionnaires : le code du quartier est cherché dans l'évaluation de l'URL
    Forged(
        "questionnaire: quartier d'un autre contrat sous Nantes",
        "council",
        lambda w: (u("questionnaire", n(w), KIND, w["other_qpv"].code), {"item_1": "1"}),
        "404",
    ),
    Forged(
        "questionnaire: le conseil des Dervallières répond pour Bellevue",
        "council",
        lambda w: (u("questionnaire", n(w), KIND, BELLEVUE), answers(w["bell"])),
        "404",
    ),
    Forged(
        "questionnaire_results: le conseil des Dervallières lit Bellevue",
        "council",
        lambda w: (u("questionnaire_results", n(w), KIND, BELLEVUE), {}),
        "404",
        method="get",
    ),
    Forged(
        "questionnaire_paper: quartier d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("questionnaire_paper", n(w), KIND, w["other_qpv"].code), {"item_1": "1"}),
        "404",
    ),
    Forged(
        "questionnaire_status: questionnaire d'un autre contrat",
        "pilot",
        lambda w: (
            u("questionnaire_status", o(w), KIND, w["other_qpv"].code),
            {"status": QuestionnaireStatus.CLOSED},
        ),
        "404",
    ),
    # Suivi annuel : contrat, puis campagne, puis bilan, puis pièce jointe
    Forged(
        "review_report: bilan d'un autre contrat sous Nantes (pilote)",
        "pilot",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["other"].pk),
            report_post(w["reports"]["other"]),
        ),
        "404",
    ),
    Forged(
        "review_report: bilan d'un autre contrat sous Nantes (référent A)",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["other"].pk),
            report_post(w["reports"]["other"]),
        ),
        "404",
    ),
    Forged(
        "review_report: bilan de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("review_report", o(w), YEAR, w["reports"]["a"].pk), report_post(w["reports"]["a"])),
        "404",
    ),
    Forged(
        "review_report: le bilan du partenaire B",
        "editor_a",
        lambda w: (u("review_report", n(w), YEAR, w["reports"]["b"].pk), report_post(w["reports"]["b"])),
        "404",  # le bilan de B est invisible pour le partenaire A (docs/security.md, « Qui voit quoi »)
    ),
    Forged(
        "review_report: champs cachés partenaire, engagement, campagne, état",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(
                w["reports"]["a"],
                partner=w["b"].pk,
                commitment=w["commitments"]["b_confirmed"].pk,
                campaign=w["reports"]["other"].campaign_id,
                state=ReportState.ACCEPTED,
                reviewer_comment="Accepté par moi-même",
            ),
        ),
        "ignored",
        check=report_untouched_but_saved,
    ),
    Forged(
        "review_report: valeur d'indicateur hors des cases du bilan",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(
                w["reports"]["a"],
                indval_0="12",
                indval_1="99",
                indicator=w["other_indicator"].pk,
                territory=w["other_qpv"].pk,
            ),
        ),
        "ignored",
        check=only_the_slot_value_is_written,
    ),
    Forged(
        "review_report: écraser la valeur d'indicateur saisie par le partenaire B",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], indval_0="40"),
        ),
        "ignored",
        check=lambda w: value_of_b_is_kept(w) and report_untouched_but_saved(w),
        setup=value_entered_by_b,
    ),
    Forged(
        "review_accept: bilan d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("review_accept", n(w), YEAR, w["reports"]["other"].pk), {}),
        "404",
        setup=submitted("other"),
    ),
    Forged(
        "review_attachment_delete: pièce du bilan B sous le bilan A",
        "editor_a",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["b"].pk),
            {},
        ),
        "404",
    ),
    Forged(
        "review_attachment_delete: pièce du bilan B",
        "editor_a",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["b"].pk, w["attachments"]["b"].pk),
            {},
        ),
        "404",  # le bilan de B est invisible pour le partenaire A
    ),
    Forged(
        "review_attachment: pièce d'un autre contrat sous un bilan de Nantes",
        "pilot",
        lambda w: (
            u("review_attachment", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["other"].pk),
            {},
        ),
        "404",
        method="get",
    ),
    Forged(
        "review_attachment: pièce d'un autre contrat, sous son contrat",
        "editor_a",
        lambda w: (
            u("review_attachment", o(w), YEAR, w["reports"]["other"].pk, w["attachments"]["other"].pk),
            {},
        ),
        "403",
        method="get",
    ),
    Forged(
        "review_close: campagne d'un autre contrat",
        "pilot",
        lambda w: (u("review_close", o(w), YEAR), {"confirm": "oui"}),
        "403",
    ),
    Forged(
        "review_freeze: année d'un autre contrat",
        "pilot",
        lambda w: (u("review_freeze", o(w), YEAR), {"confirm": "oui"}),
        "403",
    ),
    Forged(
        "review_open_campaign: dans un autre contrat",
        "pilot",
        lambda w: (u("review_campaigns", o(w)), {"year": 2026, "deadline": "2027-03-31"}),
        "403",
    ),
    # Créer dans un contrat dont on n'est pas membre (ou sous une instance, une évaluation d'ailleurs)
    Forged(
        "feedback_create: dans un autre contrat",
        "editor_a",
        lambda w: (u("feedback_create", o(w)), feedback_post()),
        "403",
    ),
    Forged(
        "meeting_create: dans un autre contrat",
        "pilot",
        lambda w: (u("meeting_create", o(w)), meeting_post()),
        "403",
    ),
    Forged(
        "decision_create: sous l'instance d'un autre contrat, à son adresse",
        "pilot",
        lambda w: (u("decision_create", o(w), w["other_cotech"].pk), decision_post()),
        "404",
    ),
    Forged(
        "questionnaire_paper: questionnaire d'un autre contrat, à son adresse",
        "pilot",
        lambda w: (u("questionnaire_paper", o(w), KIND, w["other_qpv"].code), {"item_1": "1"}),
        "404",
    ),
    Forged(
        "review_return: bilan de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("review_return", o(w), YEAR, w["reports"]["a"].pk), {"comment": "Forgé"}),
        "404",
        setup=submitted("a"),
    ),
    Forged(
        "review_attachment_delete: pièce d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["other"].pk, w["attachments"]["other"].pk),
            {},
        ),
        "404",
    ),
    # Engagements : champs cachés des formulaires (les droits sont sondés par permissions/)
    Forged(
        "commitment_create: objectif d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, objective=w["other_objective"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: action d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, action=w["other_action"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: quartier d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, scope=CommitmentScope.QPV, qpvs=w["other_qpv"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: indicateur d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, indicators=w["other_indicator"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: champs cachés partenaire B et autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, partner=w["b"].pk, contract=w["other"].pk, status=S.CONFIRMED),
        ),
        "ignored",
        check=forged_commitment_is_a_nantes_draft_of_a,
    ),
    Forged(
        "commitment_create: partenaire hors contrat dans l'URL",
        "pilot",
        lambda w: (u("commitment_create", n(w), w["outsider"].slug), commitment_form(w)),
        "404",
    ),
    Forged(
        "commitment_edit: objectif d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_edit", n(w), w["commitments"]["a_draft"].pk),
            commitment_form(
                w, objective=w["other_objective"].pk, version=w["commitments"]["a_draft"].version
            ),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "action_options: objectif d'un autre contrat",
        "editor_a",
        lambda w: (u("action_options", n(w)), {"objective": w["other_objective"].pk}),
        "ignored",
        method="get",
        absent="Action d'un autre contrat",
    ),
    Forged(
        "action_options: objectif qui n'est pas un nombre",
        "editor_a",
        lambda w: (u("action_options", n(w)), {"objective": "1 OR 1=1"}),
        "ignored",
        method="get",
    ),
    # Cahier XLSX : les identifiants du fichier sont cherchés dans le contrat et le partenaire de l'URL
    Forged(
        "cahier_upload: le modèle de B téléversé chez A",
        "editor_a",
        lambda w: (u("cahier_upload", n(w), w["a"].slug), {"fichier": cahier_file(w["nantes"], w["b"])}),
        "form",
        "appartient à un autre partenaire",
    ),
    Forged(
        "cahier_upload: le modèle de A d'un autre contrat",
        "editor_a",
        lambda w: (u("cahier_upload", n(w), w["a"].slug), {"fichier": cahier_file(w["other"], w["a"])}),
        "form",
        "ne désigne aucun engagement de ce contrat",
    ),
    Forged(
        "cahier_upload: partenaire hors contrat",
        "pilot",
        lambda w: (
            u("cahier_upload", n(w), w["outsider"].slug),
            {"fichier": cahier_file(w["nantes"], w["a"])},
        ),
        "404",
    ),
    Forged(
        "cahier_upload: A dans un contrat où l'on n'est pas référent",
        "editor_a",
        lambda w: (u("cahier_upload", o(w), w["a"].slug), {"fichier": cahier_file(w["other"], w["a"])}),
        "403",
    ),
    # Pilotage
    Forged(
        "invitation: dans un autre contrat",
        "pilot",
        lambda w: (u("invitations", o(w)), {"email": "x@example.org", "role": Role.PILOT}),
        "403",
    ),
    Forged(
        "invitation: au nom d'un partenaire hors contrat",
        "pilot",
        lambda w: (
            u("invitations", n(w)),
            {"email": "x@example.org", "role": Role.EDITOR, "partner": w["outsider"].pk},
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "invitation: ajouter un partenaire à un autre contrat",
        "pilot",
        lambda w: (
            u("invitations", o(w)),
            {"action": "add_partner", "ajout-partner": w["outsider"].pk, "ajout-confirm": "on"},
        ),
        "403",
    ),
    # Géoréférencement : un traitement n'existe que pour qui l'a lancé
    Forged(
        "georef_record: le traitement de B",
        "editor_a",
        lambda w: (
            u("georef_record", w["jobs"]["b"].pk),
            {"cible": f"{w['commitments']['a_confirmed'].pk}-{w['share'].pk}", "annee": YEAR},
        ),
        "404",
    ),
    Forged(
        "georef_record: engagement du partenaire B",
        "editor_a",
        lambda w: (
            u("georef_record", w["jobs"]["a"].pk),
            {"cible": f"{w['commitments']['b_confirmed'].pk}-{w['share'].pk}", "annee": YEAR},
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "georef_record: engagement et indicateur d'un autre contrat",
        "editor_a",
        lambda w: (
            u("georef_record", w["jobs"]["a"].pk),
            {"cible": f"{w['commitments']['other_a'].pk}-{w['other_indicator'].pk}", "annee": YEAR},
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "georef_download: le traitement de B",
        "editor_a",
        lambda w: (u("georef_download", w["jobs"]["b"].pk), {}),
        "404",
        method="get",
    ),
    # Éditeur du plan : un objectif ou une action d'un autre contrat sous l'URL de Nantes
    Forged(
        "plan_objective_edit: objectif d'un autre contrat",
        "pilot",
        lambda w: (u("plan_objective_edit", n(w), w["other_objective"].pk), {"title": "Détourné"}),
        "404",
    ),
    Forged(
        "plan_archive: action d'un autre contrat",
        "pilot",
        lambda w: (u("plan_archive", n(w), "action", w["other_action"].pk), {}),
        "404",
    ),
    Forged(
        "plan_action_create: sous un objectif d'un autre contrat",
        "pilot",
        lambda w: (
            u("plan_action_create", n(w), w["other_objective"].pk),
            {"title": "Détournée", "summary_plain": "Une action ailleurs.", "all_qpvs": "on"},
        ),
        "404",
    ),
    # Jetons d'API
    Forged(
        "api_token_revoke: le jeton de B",
        "editor_a",
        lambda w: (u("my_space"), {"token_action": "revoke", "token": w["token_b"].pk}),
        "404",
    ),
    Forged(
        "api_token_revoke: identifiant qui n'est pas un nombre",
        "editor_b",
        lambda w: (u("my_space"), {"token_action": "revoke", "token": "1 OR 1=1"}),
        "404",
    ),
]


@pytest.mark.parametrize("probe", FORGED_PROBES, ids=lambda p: p.name)
def test_forged_ids_get_nowhere(world, probe):
    if probe.setup:
        probe.setup(world)
    client = client_for(world, probe.role)
    url, data = probe.request(world)
    if probe.expect == "ignored":  # ce qu'elle écrit reste, pour ``check``
        response, changed = send(client, probe.method, url, data), None
    else:
        response, changed = sent_and_undone(functools.partial(send, client, probe.method, url, data))
    text = body(response)
    if probe.expect == "ignored":
        assert response.status_code in {200, 302}, (response.status_code, text[:500])
        assert probe.check is None or probe.check(world), "la valeur forgée a servi"
    elif probe.expect == "form":
        assert response.status_code in {200, 409, 422}, (response.status_code, text[:500])
        assert changed == []
    else:
        assert response.status_code == int(probe.expect), (response.status_code, text[:500])
        assert clear_refusal(response)
        assert changed == []
    if probe.message:
        assert probe.message in text, text[:2000]
    if probe.absent:
        assert probe.absent not in text


def test_ignored_probes_do_write_something(world):
    """Les sondes « ignored » ne passent pas à vide : la requête réussit et écrit, sans la valeur forgée."""
    for probe in (p for p in FORGED_PROBES if p.expect == "ignored" and p.method == "post"):
        with rolled_back():
            client = client_for(world, probe.role)
            url, data = probe.request(world)
            response, changed = sent_and_undone(functools.partial(send, client, probe.method, url, data))
            assert response.status_code == 302, probe.name
            assert changed, probe.name


def test_a_value_entered_by_another_partner_is_shown_but_locked(world):
    value_entered_by_b(world)
    client = client_for(world, "editor_a")
    page = body(client.get(u("review_report", n(world), YEAR, world["reports"]["a"].pk)))
    assert 'name="indval_0"' in page and "disabled" in page.split('name="indval_0"')[1].split(">")[0]
    assert "Valeur déjà saisie (Saisi par Partenaire B (sondes) dans le bilan 2025)" in page
    # Son propre chiffre, le référent B le corrige toujours.
    client = client_for(world, "editor_b")
    response = client.post(
        u("review_report", n(world), YEAR, world["reports"]["b"].pk),
        report_post(world["reports"]["b"], indval_0="35"),
    )
    assert response.status_code == 302
    from cdv.indicators.models import IndicatorValue

    assert IndicatorValue.objects.get(indicator=world["share"], territory=world["qpv"], year=YEAR).value == 35


def test_the_service_itself_refuses_to_overwrite_another_partners_value(world):
    """Même appelé sans passer par la page (API, commande), le service ne remplace pas la valeur
    saisie par un autre partenaire : refus en français, rien d'écrit."""
    from cdv.indicators.models import IndicatorValue
    from cdv.monitoring.services import ReviewError

    value_entered_by_b(world)
    with pytest.raises(ReviewError, match="saisie ailleurs .Saisi par Partenaire B"):
        review_services.save_indicator_values(
            user=world["users"]["editor_a"],
            report=world["reports"]["a"],
            values=[(world["share"], world["qpv"], 99)],
        )
    assert value_of_b_is_kept(world)
    assert IndicatorValue.objects.filter(indicator=world["share"]).count() == 1


# --- Couverture : chaque URL des pages est sondée, ou l'on dit pourquoi elle ne l'est pas ici ------

NOT_PROBED_HERE = {
    # vue de l'État (lecture inter-contrats) : chaque rôle refusé, lecteur limité à ses contrats signés,
    # octroi par l'opérateur seul, dans tests/contracts/test_state_view.py et la matrice des droits
    "state_dashboard": "vue de l'État : tests/contracts/test_state_view.py, permissions/",
    "state_dashboard_xlsx": "vue de l'État : tests/contracts/test_state_view.py, permissions/",
    "cross_contract_readers": "vue de l'État : tests/contracts/test_state_view.py, permissions/",
    # appel à projets : chaque rôle × chaque page et écriture dans sa propre matrice
    "call_list": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_create": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_edit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_funders": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_settings": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_publish": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_archive": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_copy": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_drafts": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "partner_applications": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "partner_identity": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "partner_documents": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_create": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_project": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_budget": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_documents": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_submit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_withdraw": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_delete": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_answer": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_receipt": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_queue": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_instruction": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "funder_line_edit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "quartier_opinion": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "scores_edit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "request_info": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_pdf": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "programmation": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "programmation_xlsx": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "simulate_line": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "committee_vote": "appel à projets : tests/grants/test_grants_permissions_*.py",
    # versements (partie 2) : rôle par rôle dans tests/grants/test_payments_pages.py
    **dict.fromkeys(
        ["line_payments", "payment_cancel", "call_payments", "call_payments_xlsx"],
        "appel à projets : tests/grants/test_payments_pages.py",
    ),
    # actes attributifs (AAP, partie 2) : rôle par rôle dans tests/grants/test_acts_pages.py
    **dict.fromkeys(
        [
            "act_templates",
            "act_template_edit",
            "call_acts",
            "line_act",
            "act_docx",
            "act_pdf",
            "act_sign",
            "act_signed_file",
        ],
        "actes : tests/grants/test_acts_pages.py",
    ),
    "call_import": "import de Dauphin : tests/grants/test_import_pages.py",
    **dict.fromkeys(
        ["report", "report_budget", "report_beneficiaries", "report_submit", "report_pdf"],
        "compte-rendu financier (association) : tests/grants/test_reports_pages.py",
    ),
    **dict.fromkeys(
        ["report_review", "call_reports", "call_blocks", "call_block_lift"],
        "examen des comptes-rendus, blocages : tests/grants/test_review_pages.py",
    ),
    "call_results": "projets financés (public) : tests/grants/test_public_results.py",
    # engagements : tests/security/permissions/ (rôle × action × cible) ;
    # ici, leurs champs cachés
    "commitment_create": "matrice",
    "commitment_edit": "matrice",
    "commitment_transition": "matrice",
    "confirm_cahier": "matrice",
    "commitment": "matrice",
    # mêmes recherches que des pages sondées ici, mais qui fabriquent un PDF ou un DOCX
    "evaluation_document": "même recherche que evaluation_page",
    "evaluation_version_document": "même recherche que evaluation_version_json",
    "questionnaire_pdf": "même recherche que questionnaire_page",
    "annual_report": "même contrôle que review_snapshot",
    # éditeur du plan : mêmes contrôles que les sondes plan_* ci-dessus (refus par rôle et par
    # contrat : tests/plan/test_plan_editor.py)
    **dict.fromkeys(
        ["plan_enjeu_edit", "plan_action_create", "plan_action_edit", "plan_restore", "plan_delete"],
        "même contrôle que les sondes plan_*",
    ),
    # opérateur de l'instance (superutilisateur) seul : tests/contracts/test_new_contract.py
    "new_contract": "opérateur",
    # agenda et fil d'un contrat : lectures seules, par les fonctions de droits de chaque objet
    **dict.fromkeys(["agenda_ics", "news_atom"], "public, filtré par visible_to : tests/www/test_feeds.py"),
    # la personne connectée, et elle seule : aucun identifiant d'autrui dans la requête
    **dict.fromkeys(
        [
            "login",
            "logout",
            "password_reset",
            "password_reset_done",
            "password_reset_confirm",
            "password_reset_complete",
            "invitation",
            "proconnect_login",
            "login_code",
            "two_factor",
            "my_data",
            "delete_account",
            "my_feedback",
            "notifications",
        ],
        "soi",
    ),
    # pages publiques, sans écriture (les données ouvertes : test ci-dessous)
    **dict.fromkeys(
        [
            "home",
            "contracts",
            "contract",
            "indicators",
            "indicator",
            "qpv",
            "enjeu",
            "action",
            "partners",
            "partner",
            "search",
            "map",
            "map_geojson",
            "accessibility",
            "readability",
            "opendata",
            "datapackage",
            "opendata_file",
            "feedback_list",
            "meetings",
            "decisions",
            "evaluations",
            "amendments",
            "questionnaires",
        ],
        "public",
    ),
}


def test_every_page_url_is_probed_or_said_why_not(world):
    """Une nouvelle URL fait échouer ce test tant qu'on ne l'a pas sondée (ROLE_PROBES) ou classée."""
    from django.urls import URLPattern, resolve

    from cdv.www import urls as www_urls

    names = {p.name for p in www_urls.urlpatterns if isinstance(p, URLPattern)}
    role_probes = participation.ROLE_PROBES + steering.ROLE_PROBES
    probed = {resolve(probe.request(world)[0]).url_name for probe in role_probes}
    assert sorted(names - probed - set(NOT_PROBED_HERE)) == []
    assert sorted(probed & set(NOT_PROBED_HERE)) == []
    assert sorted(set(NOT_PROBED_HERE) - names) == []


def test_open_data_never_carries_what_is_not_public(world):
    """Les données ouvertes se lisent comme un anonyme, même pour un pilote connecté."""
    client = client_for(world, "pilot")
    secrets = ["Brouillon de A", "Brouillon de B", "Retour en attente de A", "Comité technique"]
    for resource in ("engagements", "partenaires"):
        response = client.get(u("opendata_file", n(world), resource, "csv"))
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig")
        assert "Ateliers de A" in text or resource != "engagements"
        assert [s for s in secrets if s in text] == []


def test_a_report_never_writes_into_an_official_series(world):
    """Un indicateur de la série officielle (import, pilote) attaché à l'engagement ne reçoit pas de
    valeur d'un bilan : sinon un partenaire publierait le chiffre officiel de la métropole."""
    from cdv.indicators.enums import Scope, ValueStatus
    from cdv.indicators.models import IndicatorValue
    from cdv.monitoring.services import ReviewError

    IndicatorValue.objects.create(
        indicator=world["share"],
        scope=Scope.TERRITORY,
        territory=world["qpv"],
        year=YEAR - 2,
        value=12,
        status=ValueStatus.FINAL,
        comment="Import INSEE",
    )
    with pytest.raises(ReviewError, match="série officielle"):
        review_services.save_indicator_values(
            user=world["users"]["editor_a"],
            report=world["reports"]["a"],
            values=[(world["share"], world["qpv"], 100)],
        )
    assert not IndicatorValue.objects.filter(indicator=world["share"], year=YEAR).exists()


def test_a_value_entered_in_a_report_keeps_its_commitment_of_origin(world):
    from cdv.indicators.models import IndicatorValue

    value_entered_by_b(world)
    value = IndicatorValue.objects.get(indicator=world["share"], territory=world["qpv"], year=YEAR)
    assert value.commitment == world["reports"]["b"].commitment
