from django.db import models


class PartnerKind(models.TextChoices):
    STATE = "ETAT", "État et ses services"
    EPCI = "EPCI", "EPCI (métropole, agglomération)"
    COMMUNE = "COMMUNE", "Commune"
    DEPARTMENT = "DEPARTEMENT", "Département"
    REGION = "REGION", "Région"
    CAF = "CAF", "Caisse d'allocations familiales"
    OPERATOR = "OPERATEUR", "France Travail et autres opérateurs"
    SOCIAL_LANDLORD = "BAILLEUR", "Bailleur social"
    ASSOCIATION = "ASSOCIATION", "Association"
    CITIZEN_COUNCIL = "CONSEIL_CITOYEN", "Conseil citoyen"
    COLLECTIVE = "COLLECTIF", "Collectif (inter-associatif, inter-bailleurs…)"
    COMPANY = "ENTREPRISE", "Entreprise"
    OTHER = "AUTRE", "Autre"
