from django.db import models


class TerritoryKind(models.TextChoices):
    QPV = "QPV", "Quartier prioritaire (QPV)"
    COMMUNE = "COMMUNE", "Commune"
    EPCI = "EPCI", "EPCI"
    DEPARTMENT = "DEPARTEMENT", "Département"
    EMPLOYMENT_ZONE = "ZONE_EMPLOI", "Zone d'emploi (2020)"
    FRANCE = "FRANCE", "France"


class Geography(models.TextChoices):
    QPV_2015 = "2015", "Géographie prioritaire 2015"
    QPV_2024 = "2024", "Géographie prioritaire 2024"


class QpvStatus(models.TextChoices):
    NEW = "NOUVEAU", "Nouveau en 2024"
    MODIFIED = "MODIFIE", "Périmètre modifié"
    UNCHANGED = "INCHANGE", "Inchangé"
