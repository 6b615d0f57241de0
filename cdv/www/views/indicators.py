"""Pages publiques des indicateurs d'un contrat.

- La liste (``indicators_page``) : pour chaque indicateur, le dernier écart entre les QPV et la
  référence, son évolution depuis l'année de référence, la cible et les quartiers côte à côte à la
  dernière période. Elle ne lit que deux périodes par indicateur (la dernière et l'année de
  référence) : sa taille ne dépend pas du nombre d'années publiées.
- Une page par indicateur (``indicator_page``) : toute son évolution, un graphique par quartier et
  les tableaux de toutes les valeurs.
"""

from django.db.models import F, Max, Q
from django.http import Http404
from django.shortcuts import render

from cdv.core.pagecache import public_page
from cdv.indicators import selectors
from cdv.indicators.charts import SECRET, GapChart, LineChart, Refused, Series, SmallMultiples
from cdv.indicators.computations import at_period
from cdv.indicators.enums import Scope
from cdv.indicators.models import Indicator, IndicatorValue, Target
from cdv.indicators.provenance import provenances
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
                by_territory.setdefault(key, []).append((v.period_label, _point(v)))
        series = [Series(label, points) for label, points in by_territory.items() if len(points) > 1]
        computed = [
            (x.period_label, x.qpv_value if x.qpv_origin == "calculée" else Refused(x.qpv_reason))
            for x in summaries
            if x.qpv_origin == "calculée" or x.qpv_reason
        ]
        if sum(1 for x in summaries if x.qpv_origin == "calculée") > 1:
            series.insert(0, Series("Ensemble des QPV (calculé)", computed))
        if series:
            return LineChart(title=f"{indicator.name} ({indicator.unit})", unit=indicator.unit, series=series)
    return _latest_gap_chart(indicator, summaries)


def _point(value):
    """La valeur d'un graphique : le nombre, ou « s » pour le secret statistique."""
    return SECRET if value.is_secret else value.value


def _latest_gap_chart(indicator, summaries):
    """L'ensemble des QPV à côté de la référence, à la dernière période."""
    latest = summaries[-1] if summaries else None
    if latest is None or latest.qpv_value is None or latest.reference_value is None:
        return None  # un écart se montre entre deux valeurs de la même période, sinon rien
    if not indicator.is_rate:
        return None  # l'effectif des QPV à côté de celui de la métropole ne dit rien
    return GapChart(
        title=f"{indicator.name} {latest.at_period} ({indicator.unit})",
        unit=indicator.unit,
        bars=[("Ensemble des QPV du contrat", latest.qpv_value)],
        reference_label=latest.reference_label,
        reference_value=latest.reference_value,
    )


def _small_multiples(contract, indicator, values, qpv_names):
    """Un graphique par QPV si l'indicateur a des valeurs par quartier sur plusieurs périodes."""
    per_qpv = {}
    for v in values:
        if v.territory_id in qpv_names:
            per_qpv.setdefault(v.territory_id, []).append((v.period_label, _point(v)))
    if not per_qpv or len({p for points in per_qpv.values() for p, _ in points}) < 2:
        return None
    reference = [  # la ligne de la référence n'a de sens qu'entre taux
        (v.period_label, _point(v))
        for v in values
        if indicator.is_rate and v.territory_id == contract.reference.pk
    ]
    return SmallMultiples(
        title=f"{indicator.name} par quartier ({indicator.unit})",
        unit=indicator.unit,
        panels=[
            (qpv_names[pk], points) for pk, points in sorted(per_qpv.items(), key=lambda i: qpv_names[i[0]])
        ],
        reference_label=contract.reference.name,
        reference=reference,
    )


def _qpv_bars(contract, indicator, values, qpv_names):
    """Les QPV côte à côte pour la dernière période où ils ont des valeurs, avec la ligne de référence."""
    per_period = {}
    for v in values:
        if v.territory_id in qpv_names:
            per_period.setdefault((v.year, v.quarter), []).append(v)
    if not per_period:
        return None
    (year, quarter), rows = max(per_period.items())
    reference = next(  # la ligne de la référence n'a de sens qu'entre taux
        (
            v.value
            for v in values
            if indicator.is_rate
            and v.territory_id == contract.reference.pk
            and (v.year, v.quarter) == (year, quarter)
        ),
        None,
    )
    label = f"{year}-T{quarter}" if quarter else str(year)
    return GapChart(
        title=f"{indicator.name} par quartier {at_period(label)} ({indicator.unit})",
        unit=indicator.unit,
        bars=sorted(((qpv_names[v.territory_id], _point(v)) for v in rows), key=lambda b: b[0]),
        reference_label=contract.reference.name,
        reference_value=reference,
    )


def _common(contract):
    """Populations, noms des QPV et cibles du contrat (trois requêtes, quel que soit l'indicateur)."""
    targets = {}
    for target in Target.objects.for_contract(contract).order_by("year"):
        targets.setdefault(target.indicator_id, []).append(target)
    return (
        selectors.contract_qpv_populations(contract),
        dict(contract.qpvs.values_list("pk", "name")),
        targets,
    )


def _card(contract, indicator, rows, populations, targets):
    summaries = selectors.summaries(contract, indicator, rows, populations)
    return {
        "indicator": indicator,
        "summaries": summaries,
        "latest": summaries[-1] if summaries else None,
        "progress": selectors.progress(indicator, summaries, targets.get(indicator.pk, [])),
        "has_demo": any(v.is_demo for v in rows) or indicator.is_demo,
        "sources": provenances(rows, indicator),
    }


def _overview_values(contract, indicators):
    """Les valeurs de la dernière période de chaque indicateur et de son année de référence."""
    last = (
        IndicatorValue.objects.for_contract(contract)
        .values("indicator_id")
        .annotate(last=Max(F("year") * 10 + F("quarter")))
        .order_by()
    )
    periods = Q(pk__in=[])
    for row in last:
        year, quarter = divmod(row["last"], 10)
        periods |= Q(indicator_id=row["indicator_id"], year=year, quarter=quarter)
    for indicator in indicators:
        if indicator.baseline_year:
            periods |= Q(indicator_id=indicator.pk, year=indicator.baseline_year, quarter=0)
    values = {}
    queryset = IndicatorValue.objects.for_contract(contract).filter(periods)
    for v in selectors.with_territory(queryset).order_by("year", "quarter"):
        values.setdefault(v.indicator_id, []).append(v)
    return values


def _earlier_values(contract, indicators, values, populations):
    """Les valeurs de toutes les périodes des indicateurs dont la dernière période ne donne pas
    l'ensemble des QPV : l'évolution et la distance à la cible se calculent sur la dernière période
    calculable, comme sur la page de l'indicateur. Une requête, limitée aux territoires utiles au calcul
    (les QPV du contrat, la référence, l'ensemble publié)."""
    pending = []
    for indicator in indicators:
        rows = values.get(indicator.pk, [])
        if not rows:
            continue
        latest = selectors.summaries(contract, indicator, rows, populations)[-1]
        if latest.qpv_value is None:
            pending.append(indicator.pk)
    if not pending:
        return values
    queryset = IndicatorValue.objects.filter(indicator_id__in=pending).filter(
        Q(territory_id__in=[*populations, contract.reference.pk]) | Q(scope=Scope.CONTRACT_QPVS)
    )
    earlier = {}
    for v in selectors.with_territory(queryset).order_by("year", "quarter"):
        earlier.setdefault(v.indicator_id, []).append(v)
    return {**values, **earlier}


@public_page
def indicators_page(request, slug):
    contract = get_contract(request, slug)
    indicators = list(
        Indicator.objects.for_contract(contract).select_related("enjeu").order_by("enjeu__number", "name")
    )
    values = _overview_values(contract, indicators)
    populations, qpv_names, targets = _common(contract)
    values = _earlier_values(contract, indicators, values, populations)
    cards = []
    for indicator in indicators:
        rows = values.get(indicator.pk, [])
        card = _card(contract, indicator, rows, populations, targets)
        latest = max(((v.year, v.quarter) for v in rows), default=None)
        last = [v for v in rows if (v.year, v.quarter) == latest]
        card["chart"] = _qpv_bars(contract, indicator, last, qpv_names) or _latest_gap_chart(
            indicator, card["summaries"]
        )
        cards.append(card)
    return render(request, "www/indicators.html", {"contract": contract, "cards": cards})


@public_page
def indicator_page(request, slug, code):
    contract = get_contract(request, slug)
    indicator = Indicator.objects.for_contract(contract).filter(code=code).select_related("enjeu").first()
    if indicator is None:
        raise Http404("Cet indicateur n'existe pas dans ce contrat.")
    rows = list(selectors.with_territory(indicator.values.all()).order_by("year", "quarter"))
    populations, qpv_names, targets = _common(contract)
    card = _card(contract, indicator, rows, populations, targets)
    card["chart"] = _chart(indicator, rows, card["summaries"])
    card["bars"] = _qpv_bars(contract, indicator, rows, qpv_names)
    card["multiples"] = _small_multiples(contract, indicator, rows, qpv_names)
    return render(request, "www/indicator.html", {"contract": contract, "card": card})
