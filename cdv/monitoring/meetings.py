"""Instances (COPIL, comités techniques, instances de quartier) et leurs décisions : droits et
écritures.

Le pilote crée et modifie les instances et les décisions ; les membres du contrat lisent tout ;
le public lit les comités de pilotage (COPIL), leur compte rendu et leurs décisions, rien des
comités techniques ni des instances de quartier. Une décision reste « à suivre » tant qu'elle
n'est pas faite ou abandonnée ; la clore pose sa date de clôture.

Chaque service vérifie les droits et lève une erreur au message français ; rien n'est écrit en cas
d'erreur.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.models import Commitment
from cdv.contracts.models import Signatory
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind
from cdv.partners.models import Partner
from cdv.users.models import Membership
from cdv.users.roles import is_member

from .abilities import can_manage_meetings, decision_abilities, meeting_abilities
from .enums import (
    CLOSED_DECISION_STATUSES,
    OPEN_DECISION_STATUSES,
    PUBLIC_MEETING_KINDS,
    DecisionStatus,
    MeetingKind,
)
from .models import Decision, Meeting

MEETING_FIELDS = ["kind", "title", "date", "agenda", "minutes", "qpv"]
DECISION_FIELDS = ["text", "owner", "due_on", "status", "follow_up"]


class MeetingError(ValidationError):
    """Instance ou décision refusée par une règle métier."""


def _refuse(message):
    raise PermissionDenied(message)


# --- Droits ------------------------------------------------------------------------------------


def visible_meetings(user, queryset, contract):
    """Instances d'un contrat que ``user`` peut lire : toutes pour un membre, les COPIL sinon."""
    queryset = queryset.filter(contract=contract)
    if is_member(user, contract):
        return queryset
    return queryset.filter(kind__in=PUBLIC_MEETING_KINDS)


def visible_decisions(user, queryset, contract):
    queryset = queryset.filter(meeting__contract=contract)
    if is_member(user, contract):
        return queryset
    return queryset.filter(meeting__kind__in=PUBLIC_MEETING_KINDS)


def contract_partners(contract):
    """Partenaires qui ont une place dans le contrat : signataires, participants, membres, engagés.

    Par sous-requêtes sur le contrat (index) : des jointures externes avec OR et DISTINCT parcouraient
    tous les partenaires de l'instance (190 ms à l'échelle nationale, 20 000 partenaires).
    """
    return Partner.objects.filter(
        Q(pk__in=Signatory.objects.filter(contract=contract).values("partner_id"))
        | Q(pk__in=Membership.objects.filter(contract=contract).values("partner_id"))
        | Q(pk__in=Commitment.objects.filter(contract=contract).values("partner_id"))
    ).order_by("name")


def is_late(decision, today: datetime.date | None = None) -> bool:
    """Encore ouverte et son échéance est passée."""
    today = today or timezone.localdate()
    return (
        decision.status in OPEN_DECISION_STATUSES and decision.due_on is not None and decision.due_on < today
    )


# --- Validation --------------------------------------------------------------------------------


def _check_meeting(contract, meeting, participants):
    errors = {}
    if meeting.qpv_id:
        if meeting.kind != MeetingKind.NEIGHBOURHOOD:
            errors["qpv"] = "Seule une instance de quartier se rattache à un quartier."
        elif not contract.qpvs.filter(pk=meeting.qpv_id).exists():
            errors["qpv"] = "Ce quartier ne relève pas du contrat."
    if participants:
        allowed = set(
            contract_partners(contract)
            .filter(pk__in=[p.pk for p in participants])
            .values_list("pk", flat=True)
        )
        outside = [p.name for p in participants if p.pk not in allowed]
        if outside:
            errors["participants"] = (
                "Ces partenaires ne prennent pas part au contrat : " + ", ".join(outside) + "."
            )
    try:
        meeting.full_clean(exclude=["contract", "qpv", "campaign"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, " ".join(messages))
    if errors:
        raise MeetingError(errors)


def _check_decision(contract, decision, actions, commitments):
    from cdv.plan.models import Action

    errors = {}
    if decision.owner_id and not contract_partners(contract).filter(pk=decision.owner_id).exists():
        errors["owner"] = "Ce partenaire ne prend pas part au contrat."
    if actions:
        allowed = set(
            Action.objects.for_contract(contract)
            .filter(pk__in=[a.pk for a in actions])
            .values_list("pk", flat=True)
        )
        if any(a.pk not in allowed for a in actions):
            errors["actions"] = "Certaines actions choisies relèvent d'un autre contrat."
    if any(c.contract_id != contract.pk for c in commitments):
        errors["commitments"] = "Certains engagements choisis relèvent d'un autre contrat."
    if decision.status not in DecisionStatus.values:
        errors["status"] = "Suivi inconnu : à faire, en cours, faite ou abandonnée."
    if decision.status == DecisionStatus.DROPPED and not decision.follow_up.strip():
        errors["follow_up"] = "Indiquez pourquoi la décision est abandonnée."
    try:
        decision.full_clean(exclude=["meeting", "owner"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, " ".join(messages))
    if errors:
        raise MeetingError(errors)


def _apply(obj, fields, data):
    for name in fields:
        if name in data:
            value = data[name]
            setattr(obj, name, value.strip() if isinstance(value, str) else value)


def _closing(decision, previous_status=None):
    """Clore pose la date de clôture ; rouvrir l'efface."""
    if decision.status in CLOSED_DECISION_STATUSES:
        if previous_status not in CLOSED_DECISION_STATUSES or decision.closed_on is None:
            decision.closed_on = timezone.localdate()
    else:
        decision.closed_on = None


# --- Services : instances ----------------------------------------------------------------------


@transaction.atomic
def create_meeting(*, user, contract, data: dict, participants=()) -> Meeting:
    if not can_manage_meetings(user, contract):
        _refuse("Seul un pilote du contrat crée une instance.")
    participants = list(participants)
    meeting = Meeting(contract=contract)
    _apply(meeting, MEETING_FIELDS, data)
    _check_meeting(contract, meeting, participants)
    meeting.save()
    meeting.participants.set(participants)
    return meeting


@transaction.atomic
def update_meeting(*, user, meeting, data: dict, participants=None) -> Meeting:
    current = Meeting.objects.select_for_update().select_related("contract").get(pk=meeting.pk)
    if not meeting_abilities(user, current)["edit"]:
        _refuse("Seul un pilote du contrat modifie une instance.")
    participants = list(participants) if participants is not None else list(current.participants.all())
    _apply(current, MEETING_FIELDS, data)
    _check_meeting(current.contract, current, participants)
    current.save()
    current.participants.set(participants)
    return current


# --- Services : décisions ----------------------------------------------------------------------


@transaction.atomic
def create_decision(*, user, meeting, data: dict, actions=(), commitments=()) -> Decision:
    meeting = Meeting.objects.select_related("contract").get(pk=meeting.pk)
    if not meeting_abilities(user, meeting)["add_decision"]:
        _refuse("Seul un pilote du contrat enregistre une décision.")
    actions, commitments = list(actions), list(commitments)
    decision = Decision(meeting=meeting, status=DecisionStatus.OPEN)
    _apply(decision, DECISION_FIELDS, data)
    _check_decision(meeting.contract, decision, actions, commitments)
    _closing(decision)
    decision.save()
    decision.actions.set(actions)
    decision.commitments.set(commitments)
    _notify_owner(decision, meeting)
    return decision


def _notify_owner(decision, meeting) -> None:
    """Prévient les référents du partenaire porteur d'une décision qu'elle lui est confiée."""
    if decision.owner_id is None:
        return
    contract = meeting.contract
    due = f", échéance le {decision.due_on:%d/%m/%Y}" if decision.due_on else ""
    notifications.notify(
        kind=NotificationKind.DECISION,
        recipients=notifications.referents(contract, [decision.owner_id]),
        contract=contract,
        text=f"{meeting} : décision confiée à {decision.owner.name}{due} — « {decision.text} »",
        path=reverse("www:meeting", args=[contract.slug, meeting.pk]),
    )


@transaction.atomic
def update_decision(*, user, decision, data: dict, actions=None, commitments=None) -> Decision:
    """Modifie une décision, ou son suivi (état, « où en est-on ? ») ; la clore pose ``closed_on``."""
    current = Decision.objects.select_for_update().select_related("meeting__contract").get(pk=decision.pk)
    if not decision_abilities(user, current)["edit"]:
        _refuse("Seul un pilote du contrat modifie une décision et son suivi.")
    previous_status, previous_owner = current.status, current.owner_id
    actions = list(actions) if actions is not None else list(current.actions.all())
    commitments = list(commitments) if commitments is not None else list(current.commitments.all())
    _apply(current, DECISION_FIELDS, data)
    _check_decision(current.meeting.contract, current, actions, commitments)
    _closing(current, previous_status)
    current.save()
    current.actions.set(actions)
    current.commitments.set(commitments)
    if current.owner_id != previous_owner:
        _notify_owner(current, current.meeting)
    return current


def decisions_to_follow(user, contract):
    """Décisions encore ouvertes (à faire, en cours) visibles par ``user``, échéance la plus proche
    d'abord, celles sans échéance à la fin."""
    return (
        Decision.objects.visible_to(user, contract)
        .open()
        .select_related("meeting", "owner")
        .order_by(F("due_on").asc(nulls_last=True), "meeting__date", "id")
    )
