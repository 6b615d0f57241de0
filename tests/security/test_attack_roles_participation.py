"""Table 1 des sondes des pages, participation et évaluation : chaque rôle (anonyme, lecteur A,
référent A, référent B, conseil citoyen, évaluateur, pilote d'un autre contrat, pilote) sur chaque
vue des retours d'expérience, des instances et décisions, de l'évaluation en cours, des
questionnaires des conseils citoyens, du géoréférencement et des jetons d'API. Qui a le droit
réussit (le cas positif : la sonde ne passe pas à vide) ; les autres reçoivent un refus clair (403
« Action non autorisée », 404 « Page introuvable », ou la page de connexion pour l'anonyme), et la
base n'a pas bougé. Le monde et la mesure : attack_world.py."""

import pytest

from cdv.evaluation.enums import QuestionnaireStatus
from cdv.monitoring.enums import DecisionStatus
from cdv.seed.demo_evaluation import DERVALLIERES

from .attack_world import (
    KIND,
    MEMBERS,
    ROLES,
    YEAR,
    P,
    answers,
    check_role_probe,
    decision_post,
    feedback_post,
    frozen_version,
    georef_upload,
    meeting_post,
    n,
    recommendation_post,
    u,
)

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

ROLE_PROBES = [
    # Retours d'expérience
    P(
        "feedback_create",
        "post",
        lambda w: (u("feedback_create", n(w)), feedback_post()),
        {"pilot", "editor_a", "editor_b", "reader_a", "council"},
    ),
    P(
        "feedback_edit",
        "post",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["a"].pk), feedback_post(text="Retour corrigé")),
        {"editor_a"},
    ),
    P(
        "feedback_edit_page",
        "get",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["a"].pk), {}),
        {"editor_a"},
    ),
    P(
        "feedback_moderate",
        "post",
        lambda w: (u("feedback_moderate", n(w), w["feedback"]["a"].pk), {"decision": "publier"}),
        {"pilot"},
    ),
    P("moderation_page", "get", lambda w: (u("moderation", n(w)), {}), {"pilot"}),
    # Instances et décisions
    P("meeting_create", "post", lambda w: (u("meeting_create", n(w)), meeting_post()), {"pilot"}),
    P(
        "meeting_edit",
        "post",
        lambda w: (u("meeting_edit", n(w), w["cotech"].pk), meeting_post(title="Titre changé")),
        {"pilot"},
    ),
    P("meeting_cotech_page", "get", lambda w: (u("meeting", n(w), w["cotech"].pk), {}), MEMBERS),
    P(
        "decision_create",
        "post",
        lambda w: (u("decision_create", n(w), w["cotech"].pk), decision_post()),
        {"pilot"},
    ),
    P(
        "decision_edit",
        "post",
        lambda w: (u("decision_edit", n(w), w["decision"].pk), decision_post(status=DecisionStatus.DONE)),
        {"pilot"},
    ),
    # Évaluation en cours
    P("evaluation_page", "get", lambda w: (u("evaluation", n(w), KIND), {}), MEMBERS),
    P(
        "evaluation_judgement",
        "post",
        lambda w: (
            u("evaluation_judgement", n(w), KIND, 1),
            {"q1-scale": 3, "q1-text": "Largement atteint."},
        ),
        {"pilot", "evaluator"},
    ),
    P(
        "evaluation_recommendation",
        "post",
        lambda w: (u("evaluation_recommendation", n(w), KIND), recommendation_post()),
        {"pilot", "evaluator"},
    ),
    P("evaluation_freeze", "post", lambda w: (u("evaluation_freeze", n(w), KIND), {}), {"pilot"}),
    P(
        "evaluation_adopt",
        "post",
        lambda w: (u("evaluation_adopt", n(w), KIND), {"meeting": w["copil"].pk, "confirm": "oui"}),
        {"pilot"},
    ),
    P(
        "evaluation_version_json",
        "get",
        lambda w: (u("evaluation_version_json", n(w), KIND, 1), {}),
        MEMBERS,
        setup=frozen_version,
    ),
    # Questionnaires des conseils citoyens
    P(
        "questionnaire_answer",
        "post",
        lambda w: (u("questionnaire", n(w), KIND, DERVALLIERES), answers(w["derv"])),
        {"council"},
    ),
    P(
        "questionnaire_page",
        "get",
        lambda w: (u("questionnaire", n(w), KIND, DERVALLIERES), {}),
        {"pilot", "evaluator", "council"},
    ),
    P(
        "questionnaire_paper",
        "post",
        lambda w: (u("questionnaire_paper", n(w), KIND, DERVALLIERES), answers(w["derv"])),
        {"pilot"},
    ),
    P(
        "questionnaire_status",
        "post",
        lambda w: (
            u("questionnaire_status", n(w), KIND, DERVALLIERES),
            {"status": QuestionnaireStatus.CLOSED},
        ),
        {"pilot"},
    ),
    P(
        "questionnaire_results",
        "get",
        lambda w: (u("questionnaire_results", n(w), KIND, DERVALLIERES), {}),
        {"pilot", "evaluator", "council"},
    ),
    # Géoréférencement : dépôt, traitements d'une personne, part en QPV → valeur d'indicateur
    P("georef_upload", "post", lambda w: (u("georef"), georef_upload()), set(ROLES) - {"anonymous"}),
    P("georef_job", "get", lambda w: (u("georef_job", w["jobs"]["a"].pk), {}), {"editor_a"}),
    P("georef_job_status", "get", lambda w: (u("georef_job_status", w["jobs"]["a"].pk), {}), {"editor_a"}),
    P("georef_download", "get", lambda w: (u("georef_download", w["jobs"]["a"].pk), {}), {"editor_a"}),
    P(
        "georef_record",
        "post",
        lambda w: (
            u("georef_record", w["jobs"]["a"].pk),
            {"cible": f"{w['commitments']['a_confirmed'].pk}-{w['share'].pk}", "annee": YEAR},
        ),
        {"editor_a"},
    ),
    # Jetons d'API : on ne révoque que les siens
    P(
        "api_token_revoke",
        "post",
        lambda w: (u("my_space"), {"token_action": "revoke", "token": w["token_b"].pk}),
        {"editor_b"},
    ),
]


@pytest.mark.parametrize("probe", ROLE_PROBES, ids=lambda p: p.name)
def test_each_role_on_each_view(world, probe):
    check_role_probe(world, probe)
