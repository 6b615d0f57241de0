"""Le descripteur Frictionless ``datapackage.json`` d'un contrat (profil tabular-data-package).

Chaque ressource pointe vers l'adresse absolue de son CSV et porte sa Table Schema (types,
intitulés, descriptions, contraintes, clé primaire, clés étrangères entre fichiers), comme le
demandent les schémas de données publiques français (schema.data.gouv.fr).
"""

from collections.abc import Callable

from .resources import RESOURCES
from .schema import LICENSE

# Les données de référence reprises dans les fichiers (voir data/SOURCES.md).
SOURCES = [
    {
        "title": "ANCT — Quartiers prioritaires de la politique de la ville 2024 (liste, communes, "
        "contours), publiés sur data.gouv.fr et le SIG de la politique de la ville",
        "path": "https://sig.ville.gouv.fr/",
    },
    {
        "title": "INSEE — Revenus, pauvreté et niveau de vie en 2021 (Iris), Filosofi",
        "path": "https://www.insee.fr/fr/statistiques/8229323",
    },
    {
        "title": "INSEE — Taux de chômage localisés par zone d'emploi",
        "path": "https://www.insee.fr/fr/statistiques/1893230",
    },
    {
        "title": "Etalab — Découpage administratif (communes et EPCI, populations légales INSEE)",
        "path": "https://github.com/datagouv/decoupage-administratif",
    },
]

DESCRIPTION = (
    "Données ouvertes du contrat de ville « {title} » : quartiers prioritaires, partenaires, plan "
    "d'action (enjeux, objectifs, actions), engagements publics des partenaires, valeurs des "
    "indicateurs, et subventions votées de l'appel à projets au format SCDL « subventions » 2.1.1 "
    "avec leur cofinancement et les appels décrits comme dispositifs d'aide. Chaque fichier "
    "existe en CSV (décrit ici), JSON et XLSX ; les quartiers aussi en "
    "GeoJSON. Les lignes où « est_demonstration » vaut true sont fictives. Les données de référence "
    "(géographie prioritaire de l'ANCT, statistiques de l'INSEE) gardent leur source, citée dans "
    "« sources » et, pour chaque valeur d'indicateur, dans la colonne « source »."
)


def resource_descriptor(resource, path: str) -> dict:
    return {
        "name": resource.name,
        "title": resource.title,
        "description": resource.description,
        "profile": "tabular-data-resource",
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": resource.table_schema(),
    }


def build_datapackage(contract, *, csv_url: Callable[[str], str], homepage: str) -> dict:
    """``csv_url(nom de ressource)`` donne l'adresse absolue du CSV de la ressource."""
    return {
        "profile": "tabular-data-package",
        "name": contract.slug,
        "title": f"Données ouvertes — {contract.title}",
        "description": DESCRIPTION.format(title=contract.title),
        "homepage": homepage,
        "keywords": [
            "politique de la ville",
            "contrat de ville",
            "QPV",
            "quartiers prioritaires",
            "subventions",
            "SCDL",
        ],
        "licenses": [LICENSE],
        "sources": SOURCES,
        "resources": [resource_descriptor(resource, csv_url(resource.name)) for resource in RESOURCES],
    }
