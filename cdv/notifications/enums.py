from django.db import models


class NotificationKind(models.TextChoices):
    CAMPAIGN_OPENED = "CAMPAGNE_OUVERTE", "Ouverture d'une campagne de bilans"
    REVIEW_REMINDER = "RELANCE_BILANS", "Relance des bilans à transmettre (J-7, J-1, retard)"
    COMMITMENT_PROPOSED = "ENGAGEMENT_PROPOSE", "Engagement proposé par un partenaire (pilotes)"
    COMMITMENT_VALIDATED = "ENGAGEMENT_VALIDE", "Engagement validé par le pilote"
    COMMITMENT_RETURNED = "ENGAGEMENT_RENVOYE", "Engagement renvoyé par le pilote"
    REPORT_ACCEPTED = "BILAN_ACCEPTE", "Bilan accepté par le pilote"
    REPORT_RETURNED = "BILAN_RENVOYE", "Bilan renvoyé pour complément"
    FEEDBACK_PUBLISHED = "RETOUR_PUBLIE", "Publication de votre retour d'expérience"
    DECISION = "DECISION", "Décision d'instance confiée à votre organisation"
    # Appel à projets
    APPLICATION_SUBMITTED = "DOSSIER_DEPOSE", "Récépissé du dépôt d'un dossier de l'appel à projets"
    CALL_CLOSING = "APPEL_CLOTURE_PROCHE", "Appel à projets : clôture du dépôt dans 48 heures (brouillons)"
    INFO_REQUESTED = "COMPLEMENTS_DEMANDES", "Compléments demandés sur un dossier de l'appel à projets"
    INFO_ANSWERED = "COMPLEMENTS_FOURNIS", "Compléments fournis par une association (instructeurs)"
    GRANT_DECISIONS = "DECISIONS_COMITE", "Décisions des financeurs sur vos dossiers (comité)"
    ACT_SIGNED = "ACTE_SIGNE", "Appel à projets : acte attributif signé (association)"
    PAYMENT_RECORDED = "VERSEMENT", "Appel à projets : versement d'une subvention (association)"
    REPORT_DUE = "CR_A_RENDRE", "Appel à projets : compte-rendu financier à rendre (rappel)"
    REPORT_SUBMITTED = "CR_TRANSMIS", "Appel à projets : compte-rendu transmis (instructeurs)"
    REPORT_REVIEWED = "CR_EXAMINE", "Appel à projets : compte-rendu accepté ou à modifier (association)"


class Delivery(models.TextChoices):
    IMMEDIATE = "IMMEDIAT", "Immédiat (un courriel à chaque fois)"
    DIGEST = "RESUME", "Résumé quotidien (un courriel par jour)"
    OFF = "DESACTIVE", "Désactivé (ni courriel ni notification)"


# Sans préférence enregistrée : un courriel tout de suite (ce que faisaient déjà les relances).
DEFAULT_DELIVERY = Delivery.IMMEDIATE
