"""Appel à projets, après le vote : actes (arrêtés, conventions), versements, compte-rendu
financier et son examen, blocages, page publique des projets financés, import de Dauphin."""

from django.urls import path

from ..views import grants_acts as acts
from ..views import grants_import as imports
from ..views import grants_payments as payments
from ..views import grants_public as public
from ..views import grants_report_review as review
from ..views import grants_reports as reports
from .grants import APPLICATION, CALL

LINE = APPLICATION + "lignes/<int:line_pk>/"
REPORT = APPLICATION + "compte-rendu/"

urlpatterns = [
    # Les actes : modèles par financeur, préparation, DOCX/PDF, acte signé
    path("contrats/<slug:slug>/aap/modeles-d-actes/", acts.act_templates, name="act_templates"),
    path(
        "contrats/<slug:slug>/aap/modeles-d-actes/<slug:partner_slug>/",
        acts.act_template_edit,
        name="act_template_edit",
    ),
    path(CALL + "actes/", acts.call_acts, name="call_acts"),
    path(LINE + "acte/", acts.line_act, name="line_act"),
    path(LINE + "acte.docx", acts.act_docx, name="act_docx"),
    path(LINE + "acte.pdf", acts.act_pdf, name="act_pdf"),
    path(LINE + "acte/signature/", acts.act_sign, name="act_sign"),
    path(LINE + "acte-signe/", acts.act_signed_file, name="act_signed_file"),
    # Les versements : échéancier, versements, retards
    path(LINE + "versements/", payments.line_payments, name="line_payments"),
    path(
        LINE + "versements/<int:payment_pk>/annulation/",
        payments.payment_cancel,
        name="payment_cancel",
    ),
    path(CALL + "versements/", payments.call_payments, name="call_payments"),
    path(CALL + "versements.xlsx", payments.call_payments_xlsx, name="call_payments_xlsx"),
    # Le compte-rendu financier : côté association
    path(REPORT, reports.report, name="report"),
    path(REPORT + "budget/", reports.report_budget, name="report_budget"),
    path(REPORT + "beneficiaires/", reports.report_beneficiaries, name="report_beneficiaries"),
    path(REPORT + "transmettre/", reports.report_submit, name="report_submit"),
    path(APPLICATION + "compte-rendu.pdf", reports.report_pdf, name="report_pdf"),
    # Le compte-rendu : examen par les financeurs, suivi, blocages
    path(REPORT + "examen/", review.report_review, name="report_review"),
    path(CALL + "comptes-rendus/", review.call_reports, name="call_reports"),
    path(CALL + "blocages/", review.call_blocks, name="call_blocks"),
    path(CALL + "blocages/<slug:partner_slug>/levee/", review.call_block_lift, name="call_block_lift"),
    # Public : les projets financés par l'appel
    path(CALL + "projets-finances/", public.call_results, name="call_results"),
    # Import de Dauphin (pilote)
    path(CALL + "import-dauphin/", imports.call_import, name="call_import"),
]
