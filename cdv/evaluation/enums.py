from django.db import models


class EvaluationKind(models.TextChoices):
    MID_TERM = "MI_PARCOURS", "Évaluation à mi-parcours"
    FINAL = "FINALE", "Évaluation finale"


class EvaluationStatus(models.TextChoices):
    IN_PROGRESS = "EN_COURS", "En cours"
    ADOPTED = "ADOPTEE", "Adoptée par le comité de pilotage"


class Criterion(models.TextChoices):
    RELEVANCE = "PERTINENCE", "Pertinence"
    COHERENCE = "COHERENCE", "Cohérence"
    EFFECTIVENESS = "EFFICACITE", "Efficacité"
    EFFICIENCY = "EFFICIENCE", "Efficience"
    IMPACT = "IMPACT", "Impact"
    PARTICIPATION = "PARTICIPATION", "Participation des habitants"


class JudgementScale(models.IntegerChoices):
    NOT_MET = 1, "Non atteint"
    PARTLY_MET = 2, "Partiellement atteint"
    MOSTLY_MET = 3, "Largement atteint"
    MET = 4, "Atteint"


class ItemKind(models.TextChoices):
    SCALE = "ECHELLE", "Échelle de 1 à 5"
    TEXT = "TEXTE", "Réponse libre"


class QuestionnaireStatus(models.TextChoices):
    DRAFT = "BROUILLON", "En préparation"
    OPEN = "OUVERT", "Ouvert aux réponses"
    CLOSED = "CLOS", "Clos"


class ChangeKind(models.TextChoices):
    CREATED = "CREATION", "Création"
    CHANGED = "MODIFICATION", "Modification"
