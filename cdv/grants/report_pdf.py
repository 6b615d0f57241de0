"""Le compte-rendu financier en PDF, mis en page comme le CERFA 15059*02 avec nos données
(WeasyPrint), pour que les financeurs hors de la plateforme reçoivent le même document.

Sections : 1. identification de l'association et de la ou des subventions (une ligne par financeur :
montant voté, référence de l'acte s'il y en a un) ; 2. le budget réalisé (prévu, réalisé, écart et
explication) ; 3. le bilan qualitatif (ce qui a été fait, bénéficiaires, part en QPV, indicateurs,
difficultés) ; pour les deux autres chemins, la déclaration (action non réalisée, nouvelles dates).
Rendu par ``grants/reports/pdf.html`` (échappement de Django) et la feuille
``documents/aap_dossier.css`` du dossier ; aucune ressource distante. Les droits ne sont pas
vérifiés ici : la vue les vérifie.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from cdv.commitments.documents import html_to_pdf

from .documents import CSS_PATH
from .enums import CHARGE_ACCOUNTS
from .followup import granted_lines
from .models import FinalReport
from .services.reports import budget_summary, needs_explanation, paid_total, variance_percent


def _act_reference(line) -> str:
    try:
        return line.act.reference
    except ObjectDoesNotExist:
        return ""


def report_pdf_context(report: FinalReport) -> dict:
    application = report.application
    lines = list(report.budget_lines.all())
    rows = [
        {
            "line": line,
            "variance": line.actual_amount - line.planned_amount,
            "percent": variance_percent(line.planned_amount, line.actual_amount),
            "flagged": needs_explanation(line.planned_amount, line.actual_amount),
        }
        for line in lines
        if line.planned_amount or line.actual_amount
    ]
    grants = [{"line": line, "act_reference": _act_reference(line)} for line in granted_lines(application)]
    return {
        "report": report,
        "application": application,
        "call": application.call,
        "contract": application.call.contract,
        "partner": application.partner,
        "grants": grants,
        "granted_total": sum((g["line"].voted_amount for g in grants), 0),
        "paid_total": paid_total(application),
        "charges": [r for r in rows if r["line"].account in CHARGE_ACCOUNTS],
        "income": [r for r in rows if r["line"].account not in CHARGE_ACCOUNTS],
        "totals": budget_summary(lines),
        "documents": list(report.documents.all()),
        "generated_at": timezone.localtime(),
    }


def build_report_pdf(report: FinalReport) -> bytes:
    html = render_to_string("grants/reports/pdf.html", report_pdf_context(report))
    return html_to_pdf(html, CSS_PATH)
