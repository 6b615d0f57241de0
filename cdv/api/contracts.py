from django.db.models import Count, Prefetch
from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from cdv.contracts.models import Contract
from cdv.territories.models import Territory

from .schemas import ContractDetailOut, ContractOut, Error

router = Router(tags=["Contrats"])


@router.get("", response=list[ContractOut], summary="Lister les contrats de ville")
@paginate(LimitOffsetPagination)
def list_contracts(request):
    return (
        Contract.objects.visible_to(request.user)
        .select_related("epci")
        .annotate(qpv_count=Count("qpvs"))
        .order_by("slug")
    )


@router.get("/{slug}", response={200: ContractDetailOut, 404: Error}, summary="Détail d'un contrat")
def get_contract(request, slug: str):
    """Le contrat avec ses QPV, ses enjeux, ses signataires, ses jalons et ses chiffres clés."""
    contract = (
        Contract.objects.visible_to(request.user)
        .filter(slug=slug)
        .select_related("epci", "reference_territory")
        .annotate(qpv_count=Count("qpvs"))
        .prefetch_related(
            Prefetch("qpvs", queryset=Territory.objects.only("code", "name").order_by("code")),
            "enjeux",
            "signatories__partner",
            "milestones",
            "key_figures",
        )
        .first()
    )
    if contract is None:
        return Status(404, {"detail": f"Aucun contrat public « {slug} »."})
    return Status(200, contract)
