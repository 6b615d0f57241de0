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
