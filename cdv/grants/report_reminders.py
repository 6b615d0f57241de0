"""Rappels du compte-rendu financier aux associations.

La commande ``send_report_reminders`` (ou ``send_report_reminders()`` depuis un planificateur) est
faite pour tourner **une fois par jour**, comme ``send_call_closing_reminders``. Pour chaque projet
financé (une ligne votée avec un montant) dont le compte-rendu n'est ni transmis ni accepté — en
cours de saisie, à modifier, ou jamais commencé alors que l'action est finie —, chaque référent de
l'association reçoit trois rappels au plus :

- **J-30** : à partir de 30 jours avant l'échéance ;
- **J-7** : à partir de 7 jours avant l'échéance (jusqu'au jour de l'échéance) ;
- **en retard** : le lendemain de l'échéance (ou le premier jour où la commande tourne ensuite,
  pendant ``LATE_WINDOW_DAYS`` jours : un retard ancien n'est pas relancé à chaque déploiement).

L'échéance est celle du compte-rendu (``FinalReport.due_date``), ou, s'il n'est pas commencé, la
fin de l'action + 6 mois (``blocking.report_due_date``). Un seul rappel par étape, par projet, par
échéance et par personne : il est réservé dans la base avant l'envoi (ligne ``SentReminder`` de clé
unique ``cr-<dossier>/<étape>-<échéance>-<personne>``, cdv/notifications/once.py ; deux exécutions
simultanées, même sur deux serveurs, n'envoient qu'une fois) et la réservation est effacée si
l'envoi échoue.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from cdv.notifications import once
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind

from .blocking import action_end, due_date_of, french_date, funded_applications, report_of
from .enums import ReportStatus
from .models import Application

FIRST_REMINDER_DAYS = 30
LAST_REMINDER_DAYS = 7
LATE_WINDOW_DAYS = 30

STAGE_FIRST = "j30"
STAGE_LAST = "j7"
STAGE_LATE = "retard"


@dataclass
class Reminder:
    application: Application
    stage: str
    due_date: datetime.date
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    without_referent: bool = False


def stage_on(due_date: datetime.date, today: datetime.date) -> str | None:
    """L'étape du rappel ce jour-là, ou None (trop tôt, ou retard trop ancien)."""
    days_left = (due_date - today).days
    if days_left < 0:
        return STAGE_LATE if -days_left <= LATE_WINDOW_DAYS else None
    if days_left <= LAST_REMINDER_DAYS:
        return STAGE_LAST
    if days_left <= FIRST_REMINDER_DAYS:
        return STAGE_FIRST
    return None


def due_reminders(today: datetime.date) -> list[Reminder]:
    """Les rappels à faire aujourd'hui (un par projet), sans les marqueurs."""
    applications = (
        funded_applications(Application.objects.filter(call__committee_held_at__isnull=False))
        .exclude(final_report__status__in=[ReportStatus.SUBMITTED, ReportStatus.ACCEPTED])
        .select_related("call__contract", "partner", "final_report")
        .order_by("call__contract_id", "call__year", "partner__name", "pk")
    )
    reminders = []
    for application in applications:
        if report_of(application) is None and action_end(application) >= today:
            continue  # l'action n'est pas finie : rien à rendre encore
        due = due_date_of(application)
        stage = stage_on(due, today)
        if stage is not None:
            reminders.append(Reminder(application=application, stage=stage, due_date=due))
    return reminders


def reminder_key(reminder: Reminder, user) -> str:
    """La clé « une seule fois » du rappel (cdv/notifications/once.py)."""
    return f"cr-{reminder.application.pk}/{reminder.stage}-{reminder.due_date:%Y%m%d}-{user.pk}"


def _texts(reminder: Reminder) -> tuple[str, str, str]:
    """(texte de la notification, objet, corps du courriel)."""
    application = reminder.application
    call = application.call
    due = french_date(reminder.due_date)
    project = f"« {application.title} » (dossier {application.number or '—'})"
    report = report_of(application)
    path = reverse("www:report", args=[call.contract.slug, call.year, application.pk])
    if report is None:
        state = "Il n'est pas encore commencé."
    elif report.status == ReportStatus.CHANGES_REQUESTED:
        state = "Un financeur a demandé des modifications : corrigez-le, puis transmettez-le de nouveau."
    else:
        state = "Il est en cours de saisie : il n'est PAS transmis tant que vous ne le transmettez pas."
    if reminder.stage == STAGE_LATE:
        text = f"Compte-rendu en retard : {project}, dû le {due}."
        subject = f"Compte-rendu financier en retard — dossier {application.number or application.title}"
        first = f"Le compte-rendu financier du projet {project} était dû le {due} : il n'a pas été reçu."
        after = (
            "Tant qu'il n'est pas transmis, votre association ne peut pas déposer de nouveau dossier "
            "aux appels à projets du contrat (sauf levée du blocage par le pilote)."
        )
    else:
        text = f"Compte-rendu à rendre avant le {due} : {project}."
        subject = f"Compte-rendu financier à rendre avant le {due}"
        first = f"Le compte-rendu financier du projet {project} est à rendre avant le {due}."
        after = (
            "Passé cette date, votre association ne pourra plus déposer de nouveau dossier aux appels "
            "à projets du contrat tant qu'il n'est pas transmis."
        )
    body = "\n".join(
        [
            "Bonjour,",
            "",
            first,
            f"Appel à projets : {call.title} ({call.year}) ; association : {application.partner}.",
            state,
            "",
            after,
            "",
            f"Le compte-rendu : {notifications.link(path)}",
        ]
    )
    return text, subject, body


def send_report_reminders(*, today: datetime.date | None = None, dry_run: bool = False) -> list[Reminder]:
    """Envoie les rappels du jour à chaque référent de l'association, une fois par étape."""
    today = today or timezone.localdate()
    reminders = due_reminders(today)
    for reminder in reminders:
        application = reminder.application
        call = application.call
        referents = list(notifications.applicant_referents(call.contract_id, [application.partner_id]))
        reminder.without_referent = not referents
        sent = once.sent_keys(reminder_key(reminder, user) for user in referents) if dry_run else set()
        for user in referents:
            key = reminder_key(reminder, user)
            if dry_run:
                (reminder.already_sent if key in sent else reminder.sent).append(user.email)
                continue
            if not once.claim_once(key, recipient=user):
                reminder.already_sent.append(user.email)
                continue
            text, subject, body = _texts(reminder)
            delivered = notifications.notify(
                kind=NotificationKind.REPORT_DUE,
                recipients=[user],
                contract=call.contract,
                text=text,
                path=reverse("www:report", args=[call.contract.slug, call.year, application.pk]),
                subject=subject,
                body=body,
            )
            if delivered.failed:
                once.release(key)
                reminder.failed.append(user.email)
            else:
                reminder.sent.append(user.email)
    return reminders
