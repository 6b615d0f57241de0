import factory
from django.utils import timezone

from cdv.notifications.enums import Delivery, NotificationKind
from cdv.notifications.models import Notification, NotificationPreference, SentReminder

from .base import ModelFactory
from .contracts import ContractFactory
from .users import UserFactory

__all__ = ["NotificationFactory", "NotificationPreferenceFactory", "SentReminderFactory"]


class NotificationFactory(ModelFactory):
    """Une notification non lue, à envoyer tout de suite par courriel."""

    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    contract = factory.SubFactory(ContractFactory)
    kind = NotificationKind.CAMPAIGN_OPENED
    text = factory.LazyAttribute(lambda o: f"La campagne de bilans de « {o.contract.title} » est ouverte.")
    url = factory.LazyAttribute(lambda o: f"https://contrat-de-ville.example.org/contrats/{o.contract.slug}/")
    delivery = Delivery.IMMEDIATE

    class Params:
        read = factory.Trait(read_at=factory.LazyFunction(timezone.now))
        emailed = factory.Trait(emailed_at=factory.LazyFunction(timezone.now))
        digest = factory.Trait(delivery=Delivery.DIGEST)


class NotificationPreferenceFactory(ModelFactory):
    """Le choix d'une personne pour une nature de notification : le résumé quotidien."""

    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)
    kind = NotificationKind.REVIEW_REMINDER
    delivery = Delivery.DIGEST

    class Params:
        off = factory.Trait(delivery=Delivery.OFF)
        immediate = factory.Trait(delivery=Delivery.IMMEDIATE)


class SentReminderFactory(ModelFactory):
    """Une relance déjà envoyée (clé unique : elle ne repart pas, quel que soit le serveur)."""

    class Meta:
        model = SentReminder

    recipient = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"campagne-{n}/j-7/personne")
