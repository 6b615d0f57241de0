"""Le dossier de demande en PDF, mis en page comme le CERFA 12156*06 avec nos données (WeasyPrint).

Sections : 1. identification de l'association ; 2. relations et moyens humains ; 3. le projet ;
4. le budget du projet (charges et produits par compte, le 74 détaillé par financeur de l'appel) ;
5. la déclaration sur l'honneur. Rendu par ``grants/instruction/pdf.html`` (échappement de Django)
et la feuille ``documents/aap_dossier.css`` ; aucune ressource distante (``LocalOnlyFetcher`` de
``cdv.commitments.documents``). Les droits ne sont pas vérifiés ici : la vue les vérifie, et passe
un dossier préchargé (``selectors_instruction.application_for_rights``, puis
``instruction_page_lookups``).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from cdv.commitments.documents import DOCUMENTS_DIR, html_to_pdf

from .enums import CHARGE_ACCOUNTS, INCOME_ACCOUNTS, Account
from .models import Application

CSS_PATH = DOCUMENTS_DIR / "aap_dossier.css"


def _accounts(lines, accounts):
    rows = []
    for account in accounts:
        items = [line for line in lines if line.account == account]
        rows.append({"account": Account(account), "items": items, "total": sum((i.amount for i in items), 0)})
    return rows


def application_pdf_context(application: Application) -> dict:
    budget_lines = list(application.budget_lines.all())
    funder_lines = list(application.funder_lines.all())
    charges = _accounts(budget_lines, CHARGE_ACCOUNTS)
    income = _accounts(budget_lines, INCOME_ACCOUNTS)
    requested = sum((line.requested_amount for line in funder_lines), 0)
    charges_total = sum((row["total"] for row in charges), 0)
    income_total = sum((row["total"] for row in income), 0) + requested
    return {
        "application": application,
        "call": application.call,
        "contract": application.call.contract,
        "partner": application.partner,
        "qpvs": list(application.qpvs.all()),
        "charges": charges,
        "income": income,
        "funder_lines": funder_lines,
        "requested_total": requested,
        "charges_total": charges_total,
        "income_total": income_total,
        "generated_at": timezone.localtime(),
    }


def build_application_pdf(application: Application) -> bytes:
    html = render_to_string("grants/instruction/pdf.html", application_pdf_context(application))
    return html_to_pdf(html, CSS_PATH)
