"""Ce qu'est une ressource ouverte : ses colonnes typées, ses clés, et sa Table Schema.

Une ressource porte à la fois la description publiée (``table_schema``) et la façon de lire ses
lignes (``read``) : les colonnes exportées et le schéma viennent de la même définition.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Formats de téléchargement : extension → type MIME.
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
TABULAR_FORMATS = ("csv", "json", "xlsx")
LIST_SEPARATOR = ";"


class Secret:
    """Une valeur couverte par le secret statistique : « s » dans un tableau, jamais 0."""

    def __str__(self):
        return "s"

    def __repr__(self):
        return "SECRET"


SECRET = Secret()


@dataclass(frozen=True)
class Column:
    """Une colonne : nom technique (en-tête), type Table Schema, intitulé et description en français."""

    name: str
    type: str  # string, integer, number, boolean, date
    title: str
    description: str
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    pattern: str = ""
    minimum: int | float | None = None
    maximum: int | float | None = None
    format: str = ""
    max_length: int | None = None
    # Valeur d'exemple (convention de schema.data.gouv.fr), écrite comme dans le CSV : elle respecte
    # elle-même le type et les contraintes de la colonne (vérifié par frictionless dans les tests).
    example: str = ""

    def descriptor(self) -> dict:
        result = {"name": self.name, "type": self.type, "title": self.title, "description": self.description}
        if self.format:
            result["format"] = self.format
        if self.example:
            result["example"] = self.example
        constraints = self._constraints()
        if constraints:
            result["constraints"] = constraints
        return result

    def _constraints(self) -> dict:
        constraints = {}
        if self.required:
            constraints["required"] = True
        if self.unique:
            constraints["unique"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.pattern:
            constraints["pattern"] = self.pattern
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
        if self.max_length is not None:
            constraints["maxLength"] = self.max_length
        return constraints


@dataclass(frozen=True)
class ForeignKey:
    column: str
    resource: str
    target: str = "id"

    def descriptor(self) -> dict:
        return {"fields": self.column, "reference": {"resource": self.resource, "fields": self.target}}


@dataclass(frozen=True)
class Resource:
    """Une ressource ouverte d'un contrat.

    ``queryset(contract, user)`` dit quels objets sont publiés (sert aussi à compter) ;
    ``rows(queryset, contract, user)`` les transforme en lignes (un dict par ligne, clés = colonnes),
    en un nombre de requêtes borné. ``features`` (facultatif) donne les (ligne, géométrie) du GeoJSON.
    """

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    queryset: Callable
    rows: Callable
    primary_key: tuple[str, ...] = ("id",)
    foreign_keys: tuple[ForeignKey, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    features: Callable | None = None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def formats(self) -> tuple[str, ...]:
        return (*TABULAR_FORMATS, "geojson") if self.features else TABULAR_FORMATS

    def read(self, contract, user) -> list[dict]:
        return list(self.rows(self.queryset(contract, user), contract, user))

    def count(self, contract, user) -> int:
        return self.queryset(contract, user).count()

    def read_features(self, contract, user) -> Iterable[tuple[dict, dict | None]]:
        return self.features(self.queryset(contract, user), contract, user)

    def table_schema(self) -> dict:
        schema = {
            "title": self.title,
            "description": self.description,
            "fields": [column.descriptor() for column in self.columns],
            "missingValues": list(self.missing_values),
        }
        if self.primary_key:  # le SCDL n'a pas de clé primaire
            schema["primaryKey"] = list(self.primary_key)
        if self.foreign_keys:
            schema["foreignKeys"] = [key.descriptor() for key in self.foreign_keys]
        return schema


LICENSE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence version 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
