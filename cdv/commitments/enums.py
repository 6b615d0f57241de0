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


# Nom court de chaque état, au singulier et au pluriel, pour compter : « 1 confirmé », « 3 réalisés ».
STATUS_COUNT_WORDS = {
    CommitmentStatus.DRAFT: ("brouillon", "brouillons"),
    CommitmentStatus.PROPOSED: ("proposé", "proposés"),
    CommitmentStatus.RETURNED: ("renvoyé", "renvoyés"),
    CommitmentStatus.VALIDATED: ("validé", "validés"),
    CommitmentStatus.CONFIRMED: ("confirmé", "confirmés"),
    CommitmentStatus.IN_PROGRESS: ("en cours", "en cours"),
    CommitmentStatus.DONE: ("réalisé", "réalisés"),
    CommitmentStatus.PARTLY_DONE: ("partiellement réalisé", "partiellement réalisés"),
    CommitmentStatus.NOT_DONE: ("non réalisé", "non réalisés"),
    CommitmentStatus.ABANDONED: ("abandonné", "abandonnés"),
}
