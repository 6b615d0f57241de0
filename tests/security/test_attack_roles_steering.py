"""Table 1 des sondes des pages, suivi et pilotage : chaque rôle (anonyme, lecteur A, référent A,
référent B, conseil citoyen, évaluateur, pilote d'un autre contrat, pilote) sur chaque vue du suivi
annuel (campagnes, bilans, pièces jointes, gel de l'année), des cahiers d'engagements, du pilotage
et du journal, de l'import des valeurs d'indicateurs et de l'éditeur du plan d'action. Qui a le
droit réussit (le cas positif : la sonde ne passe pas à vide) ; les autres reçoivent un refus clair
(403 « Action non autorisée », 404 « Page introuvable », ou la page de connexion pour l'anonyme), et
la base n'a pas bougé. Le monde et la mesure : attack_world.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cdv.users.enums import Role

from .attack_world import (
    INDICATOR_IMPORT,
    MEMBERS,
    PARTNER_A_READERS,
    PDF,
    STEERING,
    YEAR,
    P,
    cahier_file,
    check_role_probe,
    frozen_year,
    n,
    proposed_of_a,
    report_post,
    stored_indicator_csv,
    submitted,
    u,
)

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

ROLE_PROBES = [
    # Suivi annuel : campagnes, bilans, pièces jointes, gel de l'année
    P(
        "review_open_campaign",
        "post",
        lambda w: (u("review_campaigns", n(w)), {"year": 2026, "deadline": "2027-03-31"}),
        {"pilot"},
    ),
    P("review_campaigns_page", "get", lambda w: (u("review_campaigns", n(w)), {}), MEMBERS),
    P("review_dashboard", "get", lambda w: (u("review_campaign", n(w), YEAR), {}), {"pilot", "evaluator"}),
    P("review_close", "post", lambda w: (u("review_close", n(w), YEAR), {"confirm": "oui"}), {"pilot"}),
    P("review_remind_preview", "get", lambda w: (u("review_remind", n(w), YEAR), {}), {"pilot"}),
    P("review_remind", "post", lambda w: (u("review_remind", n(w), YEAR), {}), {"pilot"}),
    P("review_freeze", "post", lambda w: (u("review_freeze", n(w), YEAR), {"confirm": "oui"}), {"pilot"}),
    P(
        "review_snapshot",
        "get",
        lambda w: (u("review_snapshot", n(w), YEAR), {}),
        STEERING,
        setup=frozen_year,
    ),
    P(
        "review_partner_page",
        "get",
        lambda w: (u("review_partner", n(w), YEAR, w["a"].slug), {}),
        PARTNER_A_READERS,
    ),
    P(
        "review_report_save",
        "post",
        lambda w: (u("review_report", n(w), YEAR, w["reports"]["a"].pk), report_post(w["reports"]["a"])),
        {"editor_a"},
    ),
    P(
        "review_report_submit",
        "post",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], action="submit"),
        ),
        {"editor_a"},
    ),
    P(
        "review_report_indicator_value",
        "post",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], indval_0="42,5"),
        ),
        {"editor_a"},
    ),
    P(
        "review_report_attachment_upload",
        "post",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], attachment=SimpleUploadedFile("compte-rendu.pdf", PDF)),
        ),
        {"editor_a"},
    ),
    P(
        "review_report_page",
        "get",
        lambda w: (u("review_report", n(w), YEAR, w["reports"]["a"].pk), {}),
        PARTNER_A_READERS,
    ),
    P(
        "review_accept",
        "post",
        lambda w: (u("review_accept", n(w), YEAR, w["reports"]["a"].pk), {}),
        {"pilot"},
        setup=submitted("a"),
    ),
    P(
        "review_return",
        "post",
        lambda w: (
            u("review_return", n(w), YEAR, w["reports"]["a"].pk),
            {"comment": "Ajoutez les chiffres."},
        ),
        {"pilot"},
        setup=submitted("a"),
    ),
    P(
        "review_attachment_download",
        "get",
        lambda w: (u("review_attachment", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["a"].pk), {}),
        PARTNER_A_READERS,
    ),
    P(
        "review_attachment_delete",
        "post",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["a"].pk),
            {},
        ),
        {"editor_a"},
    ),
    # Cahiers d'engagements : documents, modèle, téléversement
    P(
        "cahier_upload",
        "post",
        lambda w: (
            u("cahier_upload", n(w), w["a"].slug),
            {"fichier": cahier_file(w["nantes"], w["a"], retitle=w["commitments"]["a_draft"])},
        ),
        {"pilot", "editor_a"},
        ok=200,
    ),
    P("cahier_xlsx", "get", lambda w: (u("cahier", n(w), w["a"].slug, "xlsx"), {}), MEMBERS),
    P(
        "cahier_template",
        "get",
        lambda w: (u("cahier_template", n(w), w["a"].slug), {}),
        {"pilot", "editor_a"},
    ),
    P("compilation_xlsx", "get", lambda w: (u("compilation", n(w), "xlsx"), {}), MEMBERS),
    P("partner_space", "get", lambda w: (u("partner_space", n(w), w["a"].slug), {}), MEMBERS),
    P(
        "action_options",
        "get",
        lambda w: (u("action_options", n(w)), {"objective": w["commitments"]["a_draft"].objective_id}),
        MEMBERS,
    ),
    # Pilotage et journal
    P("dashboard", "get", lambda w: (u("dashboard", n(w)), {}), STEERING),
    P("audit", "get", lambda w: (u("audit", n(w)), {}), {"pilot"}),
    P(
        "invitation",
        "post",
        lambda w: (
            u("invitations", n(w)),
            {"email": "invitee@example.org", "role": Role.READER, "partner": w["a"].pk},
        ),
        {"pilot"},
    ),
    P("invitations_page", "get", lambda w: (u("invitations", n(w)), {}), {"pilot"}),
    # Import des valeurs d'indicateurs à l'écran : pilotes du contrat seulement
    # Éditeur du plan d'action : pilotes du contrat seulement
    P("plan_outline", "get", lambda w: (u("plan", n(w)), {}), {"pilot"}),
    P("plan_export", "get", lambda w: (u("plan_export", n(w)), {}), {"pilot"}),
    P("plan_import_page", "get", lambda w: (u("plan_import", n(w)), {}), {"pilot"}),
    P(
        "plan_enjeu_create",
        "post",
        lambda w: (u("plan_enjeu_create", n(w)), {"title": "Enjeu ajouté par la sonde"}),
        {"pilot"},
    ),
    P(
        "plan_objective_create",
        "post",
        lambda w: (
            u("plan_objective_create", n(w), w["commitments"]["a_draft"].objective.enjeu_id),
            {"title": "Objectif ajouté par la sonde"},
        ),
        {"pilot"},
    ),
    P(
        "plan_objective_edit",
        "post",
        lambda w: (
            u("plan_objective_edit", n(w), w["commitments"]["a_draft"].objective_id),
            {"title": "Objectif renommé par la sonde"},
        ),
        {"pilot"},
    ),
    P(
        "plan_move",
        "post",
        lambda w: (
            u("plan_move", n(w), "objectif", w["commitments"]["a_draft"].objective_id, "descendre"),
            {},
        ),
        {"pilot"},
    ),
    P(
        "plan_archive",
        "post",
        lambda w: (u("plan_archive", n(w), "objectif", w["commitments"]["a_draft"].objective_id), {}),
        {"pilot"},
    ),
    P(
        "plan_history",
        "get",
        lambda w: (u("plan_history", n(w), "objectif", w["commitments"]["a_draft"].objective_id), {}),
        {"pilot"},
    ),
    P("indicator_import_page", "get", lambda w: (u("indicator_import", n(w)), {}), {"pilot"}),
    # (le dépôt n'écrit qu'un fichier, pas la base : refus des autres rôles testé dans
    # tests/indicators/test_indicator_import_screen.py)
    P(
        "indicator_import_preview",
        "get",
        lambda w: (u("indicator_import_preview", n(w), stored_indicator_csv(w)), INDICATOR_IMPORT),
        {"pilot"},
    ),
    P(
        "indicator_import_confirm",
        "post",
        lambda w: (
            u("indicator_import_preview", n(w), stored_indicator_csv(w)),
            {**INDICATOR_IMPORT, "empreinte": stored_indicator_csv(w)},
        ),
        {"pilot"},
    ),
    P(
        "bulk_validation",
        "post",
        lambda w: (u("dashboard", n(w)), {"engagements": [proposed_of_a(w).pk], "action": "valider"}),
        {"pilot"},
        setup=proposed_of_a,
    ),
]


@pytest.mark.parametrize("probe", ROLE_PROBES, ids=lambda p: p.name)
def test_each_role_on_each_view(world, probe):
    check_role_probe(world, probe)
