"""Page publique d'un quartier prioritaire : portrait, feuille de route, engagements, retours."""

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import render

from cdv.commitments.abilities import visible_commitments
from cdv.commitments.enums import STATUS_COUNT_WORDS, CommitmentStatus
from cdv.commitments.models import Commitment
from cdv.core.figures import gap
from cdv.core.french import plural
from cdv.core.pagecache import public_page
from cdv.indicators.charts import GapChart
from cdv.indicators.models import IndicatorValue
from cdv.indicators.provenance import provenance
from cdv.monitoring.feedback import public_attribution, published_feedback
from cdv.monitoring.models import Feedback
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.roadmap import qpv_roadmap
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import Territory

from .helpers import get_contract

COMMITMENTS_PER_PAGE = 30


def _portrait_item(contract, qpv, years, mine_years, mine, ref) -> dict:
    """Une ligne du portrait. L'écart et les barres côte à côte avec la référence ne valent qu'entre
    deux taux : la population d'un quartier ne se compare pas à celle de la métropole."""
    item = {
        "value": mine,
        "reference": ref,
        "chart": None,
        "gap": None,
        "first_gap": None,
        "gap_change": None,
        "source": provenance(mine),
        "reference_source": provenance(ref) if ref is not None else None,
    }
    if not mine.indicator.is_rate:
        return item
    reference_pk = contract.reference.pk
    both = [
        y
        for y in mine_years
        if reference_pk in years[y]
        and years[y][qpv.pk].value is not None
        and years[y][reference_pk].value is not None
    ]
    if len(both) > 1:
        first = years[both[0]]
        item["first_gap"] = (both[0], gap(first[qpv.pk].value, first[reference_pk].value))
        last = years[both[-1]]
        # L'écart se réduit quand sa valeur absolue baisse, qu'il soit en faveur ou en défaveur du QPV.
        now = gap(last[qpv.pk].value, last[reference_pk].value)
        item["gap_change"] = abs(now.points) - abs(item["first_gap"][1].points)
    if not mine.is_secret and ref is not None and ref.value is not None:
        item["gap"] = gap(mine.value, ref.value)
        item["chart"] = GapChart(
            title=f"{mine.indicator.name} en {mine.year} ({mine.indicator.unit})",
            unit=mine.indicator.unit,
            bars=[(qpv.name, mine.value)],
            reference_label=contract.reference.name,
            reference_value=ref.value,
        )
    return item


@public_page
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
    by_year = {}
    for v in values.order_by("year"):
        by_year.setdefault(v.indicator_id, {}).setdefault(v.year, {})[v.territory_id] = v
    portrait = []
    for years in by_year.values():
        mine_years = [y for y in sorted(years) if qpv.pk in years[y]]
        if not mine_years:
            continue
        mine = years[mine_years[-1]][qpv.pk]
        ref = years[mine.year].get(contract.reference.pk)
        portrait.append(_portrait_item(contract, qpv, years, mine_years, mine, ref))
    portrait.sort(key=lambda item: item["value"].indicator.name)

    applying = visible_commitments(request.user, Commitment.objects.all(), contract).applying_to(qpv)
    # Les engagements par pages : un quartier d'un grand contrat en compte des centaines.
    page = Paginator(
        applying.select_related("partner", "objective__enjeu")
        .with_latest_accepted_progress()
        .order_by("objective__enjeu__number", "partner__name", "id"),
        COMMITMENTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    by_status = {
        row["status"]: row["n"]
        for row in applying.order_by().values("status").annotate(n=Count("id", distinct=True))
    }
    status_counts = [
        (plural(by_status[value], *STATUS_COUNT_WORDS[value]), by_status[value])
        for value in CommitmentStatus.values
        if by_status.get(value)
    ]
    roadmap = qpv_roadmap(contract, qpv)
    action_partner_ids = {
        a.pilot_partner_id for entry in roadmap for a in entry.actions if a.pilot_partner_id
    }
    partners = Partner.objects.filter(
        Q(pk__in=applying.order_by().values("partner_id")) | Q(pk__in=action_partner_ids)
    ).order_by("name")
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
            "page": page,
            "status_counts": status_counts,
            "partners": partners,
            "councils": councils,
            "feedback": feedback,
            "has_demo": any(e.actions and any(a.is_demo for a in e.actions) for e in roadmap)
            or any(c.is_demo for c in page),
        },
    )
