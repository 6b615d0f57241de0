"""Indicateurs dans l'API : catalogue, valeurs, ensemble des QPV et écart calculés."""

import re
from decimal import Decimal

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from cdv.indicators import selectors
from cdv.indicators.models import Indicator

from .auth import visible_contract

router = Router(tags=["Indicateurs"])
PERIOD_RE = re.compile(r"^(\d{4})(?:-?[TQ]([1-4]))?$")


class IndicatorOut(Schema):
    code: str
    name: str
    definition: str
    enjeu: int | None
    unit: str
    direction: str
    aggregation: str
    source: str
    producer: str
    frequency: str
    geography: str
    levels: list[str]
    comparability_note: str
    secrecy_rule: str
    baseline_year: int | None
    is_demo: bool

    @staticmethod
    def resolve_enjeu(obj):
        return obj.enjeu.number if obj.enjeu_id else None


class ValueOut(Schema):
    territory_code: str | None
    territory_name: str
    territory_kind: str
    period: str
    value: Decimal | None
    display: str
    is_secret: bool
    numerator: Decimal | None
    denominator: Decimal | None
    status: str
    vintage: str
    source_url: str
    comment: str
    is_demo: bool

    @staticmethod
    def resolve_territory_code(obj):
        return obj.territory.code if obj.territory_id else None

    @staticmethod
    def resolve_territory_name(obj):
        return obj.territory_label

    @staticmethod
    def resolve_territory_kind(obj):
        return obj.territory.kind if obj.territory_id else "QPV_DU_CONTRAT"

    @staticmethod
    def resolve_period(obj):
        return obj.period_label


class SummaryOut(Schema):
    period: str
    qpv_value: Decimal | None = Field(description="ensemble des QPV du contrat")
    qpv_origin: str = Field(description="« calculée » (rapport des sommes…), « publiée » ou vide")
    qpv_reason: str = Field(description="pourquoi l'ensemble n'est pas calculé")
    reference: str
    reference_value: Decimal | None
    gap_points: Decimal | None
    gap_ratio: Decimal | None

    @staticmethod
    def resolve_period(obj):
        return obj.period_label

    @staticmethod
    def resolve_reference(obj):
        return obj.reference_label

    @staticmethod
    def resolve_gap_points(obj):
        return obj.gap.points if obj.gap else None

    @staticmethod
    def resolve_gap_ratio(obj):
        return obj.gap.ratio if obj.gap else None


class ValuesOut(Schema):
    indicator: IndicatorOut
    values: list[ValueOut]
    summary: list[SummaryOut]


class ValueFilters(Schema):
    territory: str | None = Field(
        None, description="code du territoire (QN…, INSEE, SIREN, 5216, FR, QPV_CONTRAT)"
    )
    period: str | None = Field(None, description="année (2024) ou trimestre (2024-T3)")


def _contract(request, slug):
    return visible_contract(request, slug)[1]


@router.get("/{slug}/indicators", response=list[IndicatorOut], summary="Catalogue d'indicateurs d'un contrat")
def list_indicators(request, slug: str):
    contract = _contract(request, slug)
    return Indicator.objects.filter(contract=contract).select_related("enjeu").order_by("code")


@router.get(
    "/{slug}/indicators/{code}/values",
    response=ValuesOut,
    summary="Valeurs d'un indicateur, avec l'ensemble des QPV et l'écart calculés",
)
def indicator_values(request, slug: str, code: str, filters: Query[ValueFilters]):
    contract = _contract(request, slug)
    indicator = Indicator.objects.filter(contract=contract, code=code).select_related("enjeu").first()
    if indicator is None:
        raise HttpError(404, f"Aucun indicateur « {code} » dans ce contrat.")
    year = quarter = None
    if filters.period:
        match = PERIOD_RE.match(filters.period.strip().upper())
        if not match:
            raise HttpError(422, f"period : « {filters.period} » n'est pas une période (2024 ou 2024-T3).")
        year, quarter = int(match.group(1)), int(match.group(2) or 0)
    values = list(selectors.values_for(indicator, year=year, quarter=quarter))
    shown = values
    if filters.territory:
        shown = list(
            selectors.values_for(indicator, territory_code=filters.territory, year=year, quarter=quarter)
        )
    return {
        "indicator": indicator,
        "values": shown,
        "summary": selectors.summaries(contract, indicator, values),
    }
