"""Relances des référents dont des bilans ne sont pas encore transmis.

La commande ``send_review_reminders`` est faite pour tourner **une fois par jour** (cron,
minuteur systemd). Pour chaque campagne ouverte, la date du jour donne un « créneau » de relance :

- ``J-7`` : sept jours avant la date limite ;
- ``J-1`` : la veille de la date limite ;
- ``retard-semaine-N`` : le lendemain de la date limite (N = 1), puis tous les sept jours.

Les autres jours, rien n'est envoyé. Chaque courriel envoyé laisse un marqueur
``MEDIA_ROOT/reminders/campagne-<id>/<créneau>/<personne>.envoye`` : relancer la commande le même
jour n'envoie rien de plus (idempotence sans table supplémentaire). Le marqueur est créé de façon
exclusive avant l'envoi (deux exécutions simultanées n'envoient pas deux fois) et retiré si
l'envoi échoue (la relance sera retentée à la prochaine exécution du jour).
"""

import datetime
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from cdv.users.enums import Role
from cdv.users.models import Membership

from .abilities import NOT_SUBMITTED_STATES
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


def marker_path(campaign, slot: str, user) -> Path:
    return Path(settings.MEDIA_ROOT) / "reminders" / f"campagne-{campaign.pk}" / slot / f"{user.pk}.envoye"


@dataclass
class CampaignReminders:
    campaign: ReviewCampaign
    slot: str | None
    sent: list[str] = field(default_factory=list)  # adresses (à envoyer, en simulation)
    already_sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    without_editor: list[str] = field(default_factory=list)  # partenaires sans référent


def pending_by_recipient(campaign) -> tuple[dict, list]:
    """{personne: [bilans non transmis de ses partenaires]} et les partenaires sans référent actif."""
    reports = (
        ProgressReport.objects.filter(campaign=campaign, state__in=NOT_SUBMITTED_STATES)
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


def _subject(campaign, slot) -> str:
    title = campaign.contract.title
    deadline = campaign.deadline.strftime("%d/%m/%Y")
    if slot == "J-7":
        return f"Bilans {campaign.year} à transmettre avant le {deadline} — {title}"
    if slot == "J-1":
        return f"Bilans {campaign.year} : la date limite est demain ({deadline}) — {title}"
    return f"Bilans {campaign.year} en retard (date limite du {deadline}) — {title}"


def _message(campaign, slot, user, reports) -> str:
    partners = {}
    for report in reports:
        partners.setdefault(report.partner, []).append(report)
    links = [
        (
            partner,
            items,
            settings.SITE_URL
            + reverse("www:review_partner", args=[campaign.contract.slug, campaign.year, partner.slug]),
        )
        for partner, items in partners.items()
    ]
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "review/reminder_email.txt",
            {
                "campaign": campaign,
                "contract": campaign.contract,
                "user": user,
                "slot": slot,
                "overdue": slot.startswith("retard"),
                "partners": links,
                "count": len(reports),
            },
        )


def _claim(path: Path) -> bool:
    """Crée le marqueur s'il n'existe pas ; faux s'il existait déjà (relance déjà envoyée)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as marker:
        marker.write(timezone.now().isoformat())
    return True


def send_review_reminders(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> list[CampaignReminders]:
    """Envoie les relances du jour pour chaque campagne ouverte ; ``dry_run`` n'envoie ni n'écrit rien."""
    today = today or timezone.localdate()
    results = []
    campaigns = (
        ReviewCampaign.objects.filter(status=CampaignStatus.OPEN)
        .select_related("contract")
        .order_by("contract__title", "year")
    )
    for campaign in campaigns:
        result = CampaignReminders(campaign=campaign, slot=reminder_slot(campaign, today))
        results.append(result)
        if result.slot is None:
            continue
        recipients, result.without_editor = pending_by_recipient(campaign)
        for user, reports in recipients.items():
            path = marker_path(campaign, result.slot, user)
            if dry_run:
                (result.already_sent if path.exists() else result.sent).append(user.email)
                continue
            if not _claim(path):
                result.already_sent.append(user.email)
                continue
            try:
                send_mail(
                    subject=_subject(campaign, result.slot),
                    message=_message(campaign, result.slot, user, reports),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=[user.email],
                )
            except Exception:  # noqa: BLE001 - un envoi raté ne bloque pas les autres relances
                path.unlink(missing_ok=True)
                result.failed.append(user.email)
            else:
                result.sent.append(user.email)
    return results
