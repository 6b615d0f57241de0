"""Catalogue d'indicateurs du contrat de Nantes Métropole : valeurs réelles publiées, avec leur source.

Rien n'est estimé : chaque valeur vient de data/reference/ (voir data/SOURCES.md) et dit ce que
la source ne précise pas (millésime, période de référence).
"""

from decimal import Decimal

from cdv.core.upsert import UpsertStats, upsert
from cdv.territories.enums import TerritoryKind
from cdv.territories.loaders import POPULATION_YEAR, read_csv
from cdv.territories.models import Territory

from .enums import Aggregation, Direction, Scope, ValueStatus
from .models import Indicator, IndicatorValue

ACTU44 = "https://www.actu44.fr/la-politique-de-la-ville-un-nouveau-contrat-2024-2030/"
INSEE_CHOMAGE = "https://www.insee.fr/fr/statistiques/1893230"
INSEE_POPULATIONS = "https://www.insee.fr/fr/statistiques/8680726"
PRESS_SOURCE = "Presse (actu44.fr), chiffres du contrat de ville publiés à sa signature (décembre 2023)"
POPULATION_VALUE_SOURCE = f"INSEE, populations légales {POPULATION_YEAR} (population municipale)"
CHOMAGE_SOURCE = "INSEE, taux de chômage localisés, séries trimestrielles CVS"
PRESS_NOTE = (
    "Chiffre de presse publié en décembre 2023 ; la source statistique et la période de référence "
    "ne sont pas précisées : l'année indiquée est celle de la publication."
)

CATALOGUE = [
    {
        "code": "taux-pauvrete",
        "name": "Taux de pauvreté",
        "definition": "Part des habitants vivant sous le seuil de pauvreté.",
        "unit": "%",
        "rate_scale": 100,
        "direction": Direction.DOWN_IS_GOOD,
        "aggregation": Aggregation.RATIO,
        "source": "Presse (actu44.fr), chiffres du contrat de ville",
        "producer": "non précisé par la source",
        "frequency": "ponctuelle",
        "geography": "2024",
        "levels": ["QPV_DU_CONTRAT", "EPCI"],
        "comparability_note": PRESS_NOTE,
    },
    {
        "code": "part-familles-monoparentales",
        "name": "Part des familles monoparentales",
        "definition": "Part des familles composées d'un seul parent et de ses enfants.",
        "unit": "%",
        "rate_scale": 100,
        "direction": Direction.DOWN_IS_GOOD,
        "aggregation": Aggregation.RATIO,
        "source": "Presse (actu44.fr), chiffres du contrat de ville",
        "producer": "non précisé par la source",
        "frequency": "ponctuelle",
        "geography": "2024",
        "levels": ["QPV_DU_CONTRAT", "EPCI"],
        "comparability_note": PRESS_NOTE,
    },
    {
        "code": "population",
        "name": "Population",
        "definition": "Nombre d'habitants (population municipale pour les communes et l'EPCI).",
        "unit": "habitants",
        "direction": Direction.UP_IS_GOOD,
        "aggregation": Aggregation.SUM,
        "source": "INSEE, populations légales ; presse pour l'ensemble des QPV",
        "producer": "INSEE",
        "frequency": "annuelle",
        "geography": "2024",
        "levels": ["QPV_DU_CONTRAT", "COMMUNE", "EPCI"],
        "comparability_note": "Le chiffre de l'ensemble des QPV vient de la presse, millésime non précisé.",
    },
    {
        "code": "taux-chomage-localise",
        "name": "Taux de chômage localisé",
        "definition": (
            "Taux de chômage au sens du BIT, corrigé des variations saisonnières, de la zone d'emploi "
            "de Nantes et de la France."
        ),
        "unit": "%",
        "rate_scale": 100,
        "direction": Direction.DOWN_IS_GOOD,
        "aggregation": Aggregation.NONE,
        "source": "INSEE, taux de chômage localisés (chomage-zone-t1-2003-t4-2025.xlsx)",
        "producer": "INSEE",
        "frequency": "trimestrielle",
        "geography": "",
        "levels": ["ZONE_EMPLOI", "FRANCE"],
        "comparability_note": (
            "Taux de la zone d'emploi 2020 de Nantes (les 24 communes de la métropole en font partie), "
            "pas un taux des QPV."
        ),
    },
]


def load_nantes_indicators(contract) -> UpsertStats:
    stats = UpsertStats()
    enjeu_emploi = contract.enjeux.filter(number=1).first()
    indicators = {}
    for spec in CATALOGUE:
        values = {k: v for k, v in spec.items() if k != "code"}
        if spec["code"] == "taux-chomage-localise":
            values["enjeu"] = enjeu_emploi
        indicators[spec["code"]] = upsert(
            Indicator, lookup={"contract": contract, "code": spec["code"]}, values=values, stats=stats
        )

    def put(
        indicator,
        *,
        territory=None,
        year,
        quarter=0,
        value,
        source,
        vintage,
        comment="",
        url="",
        status=None,
    ):
        scope = Scope.TERRITORY if territory is not None else Scope.CONTRACT_QPVS
        upsert(
            IndicatorValue,
            lookup={
                "indicator": indicator,
                "scope": scope,
                "territory": territory,
                "year": year,
                "quarter": quarter,
            },
            values={
                "value": Decimal(value),
                "source": source,
                "vintage": vintage,
                "source_url": url,
                "comment": comment,
                "status": status or ValueStatus.FINAL,
                "is_demo": False,
            },
            stats=stats,
        )

    epci = contract.epci
    press = {
        r["indicateur"]: r
        for r in read_csv("indicateurs_qpv_nantes_sources_textuelles.csv")
        if r["perimetre"] == "15 QPV de Nantes Métropole"  # d'autres lignes portent sur d'autres périmètres
    }
    for code, label in [
        ("taux-pauvrete", "part des habitants sous le seuil de pauvreté"),
        ("part-familles-monoparentales", "part de familles monoparentales"),
    ]:
        row = press[label]
        put(
            indicators[code],
            year=2023,
            value=row["valeur"],
            comment=PRESS_NOTE,
            source=PRESS_SOURCE,
            vintage="non précisé",
            url=ACTU44,
        )
        put(
            indicators[code],
            territory=epci,
            year=2023,
            value=row["valeur_comparaison"],
            comment=PRESS_NOTE + " « Moyenne métropole ».",
            source=PRESS_SOURCE,
            vintage="non précisé",
            url=ACTU44,
        )
    put(
        indicators["population"],
        year=2023,
        value=press["population des QPV"]["valeur"],
        comment=PRESS_NOTE,
        source=PRESS_SOURCE,
        vintage="non précisé",
        url=ACTU44,
    )
    population_note = (
        f"Populations légales {POPULATION_YEAR} de l'INSEE (recensement de référence {POPULATION_YEAR}), "
        "en vigueur au 1er janvier 2026."
    )
    communes = {t.code: t for t in Territory.objects.filter(kind=TerritoryKind.COMMUNE).defer("geometry")}
    for row in read_csv("communes_nantes_metropole.csv"):
        put(
            indicators["population"],
            territory=communes[row["insee_com"]],
            year=POPULATION_YEAR,
            value=row["population_municipale"],
            comment=population_note,
            source=POPULATION_VALUE_SOURCE,
            vintage=str(POPULATION_YEAR),
            url=INSEE_POPULATIONS,
        )
    put(
        indicators["population"],
        territory=epci,
        year=POPULATION_YEAR,
        value=epci.population,
        comment=population_note,
        source=POPULATION_VALUE_SOURCE,
        vintage=str(POPULATION_YEAR),
        url=INSEE_POPULATIONS,
    )
    # Les versions précédentes les dataient de 2026 (année de mise en vigueur) : ces doublons partent.
    stale = IndicatorValue.objects.filter(
        indicator=indicators["population"],
        territory__in=[*communes.values(), epci],
        year=2026,
        quarter=0,
        is_demo=False,
    )
    deleted, _ = stale.delete()
    for _ in range(deleted):
        stats.add("IndicatorValue", "updated")
    zone = Territory.objects.get(kind=TerritoryKind.EMPLOYMENT_ZONE, code="5216")
    france = Territory.objects.get(kind=TerritoryKind.FRANCE, code="FR")
    for row in read_csv("chomage_ze2020_nantes_trimestriel.csv"):
        year, quarter = row["trimestre"].split("-T")
        for territory, column in [(zone, "taux_chomage_ze_pct"), (france, "taux_chomage_national_pct")]:
            put(
                indicators["taux-chomage-localise"],
                territory=territory,
                year=int(year),
                quarter=int(quarter),
                value=row[column],
                source=CHOMAGE_SOURCE,
                vintage="séries publiées jusqu'au 4e trimestre 2025",
                url=INSEE_CHOMAGE,
            )
    return stats
