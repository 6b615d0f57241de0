from django.db import models


class Role(models.TextChoices):
    PILOT = "PILOTE", "Pilote du contrat"
    EDITOR = "EDITEUR", "Référent partenaire (rédaction)"
    READER = "LECTEUR", "Partenaire (lecture)"
    COUNCIL_MEMBER = "CONSEILLER_CITOYEN", "Membre d'un conseil citoyen"
    EVALUATOR = "EVALUATEUR", "Évaluateur"


# Rôles qui exigent un partenaire de rattachement (on agit au nom d'une organisation).
ROLES_WITH_PARTNER = {Role.EDITOR, Role.READER, Role.COUNCIL_MEMBER}
