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


S = CommitmentStatus

# Groupes d'états : une seule définition, importée partout où l'on en a besoin.
# Ce que le public voit d'un contrat : les engagements confirmés (cahier signé) et leur suite.
PUBLIC_STATUSES = frozenset({S.CONFIRMED, S.IN_PROGRESS, S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED})
EDITABLE_BY_PARTNER = frozenset({S.DRAFT, S.RETURNED, S.CONFIRMED, S.IN_PROGRESS})
# Modifier un engagement confirmé ou en cours demande un avenant motivé.
AMENDMENT_STATUSES = frozenset({S.CONFIRMED, S.IN_PROGRESS})
# Clos : réalisés (tout ou partie), non réalisés ou abandonnés.
FINAL_STATUSES = frozenset({S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED})
# Les issues qu'on choisit en clôturant un engagement (les états finaux, dans l'ordre des choix)
CLOSING_OUTCOMES = [S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED]
REALISED_STATUSES = frozenset({S.DONE, S.PARTLY_DONE})
# Un partenaire n'enregistre de valeur d'indicateur (part de son public en QPV…) que pour un
# engagement que le pilote a validé et qui court encore : les indicateurs attachés à un brouillon
# n'ont été vus par personne.
RECORDING_STATUSES = frozenset({S.VALIDATED, S.CONFIRMED, S.IN_PROGRESS})
# Pas encore confirmés : le partenaire n'a pas signé son cahier pour ces engagements.
NOT_CONFIRMED_STATUSES = frozenset({S.DRAFT, S.PROPOSED, S.RETURNED, S.VALIDATED})
del S


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
