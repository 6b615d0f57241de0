from django.db import models


class Role(models.TextChoices):
    PILOT = "PILOTE", "Pilote du contrat"
    EDITOR = "EDITEUR", "Référent partenaire (rédaction)"
    READER = "LECTEUR", "Partenaire (lecture)"
    COUNCIL_MEMBER = "CONSEILLER_CITOYEN", "Membre d'un conseil citoyen"
    EVALUATOR = "EVALUATEUR", "Évaluateur"
    # Appel à projets (cdv/grants)
    APPLICANT = "REFERENT_ASSO", "Référent d'une association (appel à projets)"
    INSTRUCTOR = "INSTRUCTEUR", "Instructeur d'un financeur (appel à projets)"
    CORRESPONDENT = "CORRESPONDANT", "Correspondant de quartier (appel à projets)"
    PREFECT_DELEGATE = "DELEGUE_PREFET", "Délégué du préfet (appel à projets)"
    COMMITTEE_MEMBER = "MEMBRE_COMITE", "Membre du comité des financeurs"


# Rôles qui exigent un partenaire de rattachement (on agit au nom d'une organisation).
ROLES_WITH_PARTNER = {Role.EDITOR, Role.READER, Role.COUNCIL_MEMBER, Role.APPLICANT, Role.INSTRUCTOR}
# Rôles qui s'exercent pour un quartier prioritaire (l'avis de quartier de l'appel à projets).
ROLES_WITH_QPV = {Role.CORRESPONDENT, Role.PREFECT_DELEGATE}
