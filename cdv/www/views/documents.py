"""Cahiers d'engagements en PDF et XLSX, modèle XLSX et téléversement."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods

from cdv.commitments import abilities
from cdv.commitments.models import Commitment
from cdv.contracts.abilities import contract_abilities

from .helpers import get_contract, get_partner, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _members_only(request, contract):
    require(
        contract_abilities(request.user, contract)["view_internals"],
        "Les cahiers d'engagements complets sont réservés aux membres du contrat.",
    )


@login_required
def cahier(request, slug, partner_slug, fmt):
    from cdv.commitments.documents import build_cahier_pdf
    from cdv.commitments.xlsx_export import export_cahier_xlsx

    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    _members_only(request, contract)
    name = f"cahier-engagements-{slugify(partner.short_name or partner.name)[:50]}-{contract.slug}"
    if fmt == "pdf":
        visible = Commitment.objects.visible_to(request.user, contract)
        return _download(
            build_cahier_pdf(contract=contract, partner=partner, commitments=visible),
            "application/pdf",
            f"{name}.pdf",
        )
    content = export_cahier_xlsx(contract=contract, partner=partner, user=request.user)
    return _download(content, XLSX, f"{name}.xlsx")


@login_required
def compilation(request, slug, fmt):
    from cdv.commitments.documents import build_cahier_pdf
    from cdv.commitments.xlsx_export import export_cahier_xlsx

    contract = get_contract(request, slug)
    _members_only(request, contract)
    name = f"cahiers-engagements-{contract.slug}"
    if fmt == "pdf":
        visible = Commitment.objects.visible_to(request.user, contract)
        return _download(
            build_cahier_pdf(contract=contract, commitments=visible), "application/pdf", f"{name}.pdf"
        )
    return _download(export_cahier_xlsx(contract=contract, user=request.user), XLSX, f"{name}.xlsx")


@login_required
def template(request, slug, partner_slug):
    from cdv.commitments.xlsx_template import build_template_xlsx

    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    require(
        abilities.can_manage_cahier(request.user, contract, partner),
        "Réservé au référent du partenaire et au pilote.",
    )
    content = build_template_xlsx(contract=contract, partner=partner)
    return _download(content, XLSX, f"modele-engagements-{slugify(partner.name)[:50]}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, slug, partner_slug):
    from cdv.commitments.xlsx_import import MAX_UPLOAD_BYTES, import_commitments_xlsx

    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    require(
        abilities.can_manage_cahier(request.user, contract, partner),
        "Réservé au référent du partenaire et au pilote.",
    )
    report, error = None, None
    if request.method == "POST":
        upload = request.FILES.get("fichier")
        if upload is None:
            error = "Choisissez un fichier XLSX à téléverser."
        elif upload.size > MAX_UPLOAD_BYTES:
            error = f"Fichier trop volumineux : {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo au plus."
        else:
            report = import_commitments_xlsx(
                user=request.user, contract=contract, partner=partner, fileobj=upload, filename=upload.name
            )
    status = 422 if (error or (report and not report.ok)) else 200
    return render(
        request,
        "commitments/upload.html",
        {
            "contract": contract,
            "partner": partner,
            "report": report,
            "error": error,
            "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        status=status,
    )
