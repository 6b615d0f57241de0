"""Catalogue d'indicateurs d'un contrat.

Ce module pose l'indicateur (ce qu'il mesure, comment il s'agrège) pour que les engagements
puissent dire par quels indicateurs on les suivra. Les valeurs par territoire et par période, les
cibles et les calculs d'écart viennent avec le suivi annuel (ticket 4).
"""

from django.db import models
from simple_history.models import HistoricalRecords

from .enums import Aggregation, Direction


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
    direction = models.CharField(
        "sens", max_length=10, choices=Direction.choices, default=Direction.UP_IS_GOOD
    )
    aggregation = models.CharField(
        "règle d'agrégation", max_length=20, choices=Aggregation.choices, default=Aggregation.SUM
    )
    source = models.CharField("source", max_length=300, blank=True)
    producer = models.CharField("producteur", max_length=200, blank=True)
    frequency = models.CharField("fréquence de mise à jour", max_length=100, blank=True)
    comparability_note = models.TextField("comparabilité", blank=True)
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
