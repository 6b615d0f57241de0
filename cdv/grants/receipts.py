"""Le récépissé de dépôt d'un dossier, en PDF (WeasyPrint, comme les cahiers d'engagements) :
numéro, date, association, projet, montants demandés à chaque financeur."""

from django.template.loader import render_to_string
from django.utils import timezone

from cdv.commitments.documents import DOCUMENTS_DIR, html_to_pdf

from .models import Application

RECEIPT_CSS = DOCUMENTS_DIR / "aap_receipt.css"


def receipt_filename(application: Application) -> str:
    return f"recepisse-{application.number}.pdf"


def build_receipt_pdf(application: Application) -> bytes:
    """Octets du PDF ; ``application`` déposé (numéroté), ses ``funder_lines`` et ``budget_lines``
    de préférence préchargées."""
    from .services.applications import budget_totals

    html = render_to_string(
        "grants/applications/receipt.html",
        {
            "contract": application.call.contract,
            "call": application.call,
            "application": application,
            "totals": budget_totals(application),
            "generated_on": timezone.localdate(),
        },
    )
    return html_to_pdf(html, RECEIPT_CSS)
