from django.db import models


class ContractStatus(models.TextChoices):
    PREPARING = "PREPARATION", "En préparation"
    ACTIVE = "EN_VIGUEUR", "Signé, en vigueur"
    ENDED = "ACHEVE", "Achevé"


class SignatoryKind(models.TextChoices):
    SIGNATORY = "SIGNATAIRE", "Signataire"
    PARTICIPANT = "PARTICIPANT", "Participe au pilotage (non signataire)"


class MilestoneKind(models.TextChoices):
    SIGNATURE = "SIGNATURE", "Signature du contrat"
    COMMITMENTS = "CAHIERS", "Cahiers d'engagements"
    YEARLY_REVIEW = "SUIVI_ANNUEL", "Suivi annuel en comité de pilotage"
    MID_TERM_EVALUATION = "EVALUATION_MI_PARCOURS", "Évaluation à mi-parcours"
    FINAL_EVALUATION = "EVALUATION_FINALE", "Évaluation finale"
    END = "FIN", "Fin du contrat"
    OTHER = "AUTRE", "Autre étape"


class MilestoneState(models.TextChoices):
    DONE = "done", "Réalisée"
    CURRENT = "current", "En cours"
    UPCOMING = "upcoming", "À venir"
    PAST = "past", "Échéance passée"
