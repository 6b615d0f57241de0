"""Personnes (connexion par adresse électronique) et leurs rôles dans chaque contrat."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .enums import ROLES_WITH_PARTNER, ROLES_WITH_QPV, Role

DELETED_ACCOUNT_LABEL = "compte supprimé"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("Une adresse électronique est obligatoire.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("adresse électronique", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    public_name = models.CharField(
        "nom affiché au public",
        max_length=150,
        blank=True,
        help_text="Pseudonyme possible (membres des conseils citoyens).",
    )
    is_staff = models.BooleanField("accès au back-office", default=False)
    is_active = models.BooleanField("actif", default=True)
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)
    # Second facteur facultatif (TOTP, RFC 6238) : secret partagé avec l'application
    # d'authentification, actif une fois un premier code vérifié.
    totp_secret = models.CharField("secret du second facteur", max_length=64, blank=True, editable=False)
    totp_confirmed_at = models.DateTimeField(
        "second facteur activé le", null=True, blank=True, editable=False
    )
    totp_last_step = models.BigIntegerField(
        "dernier pas de temps accepté", null=True, blank=True, editable=False
    )  # un code ne sert qu'une fois
    anonymized_at = models.DateTimeField("compte supprimé le", null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["email"]

    def __str__(self):
        if self.anonymized_at:
            return DELETED_ACCOUNT_LABEL
        return self.get_full_name() or self.email

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret and self.totp_confirmed_at)

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class MembershipQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def of(self, user):
        return self.filter(user=user) if user.is_authenticated else self.none()


class Membership(models.Model):
    """Le rôle d'une personne dans un contrat, au nom d'un partenaire (sauf pilote, évaluateur)."""

    user = models.ForeignKey(
        User, verbose_name="personne", on_delete=models.CASCADE, related_name="memberships"
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name="contrat",
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="partenaire",
        on_delete=models.PROTECT,
        related_name="memberships",
        null=True,
        blank=True,
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    qpv = models.ForeignKey(
        "territories.Territory",
        verbose_name="quartier",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        limit_choices_to={"kind": "QPV"},
        help_text="Correspondant de quartier, délégué du préfet : le quartier dont il donne l'avis.",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    history = HistoricalRecords()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = "rôle dans un contrat"
        verbose_name_plural = "rôles dans les contrats"
        ordering = ["contract", "role", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "contract", "role", "partner", "qpv"],
                name="membership_unique_with_qpv",
            )
        ]

    def __str__(self):
        suffix = f" ({self.partner})" if self.partner_id else ""
        return f"{self.user} — {self.get_role_display()}{suffix}"

    def clean(self):
        if self.role in ROLES_WITH_PARTNER and not self.partner_id:
            raise ValidationError({"partner": "Ce rôle s'exerce au nom d'un partenaire : choisissez-le."})
        if self.role in ROLES_WITH_QPV and not self.qpv_id:
            raise ValidationError({"qpv": "Ce rôle s'exerce pour un quartier : choisissez-le."})


class InvitationQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked=False, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """Invitation envoyée par un pilote : un lien à usage unique pour choisir son mot de passe.

    Seule l'empreinte SHA-256 du jeton est conservée : une fuite de la base ne donne pas de lien
    utilisable.
    """

    email = models.EmailField("adresse invitée")
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="invitations"
    )
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="partenaire",
        on_delete=models.CASCADE,
        related_name="invitations",
        null=True,
        blank=True,
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    qpv = models.ForeignKey(
        "territories.Territory",
        verbose_name="quartier",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        limit_choices_to={"kind": "QPV"},
    )
    token_hash = models.CharField("empreinte du jeton", max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, verbose_name="invité par", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("envoyée le", auto_now_add=True)
    expires_at = models.DateTimeField("expire le")
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, verbose_name="acceptée par", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked = models.BooleanField("révoquée", default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} — {self.get_role_display()}"

    @property
    def is_usable(self) -> bool:
        return not self.revoked and self.accepted_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """Jeton d'accès à l'API (en-tête « Authorization: Bearer … ») ; seule l'empreinte est gardée."""

    user = models.ForeignKey(
        User, verbose_name="personne", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("usage", max_length=100)
    key_hash = models.CharField("empreinte", max_length=64, unique=True, editable=False)
    prefix = models.CharField("début du jeton", max_length=8, editable=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked = models.BooleanField("révoqué", default=False)

    class Meta:
        verbose_name = "jeton d'API"
        verbose_name_plural = "jetons d'API"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class CrossContractReaderQuerySet(models.QuerySet):
    def of(self, user):
        return self.filter(user=user) if user.is_authenticated else self.none()


class CrossContractReader(models.Model):
    """Lecture inter-contrats : une personne lit, au nom d'un partenaire signataire de plusieurs
    contrats (l'État : une préfecture pour son département, l'ANCT pour la France), le tableau de
    tous les contrats que ce partenaire a signés (``contracts.Signatory`` de nature « signataire »).

    Un rôle à part, et non un ``Membership`` : une appartenance s'exerce dans un contrat, celle-ci
    au-dessus des contrats ; et non un rôle déduit (être référent de l'État dans un contrat) : un
    référent de la préfecture dans un contrat ne lit pas pour autant tous les autres. Seul
    l'opérateur de l'instance l'accorde ou le retire (``users.services``), car il ouvre des contrats
    dont aucun pilote ne répond seul.
    """

    user = models.ForeignKey(
        User, verbose_name="personne", on_delete=models.CASCADE, related_name="cross_contract_readings"
    )
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="partenaire signataire",
        on_delete=models.CASCADE,
        related_name="cross_contract_readers",
    )
    granted_by = models.ForeignKey(
        User, verbose_name="accordée par", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("accordée le", auto_now_add=True)
    history = HistoricalRecords()

    objects = CrossContractReaderQuerySet.as_manager()

    class Meta:
        verbose_name = "lecture inter-contrats"
        verbose_name_plural = "lectures inter-contrats"
        ordering = ["partner__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "partner"], name="cross_contract_reader_unique")
        ]

    def __str__(self):
        return f"{self.user} — lecture inter-contrats ({self.partner})"
