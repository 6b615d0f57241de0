"""Les choix de l'appel à projets (AAP) : états d'un appel, d'un dossier et de chaque ligne de
financeur (libellés de Dauphin), comptes du budget CERFA 12156, avis et pièces."""

from django.db import models


class CallStatus(models.TextChoices):
    DRAFT = "BROUILLON", "En préparation"
    PUBLISHED = "PUBLIE", "Publié"
    ARCHIVED = "ARCHIVE", "Archivé"


class FunderKind(models.TextChoices):
    """Place du financeur dans le cofinancement (vocabulaire de Dauphin)."""

    PRIVILEGED = "PRIVILEGIE", "Financeur privilégié"
    PARTNER = "PARTENAIRE", "Partenaire financier"
    OTHER = "AUTRE", "Autre financeur"


class ApplicationStatus(models.TextChoices):
    """L'état du dossier côté association ; chaque financeur a en plus l'état de sa ligne."""

    DRAFT = "BROUILLON", "Brouillon (non déposé)"
    SUBMITTED = "DEPOSE", "Déposé"
    RETURNED = "COMPLEMENTS", "Compléments demandés"
    DECIDED = "DECIDE", "Décidé par le comité"
    WITHDRAWN = "RETIRE", "Retiré par l'association"


# Le dossier peut être modifié par l'association (brouillon, ou rendu pour compléments).
EDITABLE_APPLICATION_STATUSES = {ApplicationStatus.DRAFT, ApplicationStatus.RETURNED}
# Le dossier est entre les mains des financeurs (instruction ouverte).
INSTRUCTED_APPLICATION_STATUSES = {ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED}


class LineStatus(models.TextChoices):
    """L'état d'une ligne de financeur, dans l'ordre de Dauphin (la partie 2 ajoute la suite :
    à justifier, justifié, payé…)."""

    DRAFT = "EN_SAISIE", "En cours de saisie"
    TRANSMITTED = "TRANSMIS", "Transmis"
    TAKEN = "PRIS_EN_CHARGE", "Pris en charge"
    ADMISSIBLE = "RECEVABLE", "Recevable"
    INADMISSIBLE = "NON_RECEVABLE", "Non recevable"
    INSTRUCTING = "EN_INSTRUCTION", "En instruction"
    VOTED = "VOTE", "Voté"
    REJECTED = "REJETE", "Rejeté"
    CLOSED = "CLOTURE", "Clôturé"


# Ce que l'instructeur d'un financeur peut donner comme état à sa ligne avant le comité.
INSTRUCTION_LINE_STATUSES = [
    LineStatus.TRANSMITTED,
    LineStatus.TAKEN,
    LineStatus.ADMISSIBLE,
    LineStatus.INADMISSIBLE,
    LineStatus.INSTRUCTING,
]
# États posés par le vote du comité (ou la clôture) : la ligne n'est plus instruite.
DECIDED_LINE_STATUSES = {LineStatus.VOTED, LineStatus.REJECTED, LineStatus.CLOSED}
# Ce qu'un anonyme voit d'une ligne : seulement, après le vote, une ligne votée.
PUBLIC_LINE_STATUSES = {LineStatus.VOTED}


class Opinion(models.TextChoices):
    FAVORABLE = "FAVORABLE", "Favorable"
    RESERVED = "RESERVE", "Favorable avec réserves"
    UNFAVORABLE = "DEFAVORABLE", "Défavorable"


class OpinionKind(models.TextChoices):
    """Qui donne l'avis de quartier."""

    CORRESPONDENT = "CORRESPONDANT", "Correspondant de quartier"
    PREFECT_DELEGATE = "DELEGUE_PREFET", "Délégué du préfet"


class Simulation(models.TextChoices):
    """Le choix provisoire du comité avant le vote."""

    PENDING = "", "Non simulé"
    YES = "OUI", "Oui"
    NO = "NON", "Non"


class ProjectScope(models.TextChoices):
    QPV = "QPV", "Un ou plusieurs quartiers prioritaires"
    WHOLE = "TERRITOIRE", "L'ensemble du territoire du contrat"


class BudgetSide(models.TextChoices):
    CHARGE = "CHARGE", "Charges"
    INCOME = "PRODUIT", "Produits"


class Account(models.TextChoices):
    """Comptes du budget du projet (CERFA 12156*06). Le compte 74 (subventions) des financeurs de
    l'appel n'est pas une ligne de budget : ce sont les lignes de financeur du dossier ; le 74 ici
    recueille les autres subventions (hors appel)."""

    A60 = "60", "60 – Achats"
    A61 = "61", "61 – Services extérieurs"
    A62 = "62", "62 – Autres services extérieurs"
    A63 = "63", "63 – Impôts et taxes"
    A64 = "64", "64 – Charges de personnel"
    A65 = "65", "65 – Autres charges de gestion courante"
    A66 = "66", "66 – Charges financières"
    A67 = "67", "67 – Charges exceptionnelles"
    A68 = "68", "68 – Dotation aux amortissements"
    A86 = "86", "86 – Emplois des contributions volontaires en nature"
    A70 = "70", "70 – Vente de produits finis, prestations de services"
    A73 = "73", "73 – Dotations et produits de tarification"
    A74 = "74", "74 – Autres subventions (hors financeurs de l'appel)"
    A75 = "75", "75 – Autres produits de gestion courante"
    A87 = "87", "87 – Contributions volontaires en nature"


CHARGE_ACCOUNTS = [Account.A60, Account.A61, Account.A62, Account.A63, Account.A64]
CHARGE_ACCOUNTS += [Account.A65, Account.A66, Account.A67, Account.A68, Account.A86]
INCOME_ACCOUNTS = [Account.A70, Account.A73, Account.A74, Account.A75, Account.A87]


def side_of(account: str) -> str:
    return BudgetSide.CHARGE if account in CHARGE_ACCOUNTS else BudgetSide.INCOME


class DocumentKind(models.TextChoices):
    STATUTES = "STATUTS", "Statuts"
    BANK_DETAILS = "RIB", "Relevé d'identité bancaire"
    ACCOUNTS = "COMPTES", "Derniers comptes approuvés"
    ACTIVITY_REPORT = "RAPPORT", "Dernier rapport d'activité"
    MEMBERS = "BUREAU", "Liste des dirigeants"
    OTHER = "AUTRE", "Autre pièce"
    REPORT_PIECE = "JUSTIF", "Pièce justificative d'un compte-rendu"


class EventKind(models.TextChoices):
    """Ce qui arrive à un dossier : son historique lisible (l'audit détaillé est dans
    django-simple-history)."""

    CREATED = "CREE", "Dossier créé"
    SUBMITTED = "DEPOSE", "Dossier déposé"
    INFO_REQUESTED = "COMPLEMENTS_DEMANDES", "Compléments demandés"
    INFO_ANSWERED = "COMPLEMENTS_FOURNIS", "Compléments fournis"
    LINE_UPDATED = "LIGNE", "Ligne de financeur instruite"
    OPINION = "AVIS", "Avis de quartier"
    SCORED = "NOTES", "Grille de notation remplie"
    DECIDED = "DECISION", "Décision du comité"
    WITHDRAWN = "RETIRE", "Dossier retiré"
    ACT_PREPARED = "ACTE", "Acte préparé"
    ACT_SIGNED = "ACTE_SIGNE", "Acte signé déposé"
    SCHEDULED = "ECHEANCIER", "Échéancier de versement"
    PAYMENT = "VERSEMENT", "Versement enregistré"
    REPORT_SUBMITTED = "CR_TRANSMIS", "Compte-rendu transmis"
    REPORT_REVIEWED = "CR_EXAMINE", "Compte-rendu examiné"
    BLOCK_LIFTED = "BLOCAGE_LEVE", "Blocage levé par le pilote"
    IMPORTED = "IMPORTE", "Importé de Dauphin"


# ---------------------------------------------------------------------------------------------
# Partie 2 : après le vote (actes, paiements, compte-rendu financier)

# Sous ce montant annuel (€), une décision (arrêté) suffit ; au-delà, une convention est obligatoire.
CONVENTION_THRESHOLD = 23000


class ActKind(models.TextChoices):
    """L'acte juridique qui attribue la subvention d'une ligne votée."""

    DECISION = "ARRETE", "Décision attributive (arrêté)"
    CONVENTION = "CONVENTION", "Convention"
    MULTI_YEAR = "CPO", "Convention pluriannuelle d'objectifs (CPO)"


class PaymentTerms(models.TextChoices):
    """Les conditions de versement (valeurs de ``conditionsVersement`` du SCDL)."""

    SINGLE = "UNIQUE", "Versement unique"
    STAGED = "ECHELONNE", "Avance puis solde"


class InstalmentKind(models.TextChoices):
    SINGLE = "UNIQUE", "Versement unique"
    ADVANCE = "AVANCE", "Avance"
    BALANCE = "SOLDE", "Solde"


class FollowUpStage(models.TextChoices):
    """Où en est une ligne votée (suite des libellés de Dauphin) ; calculé à partir de l'acte,
    des versements et du compte-rendu, jamais saisi."""

    VOTED = "VOTE", "Voté"
    ACT_READY = "ACTE_PREPARE", "Acte préparé"
    SIGNED = "ACTE_SIGNE", "Acte signé"
    PARTLY_PAID = "AVANCE_PAYEE", "Avance payée"
    TO_JUSTIFY = "A_JUSTIFIER", "À justifier"
    JUSTIFYING = "JUSTIFICATION_EN_COURS", "Justification en cours"
    JUSTIFIED = "JUSTIFIE", "Justifié"
    TO_AMEND = "JUSTIFICATION_A_MODIFIER", "Justification à modifier"
    PAID = "PAYE", "Payé"


# Le libellé, au compte 74 du budget réalisé, de la ligne d'un financeur de l'appel.
FUNDER_ROW_PREFIX = "Subvention de "


def budget_row_title(account: str, label: str, *, parenthesis: bool = False) -> str:
    """« 64 – Charges de personnel — Animateur » (ou « … (Animateur) ») ; la ligne d'un financeur
    de l'appel au compte 74 : « 74 – Subvention de … », pas « Autres subventions (hors financeurs
    de l'appel) »."""
    if account == Account.A74 and label.startswith(FUNDER_ROW_PREFIX):
        return f"{Account.A74.value} – {label}"
    text = Account(account).label
    if not label:
        return text
    return f"{text} ({label})" if parenthesis else f"{text} — {label}"


class ReportPath(models.TextChoices):
    """Les trois chemins du compte-rendu (comme dans Dauphin)."""

    CARRIED_OUT = "REALISEE", "L'action a été réalisée : compte-rendu financier"
    NOT_CARRIED_OUT = "NON_REALISEE", "L'action n'a pas été réalisée"
    NEW_DATES = "REPORT", "L'action a besoin de nouvelles dates"


class ReportStatus(models.TextChoices):
    DRAFT = "BROUILLON", "En cours de saisie"
    SUBMITTED = "TRANSMIS", "Transmis aux financeurs"
    CHANGES_REQUESTED = "A_MODIFIER", "À modifier"
    ACCEPTED = "ACCEPTE", "Accepté"


class ReviewDecision(models.TextChoices):
    ACCEPTED = "ACCEPTE", "Accepté"
    CHANGES_REQUESTED = "A_MODIFIER", "Modifications demandées"


class QpvShareSource(models.TextChoices):
    DECLARED = "DECLARE", "Déclarée par l'association"
    COMPUTED = "CALCULE", "Calculée à partir des adresses des bénéficiaires"


# L'écart entre le budget prévu et réalisé d'une ligne au-delà duquel il faut l'expliquer (%)
REPORT_VARIANCE_LIMIT = 20
# Le compte-rendu est dû dans les six mois qui suivent la fin de l'action.
REPORT_DUE_MONTHS = 6
