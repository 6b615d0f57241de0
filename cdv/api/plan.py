"""Plan d'action d'un contrat : enjeux → objectifs → actions, et priorités par quartier.

Le plan d'un contrat visible est public : il n'a pas d'état « brouillon ».
"""

from datetime import date

from django.db.models import Prefetch, Q
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope, ActionStatus
from cdv.plan.models import Action, Enjeu, Objective, QpvPriority
from cdv.territories.models import Territory

from .auth import visible_contract
from .lookups import contract_qpv, objective_by_code
from .pagination import paginated
from .params import (
    MAX_SMALL,
    OBJECTIVE_CODE_PATTERN,
    SLUG_PATTERN,
    ActionId,
    ContractSlug,
    EnjeuNumber,
    ObjectiveCode,
)
from .schemas import READ_ERRORS

router = Router(tags=["plan"])


class ObjectiveRef(Schema):
    code: str = Field(description="code de l'objectif : « enjeu.objectif »")
    title: str = Field(description="intitulé")
    is_demo: bool = Field(description="donnée de démonstration")


class PriorityOut(Schema):
    qpv: str = Field(description="code du QPV")
    qpv_name: str = Field(description="nom du QPV")
    text: str = Field(description="priorités locales de l'enjeu dans ce quartier")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_qpv(obj):
        return obj.qpv.code

    @staticmethod
    def resolve_qpv_name(obj):
        return obj.qpv.name


class EnjeuListOut(Schema):
    number: int = Field(description="numéro de l'enjeu")
    title: str = Field(description="intitulé")
    slug: str = Field(description="identifiant d'URL du site public")
    summary_plain: str = Field(description="résumé en langage clair")
    description: str = Field(description="description")
    objectives: list[ObjectiveRef] = Field(description="objectifs de l'enjeu, par numéro")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_objectives(obj):
        return [
            {"code": f"{obj.number}.{o.number}", "title": o.title, "is_demo": o.is_demo}
            for o in obj.objectives.all()
        ]


class EnjeuDetailOut(EnjeuListOut):
    priorities: list[PriorityOut] = Field(description="déclinaison de l'enjeu par quartier, par nom de QPV")

    @staticmethod
    def resolve_priorities(obj):
        return list(obj.qpv_priorities.all())


class ObjectiveOut(Schema):
    code: str = Field(description="code de l'objectif : « enjeu.objectif »")
    enjeu: int = Field(description="numéro de l'enjeu")
    number: int = Field(description="numéro dans l'enjeu")
    title: str = Field(description="intitulé")
    description: str = Field(description="description")
    actions: list[str] = Field(description="codes des actions de l'objectif")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_code(obj):
        return obj.code

    @staticmethod
    def resolve_enjeu(obj):
        return obj.enjeu.number

    @staticmethod
    def resolve_actions(obj):
        return [a.code for a in obj.actions.all()]


class PartnerRef(Schema):
    slug: str = Field(description="identifiant (slug) du partenaire")
    name: str = Field(description="nom")


class ActionOut(Schema):
    id: int = Field(description="numéro de l'action (pour …/actions/{pk})")
    code: str = Field(description="référence de l'action, ex. 1.2.3")
    enjeu: int = Field(description="numéro de l'enjeu")
    objective: str = Field(description="code de l'objectif")
    title: str = Field(description="intitulé")
    summary_plain: str = Field(description="résumé en langage clair")
    description: str = Field(description="description détaillée")
    scope: str = Field(description="METROPOLE (tous les QPV du contrat) ou QPV (les quartiers cités)")
    scope_label: str = Field(description="échelle en clair")
    qpvs: list[str] = Field(description="codes des QPV cités (vide pour une action métropolitaine)")
    pilot_partner: PartnerRef | None = Field(description="partenaire pilote")
    contributors: list[PartnerRef] = Field(description="partenaires contributeurs, par nom")
    status: str = Field(description="état de l'action")
    status_label: str = Field(description="état en clair")
    start_on: date | None = Field(description="début")
    end_on: date | None = Field(description="fin")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_enjeu(obj):
        return obj.objective.enjeu.number

    @staticmethod
    def resolve_objective(obj):
        return obj.objective.code

    @staticmethod
    def resolve_scope_label(obj):
        return obj.get_scope_display()

    @staticmethod
    def resolve_qpvs(obj):
        return [q.code for q in obj.qpvs.all()]

    @staticmethod
    def resolve_pilot_partner(obj):
        p = obj.pilot_partner
        return {"slug": p.slug, "name": p.name} if p else None

    @staticmethod
    def resolve_contributors(obj):
        return [{"slug": p.slug, "name": p.name} for p in obj.contributors.all()]

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class ObjectiveFilters(Schema):
    enjeu: int | None = Field(None, ge=1, le=MAX_SMALL, description="numéro de l'enjeu")


class ActionFilters(Schema):
    enjeu: int | None = Field(None, ge=1, le=MAX_SMALL, description="numéro de l'enjeu")
    objective: str | None = Field(
        None, pattern=OBJECTIVE_CODE_PATTERN, description="code de l'objectif : « enjeu.objectif », ex. 1.2"
    )
    qpv: str | None = Field(
        None,
        max_length=12,
        description="code d'un QPV du contrat : les actions de sa feuille de route, celles qui le citent "
        "et celles de l'échelle métropolitaine (avec scope=QPV : seulement celles qui le citent)",
    )
    status: ActionStatus | None = Field(None, description="état de l'action")
    scope: ActionScope | None = Field(None, description="échelle de l'action")
    partner: str | None = Field(
        None, pattern=SLUG_PATTERN, description="identifiant (slug) d'un partenaire pilote ou contributeur"
    )


def _enjeux(contract):
    return (
        Enjeu.objects.for_contract(contract)
        .prefetch_related(Prefetch("objectives", queryset=Objective.objects.active().order_by("number")))
        .order_by("number")
    )


def _objectives(contract):
    return (
        # Le plan publié : sans les objectifs ni les actions archivés par le pilote.
        Objective.objects.active()
        .filter(enjeu__contract=contract)
        .select_related("enjeu")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=Action.objects.active().only("code", "objective").order_by("code", "id"),
            )
        )
        .order_by("enjeu__number", "number")
    )


def _actions(contract):
    partners = Partner.objects.only("slug", "name").order_by("name")
    return (
        Action.objects.for_contract(contract)
        .active()
        .select_related("objective__enjeu", "pilot_partner")
        .prefetch_related(
            Prefetch("qpvs", queryset=Territory.objects.only("code").order_by("code")),
            Prefetch("contributors", queryset=partners),
        )
        .order_by("objective__enjeu__number", "objective__number", "code", "id")
    )


@router.get(
    "/{slug}/enjeux",
    response={200: list[EnjeuListOut], **READ_ERRORS},
    summary="Enjeux d'un contrat",
    operation_id="list_enjeux",
)
@paginated
def list_enjeux(request, slug: ContractSlug):
    """Les enjeux du contrat par numéro, avec leurs objectifs."""
    _, contract = visible_contract(request, slug)
    return _enjeux(contract)


@router.get(
    "/{slug}/enjeux/{number}",
    response={200: EnjeuDetailOut, **READ_ERRORS},
    summary="Un enjeu, avec ses priorités par quartier",
    operation_id="get_enjeu",
)
def get_enjeu(request, slug: ContractSlug, number: EnjeuNumber):
    """L'enjeu, ses objectifs et sa déclinaison dans chaque quartier (priorités locales)."""
    _, contract = visible_contract(request, slug)
    priorities = QpvPriority.objects.select_related("qpv").defer("qpv__geometry").order_by("qpv__name", "id")
    enjeu = (
        _enjeux(contract)
        .filter(number=number)
        .prefetch_related(Prefetch("qpv_priorities", queryset=priorities))
        .first()
    )
    if enjeu is None:
        raise HttpError(404, f"Aucun enjeu n° {number} dans ce contrat.")
    return Status(200, enjeu)


@router.get(
    "/{slug}/objectives",
    response={200: list[ObjectiveOut], **READ_ERRORS},
    summary="Objectifs d'un contrat",
    operation_id="list_objectives",
)
@paginated
def list_objectives(request, slug: ContractSlug, filters: Query[ObjectiveFilters]):
    """Les objectifs, par enjeu puis par numéro ; filtre : enjeu."""
    _, contract = visible_contract(request, slug)
    qs = _objectives(contract)
    if filters.enjeu:
        qs = qs.filter(enjeu__number=filters.enjeu)
    return qs


@router.get(
    "/{slug}/objectives/{code}",
    response={200: ObjectiveOut, **READ_ERRORS},
    summary="Un objectif",
    operation_id="get_objective",
)
def get_objective(request, slug: ContractSlug, code: ObjectiveCode):
    """L'objectif « enjeu.objectif » du contrat, avec les codes de ses actions."""
    _, contract = visible_contract(request, slug)
    found = objective_by_code(contract, code)
    objective = _objectives(contract).filter(pk=found.pk).first() if found else None
    if objective is None:
        raise HttpError(404, f"Aucun objectif « {code} » dans ce contrat.")
    return Status(200, objective)


@router.get(
    "/{slug}/actions",
    response={200: list[ActionOut], **READ_ERRORS},
    summary="Actions d'un contrat",
    operation_id="list_actions",
)
@paginated
def list_actions(request, slug: ContractSlug, filters: Query[ActionFilters]):
    """Les actions du plan, par enjeu, objectif et référence ; filtres : enjeu, objectif, quartier
    (feuille de route), état, échelle, partenaire pilote ou contributeur. Un quartier hors du contrat
    donne une liste vide."""
    _, contract = visible_contract(request, slug)
    qs = _actions(contract)
    if filters.enjeu:
        qs = qs.filter(objective__enjeu__number=filters.enjeu)
    if filters.objective:
        objective = objective_by_code(contract, filters.objective)
        qs = qs.filter(objective=objective) if objective else qs.none()
    if filters.qpv:
        qpv = contract_qpv(contract, filters.qpv)
        qs = qs.filter(pk__in=Action.objects.applying_to(qpv).values("pk")) if qpv else qs.none()
    if filters.status:
        qs = qs.in_status(filters.status)
    if filters.scope:
        qs = qs.filter(scope=filters.scope)
    if filters.partner:
        contributing = Action.contributors.through.objects.filter(partner__slug=filters.partner)
        qs = qs.filter(Q(pilot_partner__slug=filters.partner) | Q(pk__in=contributing.values("action_id")))
    return qs


@router.get(
    "/{slug}/actions/{pk}",
    response={200: ActionOut, **READ_ERRORS},
    summary="Une action",
    operation_id="get_action",
)
def get_action(request, slug: ContractSlug, pk: ActionId):
    """Une action du plan du contrat (404 si elle relève d'un autre contrat)."""
    _, contract = visible_contract(request, slug)
    action = _actions(contract).filter(pk=pk).first()
    if action is None:
        raise HttpError(404, f"Aucune action n° {pk} dans ce contrat.")
    return Status(200, action)
