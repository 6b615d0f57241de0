"""Catalogue d'indicateurs d'un contrat.

Ce module pose l'indicateur (ce qu'il mesure, comment il s'agrège) pour que les engagements
puissent dire par quels indicateurs on les suivra. Les valeurs par territoire et par période, les
cibles et les calculs d'écart viennent avec le suivi annuel (ticket 4).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .enums import Aggregation, Direction, RateScale, Scope, ValueStatus


class IndicatorQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(contract=contract)


class Indicator(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="contrat", on_delete=models.CASCADE, related_name="indicators"
    )
    code = models.SlugField("code", max_length=60)
    name = models.CharField("nom", max_length=200)
    definition = models.TextField("définition", blank=True)
    enjeu = models.ForeignKey(
        "plan.Enjeu",
        verbose_name="enjeu",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="indicators",
    )
    unit = models.CharField("unité", max_length=40, help_text="Ex. : %, personnes, euros.")
    rate_scale = models.PositiveIntegerField(
        "échelle du taux",
        choices=RateScale.choices,
        null=True,
        blank=True,
        help_text="Pour un taux : valeur = numérateur / dénominateur × échelle (100 pour un %, 1 000 pour "
        "un taux pour 1 000 habitants…), quelle que soit l'unité écrite. Vide : pas un taux (un effectif, "
        "un montant) ; aucun écart en points n'est alors calculé.",
    )
    direction = models.CharField(
        "sens", max_length=10, choices=Direction.choices, default=Direction.UP_IS_GOOD
    )
    aggregation = models.CharField(
        "règle d'agrégation", max_length=20, choices=Aggregation.choices, default=Aggregation.SUM
    )
    source = models.CharField("source", max_length=300, blank=True)
    producer = models.CharField("producteur", max_length=200, blank=True)
    frequency = models.CharField("fréquence de mise à jour", max_length=100, blank=True)
    geography = models.CharField(
        "géographie prioritaire",
        max_length=4,
        blank=True,
        help_text="2015 ou 2024 : la géographie des QPV des valeurs (vide si sans objet).",
    )
    levels = models.JSONField(
        "niveaux géographiques",
        default=list,
        blank=True,
        help_text="Niveaux disponibles : QPV, COMMUNE, EPCI, ZONE_EMPLOI, FRANCE…",
    )
    comparability_note = models.TextField(
        "comparabilité",
        blank=True,
        help_text="Ex. : l'INSEE déconseille de comparer deux millésimes consécutifs "
        "à l'échelle infracommunale.",
    )
    secrecy_rule = models.CharField(
        "règle de secret statistique",
        max_length=300,
        blank=True,
        help_text="Ex. : valeur masquée sous 11 foyers.",
    )
    baseline_year = models.PositiveSmallIntegerField("année de référence", null=True, blank=True)
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    history = HistoricalRecords()

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        ordering = ["contract", "code"]
        constraints = [models.UniqueConstraint(fields=["contract", "code"], name="indicator_unique_code")]

    def __str__(self):
        return f"{self.name} ({self.unit})"

    @property
    def is_rate(self) -> bool:
        """Un taux (pour 100, pour 1 000…) : seuls les taux ont un écart en points avec la référence."""
        return self.rate_scale is not None

    def clean(self):
        unit = (self.unit or "").strip()
        expected = 100 if "%" in unit else 1000 if "‰" in unit else None
        if expected is not None and self.rate_scale != expected:
            raise ValidationError(
                {
                    "rate_scale": f"L'unité « {unit} » désigne un taux {RateScale(expected).label} : "
                    "choisissez cette échelle."
                }
            )


class IndicatorValueQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(indicator__contract=contract)

    def for_indicator(self, indicator):
        return self.filter(indicator=indicator)

    def annual(self):
        return self.filter(quarter=0)


class IndicatorValue(models.Model):
    """Une valeur d'un indicateur pour un territoire (ou l'ensemble publié des QPV du contrat) et une période.

    Une valeur sous secret statistique n'a pas de nombre : seulement l'indication du secret.
    """

    indicator = models.ForeignKey(
        Indicator, verbose_name="indicateur", on_delete=models.CASCADE, related_name="values"
    )
    scope = models.CharField("portée", max_length=16, choices=Scope.choices, default=Scope.TERRITORY)
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name="territoire",
        on_delete=models.PROTECT,
        related_name="indicator_values",
        null=True,
        blank=True,
    )
    year = models.PositiveSmallIntegerField(
        "année", validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    quarter = models.PositiveSmallIntegerField(
        "trimestre", default=0, validators=[MaxValueValidator(4)], help_text="0 pour une valeur annuelle."
    )
    value = models.DecimalField("valeur", max_digits=16, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField("numérateur", max_digits=16, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField("dénominateur", max_digits=16, decimal_places=4, null=True, blank=True)
    is_secret = models.BooleanField("secret statistique", default=False)
    status = models.CharField("statut", max_length=12, choices=ValueStatus.choices, default=ValueStatus.FINAL)
    source = models.CharField(
        "source",
        max_length=300,
        blank=True,
        help_text="Ex. : INSEE, Filosofi 2021 ; vide : celle de l'indicateur.",
    )
    vintage = models.CharField("millésime de la source", max_length=200, blank=True)
    source_url = models.URLField("adresse de la source", max_length=400, blank=True)
    comment = models.TextField("commentaire", blank=True)
    commitment = models.ForeignKey(
        "commitments.Commitment",
        verbose_name="engagement d'origine",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="recorded_values",
        help_text="Valeur déclarée par le partenaire de cet engagement (part de son public en QPV…) ; "
        "vide pour une valeur de la série officielle (import, pilote).",
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = "valeur d'indicateur"
        verbose_name_plural = "valeurs d'indicateurs"
        ordering = ["indicator", "territory_id", "year", "quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "territory", "year", "quarter"],
                condition=Q(scope="TERRITOIRE"),
                name="indicatorvalue_unique_territory_period",
            ),
            models.UniqueConstraint(
                fields=["indicator", "year", "quarter"],
                condition=Q(scope="QPV_DU_CONTRAT"),
                name="indicatorvalue_unique_contract_qpvs_period",
            ),
            models.CheckConstraint(
                condition=Q(is_secret=False) | Q(value__isnull=True, numerator__isnull=True),
                name="indicatorvalue_secret_has_no_number",
            ),
            models.CheckConstraint(
                condition=Q(scope="TERRITOIRE", territory__isnull=False)
                | Q(scope="QPV_DU_CONTRAT", territory__isnull=True),
                name="indicatorvalue_scope_matches_territory",
            ),
        ]

    def __str__(self):
        return f"{self.indicator.code} {self.territory_label} {self.period_label} : {self.display}"

    @property
    def period_label(self) -> str:
        return f"{self.year}-T{self.quarter}" if self.quarter else str(self.year)

    @property
    def territory_label(self) -> str:
        return "QPV du contrat" if self.scope == Scope.CONTRACT_QPVS else str(self.territory)

    @property
    def display(self) -> str:
        """« s » pour une valeur sous secret statistique, jamais 0."""
        if self.is_secret:
            return "s"
        return "" if self.value is None else f"{self.value.normalize():f}"

    def clean(self):
        errors = {}
        if self.is_secret and (self.value is not None or self.numerator is not None):
            errors["value"] = "Une valeur sous secret statistique n'a pas de nombre."
        if not self.is_secret and self.value is None:
            errors["value"] = "Indiquez la valeur, ou cochez le secret statistique."
        if self.denominator is not None and self.denominator <= 0:
            errors["denominator"] = "Le dénominateur doit être strictement positif."
        if self.scope == Scope.TERRITORY and self.territory_id is None:
            errors["territory"] = "Choisissez le territoire de la valeur."
        if self.scope == Scope.CONTRACT_QPVS and self.territory_id is not None:
            errors["territory"] = "Une valeur de l'ensemble des QPV du contrat n'a pas de territoire."
        if errors:
            raise ValidationError(errors)


class TargetQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(indicator__contract=contract)


class Target(models.Model):
    """Une cible à atteindre pour un indicateur (un territoire, ou l'ensemble des QPV du contrat)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="indicateur", on_delete=models.CASCADE, related_name="targets"
    )
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name="territoire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Vide : l'ensemble des QPV du contrat.",
    )
    year = models.PositiveSmallIntegerField(
        "année", validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    value = models.DecimalField("valeur cible", max_digits=16, decimal_places=4)
    history = HistoricalRecords()

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = "cible"
        verbose_name_plural = "cibles"
        ordering = ["indicator", "year"]

    def __str__(self):
        return f"{self.indicator.code} {self.year} : {self.value}"
