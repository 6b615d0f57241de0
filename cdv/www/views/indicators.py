"""Page publique des indicateurs d'un contrat : l'écart, son évolution, graphiques et tableaux."""

from django.shortcuts import render

from cdv.indicators import selectors
from cdv.indicators.charts import GapChart, LineChart, Series
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.territories.enums import TerritoryKind

from .helpers import get_contract


def _chart(indicator, values, summaries):
    """Une évolution dans le temps si plusieurs périodes, sinon l'écart QPV / référence."""
    periods = {(v.year, v.quarter) for v in values}
    if len(periods) > 1:
        by_territory = {}
        for v in values:
            if (
                v.territory_id is None
                or v.territory.kind in {TerritoryKind.EMPLOYMENT_ZONE, TerritoryKind.FRANCE}
                or (v.territory.kind == TerritoryKind.EPCI)
            ):
                key = v.territory_label
                by_territory.setdefault(key, []).append((v.period_label, None if v.is_secret else v.value))
        series = [Series(label, sorted(points)) for label, points in by_territory.items() if len(points) > 1]
        if series:
            return LineChart(title=f"{indicator.name} ({indicator.unit})", unit=indicator.unit, series=series)
    latest = summaries[-1] if summaries else None
    if latest is None or latest.qpv_value is None or latest.reference_value is None:
        return None  # un écart se montre entre deux valeurs de la même période, sinon rien
    return GapChart(
        title=f"{indicator.name} en {latest.period_label} ({indicator.unit})",
        unit=indicator.unit,
        bars=[("Ensemble des QPV du contrat", latest.qpv_value)],
        reference_label=latest.reference_label,
        reference_value=latest.reference_value,
    )


def indicators_page(request, slug):
    contract = get_contract(request, slug)
    indicators = list(
        Indicator.objects.filter(contract=contract).select_related("enjeu").order_by("enjeu__number", "name")
    )
    values = {}
    for v in (
        IndicatorValue.objects.filter(indicator__contract=contract)
        .select_related("territory")
        .order_by("year", "quarter")
    ):
        values.setdefault(v.indicator_id, []).append(v)
    populations = selectors.contract_qpv_populations(contract)
    cards = []
    for indicator in indicators:
        rows = values.get(indicator.pk, [])
        summaries = selectors.summaries(contract, indicator, rows, populations)
        cards.append(
            {
                "indicator": indicator,
                "summaries": summaries,
                "latest": summaries[-1] if summaries else None,
                "chart": _chart(indicator, rows, summaries),
                "has_demo": any(v.is_demo for v in rows) or indicator.is_demo,
            }
        )
    return render(request, "www/indicators.html", {"contract": contract, "cards": cards})
