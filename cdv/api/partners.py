"""Partenaires d'un contrat : qui signe, participe, pilote des actions ou porte des engagements."""

from datetime import date

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from cdv.commitments.models import Commitment
from cdv.contracts.models import Signatory
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.territories.models import Territory

from .auth import visible_contract
from .lookups import contract_qpv
from .pagination import paginated
from .params import ContractSlug, PartnerSlug
from .schemas import READ_ERRORS

router = Router(tags=["partners"])


class PartnerOut(Schema):
    slug: str = Field(description="identifiant du partenaire dans les adresses de l'API")
    name: str = Field(description="nom")
    short_name: str = Field(description="nom court ou sigle")
    kind: str = Field(description="type de partenaire")
    kind_label: str = Field(description="type en clair")
    siren: str = Field(description="SIREN, s'il est connu")
    rna: str = Field(description="numéro RNA d'une association, s'il est connu")
    website: str = Field(description="site web")
    description: str = Field(description="présentation")
    place: str | None = Field(
        description="SIGNATAIRE ou PARTICIPANT s'il figure parmi les signataires du contrat, sinon null"
    )
    signed_on: date | None = Field(description="date de signature du contrat")
    qpvs: list[str] = Field(description="QPV couverts (conseil citoyen), par code")
    member_of: list[str] = Field(description="collectifs dont il est membre (slugs)")
    commitment_count: int = Field(description="nombre d'engagements visibles dans ce contrat")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_place(obj):
        return obj.contract_signatures[0].kind if obj.contract_signatures else None

    @staticmethod
    def resolve_signed_on(obj):
        return obj.contract_signatures[0].signed_on if obj.contract_signatures else None

    @staticmethod
    def resolve_qpvs(obj):
        return [q.code for q in obj.qpvs.all()]

    @staticmethod
    def resolve_member_of(obj):
        return [p.slug for p in obj.member_of.all()]


class PartnerDetailOut(PartnerOut):
    actions: list[str] = Field(description="codes des actions qu'il pilote ou auxquelles il contribue")
    commitments: list[int] = Field(description="numéros de ses engagements visibles dans ce contrat")

    @staticmethod
    def resolve_actions(obj):
        return obj.action_codes

    @staticmethod
    def resolve_commitments(obj):
        return obj.visible_commitment_ids


class PartnerFilters(Schema):
    kind: PartnerKind | None = Field(None, description="type de partenaire")
    qpv: str | None = Field(
        None,
        max_length=12,
        description="code d'un QPV du contrat : partenaires actifs dans ce quartier (engagements visibles "
        "qui s'y appliquent, actions de sa feuille de route, conseil citoyen qui le couvre)",
    )


def _partners(user, contract):
    visible = Commitment.objects.visible_to(user, contract)
    counts = (
        visible.filter(partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Partner.objects.with_place_in(user, contract)
        .annotate(commitment_count=Coalesce(Subquery(counts), 0))
        .prefetch_related(
            Prefetch(
                "signatures",
                queryset=Signatory.objects.filter(contract=contract),
                to_attr="contract_signatures",
            ),
            Prefetch("qpvs", queryset=Territory.objects.only("code").order_by("code")),
            Prefetch("member_of", queryset=Partner.objects.only("slug").order_by("slug")),
        )
        .order_by("name", "id")
    )


@router.get(
    "/{slug}/partners",
    response={200: list[PartnerOut], **READ_ERRORS},
    summary="Partenaires d'un contrat",
    operation_id="list_partners",
)
@paginated
def list_partners(request, slug: ContractSlug, filters: Query[PartnerFilters]):
    """Les partenaires qui ont une place visible dans le contrat, par nom : signataires et
    participants, pilotes et contributeurs d'actions, partenaires qui portent un engagement publié
    (pour les membres du contrat : aussi les organisations de ses membres et les engagements en
    préparation). Filtres : type, quartier ; un quartier hors du contrat donne une liste vide."""
    user, contract = visible_contract(request, slug)
    qs = _partners(user, contract)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.qpv:
        qpv = contract_qpv(contract, filters.qpv)
        qs = qs.active_in(user, contract, qpv) if qpv else qs.none()
    return qs


@router.get(
    "/{slug}/partners/{partner_slug}",
    response={200: PartnerDetailOut, **READ_ERRORS},
    summary="Un partenaire du contrat",
    operation_id="get_partner",
)
def get_partner(request, slug: ContractSlug, partner_slug: PartnerSlug):
    """Le partenaire, sa place dans le contrat, ses actions et ses engagements visibles (404 s'il n'a
    pas de place visible dans ce contrat)."""
    user, contract = visible_contract(request, slug)
    partner = _partners(user, contract).filter(slug=partner_slug).first()
    if partner is None:
        raise HttpError(404, f"Aucun partenaire « {partner_slug} » dans ce contrat.")
    actions = Action.objects.for_contract(contract)
    partner.action_codes = sorted(
        set(actions.filter(pilot_partner=partner).values_list("code", flat=True))
        | set(actions.filter(contributors=partner).values_list("code", flat=True))
    )
    partner.visible_commitment_ids = list(
        Commitment.objects.visible_to(user, contract)
        .filter(partner=partner)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return Status(200, partner)
