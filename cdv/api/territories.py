"""Quartiers prioritaires (QPV) de toute la France, géographies 2024 et 2015."""

from typing import Annotated

from django.db.models import Prefetch, Q
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from cdv.contracts.models import Contract
from cdv.territories.enums import Geography
from cdv.territories.models import Territory

from .auth import api_user
from .pagination import paginated
from .params import SLUG_PATTERN, QpvCode
from .schemas import READ_ERRORS, QpvDetailOut, QpvOut

router = Router(tags=["qpv"])


class QpvFilters(Schema):
    epci: str | None = Field(None, description="SIREN de l'EPCI (ex. 244400404)", pattern=r"^\d{9}$")
    contract: str | None = Field(
        None, description="identifiant (slug) d'un contrat de ville visible", pattern=SLUG_PATTERN
    )
    geography: Geography = Field(Geography.QPV_2024, description="géographie prioritaire")
    q: str | None = Field(None, description="recherche dans le nom ou le code", max_length=100)


def qpv_queryset(geography):
    communes = Territory.objects.communes().only("code", "name").order_by("code")
    return (
        Territory.objects.qpvs(geography)
        .select_related("predecessor")
        .prefetch_related(Prefetch("parents", queryset=communes, to_attr="commune_list"))
    )


@router.get(
    "",
    response={200: list[QpvOut], **READ_ERRORS},
    summary="Lister les QPV",
    operation_id="list_qpv",
)
@paginated
def list_qpv(request, filters: Query[QpvFilters]):
    """Les QPV, sans contour, triés par code ; filtrables par EPCI, par contrat et par géographie.
    Un EPCI non chargé ou un contrat invisible donne 404."""
    qs = qpv_queryset(filters.geography).defer("geometry")
    if filters.epci:
        if not Territory.objects.epcis().filter(code=filters.epci).exists():
            raise HttpError(404, f"Aucun EPCI de SIREN {filters.epci} n'est chargé.")
        qs = qs.filter(pk__in=Territory.objects.in_epci(filters.epci).values("pk"))
    if filters.contract:
        contract = Contract.objects.visible_to(api_user(request)).filter(slug=filters.contract).first()
        if contract is None:
            raise HttpError(404, f"Aucun contrat accessible « {filters.contract} ».")
        qs = qs.filter(qpv_contracts=contract)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(code__iexact=filters.q))
    return qs.order_by("code")


@router.get(
    "/{code}",
    response={200: QpvDetailOut, **READ_ERRORS},
    summary="Détail d'un QPV",
    operation_id="get_qpv",
)
def get_qpv(
    request,
    code: QpvCode,
    geography: Annotated[Geography, Query(description="géographie prioritaire")] = Geography.QPV_2024,
):
    """Un QPV avec son contour GeoJSON (MultiPolygon, WGS84) et les contrats visibles qui le couvrent."""
    qpv = qpv_queryset(geography).filter(code=code.upper()).first()
    if qpv is None:
        return Status(404, {"detail": f"Aucun QPV de code « {code} » dans la géographie {geography.value}."})
    qpv.public_contracts = list(
        Contract.objects.visible_to(api_user(request)).filter(qpvs=qpv).only("slug").order_by("slug")
    )
    return Status(200, qpv)
