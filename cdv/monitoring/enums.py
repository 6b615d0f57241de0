from django.db import models


class CampaignStatus(models.TextChoices):
    OPEN = "OUVERTE", "Ouverte"
    CLOSED = "CLOSE", "Close"
    FROZEN = "FIGEE", "Figée (année arrêtée en COPIL)"


class ReportState(models.TextChoices):
    DRAFT = "BROUILLON", "Brouillon"
    SUBMITTED = "TRANSMIS", "Transmis au pilote"
    ACCEPTED = "ACCEPTE", "Accepté"
    RETURNED = "RENVOYE", "Renvoyé pour complément"


class FeedbackKind(models.TextChoices):
    SUCCESS = "REUSSITE", "Réussite"
    DIFFICULTY = "DIFFICULTE", "Difficulté"
    NEED = "BESOIN", "Besoin"
    PROPOSAL = "PROPOSITION", "Proposition"


class Moderation(models.TextChoices):
    PENDING = "EN_ATTENTE", "En attente de modération"
    PUBLISHED = "PUBLIE", "Publié"
    REJECTED = "REFUSE", "Non publié"


class MeetingKind(models.TextChoices):
    COPIL = "COPIL", "Comité de pilotage"
    COTECH = "COTECH", "Comité technique"
    NEIGHBOURHOOD = "QUARTIER", "Instance de quartier"


class DecisionStatus(models.TextChoices):
    OPEN = "A_FAIRE", "À faire"
    IN_PROGRESS = "EN_COURS", "En cours"
    DONE = "FAITE", "Faite"
    DROPPED = "ABANDONNEE", "Abandonnée"


# Groupes d'états : une seule définition, importée partout où l'on en a besoin.
# Un bilan brouillon ou renvoyé n'est pas (ou plus) transmis : le partenaire peut encore l'écrire.
NOT_SUBMITTED_STATES = frozenset({ReportState.DRAFT, ReportState.RETURNED})
EDITABLE_STATES = NOT_SUBMITTED_STATES
# Une décision à faire ou en cours reste ouverte ; faite ou abandonnée, elle est close.
OPEN_DECISION_STATUSES = frozenset({DecisionStatus.OPEN, DecisionStatus.IN_PROGRESS})
CLOSED_DECISION_STATUSES = frozenset({DecisionStatus.DONE, DecisionStatus.DROPPED})
# Les instances dont le public lit le compte rendu et les décisions.
PUBLIC_MEETING_KINDS = frozenset({MeetingKind.COPIL})
