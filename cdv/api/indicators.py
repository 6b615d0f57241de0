"""Indicateurs dans l'API : catalogue, valeurs, ensemble des QPV et écart calculés."""

import re
from decimal import Decimal

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from cdv.indicators import selectors
from cdv.indicators.models import Indicator, Target

from .auth import visible_contract
from .pagination import paginated
from .params import MAX_SMALL, ContractSlug, IndicatorCode
from .schemas import READ_ERRORS

router = Router(tags=["indicators"])
PERIOD_PATTERN = r"^([0-9]{4}(-?[TtQq][1-4])?)?$"  # vide : pas de filtre
PERIOD_RE = re.compile(r"^(\d{4})(?:-?[TQ]([1-4]))?$")


class IndicatorOut(Schema):
    code: str = Field(description="code de l'indicateur dans le catalogue du contrat")
    name: str = Field(description="nom")
    definition: str = Field(description="définition")
    enjeu: int | None = Field(description="numéro de l'enjeu suivi")
    unit: str = Field(description="unité (%, personnes, euros…)")
    direction: str = Field(description="sens souhaité de l'évolution")
    aggregation: str = Field(description="règle d'agrégation sur l'ensemble des QPV")
    source: str = Field(description="source")
    producer: str = Field(description="producteur")
    frequency: str = Field(description="fréquence de mise à jour")
    geography: str = Field(description="géographie prioritaire des valeurs")
    levels: list[str] = Field(description="niveaux territoriaux disponibles")
    comparability_note: str = Field(description="limites de comparabilité")
    secrecy_rule: str = Field(description="règle de secret statistique")
    baseline_year: int | None = Field(description="année de référence")
    rate_scale: int | None = Field(
        description="échelle du taux (valeur = numérateur / dénominateur × échelle : 100, 1000…) ; "
        "null : pas un taux, sans écart en points"
    )
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_enjeu(obj):
        return obj.enjeu.number if obj.enjeu_id else None


class ValueOut(Schema):
    territory_code: str | None = Field(description="code du territoire ; null pour l'ensemble publié des QPV")
    territory_name: str = Field(description="nom du territoire")
    territory_kind: str = Field(description="niveau : QPV, COMMUNE, EPCI…, QPV_DU_CONTRAT")
    period: str = Field(description="année (2024) ou trimestre (2024-T3)")
    value: Decimal | None = Field(description="valeur ; null si secrète ou inconnue")
    display: str = Field(description="valeur affichée (« s » pour le secret statistique)")
    is_secret: bool = Field(description="secret statistique")
    numerator: Decimal | None = Field(description="numérateur")
    denominator: Decimal | None = Field(description="dénominateur")
    status: str = Field(description="statut de la valeur (définitive, provisoire…)")
    source: str = Field(description="source de la valeur (vide : celle de l'indicateur)")
    vintage: str = Field(description="millésime de la source")
    source_url: str = Field(description="adresse de la source")
    comment: str = Field(description="commentaire")
    is_demo: bool = Field(description="donnée de démonstration")

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
    period: str = Field(description="année ou trimestre")
    qpv_value: Decimal | None = Field(description="ensemble des QPV du contrat")
    qpv_origin: str = Field(description="« calculée » (rapport des sommes…), « publiée » ou vide")
    qpv_reason: str = Field(description="pourquoi l'ensemble n'est pas calculé")
    reference: str = Field(description="territoire de référence")
    reference_value: Decimal | None = Field(description="valeur de la référence")
    gap_points: Decimal | None = Field(description="écart en points")
    gap_ratio: Decimal | None = Field(description="écart en rapport")

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


class ProgressOut(Schema):
    period: str | None = Field(
        description="dernière période où l'ensemble des QPV est connu : base des calculs"
    )
    qpv_value: Decimal | None = Field(description="ensemble des QPV à cette période")
    baseline_period: str | None = Field(description="année de référence de l'indicateur")
    baseline_value: Decimal | None = Field(description="ensemble des QPV à l'année de référence")
    change: Decimal | None = Field(description="évolution depuis l'année de référence (points pour un taux)")
    change_percent: Decimal | None = Field(description="évolution relative depuis l'année de référence, en %")
    target_year: int | None = Field(description="année de la cible de l'ensemble des QPV")
    target_value: Decimal | None = Field(description="valeur cible")
    distance_to_target: Decimal | None = Field(description="ce qu'il reste à parcourir (0 si atteinte)")
    target_reached: bool | None = Field(description="cible atteinte")
    difference_unit: str = Field(description="« points » pour un taux, sinon l'unité de l'indicateur")


class ValuesOut(Schema):
    indicator: IndicatorOut = Field(description="l'indicateur")
    values: list[ValueOut] = Field(description="valeurs, par période puis territoire")
    summary: list[SummaryOut] = Field(description="par période : ensemble des QPV, référence, écart")
    progress: ProgressOut = Field(
        description="évolution depuis l'année de référence et distance à la cible, calculées sur la "
        "dernière période où l'ensemble des QPV est connu (toutes périodes, quel que soit le filtre)"
    )


class IndicatorFilters(Schema):
    enjeu: int | None = Field(None, ge=1, le=MAX_SMALL, description="numéro de l'enjeu suivi")


class ValueFilters(Schema):
    territory: str | None = Field(
        None,
        max_length=20,
        pattern=r"^[A-Za-z0-9_]+$",
        description="code du territoire (QN…, INSEE, SIREN, 5216, FR, QPV_CONTRAT)",
    )
    # Le motif est déclaré dans le schéma ; la vérification reste dans la vue (message qui cite la valeur).
    period: str | None = Field(
        None,
        max_length=20,
        description="année (2024) ou trimestre (2024-T3, 2024T3, 2024-Q3)",
        json_schema_extra={"pattern": PERIOD_PATTERN},
    )


def _contract(request, slug):
    return visible_contract(request, slug)[1]


@router.get(
    "/{slug}/indicators",
    response={200: list[IndicatorOut], **READ_ERRORS},
    summary="Catalogue d'indicateurs d'un contrat",
    operation_id="list_indicators",
)
@paginated
def list_indicators(request, slug: ContractSlug, filters: Query[IndicatorFilters]):
    """Les indicateurs suivis par le contrat, par code ; filtre : enjeu."""
    contract = _contract(request, slug)
    qs = Indicator.objects.for_contract(contract).select_related("enjeu").order_by("code", "id")
    if filters.enjeu:
        qs = qs.filter(enjeu__number=filters.enjeu)
    return qs


@router.get(
    "/{slug}/indicators/{code}/values",
    response={200: ValuesOut, **READ_ERRORS},
    summary="Valeurs d'un indicateur, avec l'ensemble des QPV et l'écart calculés",
    operation_id="indicator_values",
)
def indicator_values(request, slug: ContractSlug, code: IndicatorCode, filters: Query[ValueFilters]):
    """Toutes les valeurs de l'indicateur (ou celles d'un territoire, d'une période), et par période
    l'ensemble des QPV du contrat (rapport des sommes, secret respecté), la référence et l'écart.
    Ce n'est pas une liste paginée : la série d'un indicateur tient en une réponse."""
    contract = _contract(request, slug)
    indicator = Indicator.objects.for_contract(contract).filter(code=code).select_related("enjeu").first()
    if indicator is None:
        raise HttpError(404, f"Aucun indicateur « {code} » dans ce contrat.")
    year = quarter = None
    if filters.period:
        match = PERIOD_RE.fullmatch(filters.period.upper()) if filters.period.isascii() else None
        if not match:
            raise HttpError(422, f"period : « {filters.period} » n'est pas une période (2024 ou 2024-T3).")
        year, quarter = int(match.group(1)), int(match.group(2) or 0)
    values = list(selectors.values_for(indicator, year=year, quarter=quarter))
    every_period = values if year is None else list(selectors.values_for(indicator))
    targets = list(Target.objects.filter(indicator=indicator).order_by("year"))
    progress = selectors.progress(indicator, selectors.summaries(contract, indicator, every_period), targets)
    shown = values
    if filters.territory:
        shown = list(
            selectors.values_for(indicator, territory_code=filters.territory, year=year, quarter=quarter)
        )
    return {
        "indicator": indicator,
        "values": shown,
        "summary": selectors.summaries(contract, indicator, values),
        "progress": selectors.progress_content(progress),
    }
