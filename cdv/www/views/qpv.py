"""Page publique d'un quartier prioritaire : portrait, feuille de route, engagements, retours."""

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render

from cdv.commitments.abilities import visible_commitments
from cdv.commitments.models import Commitment
from cdv.indicators.charts import GapChart
from cdv.indicators.models import IndicatorValue
from cdv.monitoring.feedback import public_attribution, published_feedback
from cdv.monitoring.models import Feedback
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.roadmap import qpv_roadmap
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import Territory

from .helpers import get_contract


def qpv_page(request, slug, code):
    contract = get_contract(request, slug)
    communes = Territory.objects.filter(kind=TerritoryKind.COMMUNE).only("code", "name")
    qpv = (
        contract.qpvs.filter(code=code.upper())
        .select_related("predecessor")
        .prefetch_related(Prefetch("parents", queryset=communes, to_attr="commune_list"))
        .defer("geometry")
        .first()
    )
    if qpv is None:
        raise Http404("Ce quartier ne relève pas de ce contrat.")

    # Portrait : la dernière valeur de chaque indicateur pour le quartier, à côté de la référence.
    values = IndicatorValue.objects.filter(
        indicator__contract=contract, territory__in=[qpv, contract.reference], quarter=0
    ).select_related("indicator")
    latest = {}
    for v in values.order_by("year"):
        latest.setdefault(v.indicator_id, {})[v.territory_id] = v
    portrait = []
    for pair in latest.values():
        mine = pair.get(qpv.pk)
        if mine is None:
            continue
        ref = pair.get(contract.reference.pk)
        ref = ref if ref is not None and ref.year == mine.year else None
        chart = None
        if not mine.is_secret and ref is not None and ref.value is not None:
            chart = GapChart(
                title=f"{mine.indicator.name} en {mine.year} ({mine.indicator.unit})",
                unit=mine.indicator.unit,
                bars=[(qpv.name, mine.value)],
                reference_label=contract.reference.name,
                reference_value=ref.value,
            )
        portrait.append({"value": mine, "reference": ref, "chart": chart})
    portrait.sort(key=lambda item: item["value"].indicator.name)

    commitments = list(
        visible_commitments(request.user, Commitment.objects.all(), contract)
        .applying_to(qpv)
        .select_related("partner", "objective__enjeu")
        .order_by("objective__enjeu__number", "partner__name", "id")
    )
    roadmap = qpv_roadmap(contract, qpv)
    action_partner_ids = {
        a.pilot_partner_id for entry in roadmap for a in entry.actions if a.pilot_partner_id
    }
    partners = sorted(
        {c.partner for c in commitments} | set(Partner.objects.filter(pk__in=action_partner_ids)),
        key=lambda p: p.name,
    )
    councils = Partner.objects.filter(kind=PartnerKind.CITIZEN_COUNCIL, qpvs=qpv).order_by("name")
    feedback = [
        (f, public_attribution(f))
        for f in published_feedback(Feedback.objects.all(), contract)
        .filter(qpvs=qpv)
        .select_related("partner", "enjeu")
        .order_by("-created_at")[:20]
    ]
    return render(
        request,
        "www/qpv.html",
        {
            "contract": contract,
            "qpv": qpv,
            "portrait": portrait,
            "roadmap": roadmap,
            "commitments": commitments,
            "partners": partners,
            "councils": councils,
            "feedback": feedback,
            "has_demo": any(e.actions and any(a.is_demo for a in e.actions) for e in roadmap)
            or any(c.is_demo for c in commitments),
        },
    )
