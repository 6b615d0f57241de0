"""Territoires : une seule table pour tous les niveaux auxquels un chiffre peut se rattacher.

QPV, communes, EPCI, départements et la France sont des ``Territory`` distingués par ``kind`` ;
les modèles mandataires ``Qpv``, ``Commune`` et ``Epci`` donnent le vocabulaire du métier.
Les géométries sont du GeoJSON (WGS84) dans un JSONField, calculées avec shapely.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from cdv.core import validators

from .enums import Geography, QpvStatus, TerritoryKind


class TerritoryQuerySet(models.QuerySet):
    def qpvs(self, geography: str | None = Geography.QPV_2024):
        qs = self.filter(kind=TerritoryKind.QPV)
        return qs.filter(geography=geography) if geography else qs

    def communes(self):
        return self.filter(kind=TerritoryKind.COMMUNE)

    def epcis(self):
        return self.filter(kind=TerritoryKind.EPCI)

    def in_epci(self, epci_code: str):
        """QPV ou communes situés dans l'EPCI de code SIREN ``epci_code``."""
        return self.filter(
            Q(parents__kind=TerritoryKind.EPCI, parents__code=epci_code)
            | Q(parents__parents__kind=TerritoryKind.EPCI, parents__parents__code=epci_code)
        ).distinct()

    def without_geometry(self):
        return self.defer("geometry")


# Champs lourds d'un territoire (contour GeoJSON, emprise, codes des communes) : une liste ou une page
# qui n'en lit que le nom et le code les écarte (``.defer(*heavy_fields("qpv"))`` à travers une relation).
HEAVY_FIELDS = ("geometry", "bbox", "commune_codes")


def heavy_fields(relation: str = "") -> tuple[str, ...]:
    prefix = f"{relation}__" if relation else ""
    return tuple(prefix + name for name in HEAVY_FIELDS)


class Territory(models.Model):
    kind = models.CharField("niveau", max_length=12, choices=TerritoryKind.choices, db_index=True)
    code = models.CharField(
        "code officiel",
        max_length=12,
        help_text="QPV : QN04413M (2024) ou QP044013 (2015) ; commune : code INSEE ; "
        "EPCI : SIREN ; département : 44 ; France : FR.",
    )
    name = models.CharField("nom", max_length=200)
    geography = models.CharField(
        "géographie prioritaire",
        max_length=4,
        choices=Geography.choices,
        blank=True,
        help_text="Pour un QPV seulement : la géographie (2015 ou 2024) à laquelle il appartient.",
    )
    status = models.CharField("statut 2024", max_length=10, choices=QpvStatus.choices, blank=True)
    predecessor = models.ForeignKey(
        "self",
        verbose_name="QPV 2015 remplacé",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="successors",
    )
    parents = models.ManyToManyField(
        "self",
        verbose_name="territoires englobants",
        symmetrical=False,
        blank=True,
        related_name="children",
        help_text="Communes d'un QPV (parfois plusieurs), EPCI et département d'une commune.",
    )
    commune_codes = models.JSONField(
        "codes INSEE des communes (source)",
        default=list,
        blank=True,
        help_text="Tels que donnés par le fichier de l'ANCT, même pour les communes non chargées.",
    )
    population = models.PositiveIntegerField("population", null=True, blank=True)
    population_source = models.CharField("source de la population", max_length=300, blank=True)
    population_year = models.PositiveSmallIntegerField(
        "millésime de la population",
        null=True,
        blank=True,
        help_text="Année de référence de l'INSEE : 2023 pour les populations légales 2023, "
        "en vigueur au 1er janvier 2026.",
    )
    geometry = models.JSONField("contour (GeoJSON, WGS84)", null=True, blank=True)
    bbox = models.JSONField("emprise [ouest, sud, est, nord]", null=True, blank=True, editable=False)
    geometry_repaired = models.BooleanField(
        "contour réparé",
        default=False,
        help_text="Le contour source était invalide (arrondi des coordonnées) et a été réparé.",
    )
    source = models.CharField("source", max_length=300, blank=True)

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = "territoire"
        verbose_name_plural = "territoires"
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code", "geography"], name="territory_unique_code_per_geography"
            ),
        ]

    def __str__(self):
        if self.kind == TerritoryKind.QPV:
            return f"{self.name} ({self.code})"
        if self.kind == TerritoryKind.EMPLOYMENT_ZONE:
            return f"Zone d'emploi de {self.name}"
        return self.name

    def clean(self):
        errors = {}
        try:
            if self.kind == TerritoryKind.QPV:
                if not self.geography:
                    errors["geography"] = "Un QPV doit préciser sa géographie (2015 ou 2024)."
                else:
                    validators.validate_qpv_code(self.code, self.geography)
            else:
                if self.geography:
                    errors["geography"] = "Seul un QPV a une géographie prioritaire."
                if self.status:
                    errors["status"] = "Seul un QPV a un statut 2024."
                if self.kind == TerritoryKind.COMMUNE:
                    validators.validate_insee_commune(self.code)
                elif self.kind == TerritoryKind.EPCI:
                    validators.validate_siren(self.code)
                elif self.kind == TerritoryKind.DEPARTMENT:
                    validators.validate_department(self.code)
                elif self.kind == TerritoryKind.EMPLOYMENT_ZONE and not (
                    self.code.isdigit() and len(self.code) == 4
                ):
                    errors["code"] = "Un code de zone d'emploi 2020 compte 4 chiffres (exemple : 5216)."
                elif self.kind == TerritoryKind.FRANCE and self.code != "FR":
                    errors["code"] = "Le code du territoire France est « FR »."
        except ValidationError as error:
            errors["code"] = error.messages
        if self.predecessor_id and self.predecessor_id == self.pk:
            errors["predecessor"] = "Un QPV ne peut pas se remplacer lui-même."
        if self.predecessor is not None and (
            self.kind != TerritoryKind.QPV
            or self.geography != Geography.QPV_2024
            or self.predecessor.geography != Geography.QPV_2015
        ):
            errors["predecessor"] = "Seul un QPV 2024 remplace un QPV de la géographie 2015."
        if self.geometry is not None:
            from .geometry import geometry_error

            message = geometry_error(self.geometry)
            if message:
                errors["geometry"] = message
        if errors:
            raise ValidationError(errors)

    @property
    def is_qpv(self) -> bool:
        return self.kind == TerritoryKind.QPV

    def communes(self):
        return [p for p in self.parents.all() if p.kind == TerritoryKind.COMMUNE]


class QpvManager(models.Manager.from_queryset(TerritoryQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=TerritoryKind.QPV)


class CommuneManager(models.Manager.from_queryset(TerritoryQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=TerritoryKind.COMMUNE)


class EpciManager(models.Manager.from_queryset(TerritoryQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=TerritoryKind.EPCI)


class Qpv(Territory):
    objects = QpvManager()

    class Meta:
        proxy = True
        verbose_name = "quartier prioritaire (QPV)"
        verbose_name_plural = "quartiers prioritaires (QPV)"

    def save(self, *args, **kwargs):
        self.kind = TerritoryKind.QPV
        super().save(*args, **kwargs)


class Commune(Territory):
    objects = CommuneManager()

    class Meta:
        proxy = True
        verbose_name = "commune"
        verbose_name_plural = "communes"

    def save(self, *args, **kwargs):
        self.kind = TerritoryKind.COMMUNE
        super().save(*args, **kwargs)


class Epci(Territory):
    objects = EpciManager()

    class Meta:
        proxy = True
        verbose_name = "EPCI"
        verbose_name_plural = "EPCI"

    def save(self, *args, **kwargs):
        self.kind = TerritoryKind.EPCI
        super().save(*args, **kwargs)
