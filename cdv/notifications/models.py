from django.conf import settings
from django.db import models
from django.utils import timezone

from .enums import DEFAULT_DELIVERY, Delivery, NotificationKind


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def to_email(self):
        """Pas encore envoyées par courriel : les résumés en attente et les envois immédiats ratés."""
        return self.filter(emailed_at__isnull=True)


class Notification(models.Model):
    """Ce qu'une personne doit savoir : une phrase, un lien, lue ou non, envoyée ou non par courriel."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="destinataire",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("nature", max_length=24, choices=NotificationKind.choices)
    text = models.TextField("message")
    url = models.URLField("lien", max_length=500)
    delivery = models.CharField("envoi", max_length=12, choices=Delivery.choices, default=DEFAULT_DELIVERY)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    read_at = models.DateTimeField("lue le", null=True, blank=True)
    emailed_at = models.DateTimeField("envoyée par courriel le", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "notification"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
            models.Index(fields=["emailed_at", "delivery"], name="notif_to_email"),
        ]

    def __str__(self):
        return f"{self.recipient} — {self.text[:60]}"


class NotificationPreference(models.Model):
    """Comment une personne veut être prévenue d'une nature de notification (sans ligne : immédiat)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="personne",
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField("nature", max_length=24, choices=NotificationKind.choices)
    delivery = models.CharField("envoi", max_length=12, choices=Delivery.choices)

    class Meta:
        verbose_name = "préférence de notification"
        verbose_name_plural = "préférences de notification"
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")]

    def __str__(self):
        return f"{self.user} — {self.get_kind_display()} : {self.get_delivery_display()}"


class SentReminder(models.Model):
    """Une relance déjà envoyée (ou en cours d'envoi) : la mémoire « une seule fois » des commandes
    de relance (cdv/notifications/once.py).

    La clé nomme l'acte, par exemple ``campagne-12/J-7/5`` (campagne, créneau, personne) ; elle est
    unique : deux exécutions simultanées, sur la même machine ou sur deux serveurs qui partagent la
    base, ne peuvent pas réserver deux fois la même relance. La ligne est écrite avant l'envoi et
    effacée si l'envoi échoue (la relance sera retentée).
    """

    key = models.CharField("relance", max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="destinataire",
        on_delete=models.CASCADE,
        related_name="sent_reminders",
    )
    created_at = models.DateTimeField("envoyée le", default=timezone.now)

    class Meta:
        verbose_name = "relance envoyée"
        verbose_name_plural = "relances envoyées"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.key} — {self.recipient}"
