"""Gel de l'année, téléchargement de l'instantané figé et du bilan annuel PDF."""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.contracts.abilities import contract_abilities
from cdv.monitoring import yearly
from cdv.monitoring.abilities import campaign_abilities
from cdv.monitoring.confirmations import campaign_gaps
from cdv.monitoring.models import ReviewCampaign, Snapshot

from .helpers import confirmed_act, get_contract, require


def _campaign(request, slug, year):
    contract = get_contract(request, slug)
    require(
        contract_abilities(request.user, contract)["steer"],
        "Le bilan annuel et l'instantané de l'année sont réservés aux pilotes et aux évaluateurs.",
    )
    campaign = ReviewCampaign.objects.for_contract(contract).filter(year=year).first()
    if campaign is None:
        raise Http404("Aucune campagne de suivi de ce contrat ne porte cette année.")
    return contract, campaign


@login_required
@require_http_methods(["GET", "POST"])
def freeze(request, slug, year):
    """Page de confirmation (ce qui est incomplet, case « Je confirme ») puis gel de l'année."""
    contract, campaign = _campaign(request, slug, year)
    require(campaign_abilities(request.user, campaign)["manage"], "Seul un pilote du contrat fige l'année.")
    campaign.contract = contract
    error = ""
    if request.method == "POST":
        error = confirmed_act(
            request,
            lambda: yearly.freeze_year(user=request.user, campaign=campaign, confirmed=True),
            unchecked="Cochez la case « Je confirme » pour figer l'année.",
            done=f"Année {year} figée : l'instantané ne changera plus.",
        )
        if error is None:
            return redirect("www:review_campaign", slug=contract.slug, year=year)
    frozen = campaign.is_frozen
    return render(
        request,
        "review/confirm.html",
        {
            "contract": contract,
            "campaign": campaign,
            "act": "freeze",
            "title": f"Figer l'année {year}",
            "done": f"L'année {year} est déjà figée." if frozen else "",
            "gaps": [] if frozen else campaign_gaps(campaign, today=timezone.localdate(), act="freeze"),
            "error": error,
        },
    )


@login_required
def snapshot_file(request, slug, year):
    _, campaign = _campaign(request, slug, year)
    snapshot = Snapshot.objects.for_campaign(campaign).first()
    if snapshot is None:
        raise Http404("Cette année n'est pas figée.")
    content = json.dumps(
        {"checksum_sha256": snapshot.checksum, "payload": snapshot.payload}, ensure_ascii=False, indent=2
    )
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="instantane-{slug}-{year}.json"'
    return response


@login_required
def annual_report(request, slug, year):
    contract = get_contract(request, slug)
    require(
        contract_abilities(request.user, contract)["steer"],
        "Le bilan annuel et l'instantané de l'année sont réservés aux pilotes et aux évaluateurs.",
    )
    if not contract.start_year - 1 <= year <= contract.end_year:
        raise Http404("Cette année sort de la période du contrat.")
    response = HttpResponse(
        yearly.build_annual_report_pdf(contract=contract, year=year), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="bilan-annuel-{slug}-{year}.pdf"'
    return response
