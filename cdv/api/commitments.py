"""Engagements dans l'API : lecture selon le rôle, écritures par les mêmes services que les pages."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ValidationInfo, field_validator

from cdv.commitments import abilities, services
from cdv.commitments.enums import CLOSING_OUTCOMES, CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.territories.models import Territory

from .auth import visible_contract, writer
from .errors import refused
from .fields import ACTION_CODE_PATTERN, NON_BLANK, Body, Day, decimal, integer, rule_error
from .lookups import objective_by_code
from .pagination import paginated
from .params import (
    MAX_SMALL,
    OBJECTIVE_CODE_PATTERN,
    QPV_CODE_PATTERN,
    SLUG_PATTERN,
    CommitmentId,
    ContractSlug,
)
from .schemas import READ_ERRORS, WRITE_ERRORS, WRITE_SECURITY

router = Router(tags=["commitments"])
MAX_ITEMS = 200  # éléments d'une liste reçue (QPV, indicateurs, moyens) : borne les requêtes SQL
QpvCode = Annotated[str, Field(pattern=QPV_CODE_PATTERN)]
IndicatorCode = Annotated[str, Field(pattern=SLUG_PATTERN)]
GENERAL_SCOPES = [CommitmentScope.CONTRACT.value, CommitmentScope.METROPOLITAN.value]
_NON_BLANK = {"type": "string", "pattern": NON_BLANK}
# Les règles des transitions, dans le schéma (JSON Schema 2020-12) comme dans la validation.
TRANSITION_RULES = {
    "allOf": [
        {
            "if": {"properties": {"action": {"const": "close"}}, "required": ["action"]},
            "then": {
                "required": ["outcome"],
                "properties": {"outcome": {"enum": [s.value for s in CLOSING_OUTCOMES]}},
            },
        },
        {
            "if": {"properties": {"action": {"const": "return"}}, "required": ["action"]},
            "then": {"required": ["comment"], "properties": {"comment": _NON_BLANK}},
        },
        {
            "if": {
                "properties": {"action": {"const": "close"}, "outcome": {"const": "ABANDONNE"}},
                "required": ["action", "outcome"],
            },
            "then": {"required": ["comment"], "properties": {"comment": _NON_BLANK}},
        },
    ]
}


class MeansIn(Body):
    year: integer(1990, 2100) = Field(..., description="année (dans la période du contrat)")
    fte: decimal(7) = Field(Decimal(0), description="équivalents temps plein (5 chiffres, 2 décimales)")
    amount_eur: decimal(14) = Field(Decimal(0), description="montant en euros (12 chiffres, 2 décimales)")
    funding: FundingKind = Field(..., description="droit commun ou crédits spécifiques")


class CommitmentMeansOut(Schema):
    year: int = Field(description="année")
    fte: Decimal = Field(description="équivalents temps plein")
    amount_eur: Decimal = Field(description="montant en euros")
    funding: FundingKind = Field(description="droit commun ou crédits spécifiques")


class CommitmentOut(Schema):
    id: int = Field(description="numéro de l'engagement")
    partner: str = Field(description="nom du partenaire engagé")
    partner_slug: str = Field(description="identifiant (slug) du partenaire engagé")
    enjeu: int = Field(description="numéro de l'enjeu")
    objective: str = Field(description="code de l'objectif")
    action: str | None = Field(description="code de l'action, s'il y en a une")
    title: str = Field(description="intitulé")
    summary_plain: str = Field(description="résumé en langage clair")
    description: str = Field(description="description")
    scope: str = Field(description="portée : CONTRAT, METROPOLE ou QPV (quartiers choisis)")
    qpvs: list[str] = Field(description="codes des QPV cités")
    indicators: list[str] = Field(description="codes des indicateurs de suivi")
    target: str = Field(description="cible")
    deadline: date | None = Field(description="échéance")
    status: str = Field(description="état dans le cycle de vie")
    status_label: str = Field(description="état en clair")
    version: int = Field(description="version, à renvoyer pour modifier (verrou optimiste)")
    confirmed_name: str = Field(description="signataire du cahier d'engagements")
    confirmed_role: str = Field(description="qualité du signataire du cahier")
    means: list[CommitmentMeansOut] = Field(description="moyens par année et par nature")
    is_demo: bool = Field(description="donnée de démonstration")

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
    partner: str | None = Field(None, description="identifiant (slug) du partenaire", pattern=SLUG_PATTERN)
    enjeu: int | None = Field(None, ge=1, le=MAX_SMALL, description="numéro de l'enjeu")
    qpv: str | None = Field(None, max_length=12, description="code du QPV (engagements qui le citent)")
    status: CommitmentStatus | None = Field(None, description="état dans le cycle de vie")
    year: int | None = Field(
        None, ge=1990, le=2100, description="année : engagements qui y mobilisent des moyens"
    )


class CommitmentIn(Body):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "partner": "ville-de-nantes",
                    "objective": "1.1",
                    "title": "Permanences emploi dans les maisons de quartier",
                    "scope": "QPV",
                    "qpvs": ["QN04413M"],
                    "target": "200 personnes reçues par an",
                    "deadline": "2027-12-31",
                    "means": [{"year": 2026, "fte": "0.5", "amount_eur": "12000", "funding": "DROIT_COMMUN"}],
                }
            ],
            # Portée QPV (par défaut) : au moins un QPV ; autre portée : aucun.
            "if": {"properties": {"scope": {"enum": GENERAL_SCOPES}}, "required": ["scope"]},
            "then": {"properties": {"qpvs": {"maxItems": 0}}},
            "else": {"properties": {"qpvs": {"minItems": 1}}, "required": ["qpvs"]},
        }
    }

    partner: str = Field(..., pattern=SLUG_PATTERN, description="slug du partenaire engagé")
    objective: str = Field(..., pattern=OBJECTIVE_CODE_PATTERN, description="code de l'objectif, ex. 1.2")
    action: str | None = Field(None, pattern=ACTION_CODE_PATTERN, description="code de l'action, ex. 1.2.3")
    title: str = Field(..., min_length=1, max_length=300, description="intitulé")
    summary_plain: str = Field("", max_length=300, description="résumé en langage clair")
    description: str = Field("", description="description")
    scope: CommitmentScope = Field(CommitmentScope.QPV, description="portée")
    qpvs: list[QpvCode] = Field(
        [],
        max_length=MAX_ITEMS,
        validate_default=True,
        description="codes des QPV cités : au moins un pour la portée QPV, aucun pour une autre portée",
    )
    indicators: list[IndicatorCode] = Field(
        [], max_length=MAX_ITEMS, description="codes des indicateurs de suivi du contrat"
    )
    target: str = Field("", max_length=300, description="cible")
    deadline: Day | None = Field(None, description="échéance (au plus tard la fin du contrat)")
    means: list[MeansIn] = Field([], max_length=MAX_ITEMS, description="moyens par année et par nature")

    @field_validator("qpvs")
    @classmethod
    def _qpvs_follow_the_scope(cls, qpvs, info: ValidationInfo):
        return qpvs_for_scope(info.data.get("scope"), qpvs)


class CommitmentPatch(Body):
    """Seuls les champs envoyés changent. Un champ texte ne vaut jamais null (envoyer "" pour le vider) ;
    null pour les autres champs les laisse inchangés, sauf l'échéance, qu'il efface."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"version": 1, "target": "250 personnes reçues par an"}],
            # Portée et QPV envoyés ensemble : même règle qu'à la création.
            "allOf": [
                {
                    "if": {
                        "properties": {"scope": {"enum": GENERAL_SCOPES}, "qpvs": {"type": "array"}},
                        "required": ["scope", "qpvs"],
                    },
                    "then": {"properties": {"qpvs": {"maxItems": 0}}},
                },
                {
                    "if": {
                        "properties": {"scope": {"const": "QPV"}, "qpvs": {"type": "array"}},
                        "required": ["scope", "qpvs"],
                    },
                    "then": {"properties": {"qpvs": {"minItems": 1}}},
                },
            ],
        }
    }

    version: integer(1, 2**31 - 1) = Field(
        ...,
        description="version lue : un autre enregistrement entre-temps donne 409",
    )
    objective: str | None = Field(
        None, pattern=OBJECTIVE_CODE_PATTERN, description="code de l'objectif, ex. 1.2"
    )
    action: str | None = Field(None, pattern=ACTION_CODE_PATTERN, description="code de l'action, ex. 1.2.3")
    title: str = Field(None, min_length=1, max_length=300, description="intitulé")
    summary_plain: str = Field(None, max_length=300, description="résumé en langage clair")
    description: str = Field(None, description="description")
    scope: CommitmentScope | None = Field(None, description="portée")
    qpvs: list[QpvCode] | None = Field(
        None,
        max_length=MAX_ITEMS,
        description="codes des QPV cités (remplacent les précédents) ; envoyés avec la portée, au moins "
        "un pour la portée QPV, aucun pour une autre",
    )
    indicators: list[IndicatorCode] | None = Field(
        None, max_length=MAX_ITEMS, description="codes des indicateurs de suivi (remplacent les précédents)"
    )
    target: str = Field(None, max_length=300, description="cible")
    deadline: Day | None = Field(None, description="échéance ; null pour l'effacer")
    means: list[MeansIn] | None = Field(
        None, max_length=MAX_ITEMS, description="moyens par année (remplacent les précédents)"
    )
    amendment_reason: str = Field(
        "",
        max_length=2000,
        description="motif de l'avenant : obligatoire (non vide) si l'engagement est confirmé ou en cours "
        "(champ `status` : CONFIRME, EN_COURS) et que la modification change quelque chose ; sinon 409",
    )

    @field_validator("qpvs")
    @classmethod
    def _qpvs_follow_the_scope(cls, qpvs, info: ValidationInfo):
        scope = info.data.get("scope")
        return qpvs if scope is None or qpvs is None else qpvs_for_scope(scope, qpvs)


class TransitionIn(Body):
    model_config = {"json_schema_extra": {"examples": [{"action": "propose"}], **TRANSITION_RULES}}

    action: Literal["propose", "validate", "return", "start", "close"] = Field(
        ..., description="propose, validate, return, start ou close"
    )
    outcome: CommitmentStatus | None = Field(
        None,
        validate_default=True,
        description="issue d'une clôture, obligatoire pour close : REALISE, PARTIELLEMENT_REALISE, "
        "NON_REALISE ou ABANDONNE",
    )
    comment: str = Field(
        "",
        max_length=2000,
        validate_default=True,
        description="commentaire : obligatoire (non vide) pour un renvoi (return) et pour un abandon "
        "(close avec ABANDONNE)",
    )

    @field_validator("outcome")
    @classmethod
    def _closing_needs_an_outcome(cls, outcome, info: ValidationInfo):
        if info.data.get("action") == "close" and outcome not in CLOSING_OUTCOMES:
            raise rule_error("pour clore (close), donnez l'issue : " + ", ".join(CLOSING_OUTCOMES))
        return outcome

    @field_validator("comment")
    @classmethod
    def _return_and_abandon_need_a_comment(cls, comment, info: ValidationInfo):
        abandon = (
            info.data.get("action") == "close" and info.data.get("outcome") == CommitmentStatus.ABANDONED
        )
        if (info.data.get("action") == "return" or abandon) and not comment.strip():
            raise rule_error("dites pourquoi (renvoi au partenaire, abandon)")
        return comment


def qpvs_for_scope(scope, qpvs):
    """Même règle que le service : la portée QPV cite au moins un QPV, les autres aucun."""
    if scope == CommitmentScope.QPV and not qpvs:
        raise rule_error("un engagement de portée « quartiers choisis » (QPV) cite au moins un QPV")
    if scope not in {None, CommitmentScope.QPV} and qpvs:
        raise rule_error("un engagement de portée générale ne cite pas de quartier")
    return qpvs


class ConflictOut(Schema):
    detail: str = Field(description="message en français")
    changes: list[list] = Field(
        [],
        description="[champ, valeur vue, valeur enregistrée entre-temps] : un conflit de version ; "
        "absent pour un refus sur le sens des données",
    )


def _contract(request, slug):
    return visible_contract(request, slug)


def _queryset(contract):
    return (
        Commitment.objects.for_contract(contract)
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
            raise refused(f"indicators : pas des indicateurs du contrat : {', '.join(unknown)}.")
        resolved["indicators"] = [found[code] for code in indicators]
    if objective is not None:
        found = objective_by_code(contract, objective)
        if found is None:
            raise refused(f"objective : aucun objectif « {objective} » dans ce contrat.")
        resolved["objective"] = found
    if action is not None:
        found = Action.objects.for_contract(contract).filter(code=action).first()
        if found is None:
            raise refused(f"action : aucune action « {action} » dans ce contrat.")
        resolved["action"] = found
    if qpvs is not None:
        found = {q.code: q for q in contract.qpvs.filter(code__in=qpvs).only("code", "name")}
        unknown = [code for code in qpvs if code not in found]
        if unknown:
            raise refused(f"qpvs : pas des QPV du contrat : {', '.join(unknown)}.")
        resolved["qpvs"] = [found[code] for code in qpvs]
    return resolved


@router.get(
    "/{slug}/commitments",
    response={200: list[CommitmentOut], **READ_ERRORS},
    summary="Engagements d'un contrat",
    operation_id="list_commitments",
)
@paginated
def list_commitments(request, slug: ContractSlug, filters: Query[CommitmentFilters]):
    """Tous les engagements pour les membres du contrat ; pour le public, les confirmés et suivants
    (jamais un brouillon, un engagement proposé, renvoyé ou validé). Triés par enjeu, objectif, numéro."""
    user, contract = _contract(request, slug)
    qs = _queryset(contract).visible_to(user, contract)
    if filters.partner:
        qs = qs.filter(partner__slug=filters.partner)
    if filters.enjeu:
        qs = qs.filter(objective__enjeu__number=filters.enjeu)
    if filters.qpv:
        qs = qs.filter(qpvs__in=contract.qpvs.filter(code=filters.qpv.upper()))
    if filters.status:
        qs = qs.in_status(filters.status)
    if filters.year:
        qs = qs.filter(pk__in=CommitmentMeans.objects.filter(year=filters.year).values("commitment_id"))
    return qs


@router.get(
    "/{slug}/commitments/{pk}",
    response={200: CommitmentOut, **READ_ERRORS},
    summary="Un engagement",
    operation_id="get_commitment",
)
def get_commitment(request, slug: ContractSlug, pk: CommitmentId):
    """Un engagement du contrat, s'il est visible de l'appelant (sinon 404)."""
    user, contract = _contract(request, slug)
    return Status(200, _get(user, contract, pk))


@router.post(
    "/{slug}/commitments",
    response={201: CommitmentOut, **WRITE_ERRORS},
    summary="Créer un engagement (brouillon)",
    operation_id="create_commitment",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def create_commitment(request, slug: ContractSlug, payload: CommitmentIn):
    """Avec un jeton ou une session (et son jeton CSRF) : pilote, ou référent du partenaire."""
    user = request.auth
    _, contract = _contract(request, slug)
    partner = Partner.objects.filter(slug=payload.partner).first()
    if partner is None:
        raise refused(f"partner : aucun partenaire « {payload.partner} ».")
    # Le partenaire vient du corps de la requête : les droits d'abord (403), puis sa place dans le
    # contrat du chemin (409), comme la page qui ne connaît que les partenaires du contrat.
    if not abilities.can_create_commitment(user, contract, partner):
        raise HttpError(403, "Vous ne pouvez pas créer d'engagement pour ce partenaire.")
    if not abilities.partner_takes_part(contract, partner):
        raise refused(
            f"partner : « {payload.partner} » ne prend pas part à ce contrat "
            "(ni signataire, ni membre, ni déjà engagé)."
        )
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
        raise refused(_french(error)) from error
    return Status(201, _get(user, contract, commitment.pk))


@router.patch(
    "/{slug}/commitments/{pk}",
    response={200: CommitmentOut, **WRITE_ERRORS, 409: ConflictOut},
    summary="Modifier un engagement (verrou optimiste)",
    operation_id="update_commitment",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def update_commitment(request, slug: ContractSlug, pk: CommitmentId, payload: CommitmentPatch):
    """Renvoyer la `version` lue : si quelqu'un a enregistré entre-temps, 409 avec les changements.
    Un engagement confirmé ou en cours ne se modifie qu'avec un motif d'avenant."""
    user = request.auth
    _, contract = _contract(request, slug)
    commitment = _get(user, contract, pk)
    if not abilities.commitment_abilities(user, commitment)["edit"]:
        raise HttpError(403, "Vous ne pouvez pas modifier cet engagement.")
    fields = payload.dict(
        exclude_unset=True, exclude={"version", "qpvs", "means", "amendment_reason", "indicators"}
    )
    if fields.get("scope", "") is None:
        del fields["scope"]
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
        raise refused(_french(error)) from error
    return Status(200, _get(user, contract, pk))


@router.post(
    "/{slug}/commitments/{pk}/transitions",
    response={200: CommitmentOut, **WRITE_ERRORS},
    summary="Faire avancer un engagement dans son cycle de vie",
    operation_id="transition_commitment",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def transition(request, slug: ContractSlug, pk: CommitmentId, payload: TransitionIn):
    """propose (partenaire ou pilote), validate et return (pilote), start, close (avec `outcome`)."""
    user = request.auth
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
    try:
        calls[payload.action]()
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from error
    except ValidationError as error:
        raise refused(_french(error)) from error
    return Status(200, _get(user, contract, pk))
