"""Relances des référents dont des bilans ne sont pas encore transmis.

La commande ``send_review_reminders`` est faite pour tourner **une fois par jour** (cron,
minuteur systemd). Pour chaque campagne ouverte, la date du jour donne un « créneau » de relance :

- ``J-7`` : sept jours avant la date limite ;
- ``J-1`` : la veille de la date limite ;
- ``retard-semaine-N`` : le lendemain de la date limite (N = 1), puis tous les sept jours.

Les autres jours, rien n'est envoyé. Chaque relance est réservée dans la base avant l'envoi (ligne
``SentReminder`` de clé unique ``campagne-<id>/<créneau>/<personne>``, cdv/notifications/once.py) :
relancer la commande le même jour n'envoie rien de plus, et deux exécutions simultanées, même sur
deux serveurs, n'envoient pas deux fois. La réservation est effacée si l'envoi échoue (la relance
sera retentée à la prochaine exécution du jour).

Chaque relance est aussi une notification (nature « relance des bilans », cdv/notifications) : elle
apparaît dans l'espace de la personne et suit sa préférence (courriel immédiat, résumé quotidien ou
rien). « Relancer maintenant » (``remind_now``, tableau de complétude du pilote) passe par le même
code avec le créneau ``manuelle-AAAA-MM-JJ`` et écrit à chacun, quelle que soit sa préférence.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from cdv.notifications import once
from cdv.notifications import services as notifications
from cdv.notifications.enums import Delivery, NotificationKind
from cdv.users.enums import Role
from cdv.users.models import Membership

from .abilities import campaign_abilities
from .enums import CampaignStatus
from .models import ProgressReport, ReviewCampaign

BEFORE_DEADLINE = {7: "J-7", 1: "J-1"}
OVERDUE_EVERY_DAYS = 7


def reminder_slot(campaign, today: datetime.date) -> str | None:
    """Le créneau de relance du jour pour cette campagne, ou None s'il n'y a rien à envoyer."""
    if today < campaign.opens_on:
        return None
    before = (campaign.deadline - today).days
    if before in BEFORE_DEADLINE:
        return BEFORE_DEADLINE[before]
    late = (today - campaign.deadline).days
    if late >= 1 and (late - 1) % OVERDUE_EVERY_DAYS == 0:
        return f"retard-semaine-{(late - 1) // OVERDUE_EVERY_DAYS + 1}"
    return None


def reminder_key(campaign, slot: str, user) -> str:
    """La clé « une seule fois » d'une relance (cdv/notifications/once.py)."""
    return f"campagne-{campaign.pk}/{slot}/{user.pk}"


def already_reminded(campaign, slot: str, users) -> set[int]:
    """Les personnes (identifiants) parmi ``users`` déjà relancées dans ce créneau, en une requête."""
    keys = {reminder_key(campaign, slot, user): user.pk for user in users}
    return {keys[key] for key in once.sent_keys(keys)}


@dataclass
class CampaignReminders:
    campaign: ReviewCampaign
    slot: str | None
    sent: list[str] = field(default_factory=list)  # adresses (à envoyer, en simulation)
    already_sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # résumé quotidien choisi
    disabled: list[str] = field(default_factory=list)  # relances désactivées par la personne
    without_editor: list[str] = field(default_factory=list)  # partenaires sans référent


def pending_by_recipient(campaign) -> tuple[dict, list]:
    """{personne: [bilans non transmis de ses partenaires]} et les partenaires sans référent actif."""
    reports = (
        ProgressReport.objects.for_campaign(campaign)
        .not_submitted()
        .select_related("commitment", "partner")
        .order_by("partner__name", "commitment__title", "pk")
    )
    by_partner = defaultdict(list)
    for report in reports:
        by_partner[report.partner_id].append(report)
    editors = (
        Membership.objects.filter(
            contract_id=campaign.contract_id,
            role=Role.EDITOR,
            partner_id__in=list(by_partner),
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__email", "partner_id")
    )
    recipients, covered = {}, set()
    for membership in editors:
        user = membership.user
        entry = recipients.setdefault(user.pk, (user, []))
        entry[1].extend(by_partner[membership.partner_id])
        covered.add(membership.partner_id)
    orphans = sorted({reports[0].partner.name for pid, reports in by_partner.items() if pid not in covered})
    return {user: items for user, items in recipients.values()}, orphans


def reminder_subject(campaign, slot, today) -> str:
    title = campaign.contract.title
    deadline = campaign.deadline.strftime("%d/%m/%Y")
    if today > campaign.deadline:
        return f"Bilans {campaign.year} en retard (date limite du {deadline}) — {title}"
    if slot == "J-1":
        return f"Bilans {campaign.year} : la date limite est demain ({deadline}) — {title}"
    return f"Bilans {campaign.year} à transmettre avant le {deadline} — {title}"


def _by_partner(reports) -> dict:
    partners = {}
    for report in reports:
        partners.setdefault(report.partner, []).append(report)
    return partners


def _partner_path(campaign, partner) -> str:
    return reverse("www:review_partner", args=[campaign.contract.slug, campaign.year, partner.slug])


def message(campaign, slot, user, reports, today) -> str:
    """Le texte du courriel de relance de ``user`` (aussi montré au pilote avant « Relancer maintenant »)."""
    links = [
        (partner, items, notifications.link(_partner_path(campaign, partner)))
        for partner, items in _by_partner(reports).items()
    ]
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "review/reminder_email.txt",
            {
                "campaign": campaign,
                "contract": campaign.contract,
                "user": user,
                "slot": slot,
                "overdue": today > campaign.deadline,
                "partners": links,
                "count": len(reports),
            },
        )


def _notice(campaign, reports, today) -> str:
    """La phrase de la notification dans l'espace de la personne."""
    count = len(reports)
    names = ", ".join(partner.name for partner in _by_partner(reports))
    what = f"{count} bilan{'s' if count > 1 else ''} {campaign.year} ({names})"
    deadline = campaign.deadline.strftime("%d/%m/%Y")
    if today > campaign.deadline:
        return f"{what} en retard : la date limite était le {deadline}."
    return f"{what} à transmettre au pilote avant le {deadline}."


def _deliver(campaign, slot, user, reports, today, *, force_email=False):
    partners = list(_by_partner(reports))
    path = (
        _partner_path(campaign, partners[0])
        if len(partners) == 1
        else reverse("www:review_campaigns", args=[campaign.contract.slug])
    )
    return notifications.notify(
        kind=NotificationKind.REVIEW_REMINDER,
        recipients=[user],
        contract=campaign.contract,
        text=_notice(campaign, reports, today),
        path=path,
        subject=reminder_subject(campaign, slot, today),
        body=message(campaign, slot, user, reports, today),
        force_email=force_email,
    )


def send_review_reminders(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> list[CampaignReminders]:
    """Envoie les relances du jour pour chaque campagne ouverte ; ``dry_run`` n'envoie ni n'écrit rien."""
    today = today or timezone.localdate()
    results = []
    campaigns = ReviewCampaign.objects.open().select_related("contract").order_by("contract__title", "year")
    for campaign in campaigns:
        result = CampaignReminders(campaign=campaign, slot=reminder_slot(campaign, today))
        results.append(result)
        if result.slot is None:
            continue
        _remind(campaign, result, today, dry_run=dry_run)
    return results


def _remind(campaign, result, today, *, dry_run, force_email=False) -> None:
    recipients, result.without_editor = pending_by_recipient(campaign)
    chosen = notifications.preferences(recipients, [NotificationKind.REVIEW_REMINDER])
    reminded = already_reminded(campaign, result.slot, recipients) if dry_run else set()
    for user, reports in recipients.items():
        key = reminder_key(campaign, result.slot, user)
        if dry_run:
            delivery = notifications.delivery_of(
                chosen, user, NotificationKind.REVIEW_REMINDER, force_email=force_email
            )
            if user.pk in reminded:
                result.already_sent.append(user.email)
            elif delivery == Delivery.IMMEDIATE:
                result.sent.append(user.email)
            else:
                (result.deferred if delivery == Delivery.DIGEST else result.disabled).append(user.email)
            continue
        if not once.claim_once(key, recipient=user):
            result.already_sent.append(user.email)
            continue
        delivered = _deliver(campaign, result.slot, user, reports, today, force_email=force_email)
        if delivered.failed:
            # Rien n'est gardé : la relance sera retentée à la prochaine exécution.
            for notification in delivered.notifications:
                notification.delete()
            once.release(key)
            result.failed.append(user.email)
        elif delivered.emailed:
            result.sent.append(user.email)
        elif delivered.deferred:
            result.deferred.append(user.email)
        else:
            result.disabled.append(user.email)


def manual_slot(today: datetime.date) -> str:
    return f"manuelle-{today.isoformat()}"


def remind_now(
    *, user, campaign, today: datetime.date | None = None, dry_run: bool = False
) -> CampaignReminders:
    """« Relancer maintenant » : le pilote écrit tout de suite aux référents dont des bilans ne sont pas
    transmis. Une fois par jour au plus (créneau ``manuelle-AAAA-MM-JJ``) ; ``dry_run`` : l'aperçu."""
    if not campaign_abilities(user, campaign)["manage"]:
        raise PermissionDenied("Seul le pilote du contrat relance les référents.")
    if campaign.status != CampaignStatus.OPEN:
        raise PermissionDenied(f"La campagne {campaign.year} n'est pas ouverte : plus de relance.")
    today = today or timezone.localdate()
    result = CampaignReminders(campaign=campaign, slot=manual_slot(today))
    _remind(campaign, result, today, dry_run=dry_run, force_email=True)
    return result
