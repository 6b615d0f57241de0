"""Relance des associations qui ont un brouillon quand le dépôt d'un appel va fermer.

La commande ``send_call_closing_reminders`` est faite pour tourner **une fois par jour** (cron,
minuteur systemd, comme ``send_review_reminders``). À partir de 48 heures avant la clôture (le
dépôt ferme à la fin du jour ``filing_closes`` : la relance part le jour J-2, ou le premier jour où
la commande tourne ensuite, jusqu'au jour de clôture), chaque référent d'une association qui a un
brouillon sur l'appel reçoit un courriel (notification « clôture proche », cdv/notifications).

Une seule relance par appel et par personne : elle est réservée dans la base avant l'envoi (ligne
``SentReminder`` de clé unique ``aap-<appel>/<personne>``, cdv/notifications/once.py ; deux
exécutions simultanées, même sur deux serveurs, n'envoient qu'une fois) et la réservation est
effacée si l'envoi échoue (retenté à la prochaine exécution).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from cdv.notifications import once
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind
from cdv.users.models import User

from .enums import CallStatus
from .models import Application, Call

HOURS_BEFORE = 48


@dataclass
class CallReminders:
    call: Call
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    without_referent: list[str] = field(default_factory=list)


def due_calls(today: datetime.date):
    """Appels publiés dont le dépôt ferme dans les 48 heures (aujourd'hui, demain ou après-demain)."""
    first_day = today
    last_day = today + datetime.timedelta(hours=HOURS_BEFORE)
    return (
        Call.objects.filter(
            status=CallStatus.PUBLISHED, filing_closes__gte=first_day, filing_closes__lte=last_day
        )
        .select_related("contract")
        .order_by("contract__title", "year")
    )


def reminder_key(call: Call, user: User) -> str:
    """La clé « une seule fois » de la relance (cdv/notifications/once.py)."""
    return f"aap-{call.pk}/{user.pk}"


def drafts_by_recipient(call: Call) -> tuple[dict[User, list[Application]], list[str]]:
    """{référent: [ses brouillons sur l'appel]} et les associations à brouillon sans référent."""
    drafts = list(
        Application.objects.for_call(call).drafts().select_related("partner").order_by("partner__name", "pk")
    )
    by_partner: dict[int, list[Application]] = {}
    for application in drafts:
        by_partner.setdefault(application.partner_id, []).append(application)
    recipients: dict[User, list[Application]] = {}
    covered = set()
    for user, partner_ids in notifications.applicant_referents(call.contract_id, by_partner).items():
        recipients[user] = [a for pid in partner_ids for a in by_partner[pid]]
        covered.update(partner_ids)
    orphans = sorted({items[0].partner.name for pid, items in by_partner.items() if pid not in covered})
    return recipients, orphans


def _body(call: Call, drafts: list[Application]) -> str:
    lines = [
        "Bonjour,",
        "",
        f"Le dépôt des dossiers de l'appel à projets « {call.title} » ferme le "
        f"{call.filing_closes:%d/%m/%Y} à minuit.",
        "Ces dossiers sont encore des brouillons : ils ne sont PAS déposés et les financeurs ne les "
        "voient pas.",
        "",
    ]
    for application in drafts:
        path = reverse("www:application_submit", args=[call.contract.slug, call.year, application.pk])
        lines.append(f"- {application.title} ({application.partner}) : {notifications.link(path)}")
    lines += ["", "Après la clôture, un brouillon ne peut plus être déposé."]
    return "\n".join(lines)


def send_call_closing_reminders(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> list[CallReminders]:
    """Relance chaque référent d'une association à brouillon, une fois par appel."""
    today = today or timezone.localdate()
    results = []
    for call in due_calls(today):
        result = CallReminders(call=call)
        results.append(result)
        recipients, result.without_referent = drafts_by_recipient(call)
        sent = once.sent_keys(reminder_key(call, user) for user in recipients) if dry_run else set()
        for user, drafts in recipients.items():
            key = reminder_key(call, user)
            if dry_run:
                (result.already_sent if key in sent else result.sent).append(user.email)
                continue
            if not once.claim_once(key, recipient=user):
                result.already_sent.append(user.email)
                continue
            count = len(drafts)
            delivered = notifications.notify(
                kind=NotificationKind.CALL_CLOSING,
                recipients=[user],
                contract=call.contract,
                text=(
                    f"{count} brouillon{'s' if count > 1 else ''} non déposé{'s' if count > 1 else ''} : "
                    f"le dépôt de « {call.title} » ferme le {call.filing_closes:%d/%m/%Y}."
                ),
                path=reverse("www:partner_applications", args=[call.contract.slug, drafts[0].partner.slug]),
                subject=f"Appel à projets {call.year} : le dépôt ferme le {call.filing_closes:%d/%m/%Y}",
                body=_body(call, drafts),
            )
            if delivered.failed:
                once.release(key)
                result.failed.append(user.email)
            else:
                result.sent.append(user.email)
    return results
