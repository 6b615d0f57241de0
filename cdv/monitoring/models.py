"""Suivi annuel : campagnes de bilan, bilans des engagements, retours d'expérience, instances
(COPIL, comités techniques, instances de quartier) et leurs décisions, gel de l'année.

Les écritures passent par ``services.py`` ; une campagne figée et son instantané ne changent plus.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from cdv.commitments.enums import CommitmentStatus
from cdv.core.french import day_month_year
from cdv.territories.enums import TerritoryKind

from .enums import (
    NOT_SUBMITTED_STATES,
    OPEN_DECISION_STATUSES,
    PUBLIC_MEETING_KINDS,
    CampaignStatus,
    DecisionStatus,
    FeedbackKind,
    MeetingKind,
    Moderation,
    ReportState,
)

YEAR = [MinValueValidator(1990), MaxValueValidator(2100)]


class ReviewCampaignQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def with_report_counts(self):
        """Annote ``total`` (bilans de la campagne) et ``done`` (transmis ou acceptés)."""
        return self.annotate(
            total=models.Count("reports"),
            done=models.Count(
                "reports", filter=models.Q(reports__state__in=[ReportState.SUBMITTED, ReportState.ACCEPTED])
            ),
        )

    def open(self):
        """Campagnes ouvertes : les partenaires y écrivent leurs bilans."""
        return self.filter(status=CampaignStatus.OPEN)

    def frozen(self):
        """Années arrêtées en COPIL : leur instantané ne change plus."""
        return self.filter(status=CampaignStatus.FROZEN)


class ReviewCampaign(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="campaigns"
    )
    year = models.PositiveSmallIntegerField("année suivie", validators=YEAR)
    opens_on = models.DateField("ouverte le")
    deadline = models.DateField("date limite des bilans")
    status = models.CharField(
        "état", max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="ouverte par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    history = HistoricalRecords()

    objects = ReviewCampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "campagne de suivi annuel"
        verbose_name_plural = "campagnes de suivi annuel"
        ordering = ["contract", "-year"]
        constraints = [models.UniqueConstraint(fields=["contract", "year"], name="campaign_unique_year")]

    def __str__(self):
        return f"Suivi {self.year} — {self.contract}"

    @property
    def is_frozen(self) -> bool:
        """Année arrêtée en COPIL : son instantané ne change plus."""
        return self.status == CampaignStatus.FROZEN


class ProgressReportQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(campaign__contract=contract)

    def for_campaign(self, campaign):
        return self.filter(campaign=campaign)

    def for_partner(self, partner):
        return self.filter(partner=partner)

    def not_submitted(self):
        """Brouillons et bilans renvoyés : pas (ou plus) transmis au pilote."""
        return self.filter(state__in=NOT_SUBMITTED_STATES)

    def submitted(self):
        """Transmis, en attente de l'examen du pilote."""
        return self.filter(state=ReportState.SUBMITTED)

    def accepted(self):
        return self.filter(state=ReportState.ACCEPTED)

    def late(self, today):
        """Pas transmis alors que la date limite de la campagne est passée."""
        return self.not_submitted().filter(campaign__deadline__lt=today)


class ProgressReport(models.Model):
    """Le bilan d'un engagement pour une année : ce qui a été fait, avec quels moyens."""

    campaign = models.ForeignKey(
        ReviewCampaign, verbose_name="campagne", on_delete=models.CASCADE, related_name="reports"
    )
    commitment = models.ForeignKey(
        "commitments.Commitment", verbose_name="engagement", on_delete=models.CASCADE, related_name="reports"
    )
    partner = models.ForeignKey(
        "partners.Partner", verbose_name="partenaire", on_delete=models.PROTECT, related_name="reports"
    )
    reported_status = models.CharField(
        "état déclaré", max_length=24, choices=CommitmentStatus.choices, blank=True
    )
    progress_pct = models.PositiveSmallIntegerField(
        "avancement (%)", null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    fte_actual = models.DecimalField(
        "ETP mobilisés",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    amount_actual = models.DecimalField(
        "euros mobilisés",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    what_worked = models.TextField("ce qui a marché", blank=True)
    difficulties = models.TextField("difficultés", blank=True)
    state = models.CharField(
        "état du bilan", max_length=10, choices=ReportState.choices, default=ReportState.DRAFT
    )
    reviewer_comment = models.TextField("commentaire du pilote", blank=True)
    submitted_at = models.DateTimeField("transmis le", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="transmis par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("examiné le", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="examiné par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField("version", default=1)
    history = HistoricalRecords()

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        verbose_name = "bilan d'engagement"
        verbose_name_plural = "bilans d'engagements"
        ordering = ["campaign", "partner__name", "commitment_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "commitment"], name="report_unique_commitment")
        ]

    def __str__(self):
        return f"Bilan {self.campaign.year} — {self.commitment.title}"

    @property
    def is_not_submitted(self) -> bool:
        """Brouillon ou renvoyé : pas (ou plus) transmis au pilote."""
        return self.state in NOT_SUBMITTED_STATES

    def is_late_on(self, today) -> bool:
        """Pas transmis alors que la date limite de la campagne est passée."""
        return today > self.campaign.deadline and self.is_not_submitted


def attachment_path(instance, filename):
    campaign = instance.report.campaign
    return f"bilans/{campaign.contract_id}/{campaign.year}/{instance.report_id}/{filename}"


class ReportAttachmentQuerySet(models.QuerySet):
    def for_report(self, report):
        return self.filter(report=report)


class ReportAttachment(models.Model):
    report = models.ForeignKey(
        ProgressReport, verbose_name="bilan", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("fichier", upload_to=attachment_path)
    original_name = models.CharField("nom d'origine", max_length=200)
    content_type = models.CharField("type", max_length=100)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposé par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("déposé le", auto_now_add=True)

    objects = ReportAttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce jointe d'un bilan"
        verbose_name_plural = "pièces jointes des bilans"
        ordering = ["report", "uploaded_at"]

    def __str__(self):
        return self.original_name


class FeedbackQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def for_partner(self, partner):
        return self.filter(partner=partner)

    def published(self):
        """Retours publiés après modération : les seuls que le public lit."""
        return self.filter(moderation=Moderation.PUBLISHED)

    def pending(self):
        """Retours en attente de modération."""
        return self.filter(moderation=Moderation.PENDING)

    def visible_to(self, user, contract):
        """Les retours de ``contract`` que ``user`` peut lire (``feedback.visible_feedback``)."""
        from .feedback import visible_feedback

        return visible_feedback(user, self, contract)


class Feedback(models.Model):
    """Un retour d'expérience, modéré avant toute publication."""

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="feedbacks"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedbacks",
    )
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="au nom de",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedbacks",
    )
    kind = models.CharField("nature", max_length=12, choices=FeedbackKind.choices)
    text = models.TextField("retour")
    qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="quartiers",
        blank=True,
        related_name="feedbacks",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    enjeu = models.ForeignKey(
        "plan.Enjeu",
        verbose_name="enjeu",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedbacks",
    )
    actions = models.ManyToManyField(
        "plan.Action", verbose_name="actions", blank=True, related_name="feedbacks"
    )
    commitments = models.ManyToManyField(
        "commitments.Commitment", verbose_name="engagements", blank=True, related_name="feedbacks"
    )
    indicators = models.ManyToManyField(
        "indicators.Indicator", verbose_name="indicateurs", blank=True, related_name="feedbacks"
    )
    moderation = models.CharField(
        "modération", max_length=12, choices=Moderation.choices, default=Moderation.PENDING
    )
    moderation_comment = models.TextField("motif de la modération", blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modéré par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moderated_at = models.DateTimeField("modéré le", null=True, blank=True)
    # Caviardage : ``text`` est le texte publié ; le texte déposé, s'il a été retouché avant
    # publication (noms, adresses), reste ici, lisible des seuls pilotes.
    original_text = models.TextField("texte déposé (avant retouche)", blank=True)
    redacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="retouché par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    redacted_at = models.DateTimeField("retouché le", null=True, blank=True)
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        verbose_name = "retour d'expérience"
        verbose_name_plural = "retours d'expérience"
        ordering = ["contract", "-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.text[:60]}"


class MeetingQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def public(self):
        """Instances dont le public lit le compte rendu (les COPIL)."""
        return self.filter(kind__in=PUBLIC_MEETING_KINDS)

    def visible_to(self, user, contract):
        """Les instances de ``contract`` que ``user`` peut lire (``meetings.visible_meetings``)."""
        from .meetings import visible_meetings

        return visible_meetings(user, self, contract)


class Meeting(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="meetings"
    )
    kind = models.CharField("instance", max_length=10, choices=MeetingKind.choices)
    title = models.CharField("intitulé", max_length=200)
    date = models.DateField("date")
    participants = models.ManyToManyField(
        "partners.Partner", verbose_name="partenaires présents", blank=True, related_name="meetings"
    )
    qpv = models.ForeignKey(
        "territories.Territory",
        verbose_name="quartier (instance de quartier)",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    campaign = models.ForeignKey(
        ReviewCampaign,
        verbose_name="campagne examinée",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meetings",
    )
    agenda = models.TextField("ordre du jour", blank=True)
    minutes = models.TextField("compte rendu", blank=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords(m2m_fields=[participants])

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = "instance (réunion)"
        verbose_name_plural = "instances (réunions)"
        ordering = ["contract", "-date"]

    def __str__(self):
        return f"{self.get_kind_display()} du {day_month_year(self.date)}"


class DecisionQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(meeting__contract=contract)

    def for_partner(self, partner):
        return self.filter(owner=partner)

    def in_status(self, status):
        """Un seul état de suivi, choisi par exemple dans un filtre (une valeur inconnue ne filtre pas)."""
        return self.filter(status=status) if status in DecisionStatus.values else self

    def open(self):
        """À faire ou en cours."""
        return self.filter(status__in=OPEN_DECISION_STATUSES)

    def late(self, today):
        """Encore ouvertes alors que leur échéance est passée."""
        return self.open().filter(due_on__isnull=False, due_on__lt=today)

    def visible_to(self, user, contract):
        """Les décisions de ``contract`` que ``user`` peut lire (``meetings.visible_decisions``)."""
        from .meetings import visible_decisions

        return visible_decisions(user, self, contract)


class Decision(models.Model):
    meeting = models.ForeignKey(
        Meeting, verbose_name="instance", on_delete=models.CASCADE, related_name="decisions"
    )
    text = models.TextField("décision")
    owner = models.ForeignKey(
        "partners.Partner",
        verbose_name="porteur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
    )
    due_on = models.DateField("échéance", null=True, blank=True)
    status = models.CharField(
        "suivi", max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.OPEN
    )
    follow_up = models.TextField("où en est-on ?", blank=True)
    closed_on = models.DateField("close le", null=True, blank=True)
    actions = models.ManyToManyField(
        "plan.Action", verbose_name="actions liées", blank=True, related_name="decisions"
    )
    commitments = models.ManyToManyField(
        "commitments.Commitment", verbose_name="engagements liés", blank=True, related_name="decisions"
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = "décision"
        verbose_name_plural = "décisions"
        ordering = ["meeting", "id"]

    def __str__(self):
        return self.text[:80]


class SnapshotQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(campaign__contract=contract)

    def for_campaign(self, campaign):
        return self.filter(campaign=campaign)


class Snapshot(models.Model):
    """L'année arrêtée : valeurs, états des engagements et bilans tels qu'ils étaient. Immuable."""

    campaign = models.OneToOneField(
        ReviewCampaign, verbose_name="campagne", on_delete=models.PROTECT, related_name="snapshot"
    )
    created_at = models.DateTimeField("figée le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="figée par",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    payload = models.JSONField("contenu")
    checksum = models.CharField("empreinte SHA-256", max_length=64)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = "instantané annuel"
        verbose_name_plural = "instantanés annuels"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Instantané {self.campaign.year}"
