"""Instances, décisions et retours d'expérience dans l'API : lecture selon le rôle.

Le public lit les comités de pilotage (COPIL) et leurs décisions, et les retours publiés, sans
aucune donnée personnelle sur leurs auteurs (seulement l'organisation au nom de laquelle ils
écrivent). Les membres du contrat lisent toutes les instances ; un pilote lit tous les retours,
chacun lit les siens.
"""

from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from cdv.commitments.abilities import PUBLIC_STATUSES, can_read_contract_internals
from cdv.commitments.models import Commitment
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.territories.models import Territory

from .auth import visible_contract

router = Router(tags=["Instances et retours d'expérience"])


class DecisionOut(Schema):
    id: int
    meeting_id: int
    meeting_kind: str
    meeting_date: date
    text: str
    owner: str | None = Field(description="nom du partenaire porteur")
    owner_slug: str | None
    due_on: date | None
    status: str
    status_label: str
    late: bool = Field(description="ouverte et échéance passée")
    follow_up: str
    closed_on: date | None
    actions: list[str] = Field(description="codes des actions liées")
    commitments: list[int] = Field(
        description="numéros des engagements liés (publics seulement pour le public)"
    )
    is_demo: bool

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
    id: int
    kind: str
    kind_label: str
    title: str
    date: date
    qpv: str | None = Field(description="code du QPV d'une instance de quartier")
    participants: list[str] = Field(description="partenaires présents")
    agenda: str
    minutes: str
    decisions: list[DecisionOut]
    is_demo: bool

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
    id: int
    kind: str
    kind_label: str
    text: str
    on_behalf_of: str = Field(description="organisation au nom de laquelle le retour est déposé")
    moderation: str = Field(description="publié pour le public ; les autres états pour l'auteur et le pilote")
    qpvs: list[str]
    enjeu: int | None
    actions: list[str]
    commitments: list[int]
    indicators: list[str]
    created_at: datetime
    is_demo: bool

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
    kind: MeetingKind | None = None


class DecisionFilters(Schema):
    status: DecisionStatus | None = None
    owner: str | None = Field(None, description="identifiant (slug) du partenaire porteur")


class FeedbackFilters(Schema):
    qpv: str | None = Field(None, description="code du QPV")
    enjeu: int | None = Field(None, description="numéro de l'enjeu")
    kind: FeedbackKind | None = None


def _contract(request, slug):
    return visible_contract(request, slug)


def _commitments_for(user, contract):
    queryset = Commitment.objects.only("pk", "status", "contract_id")
    if not can_read_contract_internals(user, contract):
        queryset = queryset.filter(status__in=PUBLIC_STATUSES)
    return Prefetch("commitments", queryset=queryset)


def _decision_prefetches(user, contract):
    return [
        Prefetch("actions", queryset=Action.objects.only("code").order_by("code")),
        _commitments_for(user, contract),
    ]


@router.get(
    "/{slug}/meetings", response=list[MeetingOut], summary="Instances d'un contrat, avec leurs décisions"
)
@paginate(LimitOffsetPagination)
def list_meetings(request, slug: str, filters: Query[MeetingFilters]):
    """Toutes les instances pour les membres du contrat ; les comités de pilotage pour le public."""
    user, contract = _contract(request, slug)
    queryset = (
        mt.visible_meetings(user, Meeting.objects.all(), contract)
        .select_related("qpv")
        .prefetch_related(
            Prefetch("participants", queryset=Partner.objects.only("name").order_by("name")),
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related("owner", "meeting")
                .prefetch_related(*_decision_prefetches(user, contract))
                .order_by("id"),
            ),
        )
        .order_by("-date", "-id")
    )
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return queryset


@router.get("/{slug}/decisions", response=list[DecisionOut], summary="Décisions des instances d'un contrat")
@paginate(LimitOffsetPagination)
def list_decisions(request, slug: str, filters: Query[DecisionFilters]):
    """Filtres : état du suivi, porteur. Le public lit les décisions des comités de pilotage."""
    user, contract = _contract(request, slug)
    queryset = (
        mt.visible_decisions(user, Decision.objects.all(), contract)
        .select_related("meeting", "owner")
        .prefetch_related(*_decision_prefetches(user, contract))
        .order_by("-meeting__date", "id")
    )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.owner:
        queryset = queryset.filter(owner__slug=filters.owner)
    return queryset


@router.get("/{slug}/feedback", response=list[FeedbackOut], summary="Retours d'expérience d'un contrat")
@paginate(LimitOffsetPagination)
def list_feedback(request, slug: str, filters: Query[FeedbackFilters]):
    """Les retours publiés pour le public, sans donnée personnelle ; un pilote lit aussi ceux qui
    attendent ou ont été écartés, chacun lit aussi les siens."""
    user, contract = _contract(request, slug)
    queryset = (
        fb.visible_feedback(user, Feedback.objects.all(), contract)
        .select_related("partner", "enjeu")
        .prefetch_related(
            Prefetch("qpvs", queryset=Territory.objects.only("code").order_by("code")),
            Prefetch("actions", queryset=Action.objects.only("code").order_by("code")),
            _commitments_for(user, contract),
            "indicators",
        )
        .order_by("-created_at", "-id")
    )
    if filters.qpv:
        queryset = queryset.filter(qpvs__code=filters.qpv.upper())
    if filters.enjeu:
        queryset = queryset.filter(enjeu__number=filters.enjeu)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    return queryset
