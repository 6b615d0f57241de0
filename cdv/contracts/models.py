"""Contrats de ville : périmètre, signataires, jalons et chiffres publiés.

Une instance héberge plusieurs contrats ; toute donnée d'un contrat (plan, engagements,
suivi…) porte une clé vers son ``Contract`` et toute requête se restreint à un contrat.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from cdv.territories.enums import TerritoryKind

from .enums import ContractStatus, MilestoneKind, MilestoneState, SignatoryKind

YEAR_VALIDATORS = [MinValueValidator(1990), MaxValueValidator(2100)]
# Contrats visibles sans connexion : tous sauf ceux en préparation (``public()``, et la condition
# « public ou membre » de ``contract_queryset_for``).
PUBLIC = ~Q(status=ContractStatus.PREPARING)


class ContractQuerySet(models.QuerySet):
    def public(self):
        """Contrats visibles sans connexion : tous sauf ceux en préparation."""
        return self.filter(PUBLIC)

    def visible_to(self, user):
        from .abilities import contract_queryset_for

        return contract_queryset_for(user, self)


class Contract(models.Model):
    slug = models.SlugField("identifiant d'URL", max_length=80, unique=True)
    title = models.CharField("intitulé", max_length=200)
    epci = models.ForeignKey(
        "territories.Territory",
        verbose_name="EPCI porteur",
        on_delete=models.PROTECT,
        related_name="contracts",
        limit_choices_to={"kind": TerritoryKind.EPCI},
    )
    reference_territory = models.ForeignKey(
        "territories.Territory",
        verbose_name="territoire de référence pour les écarts",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="En général l'EPCI : les écarts des QPV se mesurent par rapport à lui.",
    )
    start_year = models.PositiveSmallIntegerField("année de début", validators=YEAR_VALIDATORS)
    end_year = models.PositiveSmallIntegerField("année de fin", validators=YEAR_VALIDATORS)
    signed_on = models.DateField("date de signature", null=True, blank=True)
    status = models.CharField(
        "statut", max_length=12, choices=ContractStatus.choices, default=ContractStatus.PREPARING
    )
    qpvs = models.ManyToManyField(
        "territories.Territory",
        verbose_name="QPV couverts",
        related_name="qpv_contracts",
        blank=True,
        limit_choices_to={"kind": TerritoryKind.QPV},
    )
    summary_plain = models.TextField("résumé en langage clair", max_length=600, blank=True)
    source_url = models.URLField("source publique", blank=True)
    history = HistoricalRecords(m2m_fields=[qpvs])

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = "contrat de ville"
        verbose_name_plural = "contrats de ville"
        ordering = ["-start_year", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(end_year__gte=F("start_year")), name="contract_period_ordered")
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.start_year and self.end_year and self.end_year < self.start_year:
            raise ValidationError({"end_year": "L'année de fin précède l'année de début."})
        if self.epci_id and self.epci.kind != TerritoryKind.EPCI:
            raise ValidationError({"epci": "Le porteur d'un contrat de ville est un EPCI."})

    @property
    def reference(self):
        return self.reference_territory or self.epci

    @property
    def period_label(self) -> str:
        return f"{self.start_year}-{self.end_year}"

    def communes(self):
        """Communes du territoire du contrat : celles de l'EPCI et celles de ses QPV (en une requête)."""
        from cdv.territories.models import Territory

        in_territory = Q(children__in=self.qpvs.all())
        if self.epci_id:
            in_territory |= Q(parents=self.epci_id)
        return Territory.objects.filter(in_territory, kind=TerritoryKind.COMMUNE).distinct()


class Signatory(models.Model):
    """Un partenaire signataire du contrat, ou associé à son pilotage sans le signer."""

    contract = models.ForeignKey(
        Contract, verbose_name="contrat", on_delete=models.CASCADE, related_name="signatories"
    )
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name="partenaire",
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    kind = models.CharField(
        "place dans le contrat",
        max_length=12,
        choices=SignatoryKind.choices,
        default=SignatoryKind.SIGNATORY,
    )
    signed_on = models.DateField("date de signature", null=True, blank=True)
    signatory_name = models.CharField("nom du signataire", max_length=200, blank=True)
    signatory_role = models.CharField(
        "qualité du signataire", max_length=200, blank=True, help_text="Ex. : préfet, président."
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)
    note = models.CharField("précision", max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "signataire ou participant"
        verbose_name_plural = "signataires et participants"
        ordering = ["contract", "kind", "order", "partner__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "partner"], name="signatory_unique_partner_per_contract"
            )
        ]

    def __str__(self):
        return f"{self.partner} — {self.get_kind_display()}"

    def clean(self):
        if self.kind == SignatoryKind.PARTICIPANT and self.signed_on:
            raise ValidationError(
                {"signed_on": "Un participant non signataire n'a pas de date de signature."}
            )


class MilestoneQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)


class Milestone(models.Model):
    contract = models.ForeignKey(
        Contract, verbose_name="contrat", on_delete=models.CASCADE, related_name="milestones"
    )
    kind = models.CharField("type", max_length=24, choices=MilestoneKind.choices)
    title = models.CharField("intitulé", max_length=200)
    year = models.PositiveSmallIntegerField("année", validators=YEAR_VALIDATORS)
    due_on = models.DateField("échéance", null=True, blank=True, help_text="Date limite, si elle est connue.")
    when_label = models.CharField(
        "échéance en clair", max_length=100, blank=True, help_text="Ex. : 1er trimestre 2024."
    )
    done_on = models.DateField("réalisée le", null=True, blank=True)
    description = models.TextField("description", blank=True)
    source_url = models.URLField("source", blank=True)
    history = HistoricalRecords()

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = "jalon"
        verbose_name_plural = "jalons"
        ordering = ["contract", "year", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "year"], name="milestone_unique_kind_per_year"
            )
        ]

    def __str__(self):
        return f"{self.year} — {self.title}"

    def clean(self):
        if self.contract_id and self.year:
            contract = self.contract
            if not (contract.start_year - 1 <= self.year <= contract.end_year + 1):
                raise ValidationError(
                    {
                        "year": f"L'année {self.year} sort de la période du contrat "
                        f"({contract.period_label}, à un an près)."
                    }
                )

    def state(self, today: datetime.date) -> str:
        """Où en est ce jalon à la date ``today`` (réalisé, en cours, à venir, passé)."""
        if self.done_on:
            return MilestoneState.DONE
        end = self.due_on or datetime.date(self.year, 12, 31)
        if end < today:
            return MilestoneState.PAST
        if self.year == today.year:
            return MilestoneState.CURRENT
        return MilestoneState.UPCOMING


def headline_figure(figures):
    """Le chiffre de une d'un contrat (l'écart que le contrat doit réduire) : le premier chiffre de une
    qui a une valeur de comparaison. Le même choix pour la page d'accueil et le rapport d'évaluation."""
    return next((f for f in figures if f.is_headline and f.comparison_value is not None), None)


class KeyFigure(models.Model):
    """Un chiffre clé tel qu'il a été publié, avec sa source : jamais un chiffre inventé."""

    contract = models.ForeignKey(
        Contract, verbose_name="contrat", on_delete=models.CASCADE, related_name="key_figures"
    )
    code = models.SlugField("code", max_length=60)
    label = models.CharField("libellé", max_length=200)
    perimeter = models.CharField("périmètre", max_length=200)
    geography = models.CharField(
        "géographie prioritaire",
        max_length=4,
        blank=True,
        help_text="2015 ou 2024 : la géographie des QPV à laquelle se rapporte le chiffre.",
    )
    value = models.DecimalField("valeur", max_digits=14, decimal_places=2)
    unit = models.CharField("unité", max_length=40)
    comparison_value = models.DecimalField(
        "valeur de comparaison", max_digits=14, decimal_places=2, null=True, blank=True
    )
    comparison_perimeter = models.CharField("périmètre de comparaison", max_length=200, blank=True)
    published_on = models.CharField(
        "date de publication", max_length=10, blank=True, help_text="AAAA, AAAA-MM ou AAAA-MM-JJ."
    )
    source_label = models.CharField("source", max_length=300)
    source_url = models.URLField("adresse de la source", max_length=400)
    note = models.TextField("précisions (millésime, limites)", blank=True)
    is_headline = models.BooleanField("chiffre de une", default=False)
    order = models.PositiveSmallIntegerField("ordre", default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "chiffre clé publié"
        verbose_name_plural = "chiffres clés publiés"
        ordering = ["contract", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["contract", "code"], name="keyfigure_unique_code")]

    def __str__(self):
        return f"{self.label} : {self.value} {self.unit}"

    def gap(self):
        from cdv.core.figures import gap

        if self.comparison_value is None:
            return None
        return gap(self.value, self.comparison_value)
