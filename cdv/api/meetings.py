"""Instances, décisions et retours d'expérience dans l'API : lecture selon le rôle.

Le public lit les comités de pilotage (COPIL) et leurs décisions, et les retours publiés, sans
aucune donnée personnelle sur leurs auteurs (seulement l'organisation au nom de laquelle ils
écrivent). Les membres du contrat lisent toutes les instances ; un pilote lit tous les retours,
chacun lit les siens.
"""

from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from cdv.commitments.models import Commitment
from cdv.indicators.models import Indicator
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.territories.models import Territory

from .auth import visible_contract
from .lookups import contract_qpv
from .pagination import paginated
from .params import MAX_SMALL, SLUG_PATTERN, ContractSlug, FeedbackId, MeetingId
from .schemas import READ_ERRORS

router = Router(tags=["meetings"])
Day = date  # « date » est aussi le nom d'un champ de MeetingOut


class DecisionOut(Schema):
    id: int = Field(description="numéro de la décision")
    meeting_id: int = Field(description="numéro de l'instance qui l'a prise")
    meeting_kind: str = Field(description="type d'instance")
    meeting_date: date = Field(description="date de l'instance")
    text: str = Field(description="décision")
    owner: str | None = Field(description="nom du partenaire porteur")
    owner_slug: str | None = Field(description="identifiant (slug) du partenaire porteur")
    due_on: date | None = Field(description="échéance")
    status: str = Field(description="état du suivi")
    status_label: str = Field(description="état en clair")
    late: bool = Field(description="ouverte et échéance passée")
    follow_up: str = Field(description="où en est-on ?")
    closed_on: date | None = Field(description="date de clôture")
    actions: list[str] = Field(description="codes des actions liées")
    commitments: list[int] = Field(
        description="numéros des engagements liés (publics seulement pour le public)"
    )
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_meeting_kind(obj):
        return obj.meeting.kind

    @staticmethod
    def resolve_meeting_date(obj):
        return obj.meeting.date

    @staticmethod
    def resolve_owner(obj):
        return obj.owner.name if obj.owner_id else None

    @staticmethod
    def resolve_owner_slug(obj):
        return obj.owner.slug if obj.owner_id else None

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_late(obj):
        return mt.is_late(obj, timezone.localdate())

    @staticmethod
    def resolve_actions(obj):
        return [a.code for a in obj.actions.all()]

    @staticmethod
    def resolve_commitments(obj):
        return [c.pk for c in obj.commitments.all()]


class MeetingOut(Schema):
    id: int = Field(description="numéro de l'instance")
    kind: str = Field(description="COPIL, COTECH ou QUARTIER")
    kind_label: str = Field(description="type en clair")
    title: str = Field(description="intitulé")
    date: Day = Field(description="date")
    qpv: str | None = Field(description="code du QPV d'une instance de quartier")
    participants: list[str] = Field(description="partenaires présents")
    agenda: str = Field(description="ordre du jour")
    minutes: str = Field(description="compte rendu")
    decisions: list[DecisionOut] = Field(description="décisions prises")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_qpv(obj):
        return obj.qpv.code if obj.qpv_id else None

    @staticmethod
    def resolve_participants(obj):
        return [p.name for p in obj.participants.all()]

    @staticmethod
    def resolve_decisions(obj):
        return list(obj.decisions.all())


class FeedbackOut(Schema):
    id: int = Field(description="numéro du retour")
    kind: str = Field(description="REUSSITE, DIFFICULTE, BESOIN ou PROPOSITION")
    kind_label: str = Field(description="nature en clair")
    text: str = Field(description="le retour")
    on_behalf_of: str = Field(description="organisation au nom de laquelle le retour est déposé")
    moderation: str = Field(description="publié pour le public ; les autres états pour l'auteur et le pilote")
    qpvs: list[str] = Field(description="codes des QPV concernés")
    enjeu: int | None = Field(description="numéro de l'enjeu concerné")
    actions: list[str] = Field(description="codes des actions liées")
    commitments: list[int] = Field(
        description="numéros des engagements liés (publics seulement pour le public)"
    )
    indicators: list[str] = Field(description="codes des indicateurs liés")
    created_at: datetime = Field(description="déposé le")
    is_demo: bool = Field(description="donnée de démonstration")

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_on_behalf_of(obj):
        return fb.public_attribution(obj)

    @staticmethod
    def resolve_qpvs(obj):
        return [q.code for q in obj.qpvs.all()]

    @staticmethod
    def resolve_enjeu(obj):
        return obj.enjeu.number if obj.enjeu_id else None

    @staticmethod
    def resolve_actions(obj):
        return [a.code for a in obj.actions.all()]

    @staticmethod
    def resolve_commitments(obj):
        return [c.pk for c in obj.commitments.all()]

    @staticmethod
    def resolve_indicators(obj):
        return [i.code for i in obj.indicators.all()]


class MeetingFilters(Schema):
    kind: MeetingKind | None = Field(None, description="type d'instance")


class DecisionFilters(Schema):
    status: DecisionStatus | None = Field(None, description="état du suivi")
    owner: str | None = Field(
        None, pattern=SLUG_PATTERN, description="identifiant (slug) du partenaire porteur"
    )


class FeedbackFilters(Schema):
    qpv: str | None = Field(None, max_length=12, description="code d'un QPV du contrat")
    enjeu: int | None = Field(None, ge=1, le=MAX_SMALL, description="numéro de l'enjeu")
    kind: FeedbackKind | None = Field(None, description="nature du retour")


def _contract(request, slug):
    return visible_contract(request, slug)


def _commitments_for(user, contract):
    queryset = Commitment.objects.only("pk", "status", "contract_id").visible_to(user, contract)
    return Prefetch("commitments", queryset=queryset)


def _decision_prefetches(user, contract):
    return [
        Prefetch("actions", queryset=Action.objects.only("code").order_by("code")),
        _commitments_for(user, contract),
    ]


def _meetings(user, contract):
    return (
        Meeting.objects.visible_to(user, contract)
        .select_related("qpv")
        .prefetch_related(
            Prefetch("participants", queryset=Partner.objects.only("name").order_by("name", "id")),
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related("owner", "meeting")
                .prefetch_related(*_decision_prefetches(user, contract))
                .order_by("id"),
            ),
        )
        .order_by("-date", "-id")
    )


def _feedback(user, contract):
    return (
        Feedback.objects.visible_to(user, contract)
        .select_related("partner", "enjeu")
        .prefetch_related(
            Prefetch("qpvs", queryset=Territory.objects.only("code").order_by("code")),
            Prefetch("actions", queryset=Action.objects.only("code").order_by("code", "id")),
            _commitments_for(user, contract),
            Prefetch("indicators", queryset=Indicator.objects.only("code").order_by("code")),
        )
        .order_by("-created_at", "-id")
    )


@router.get(
    "/{slug}/meetings",
    response={200: list[MeetingOut], **READ_ERRORS},
    summary="Instances d'un contrat, avec leurs décisions",
    operation_id="list_meetings",
)
@paginated
def list_meetings(request, slug: ContractSlug, filters: Query[MeetingFilters]):
    """Toutes les instances pour les membres du contrat ; les comités de pilotage pour le public.
    Les plus récentes d'abord ; filtre : type d'instance."""
    user, contract = _contract(request, slug)
    queryset = _meetings(user, contract)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return queryset


@router.get(
    "/{slug}/meetings/{pk}",
    response={200: MeetingOut, **READ_ERRORS},
    summary="Une instance, avec ses décisions",
    operation_id="get_meeting",
)
def get_meeting(request, slug: ContractSlug, pk: MeetingId):
    """Une instance du contrat, si l'appelant peut la lire (sinon 404)."""
    user, contract = _contract(request, slug)
    meeting = _meetings(user, contract).filter(pk=pk).first()
    if meeting is None:
        raise HttpError(404, f"Aucune instance n° {pk} dans ce contrat.")
    return Status(200, meeting)


@router.get(
    "/{slug}/decisions",
    response={200: list[DecisionOut], **READ_ERRORS},
    summary="Décisions des instances d'un contrat",
    operation_id="list_decisions",
)
@paginated
def list_decisions(request, slug: ContractSlug, filters: Query[DecisionFilters]):
    """Filtres : état du suivi, porteur. Le public lit les décisions des comités de pilotage.
    Les plus récentes d'abord."""
    user, contract = _contract(request, slug)
    queryset = (
        Decision.objects.visible_to(user, contract)
        .select_related("meeting", "owner")
        .prefetch_related(*_decision_prefetches(user, contract))
        .order_by("-meeting__date", "-meeting_id", "id")
    )
    if filters.status:
        queryset = queryset.in_status(filters.status)
    if filters.owner:
        queryset = queryset.filter(owner__slug=filters.owner)
    return queryset


@router.get(
    "/{slug}/feedback",
    response={200: list[FeedbackOut], **READ_ERRORS},
    summary="Retours d'expérience d'un contrat",
    operation_id="list_feedback",
)
@paginated
def list_feedback(request, slug: ContractSlug, filters: Query[FeedbackFilters]):
    """Les retours publiés pour le public, sans donnée personnelle ; un pilote lit aussi ceux qui
    attendent ou ont été écartés, chacun lit aussi les siens. Les plus récents d'abord ; filtres :
    quartier, enjeu, nature (un quartier hors du contrat donne une liste vide)."""
    user, contract = _contract(request, slug)
    queryset = _feedback(user, contract)
    if filters.qpv:
        qpv = contract_qpv(contract, filters.qpv)
        queryset = queryset.filter(qpvs=qpv) if qpv else queryset.none()
    if filters.enjeu:
        queryset = queryset.filter(enjeu__number=filters.enjeu)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return queryset


@router.get(
    "/{slug}/feedback/{pk}",
    response={200: FeedbackOut, **READ_ERRORS},
    summary="Un retour d'expérience",
    operation_id="get_feedback",
)
def get_feedback(request, slug: ContractSlug, pk: FeedbackId):
    """Un retour du contrat, s'il est publié ou si l'appelant peut le lire (sinon 404)."""
    user, contract = _contract(request, slug)
    feedback = _feedback(user, contract).filter(pk=pk).first()
    if feedback is None:
        raise HttpError(404, f"Aucun retour d'expérience n° {pk} dans ce contrat.")
    return Status(200, feedback)
