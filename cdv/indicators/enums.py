from django.db import models


class Direction(models.TextChoices):
    UP_IS_GOOD = "HAUSSE", "Une hausse est une amélioration"
    DOWN_IS_GOOD = "BAISSE", "Une baisse est une amélioration"


class Aggregation(models.TextChoices):
    SUM = "SOMME", "Somme"
    RATIO = "RATIO", "Rapport des sommes (numérateur / dénominateur)"
    WEIGHTED_MEAN = "MOYENNE_PONDEREE", "Moyenne pondérée par la population"
    NONE = "AUCUNE", "Non agrégeable"


class ValueStatus(models.TextChoices):
    PROVISIONAL = "PROVISOIRE", "Provisoire"
    FINAL = "DEFINITIVE", "Définitive"


class Scope(models.TextChoices):
    TERRITORY = "TERRITOIRE", "Un territoire"
    CONTRACT_QPVS = "QPV_DU_CONTRAT", "Ensemble des QPV du contrat (valeur publiée)"


class RateScale(models.IntegerChoices):
    """L'échelle d'un taux : valeur = numérateur / dénominateur × échelle."""

    PERCENT = 100, "pour 100 (%)"
    PER_THOUSAND = 1000, "pour 1 000"
    PER_TEN_THOUSAND = 10000, "pour 10 000"
    PER_HUNDRED_THOUSAND = 100000, "pour 100 000"
