from django.db import models


class CommitmentStatus(models.TextChoices):
    DRAFT = "BROUILLON", "Brouillon"
    PROPOSED = "PROPOSE", "Proposé par le partenaire"
    RETURNED = "RENVOYE", "Renvoyé au partenaire"
    VALIDATED = "VALIDE", "Validé par le pilote"
    CONFIRMED = "CONFIRME", "Confirmé (cahier d'engagements signé)"
    IN_PROGRESS = "EN_COURS", "En cours"
    DONE = "REALISE", "Réalisé"
    PARTLY_DONE = "PARTIELLEMENT_REALISE", "Partiellement réalisé"
    NOT_DONE = "NON_REALISE", "Non réalisé"
    ABANDONED = "ABANDONNE", "Abandonné"


class CommitmentScope(models.TextChoices):
    CONTRACT = "CONTRAT", "Tout le contrat"
    METROPOLITAN = "METROPOLE", "Échelle métropolitaine"
    QPV = "QPV", "Quartiers choisis"


class FundingKind(models.TextChoices):
    ORDINARY = "DROIT_COMMUN", "Moyens de droit commun"
    SPECIFIC = "CREDITS_SPECIFIQUES", "Crédits spécifiques de la politique de la ville"
