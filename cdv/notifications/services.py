"""Notifications : dans l'espace de chacun (/espace/notifications/) et par courriel.

``notify`` est appelé par les services métier au moment où quelque chose arrive (campagne ouverte,
engagement proposé, validé ou renvoyé, bilan accepté ou renvoyé, retour publié, décision confiée).
Pour chaque destinataire, sa préférence pour cette nature de notification décide :

- « immédiat » (par défaut) : la notification et un courriel tout de suite ;
- « résumé quotidien » : la notification tout de suite, le courriel dans le résumé du lendemain
  (commande ``send_notification_digest``, une fois par jour) ;
- « désactivé » : ni notification ni courriel.

Un courriel immédiat qui n'a pas pu partir reste « à envoyer » : le résumé quotidien le rattrape.
Chaque notification n'est envoyée qu'une fois (``emailed_at``, posé avant l'envoi, retiré s'il échoue).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from cdv.core.links import absolute_url
from cdv.users.enums import Role
from cdv.users.models import Membership, User

from .enums import DEFAULT_DELIVERY, Delivery, NotificationKind
from .middleware import current_request
from .models import Notification, NotificationPreference

if TYPE_CHECKING:
    from cdv.contracts.models import Contract

logger = logging.getLogger(__name__)


# --- Destinataires -------------------------------------------------------------------------------


def referents(contract: Contract | int, partner_ids: Iterable[int]) -> list[User]:
    """Référents (rédaction) actifs des partenaires ``partner_ids`` dans le contrat."""
    return _members(contract, Role.EDITOR, partner_id__in=list(partner_ids))


def applicant_referents(contract: Contract | int, partner_ids: Iterable[int]) -> dict[User, list[int]]:
    """Référents d'association pour l'appel à projets (rôle « référent d'une association ») actifs,
    avec une adresse, des associations ``partner_ids`` dans le contrat ; pour chacun, les associations
    (parmi ``partner_ids``) dont il est référent. Triés par adresse."""
    contract_id = getattr(contract, "pk", contract)
    memberships = (
        Membership.objects.filter(
            contract_id=contract_id,
            role=Role.APPLICANT,
            partner_id__in=list(partner_ids),
            user__is_active=True,
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__email", "partner_id")
    )
    people: dict[User, list[int]] = {}
    for membership in memberships:
        people.setdefault(membership.user, []).append(membership.partner_id)
    return people


def pilots(contract: Contract | int) -> list[User]:
    return _members(contract, Role.PILOT)


def _members(contract: Contract | int, role: str, **filters: object) -> list[User]:
    contract_id = getattr(contract, "pk", contract)
    users = (
        User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(contract_id=contract_id, role=role, **filters).values("user_id"),
        )
        .exclude(email="")
        .order_by("email")
    )
    return list(users)


# --- Préférences ---------------------------------------------------------------------------------


def preferences(users: Iterable[User], kinds: Iterable[str] | None = None) -> dict[tuple[int, str], str]:
    """{(personne, nature): envoi} en une requête ; l'absence de ligne vaut ``DEFAULT_DELIVERY``."""
    rows = NotificationPreference.objects.filter(user_id__in=[u.pk for u in users])
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return {
        (user_id, kind): delivery
        for user_id, kind, delivery in rows.values_list("user_id", "kind", "delivery")
    }


def delivery_of(
    chosen: dict[tuple[int, str], str], user: User, kind: str, *, force_email: bool = False
) -> str:
    """L'envoi d'une notification de cette nature à cette personne, d'après ``preferences`` (``chosen``) ;
    ``force_email`` : un courriel tout de suite quoi qu'elle ait choisi (relance demandée par le pilote)."""
    return Delivery.IMMEDIATE if force_email else chosen.get((user.pk, kind), DEFAULT_DELIVERY)


def preferences_of(user: User) -> dict[str, str]:
    """{nature: envoi} pour chaque nature, valeur par défaut comprise."""
    saved = preferences([user])
    return {kind: saved.get((user.pk, kind), DEFAULT_DELIVERY) for kind in NotificationKind.values}


@transaction.atomic
def set_preferences(*, user: User, choices: dict[str, str]) -> None:
    """Enregistre les choix de ``user`` ({nature: envoi}) ; une nature ou un envoi inconnu est refusé."""
    from django.core.exceptions import ValidationError

    errors = {}
    for kind, delivery in choices.items():
        if kind not in NotificationKind.values:
            errors[kind] = "Nature de notification inconnue."
        elif delivery not in Delivery.values:
            errors[kind] = (
                f"« {NotificationKind(kind).label} » : choisissez immédiat, résumé quotidien ou désactivé."
            )
    if errors:
        raise ValidationError(errors)
    for kind, delivery in choices.items():
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
    # Une nature désactivée ne part plus dans le résumé, même pour ce qui attendait déjà.
    off = [kind for kind, delivery in choices.items() if delivery == Delivery.OFF]
    if off:
        Notification.objects.filter(recipient=user, kind__in=off, emailed_at__isnull=True).update(
            delivery=Delivery.OFF
        )


# --- Envoi ---------------------------------------------------------------------------------------


def link(path: str) -> str:
    """Adresse absolue : l'hôte de la requête en cours s'il y en a une, sinon ``SITE_URL``."""
    return absolute_url(path, current_request.get())


def settings_link() -> str:
    return link(reverse("www:notifications"))


@dataclass
class Delivered:
    notifications: list[Notification] = field(default_factory=list)
    emailed: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # résumé quotidien
    disabled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _email(subject: str, body: str, to: str, attachments: Sequence[tuple[str, bytes, str]] = ()) -> bool:
    try:
        if attachments:  # une pièce jointe (récépissé PDF d'un dépôt…)
            message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
            for name, content, mimetype in attachments:
                message.attach(name, content, mimetype)
            message.send()
        else:
            send_mail(
                subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[to]
            )
    except Exception:  # un courriel raté n'annule pas ce qui vient d'être fait
        logger.exception("Courriel de notification non envoyé à %s", to)
        return False
    return True


def _default_body(user: User, notification: Notification) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "notifications/email.txt",
            {"user": user, "notification": notification, "settings_url": settings_link()},
        )


_silenced: ContextVar = ContextVar("cdv_notifications_silenced", default=False)


@contextmanager
def silenced() -> Iterator[None]:
    """Le temps du bloc, ``notify`` ne prévient personne : pour ce qui est construit d'un coup
    (données de démonstration), pas vécu par les personnes qu'il concerne."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def notify(
    *,
    kind: str,
    recipients: Iterable[User | None],
    contract: Contract,
    text: str,
    path: str,
    subject: str | None = None,
    body: str | None = None,
    force_email: bool = False,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> Delivered:
    """Prévient ``recipients`` (personnes actives, chacune une fois) de ``text``, avec un lien vers ``path``.

    ``subject`` et ``body`` remplacent l'objet et le texte du courriel par défaut (les relances de
    bilans ont le leur) ; ``force_email`` envoie le courriel même à qui a choisi le résumé ou désactivé
    cette nature (relance demandée explicitement par le pilote). ``attachments`` : (nom, octets,
    type) joints au courriel immédiat (le résumé quotidien n'en porte pas).
    """
    kind = NotificationKind(kind)
    people = {u.pk: u for u in recipients if u is not None and u.is_active and u.email}
    result = Delivered()
    if not people or _silenced.get():
        return result
    chosen = preferences(people.values(), [kind])
    url = link(path)
    now = timezone.now()
    pending = []
    for user in people.values():
        delivery = delivery_of(chosen, user, kind, force_email=force_email)
        if delivery == Delivery.OFF:
            result.disabled.append(user.email)
            continue
        notification = Notification(
            recipient=user,
            contract=contract,
            kind=kind,
            text=text,
            url=url,
            delivery=delivery,
            created_at=now,
        )
        pending.append((user, notification))
    Notification.objects.bulk_create([n for _, n in pending])
    subject = subject or f"{kind.label} — {contract.title}"
    sent = []
    for user, notification in pending:
        result.notifications.append(notification)
        if notification.delivery == Delivery.DIGEST:
            result.deferred.append(user.email)
            continue
        if _email(subject, body or _default_body(user, notification), user.email, attachments):
            sent.append(notification.pk)
            result.emailed.append(user.email)
        else:
            result.failed.append(user.email)
    if sent:
        Notification.objects.filter(pk__in=sent).update(emailed_at=now)
    return result


# --- Résumé quotidien ----------------------------------------------------------------------------


@dataclass
class Digest:
    sent: list[tuple[str, int]] = field(default_factory=list)  # (adresse, nombre de notifications)
    failed: list[str] = field(default_factory=list)


def send_digest(*, dry_run: bool = False) -> Digest:
    """Un courriel par personne regroupant ses notifications pas encore envoyées (résumé quotidien,
    envois immédiats ratés), puis les marque envoyées : une seconde exécution n'envoie rien de plus."""
    result = Digest()
    pending = (
        Notification.objects.to_email()
        .exclude(delivery=Delivery.OFF)
        .filter(recipient__is_active=True)
        .exclude(recipient__email="")
        .select_related("recipient", "contract")
        .order_by("recipient_id", "contract__title", "created_at", "pk")
    )
    by_user = defaultdict(list)
    for notification in pending:
        by_user[notification.recipient].append(notification)
    for user, items in by_user.items():
        if dry_run:
            result.sent.append((user.email, len(items)))
            continue
        # Réserver avant d'envoyer : deux exécutions simultanées n'envoient pas deux fois.
        now = timezone.now()
        ids = [n.pk for n in items]
        claimed = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)
        if claimed != len(ids):
            Notification.objects.filter(pk__in=ids, emailed_at=now).update(emailed_at=None)
            continue
        groups = defaultdict(list)
        for notification in items:
            groups[notification.contract].append(notification)
        count = len(items)
        subject = f"Votre résumé du jour : {count} notification{'s' if count > 1 else ''}"
        with translation.override(settings.LANGUAGE_CODE):
            body = render_to_string(
                "notifications/digest_email.txt",
                {
                    "user": user,
                    "groups": list(groups.items()),
                    "count": count,
                    "settings_url": settings_link(),
                },
            )
        if _email(subject, body, user.email):
            result.sent.append((user.email, count))
        else:
            Notification.objects.filter(pk__in=ids, emailed_at=now).update(emailed_at=None)
            result.failed.append(user.email)
    return result


# --- Lecture -------------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return Notification.objects.for_user(user).unread().count()


@transaction.atomic
def mark_read(*, user: User, notification_ids: Iterable[int | str] | None = None) -> int:
    """Marque lues les notifications de ``user`` (toutes, ou celles de ``notification_ids`` qui sont à
    lui : un numéro d'une autre personne ne change rien)."""
    rows = Notification.objects.for_user(user).unread()
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    return rows.update(read_at=timezone.now())
