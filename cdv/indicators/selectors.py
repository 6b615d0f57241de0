"""Lectures composées sur les indicateurs : l'ensemble des QPV d'un contrat et l'écart à la référence.

Tout est calculé à la lecture (jamais saisi) par ``computations`` ; les pages, l'API et les
rapports passent par ici.
"""

from dataclasses import dataclass
from decimal import Decimal

from cdv.core.figures import gap
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import heavy_fields

from . import computations
from .charts import GapChart
from .enums import Scope
from .models import IndicatorValue
from .provenance import provenance


@dataclass
class PeriodSummary:
    year: int
    quarter: int
    qpv_value: Decimal | None  # l'ensemble des QPV du contrat
    qpv_origin: str  # "calculée", "publiée" ou ""
    qpv_reason: str  # pourquoi l'ensemble n'est pas calculable, le cas échéant
    reference_value: Decimal | None
    reference_label: str
    gap: computations.Gap | None
    reference_secret: bool = False  # la valeur de la référence est sous secret statistique

    @property
    def period_label(self) -> str:
        return f"{self.year}-T{self.quarter}" if self.quarter else str(self.year)

    @property
    def period_name(self) -> str:
        """La période en français : « 2024 », « 1er trimestre 2024 »."""
        return computations.period_name(self.period_label)

    @property
    def at_period(self) -> str:
        """« en 2024 », « au 1er trimestre 2024 »."""
        return computations.at_period(self.period_label)


# Colonnes lourdes d'un territoire (contour GeoJSON, emprise, codes des communes) : inutiles pour
# afficher une valeur, et coûteuses à décoder ligne à ligne.


def with_territory(queryset):
    """Des valeurs avec leur territoire (code, nom, niveau), sans son contour.

    Décoder le GeoJSON de chaque ligne prenait 80 % du temps d'une page de 16 000 valeurs.
    """
    return queryset.select_related("territory").defer(*heavy_fields("territory"))


def values_for(
    indicator, *, territory_code: str | None = None, year: int | None = None, quarter: int | None = None
):
    qs = with_territory(IndicatorValue.objects.filter(indicator=indicator))
    if territory_code:
        if territory_code.upper() in {"QPV_CONTRAT", "ENSEMBLE_QPV"}:
            qs = qs.filter(scope=Scope.CONTRACT_QPVS)
        else:
            qs = qs.filter(territory__code=territory_code.upper())
    if year is not None:
        qs = qs.filter(year=year)
    if quarter is not None:
        qs = qs.filter(quarter=quarter)
    return qs.order_by("year", "quarter", "scope", "territory__kind", "territory__code")


def contract_qpv_populations(contract) -> dict[int, int | None]:
    """Les QPV du contrat et leur population, lus une fois pour plusieurs indicateurs."""
    return dict(contract.qpvs.values_list("pk", "population"))


def summaries(contract, indicator, values, qpv_populations=None) -> list[PeriodSummary]:
    """Par période : l'ensemble des QPV du contrat (calculé, sinon publié), la référence, l'écart."""
    population = qpv_populations if qpv_populations is not None else contract_qpv_populations(contract)
    qpv_ids = set(population)
    reference = contract.reference
    periods = {}
    for value in values:
        periods.setdefault((value.year, value.quarter), []).append(value)
    result = []
    for (year, quarter), rows in sorted(periods.items()):
        per_qpv = [v for v in rows if v.territory_id in qpv_ids]
        published = next((v for v in rows if v.scope == Scope.CONTRACT_QPVS), None)
        qpv_value, origin, reason = None, "", ""
        if per_qpv:
            points = [
                computations.Point(
                    label=v.territory.name,
                    value=v.value,
                    numerator=v.numerator,
                    denominator=v.denominator,
                    is_secret=v.is_secret,
                    weight=Decimal(population[v.territory_id]) if population.get(v.territory_id) else None,
                )
                for v in per_qpv
            ]
            if len(per_qpv) < len(qpv_ids):
                reason = f"valeurs connues pour {len(per_qpv)} QPV sur {len(qpv_ids)}"
            else:
                aggregate = computations.aggregate(points, indicator.aggregation, scale=indicator.rate_scale)
                qpv_value, reason = aggregate.value, aggregate.reason
                origin = "calculée" if aggregate.ok else ""
        if qpv_value is None and published is not None and not published.is_secret:
            qpv_value, origin = published.value, "publiée"
        ref = next((v for v in rows if v.territory_id == reference.pk), None)
        reference_value = ref.value if ref is not None and not ref.is_secret else None
        # Un écart (en points, et en rapport) n'a de sens qu'entre deux taux : jamais entre deux effectifs.
        gap = (
            computations.gap(qpv_value, reference_value)
            if indicator.is_rate and qpv_value is not None and reference_value is not None
            else None
        )
        result.append(
            PeriodSummary(
                year=year,
                quarter=quarter,
                qpv_value=qpv_value,
                qpv_origin=origin,
                qpv_reason=reason if qpv_value is None or origin == "publiée" else "",
                reference_value=reference_value,
                reference_label=reference.name,
                gap=gap,
                reference_secret=ref is not None and ref.is_secret,
            )
        )
    return result


LEVEL_ORDER = {
    TerritoryKind.QPV: 0,
    TerritoryKind.COMMUNE: 1,
    TerritoryKind.EPCI: 2,
    TerritoryKind.EMPLOYMENT_ZONE: 3,
    TerritoryKind.DEPARTMENT: 4,
    TerritoryKind.FRANCE: 5,
}


@dataclass
class Progress:
    """Évolution depuis l'année de référence et distance à la cible, calculées une seule fois (liste,
    page de l'indicateur, bilan annuel, API) à partir de la dernière période où l'ensemble des QPV
    est connu ; ``latest`` dit laquelle."""

    latest: PeriodSummary | None = None
    base: PeriodSummary | None = None
    change: computations.Change | None = None
    target: object | None = None  # Target
    distance: computations.TargetDistance | None = None
    difference_unit: str = ""  # « points » pour un taux, sinon l'unité de l'indicateur

    def __bool__(self) -> bool:
        return self.change is not None or self.target is not None


def progress(indicator, summaries, targets) -> Progress:
    """``targets`` : les cibles de l'indicateur ; seule celle de l'ensemble des QPV compte."""
    result = Progress(difference_unit="points" if indicator.is_rate else indicator.unit)
    known = [s for s in summaries if s.qpv_value is not None]
    result.target = next((t for t in targets if t.territory_id is None), None)
    if not known:
        return result
    latest = result.latest = known[-1]
    base = next((s for s in known if s.year == indicator.baseline_year and s.quarter == 0), None)
    if base is not None and base is not latest:
        result.base = base
        result.change = computations.change(latest.qpv_value, base.qpv_value)
    if result.target is not None:
        result.distance = computations.distance_to_target(
            latest.qpv_value, result.target.value, indicator.direction
        )
    return result


def progress_content(item: Progress) -> dict:
    """La même chose en données simples (API, bilan annuel figé)."""
    return {
        "period": item.latest.period_label if item.latest else None,
        "qpv_value": item.latest.qpv_value if item.latest else None,
        "baseline_period": item.base.period_label if item.base else None,
        "baseline_value": item.base.qpv_value if item.base else None,
        "change": item.change.points if item.change else None,
        "change_percent": item.change.percent if item.change else None,
        "target_year": item.target.year if item.target else None,
        "target_value": item.target.value if item.target else None,
        "distance_to_target": item.distance.remaining if item.distance else None,
        "target_reached": item.distance.reached if item.distance else None,
        "difference_unit": item.difference_unit,
    }


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


def qpv_portrait(contract, qpv) -> list[dict]:
    """Le portrait d'un quartier : la dernière valeur annuelle de chaque indicateur du contrat pour le
    quartier, à côté de la référence (écart, évolution de l'écart, graphique), par nom d'indicateur."""
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
    return portrait
