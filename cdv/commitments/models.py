"""Engagements des partenaires : ce que chacun promet, avec quels moyens, jusqu'à quand.

Le cycle de vie (proposer, valider, renvoyer, confirmer, réaliser…) est appliqué par des services
(ticket 3) ; ce module porte les données et leurs règles de cohérence.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from cdv.plan.models import PLAIN_SUMMARY_MAX
from cdv.territories.enums import TerritoryKind

from .enums import (
    AMENDMENT_STATUSES,
    PUBLIC_STATUSES,
    RECORDING_STATUSES,
    CommitmentScope,
    CommitmentStatus,
    FundingKind,
)


class CommitmentQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)

    def of_partner(self, partner):
        return self.filter(partner=partner)

    def published(self):
        """Ce que le public voit : les engagements confirmés (cahier signé) et leur suite."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def in_status(self, status):
        """Un seul état, choisi par exemple dans un filtre de page (une valeur inconnue ne filtre pas)."""
        return self.filter(status=status) if status in CommitmentStatus.values else self

    def proposed(self):
        """La file de validation du pilote."""
        return self.filter(status=CommitmentStatus.PROPOSED)

    def recording(self):
        """Engagements validés qui courent encore : on peut y enregistrer des valeurs d'indicateurs."""
        return self.filter(status__in=RECORDING_STATUSES)

    def visible_to(self, user, contract):
        """Les engagements de ``contract`` que ``user`` peut lire (``abilities.visible_commitments``)."""
        from .abilities import visible_commitments

        return visible_commitments(user, self, contract)

    def with_latest_accepted_progress(self):
        """Annote ``last_progress_pct`` et ``last_progress_year`` : l'avancement du dernier bilan
        ACCEPTÉ par le pilote qui en donne un (année suivie la plus récente), ``None`` sinon. Jamais un
        brouillon, un bilan transmis ou renvoyé. Deux sous-requêtes dans la même requête SQL."""
        from cdv.monitoring.enums import ReportState
        from cdv.monitoring.models import ProgressReport

        latest = ProgressReport.objects.filter(
            commitment=models.OuterRef("pk"), state=ReportState.ACCEPTED, progress_pct__isnull=False
        ).order_by("-campaign__year")
        return self.annotate(
            last_progress_pct=models.Subquery(latest.values("progress_pct")[:1]),
            last_progress_year=models.Subquery(latest.values("campaign__year")[:1]),
        )

    def applying_to(self, qpv):
        """Engagements qui concernent un QPV : ceux qui le citent et ceux de portée générale."""
        return self.filter(
            models.Q(scope__in=[CommitmentScope.CONTRACT, CommitmentScope.METROPOLITAN])
            | models.Q(scope=CommitmentScope.QPV, qpvs=qpv)
        ).distinct()


class Commitment(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name="contrat",
        on_delete=models.CASCADE,
        related_name="commitments",
    )
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="partenaire engagé",
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    objective = models.ForeignKey(
        "plan.Objective", verbose_name="objectif", on_delete=models.RESTRICT, related_name="commitments"
    )
    action = models.ForeignKey(
        "plan.Action",
        verbose_name="action",
        on_delete=models.SET_NULL,
        related_name="commitments",
        null=True,
        blank=True,
    )
    scope = models.CharField(
        "portée", max_length=10, choices=CommitmentScope.choices, default=CommitmentScope.QPV
    )
    qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="quartiers concernés",
        blank=True,
        related_name="commitments",
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    title = models.CharField("intitulé", max_length=300)
    description = models.TextField("description", blank=True)
    summary_plain = models.CharField("résumé en langage clair", max_length=PLAIN_SUMMARY_MAX, blank=True)
    indicators = models.ManyToManyField(
        "indicators.Indicator",
        verbose_name="indicateurs de suivi",
        blank=True,
        related_name="commitments",
        help_text="Les indicateurs qui montreront si l'engagement est tenu.",
    )
    target = models.CharField(
        "cible", max_length=300, blank=True, help_text="Ex. : 120 jeunes accompagnés par an."
    )
    deadline = models.DateField("échéance", null=True, blank=True)
    status = models.CharField(
        "état", max_length=24, choices=CommitmentStatus.choices, default=CommitmentStatus.DRAFT
    )
    status_comment = models.TextField(
        "commentaire d'état", blank=True, help_text="Motif d'un renvoi ou d'un abandon."
    )
    version = models.PositiveIntegerField(
        "version",
        default=1,
        help_text="Incrémentée à chaque enregistrement : empêche les mises à jour perdues.",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="confirmé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_name = models.CharField("nom du signataire du cahier", max_length=200, blank=True)
    confirmed_role = models.CharField("qualité du signataire du cahier", max_length=200, blank=True)
    confirmed_at = models.DateTimeField("confirmé le", null=True, blank=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    history = HistoricalRecords(m2m_fields=[qpvs, indicators])

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        verbose_name = "engagement"
        verbose_name_plural = "engagements"
        ordering = ["contract", "partner__name", "objective", "id"]
        # Les engagements de plusieurs contrats comptés par état (vue de l'État) : lu dans l'index
        # seul, sans toucher aux lignes (× 6 à l'échelle nationale, 200 000 engagements).
        indexes = [models.Index(fields=["contract", "status"], name="commitment_contract_status")]

    def __str__(self):
        return f"{self.partner} — {self.title}"

    @property
    def needs_amendment(self) -> bool:
        """Confirmé ou en cours : le modifier demande un avenant motivé."""
        return self.status in AMENDMENT_STATUSES

    def clean(self):
        errors = {}
        if not self.objective_id:
            errors["objective"] = "Choisissez l'objectif auquel se rattache l'engagement."
        elif self.contract_id and self.objective.enjeu.contract_id != self.contract_id:
            errors["objective"] = "Cet objectif relève d'un autre contrat."
        if self.action_id and self.objective_id and self.action.objective_id != self.objective_id:
            errors["action"] = "Cette action ne relève pas de l'objectif choisi."
        if self.status == CommitmentStatus.ABANDONED and not self.status_comment.strip():
            errors["status_comment"] = "Indiquez pourquoi l'engagement est abandonné."
        if self.deadline and self.contract_id and self.deadline.year > self.contract.end_year:
            errors["deadline"] = f"L'échéance dépasse la fin du contrat ({self.contract.end_year})."
        if errors:
            raise ValidationError(errors)


class CommitmentMeans(models.Model):
    """Moyens engagés une année donnée : équivalents temps plein et euros, par nature de crédits."""

    commitment = models.ForeignKey(
        Commitment, verbose_name="engagement", on_delete=models.CASCADE, related_name="means"
    )
    year = models.PositiveSmallIntegerField(
        "année", validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    fte = models.DecimalField(
        "équivalents temps plein",
        max_digits=7,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    amount_eur = models.DecimalField(
        "montant (€)", max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    funding = models.CharField("nature des moyens", max_length=20, choices=FundingKind.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "moyens engagés"
        verbose_name_plural = "moyens engagés"
        ordering = ["commitment", "year", "funding"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "year", "funding"], name="means_unique_year_funding"
            )
        ]

    def __str__(self):
        from cdv.core.figures import french_number

        fte, eur = french_number(self.fte or 0, "ETP"), french_number(self.amount_eur or 0, "€")
        return f"{self.year} : {fte}, {eur} ({self.get_funding_display()})"

    def clean(self):
        if self.commitment_id and self.year:
            contract = self.commitment.contract
            if not contract.start_year <= self.year <= contract.end_year:
                raise ValidationError(
                    {"year": f"L'année {self.year} sort de la période du contrat ({contract.period_label})."}
                )


class CommitmentAmendment(models.Model):
    """Modification d'un engagement déjà confirmé : l'état d'avant reste lisible."""

    commitment = models.ForeignKey(
        Commitment, verbose_name="engagement", on_delete=models.CASCADE, related_name="amendments"
    )
    number = models.PositiveSmallIntegerField("numéro")
    reason = models.TextField("motif de la modification")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("date", auto_now_add=True)
    previous_version = models.PositiveIntegerField("version remplacée")
    previous = models.JSONField("engagement avant la modification")
    changes = models.JSONField("changements", default=list)

    class Meta:
        verbose_name = "avenant à un engagement"
        verbose_name_plural = "avenants aux engagements"
        ordering = ["commitment", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "number"], name="commitment_amendment_unique_number"
            )
        ]

    def __str__(self):
        return f"Avenant n° {self.number} — {self.commitment.title}"
