from django.db import models


class ActionScope(models.TextChoices):
    METROPOLITAN = "METROPOLE", "Échelle métropolitaine"
    QPV = "QPV", "Un ou plusieurs quartiers"


class ActionStatus(models.TextChoices):
    PLANNED = "PREVUE", "Prévue"
    IN_PROGRESS = "EN_COURS", "En cours"
    DONE = "REALISEE", "Réalisée"
    SUSPENDED = "SUSPENDUE", "Suspendue"
    ABANDONED = "ABANDONNEE", "Abandonnée"
