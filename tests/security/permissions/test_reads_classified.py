"""Garde de couverture des matrices des droits : chaque page et chaque lecture de l'API est classée.
Une nouvelle URL fait échouer ce test tant qu'on n'a pas dit où sa lecture est vérifiée : dans
test_partner_reads_*.py, test_contract_reads.py ou test_evaluation_reads.py (ce dossier), ou dans un
autre fichier nommé."""

from .partner_reads import READS
from .test_contract_reads import CONTRACT_READS
from .test_evaluation_reads import EVALUATION_READS

COVERED_ELSEWHERE = {
    # appel à projets : tests/grants/test_grants_permissions_*.py (chaque rôle × chaque page et écriture)
    **dict.fromkeys(
        [
            "call_list",
            "call_create",
            "call",
            "call_edit",
            "call_funders",
            "call_settings",
            "call_publish",
            "call_archive",
            "call_copy",
            "call_drafts",
            "partner_applications",
            "partner_identity",
            "partner_documents",
            "application_create",
            "application",
            "application_project",
            "application_budget",
            "application_documents",
            "application_submit",
            "application_withdraw",
            "application_delete",
            "application_answer",
            "application_receipt",
            "call_queue",
            "application_instruction",
            "funder_line_edit",
            "quartier_opinion",
            "scores_edit",
            "request_info",
            "application_pdf",
            "programmation",
            "programmation_xlsx",
            "simulate_line",
            "committee_vote",
        ],
        "tests/grants/test_grants_permissions_*.py",
    ),
    # actes attributifs (AAP, partie 2) : chaque rôle dans tests/grants/test_acts_pages.py
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
        "tests/grants/test_acts_pages.py",
    ),
    # appel à projets, import de Dauphin (pilote) : chaque rôle refusé, et le parcours
    "call_import": "tests/grants/test_import_pages.py",
    # appel à projets après le vote : versements, compte-rendu, examen, blocages, page publique
    **dict.fromkeys(
        ["line_payments", "payment_cancel", "call_payments", "call_payments_xlsx"],
        "tests/grants/test_payments_pages.py",
    ),
    **dict.fromkeys(
        ["report", "report_budget", "report_beneficiaries", "report_submit", "report_pdf"],
        "tests/grants/test_reports_pages.py",
    ),
    **dict.fromkeys(
        ["report_review", "call_reports", "call_blocks", "call_block_lift"],
        "tests/grants/test_review_pages.py",
    ),
    "call_results": "tests/grants/test_public_results.py",
    # agenda et fil d'un contrat : rien de non public pour un anonyme, les dates internes aux membres
    **dict.fromkeys(["agenda_ics", "news_atom"], "tests/www/test_feeds.py"),
    # publiques : rien de non publié (engagements filtrés par visible_commitments, vérifiés ci-dessus)
    **dict.fromkeys(
        [
            "home",
            "contracts",
            "contract",
            "indicators",
            "indicator",
            "action",
            "partners",
            "map",
            "map_geojson",
            "accessibility",
            "readability",
            "opendata",
            "datapackage",
            "opendata_file",
            "amendments",
            "questionnaires",
        ],
        "public ou filtré par les mêmes fonctions de droits",
    ),
    # comptes et pages personnelles
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
            "my_space",
            "two_factor",
            "my_data",
            "delete_account",
        ],
        "la personne elle-même (tests/users/test_accounts.py, tests/users/test_rgpd.py)",
    ),
    # notifications : les siennes seulement ; « Relancer maintenant » : pilote seul
    "notifications": "la personne elle-même (tests/notifications/test_notifications.py)",
    "review_remind": "pilote seul, aperçu puis envoi (tests/notifications/test_notifications.py)",
    # géoréférencement : l'enregistrement comme valeur d'indicateur (écriture)
    "georef_record": "tests/georef/test_georef_web.py, tests/security/test_attack_roles_participation.py",
    # écritures (et leurs formulaires) : test_commitment_writes_*.py (engagements), test_attack_roles_*
    **dict.fromkeys(
        [
            "commitment_create",
            "confirm_cahier",
            "commitment_edit",
            "commitment_transition",
            "action_options",
            "cahier_template",
            "cahier_upload",
            "feedback_create",
            "feedback_edit",
            "feedback_moderate",
            "meeting_create",
            "meeting_edit",
            "decision_create",
            "decision_edit",
            "evaluation_judgement",
            "evaluation_recommendation",
            "evaluation_freeze",
            "evaluation_adopt",
            "questionnaire",
            "questionnaire_paper",
            "questionnaire_status",
            "questionnaire_pdf",
            "review_campaigns",
            "review_close",
            "review_freeze",
            "review_accept",
            "review_return",
            "review_attachment_delete",
        ],
        "écriture ou formulaire : tests/security/test_attack_roles_*.py",
    ),
    # opérateur de l'instance (superutilisateur) seul
    "new_contract": "tests/contracts/test_new_contract.py",
    # vue de l'État : accorder la lecture inter-contrats, l'opérateur seul
    "cross_contract_readers": "tests/contracts/test_state_view.py",
    # import des valeurs d'indicateurs à l'écran : pilotes du contrat seulement
    **dict.fromkeys(
        ["indicator_import", "indicator_import_preview"],
        "tests/indicators/test_indicator_import_screen.py, tests/security/test_attack_roles_steering.py",
    ),
    # éditeur du plan d'action : pilotes du contrat seulement
    **dict.fromkeys(
        [
            "plan",
            "plan_export",
            "plan_import",
            "plan_enjeu_create",
            "plan_enjeu_edit",
            "plan_objective_create",
            "plan_objective_edit",
            "plan_action_create",
            "plan_action_edit",
            "plan_move",
            "plan_archive",
            "plan_restore",
            "plan_delete",
            "plan_history",
        ],
        "tests/plan/test_plan_editor.py",
    ),
    # avis des conseils dans les documents et versions : tests/evaluation/test_council_visibility.py
    **dict.fromkeys(
        ["evaluation_document", "evaluation_version_document", "evaluation_version_json"],
        "tests/evaluation/test_council_visibility.py",
    ),
}
WWW_READS = {
    "commitment": "commitment_page",
    "partner_space": "partner_space",
    "partner": "partner_page",
    "enjeu": "enjeu_page",
    "qpv": "qpv_page",
    "search": "search",
    "cahier": "cahier_pdf",
    "compilation": "compilation_pdf",
    "dashboard": "pilot_dashboard",
    "review_report": "report_page",
    "review_partner": "partner_reports",
    "review_attachment": "report_attachment",
    "review_campaign": "completeness_dashboard",
    "annual_report": "annual_report_pdf",
    "review_snapshot": "year_snapshot",
    "audit": "audit_log",
    "moderation": "moderation_queue",
    "feedback_list": "feedback_unpublished_list",
    "meeting": "meeting_not_copil",
    "evaluation": "evaluation_in_progress",
    "questionnaire_results": "council_results_in_progress",
    "invitations": "invitations",
    "my_feedback": "my_feedback",
    "meetings": "meeting_list",
    "decisions": "decisions_not_copil",
    "evaluations": "evaluation_list",
    "georef": "georef_list",
    "georef_job": "georef_job",
    "georef_job_status": "georef_job_status",
    "georef_download": "georef_download",
    "state_dashboard": "state_dashboard",
    "state_dashboard_xlsx": "state_dashboard_xlsx",
}
API_READS = {
    "get_commitment": "api_commitment",
    "list_commitments": "api_commitments",
    "get_partner": "api_partner",
    "get_feedback": "api_feedback_unpublished",
    "get_meeting": "api_meeting_not_copil",
    "get_evaluation": "api_evaluation_in_progress",
    "list_evaluations": "api_evaluation_list",
    "list_meetings": "api_meeting_list",
    "list_decisions": "api_decisions_not_copil",
    "list_feedback": "api_feedback_list",
    # appel à projets : chaque rôle × chaque lecture dans tests/grants/
    **dict.fromkeys(
        ["list_calls", "get_call", "list_applications", "get_application"], "tests/grants/test_grants_api.py"
    ),
    # publiques : référentiel, plan, indicateurs ; listes filtrées par les fonctions de droits
    **dict.fromkeys(
        [
            "list_qpv",
            "get_qpv",
            "list_contracts",
            "get_contract",
            "list_enjeux",
            "get_enjeu",
            "list_objectives",
            "get_objective",
            "list_actions",
            "get_action",
            "list_partners",
            "list_indicators",
            "indicator_values",
            "georef_point",
        ],
        "public ou filtré par les mêmes fonctions de droits",
    ),
}


def test_every_page_and_api_read_is_classified():
    from cdv.api.urls import api
    from cdv.www.urls import urlpatterns

    matrix = set(READS) | set(CONTRACT_READS) | set(EVALUATION_READS)
    for name, read in WWW_READS.items():
        assert read in matrix, name
    for name, read in API_READS.items():
        assert read in matrix or read.startswith("tests/") or read.startswith("public"), name
    names = {p.name for p in urlpatterns}
    assert names - set(WWW_READS) - set(COVERED_ELSEWHERE) == set(), "pages non classées"
    assert (set(WWW_READS) | set(COVERED_ELSEWHERE)) - names == set(), "pages disparues"
    operations = {
        op.operation_id
        for _, router in api._routers
        for path_view in router.path_operations.values()
        for op in path_view.operations
        if "GET" in op.methods
    }
    assert operations - set(API_READS) == set(), "lectures de l'API non classées"
