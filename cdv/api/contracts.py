"""Contrats de ville : la liste et le détail (QPV, enjeux, signataires, jalons, chiffres clés)."""

from django.db.models import Count, Prefetch
from ninja import Router, Status

from cdv.contracts.models import Contract
from cdv.territories.models import Territory

from .auth import api_user, visible_contract
from .pagination import paginated
from .params import ContractSlug
from .schemas import READ_ERRORS, ContractDetailOut, ContractOut

router = Router(tags=["contracts"])


@router.get(
    "",
    response={200: list[ContractOut], **READ_ERRORS},
    summary="Lister les contrats de ville",
    operation_id="list_contracts",
)
@paginated
def list_contracts(request):
    """Les contrats signés ou achevés ; un membre voit aussi ceux en préparation. Triés par slug."""
    return (
        Contract.objects.visible_to(api_user(request))
        .select_related("epci")
        .annotate(qpv_count=Count("qpvs"))
        .order_by("slug")
    )


@router.get(
    "/{slug}",
    response={200: ContractDetailOut, **READ_ERRORS},
    summary="Détail d'un contrat",
    operation_id="get_contract",
)
def get_contract(request, slug: ContractSlug):
    """Le contrat avec ses QPV, ses enjeux, ses signataires, ses jalons et ses chiffres clés."""
    _, visible = visible_contract(request, slug)
    contract = (
        Contract.objects.filter(pk=visible.pk)
        .select_related("epci", "reference_territory")
        .annotate(qpv_count=Count("qpvs"))
        .prefetch_related(
            Prefetch("qpvs", queryset=Territory.objects.only("code", "name").order_by("code")),
            "enjeux",
            "signatories__partner",
            "milestones",
            "key_figures",
        )
        .get()
    )
    return Status(200, contract)
