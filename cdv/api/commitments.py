"""Engagements dans l'API : lecture selon le rôle, écritures par les mêmes services que les pages."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from cdv.commitments import abilities, services
from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment
from cdv.partners.models import Partner
from cdv.plan.models import Action, Objective
from cdv.territories.models import Territory

from .auth import require_user, visible_contract
from .schemas import Error

router = Router(tags=["Engagements"])


class MeansIn(Schema):
    year: int
    fte: Decimal = Field(Decimal(0), ge=0)
    amount_eur: Decimal = Field(Decimal(0), ge=0)
    funding: FundingKind


class MeansOut(MeansIn):
    pass


class CommitmentOut(Schema):
    id: int
    partner: str
    partner_slug: str
    enjeu: int
    objective: str
    action: str | None
    title: str
    summary_plain: str
    description: str
    scope: str
    qpvs: list[str]
    indicators: list[str]
    target: str
    deadline: date | None
    status: str
    status_label: str
    version: int
    confirmed_name: str
    confirmed_role: str
    means: list[MeansOut]
    is_demo: bool

    @staticmethod
    def resolve_partner(obj):
        return obj.partner.name

    @staticmethod
    def resolve_partner_slug(obj):
        return obj.partner.slug

    @staticmethod
    def resolve_enjeu(obj):
        return obj.objective.enjeu.number

    @staticmethod
    def resolve_objective(obj):
        return obj.objective.code

    @staticmethod
    def resolve_action(obj):
        return obj.action.code if obj.action_id else None

    @staticmethod
    def resolve_qpvs(obj):
        return sorted(q.code for q in obj.qpvs.all())

    @staticmethod
    def resolve_indicators(obj):
        return sorted(i.code for i in obj.indicators.all())

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_means(obj):
        return list(obj.means.all())


class CommitmentFilters(Schema):
    partner: str | None = Field(None, description="identifiant (slug) du partenaire")
    enjeu: int | None = Field(None, description="numéro de l'enjeu")
    qpv: str | None = Field(None, description="code du QPV (engagements qui le citent)")
    status: CommitmentStatus | None = None


class CommitmentIn(Schema):
    partner: str = Field(..., description="slug du partenaire engagé")
    objective: str = Field(..., description="code de l'objectif, ex. 1.2")
    action: str | None = Field(None, description="code de l'action, ex. 1.2.3")
    title: str = Field(..., max_length=300)
    summary_plain: str = Field("", max_length=300)
    description: str = ""
    scope: CommitmentScope = CommitmentScope.QPV
    qpvs: list[str] = []
    indicators: list[str] = Field([], description="codes des indicateurs de suivi du contrat")
    target: str = Field("", max_length=300)
    deadline: date | None = None
    means: list[MeansIn] = []


class CommitmentPatch(Schema):
    version: int = Field(..., description="version lue : un autre enregistrement entre-temps donne 409")
    objective: str | None = None
    action: str | None = None
    title: str | None = Field(None, max_length=300)
    summary_plain: str | None = Field(None, max_length=300)
    description: str | None = None
    scope: CommitmentScope | None = None
    qpvs: list[str] | None = None
    indicators: list[str] | None = None
    target: str | None = Field(None, max_length=300)
    deadline: date | None = None
    means: list[MeansIn] | None = None
    amendment_reason: str = ""


class TransitionIn(Schema):
    action: str = Field(..., description="propose, validate, return, start ou close")
    comment: str = ""
    outcome: CommitmentStatus | None = None


class ConflictOut(Schema):
    detail: str
    changes: list[list]


def _contract(request, slug):
    return visible_contract(request, slug)


def _queryset(contract):
    return (
        Commitment.objects.filter(contract=contract)
        .select_related("partner", "objective__enjeu", "action")
        .prefetch_related(Prefetch("qpvs", queryset=Territory.objects.only("code")), "means", "indicators")
        .order_by("objective__enjeu__number", "objective__number", "id")
    )


def _get(user, contract, pk):
    commitment = _queryset(contract).filter(pk=pk).first()
    if commitment is None or not abilities.commitment_abilities(user, commitment)["view"]:
        raise HttpError(404, f"Aucun engagement n° {pk} dans ce contrat.")
    return commitment


def _french(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ; ".join(f"{field} : {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


def _resolve(contract, *, objective=None, action=None, qpvs=None, indicators=None):
    resolved = {}
    if indicators is not None:
        found = {i.code: i for i in contract.indicators.filter(code__in=indicators)}
        unknown = [code for code in indicators if code not in found]
        if unknown:
            raise HttpError(422, f"indicators : pas des indicateurs du contrat : {', '.join(unknown)}.")
        resolved["indicators"] = [found[code] for code in indicators]
    if objective is not None:
        number, _, sub = objective.partition(".")
        found = Objective.objects.filter(
            enjeu__contract=contract, enjeu__number=number or 0, number=sub or 0
        ).first()
        if not (number.isdigit() and sub.isdigit()) or found is None:
            raise HttpError(422, f"objective : aucun objectif « {objective} » dans ce contrat.")
        resolved["objective"] = found
    if action is not None:
        found = Action.objects.for_contract(contract).filter(code=action).first()
        if found is None:
            raise HttpError(422, f"action : aucune action « {action} » dans ce contrat.")
        resolved["action"] = found
    if qpvs is not None:
        found = {q.code: q for q in contract.qpvs.filter(code__in=qpvs).only("code", "name")}
        unknown = [code for code in qpvs if code not in found]
        if unknown:
            raise HttpError(422, f"qpvs : pas des QPV du contrat : {', '.join(unknown)}.")
        resolved["qpvs"] = [found[code] for code in qpvs]
    return resolved


@router.get("/{slug}/commitments", response=list[CommitmentOut], summary="Engagements d'un contrat")
@paginate(LimitOffsetPagination)
def list_commitments(request, slug: str, filters: Query[CommitmentFilters]):
    """Tous les engagements pour les membres du contrat ; pour le public, les confirmés et suivants."""
    user, contract = _contract(request, slug)
    qs = abilities.visible_commitments(user, _queryset(contract), contract)
    if filters.partner:
        qs = qs.filter(partner__slug=filters.partner)
    if filters.enjeu:
        qs = qs.filter(objective__enjeu__number=filters.enjeu)
    if filters.qpv:
        qs = qs.filter(qpvs__code=filters.qpv.upper())
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


@router.get("/{slug}/commitments/{pk}", response={200: CommitmentOut, 404: Error}, summary="Un engagement")
def get_commitment(request, slug: str, pk: int):
    user, contract = _contract(request, slug)
    return Status(200, _get(user, contract, pk))


@router.post(
    "/{slug}/commitments",
    response={201: CommitmentOut, 401: Error, 403: Error, 404: Error, 422: Error},
    summary="Créer un engagement (brouillon)",
)
def create_commitment(request, slug: str, payload: CommitmentIn):
    user = require_user(request)
    _, contract = _contract(request, slug)
    partner = Partner.objects.filter(slug=payload.partner).first()
    if partner is None:
        raise HttpError(422, f"partner : aucun partenaire « {payload.partner} ».")
    refs = _resolve(
        contract,
        objective=payload.objective,
        action=payload.action,
        qpvs=payload.qpvs,
        indicators=payload.indicators,
    )
    data = payload.dict(exclude={"partner", "objective", "action", "qpvs", "means", "indicators"})
    data.update(objective=refs["objective"], action=refs.get("action"))
    try:
        commitment = services.create_commitment(
            user=user,
            contract=contract,
            partner=partner,
            data=data,
            qpvs=refs["qpvs"],
            means=[m.dict() for m in payload.means],
            indicators=refs["indicators"],
        )
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from error
    except ValidationError as error:
        raise HttpError(422, _french(error)) from error
    return Status(201, _get(user, contract, commitment.pk))


@router.patch(
    "/{slug}/commitments/{pk}",
    response={200: CommitmentOut, 401: Error, 403: Error, 404: Error, 409: ConflictOut, 422: Error},
    summary="Modifier un engagement (verrou optimiste)",
)
def update_commitment(request, slug: str, pk: int, payload: CommitmentPatch):
    user = require_user(request)
    _, contract = _contract(request, slug)
    commitment = _get(user, contract, pk)
    if not abilities.commitment_abilities(user, commitment)["edit"]:
        raise HttpError(403, "Vous ne pouvez pas modifier cet engagement.")
    fields = payload.dict(
        exclude_unset=True, exclude={"version", "qpvs", "means", "amendment_reason", "indicators"}
    )
    refs = _resolve(
        contract,
        objective=fields.pop("objective", None),
        action=fields.pop("action", None),
        qpvs=payload.qpvs,
        indicators=payload.indicators,
    )
    fields.update({k: v for k, v in refs.items() if k not in {"qpvs", "indicators"}})
    try:
        services.update_commitment(
            user=user,
            commitment=commitment,
            expected_version=payload.version,
            data=fields,
            qpvs=refs.get("qpvs"),
            means=[m.dict() for m in payload.means] if payload.means is not None else None,
            indicators=refs.get("indicators"),
            amendment_reason=payload.amendment_reason,
        )
    except services.ConflictError as error:
        return Status(409, {"detail": str(error), "changes": [list(c) for c in error.changes]})
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from error
    except ValidationError as error:
        raise HttpError(422, _french(error)) from error
    return Status(200, _get(user, contract, pk))


@router.post(
    "/{slug}/commitments/{pk}/transitions",
    response={200: CommitmentOut, 401: Error, 403: Error, 404: Error, 422: Error},
    summary="Faire avancer un engagement dans son cycle de vie",
)
def transition(request, slug: str, pk: int, payload: TransitionIn):
    user = require_user(request)
    _, contract = _contract(request, slug)
    commitment = _get(user, contract, pk)
    calls = {
        "propose": lambda: services.propose(user=user, commitment=commitment),
        "validate": lambda: services.validate(user=user, commitment=commitment),
        "return": lambda: services.return_to_partner(
            user=user, commitment=commitment, comment=payload.comment
        ),
        "start": lambda: services.start(user=user, commitment=commitment),
        "close": lambda: services.close(
            user=user, commitment=commitment, outcome=payload.outcome or "", reason=payload.comment
        ),
    }
    if payload.action not in calls:
        raise HttpError(422, "action : propose, validate, return, start ou close.")
    try:
        calls[payload.action]()
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from error
    except ValidationError as error:
        raise HttpError(422, _french(error)) from error
    return Status(200, _get(user, contract, pk))
