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


class UsualSignatory(models.TextChoices):
    """Signataires habituels d'un contrat de ville, proposés à la création d'un contrat."""

    PREFECTURE = "PREFECTURE", "L'État (préfecture du département)"
    EPCI = "EPCI", "L'EPCI porteur"
    COMMUNES = "COMMUNES", "Les communes qui ont un quartier prioritaire"
    DEPARTMENT = "DEPARTEMENT", "Le Département"
    REGION = "REGION", "La Région"
    CAF = "CAF", "La caisse d'allocations familiales (CAF)"
    FRANCE_TRAVAIL = "FRANCE_TRAVAIL", "France Travail"


class PlanStart(models.TextChoices):
    EMPTY = "empty", "Un plan vide"
    NATIONAL = "national", "Les quatre priorités nationales des contrats « Quartiers 2030 » comme enjeux"
    COPY = "copy", "La structure d'un autre contrat (enjeux, objectifs, actions)"
