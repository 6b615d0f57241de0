"""Chargement idempotent de la géographie de référence livrée dans data/reference/.

- les 1 584 QPV de la géographie 2024 (contours réparés) : qpv2024_france_wgs84.geojson et
  qpv2024_france_liste.csv ;
- les QPV 2015 remplacés et les EPCI/communes des QPV de Loire-Atlantique :
  qpv2024_loire_atlantique.csv ;
- les 24 communes de Nantes Métropole (populations, contours) : communes_nantes_metropole.*.
- les 1 255 EPCI à fiscalité propre de France et leurs communes membres : epci_france.csv ; les
  communes où se trouve un QPV 2024 sont chargées (nom, EPCI) et chaque QPV leur est rattaché (à
  défaut, pour un ancien code de commune, directement à l'EPCI).

Une seconde exécution ne modifie rien : on compare avant d'écrire.
"""

import csv
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from tqdm import tqdm

from .enums import Geography, QpvStatus, TerritoryKind
from .models import Territory

QPV_SOURCE = "ANCT, Quartiers prioritaires de la politique de la ville 2024 (data.gouv.fr)"
COMMUNE_SOURCE = "INSEE COG et populations légales via @etalab/decoupage-administratif 6.0.0"
COMMUNE_GEOMETRY_SOURCE = "IGN Admin Express COG 2018 simplifié (gregoiredavid/france-geojson)"
# Les populations légales « 2023 » (recensement de référence 2023) sont publiées fin 2025 et en vigueur
# au 1er janvier 2026 : le paquet @etalab/decoupage-administratif 6.0.0 (« millésime 2026 ») les reprend.
POPULATION_YEAR = 2023
EPCI_SOURCE = "DGCL, liste des EPCI à fiscalité propre 2026, via @etalab/decoupage-administratif 6.0.0"
POPULATION_SOURCE = (
    "INSEE, populations légales 2023 (population municipale, en vigueur au 1er janvier 2026), "
    "via @etalab/decoupage-administratif 6.0.0"
)
NANTES_METROPOLE_SIREN = "244400404"
NANTES_METROPOLE_POPULATION = 683_981  # total EPCI donné par le même paquet (population municipale)

FIELDS = [
    "name",
    "status",
    "commune_codes",
    "population",
    "population_source",
    "population_year",
    "geometry",
    "bbox",
    "geometry_repaired",
    "source",
    "predecessor_id",
]


@dataclass
class LoadReport:
    counts: dict = field(default_factory=dict)

    def count(self, label: str, outcome: str, n: int = 1) -> None:
        row = self.counts.setdefault(label, {"created": 0, "updated": 0, "unchanged": 0})
        row[outcome] += n

    @property
    def changed(self) -> bool:
        return any(row["created"] or row["updated"] for row in self.counts.values())

    def lines(self) -> list[str]:
        return [
            f"{label} : {row['created']} créé(s), {row['updated']} mis à jour, {row['unchanged']} inchangé(s)"
            for label, row in self.counts.items()
        ]


def data_dir() -> Path:
    return Path(settings.REFERENCE_DATA_DIR)


def read_csv(name: str) -> list[dict]:
    with open(data_dir() / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_geojson(name: str) -> dict:
    with open(data_dir() / name, encoding="utf-8") as handle:
        return json.load(handle)


class TerritorySync:
    """Crée ou met à jour un lot de territoires d'un même niveau en quelques requêtes."""

    def __init__(self, kind: str, geography: str, report: LoadReport, label: str):
        self.kind, self.geography, self.report, self.label = kind, geography, report, label
        self.existing = {t.code: t for t in Territory.objects.filter(kind=kind, geography=geography)}
        self.to_create, self.to_update = [], []

    def put(self, code: str, **values) -> Territory:
        obj = self.existing.get(code)
        if obj is None:
            obj = Territory(kind=self.kind, code=code, geography=self.geography, **values)
            obj.full_clean(validate_unique=False, validate_constraints=False)
            self.to_create.append(obj)
            self.existing[code] = obj
            return obj
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        if changed:
            for key in changed:
                setattr(obj, key, values[key])
            obj.full_clean(validate_unique=False, validate_constraints=False)
            self.to_update.append(obj)
        else:
            self.report.count(self.label, "unchanged")
        return obj

    def flush(self) -> dict[str, Territory]:
        if self.to_create:
            Territory.objects.bulk_create(self.to_create, batch_size=200)
            self.report.count(self.label, "created", len(self.to_create))
        if self.to_update:
            Territory.objects.bulk_update(self.to_update, FIELDS, batch_size=200)
            self.report.count(self.label, "updated", len(self.to_update))
        self.to_create, self.to_update = [], []
        # bulk_create ne renvoie pas toujours les clés (selon la base) : on relit.
        self.existing = {
            t.code: t
            for t in Territory.objects.filter(kind=self.kind, geography=self.geography).defer("geometry")
        }
        return self.existing


def sync_parents(child_to_parents: dict[int, set[int]], report: LoadReport) -> None:
    """Aligne les liens « territoire englobant » des enfants donnés, sans toucher aux autres."""
    through = Territory.parents.through
    current = {}
    for child_id, parent_id in through.objects.filter(from_territory_id__in=child_to_parents).values_list(
        "from_territory_id", "to_territory_id"
    ):
        current.setdefault(child_id, set()).add(parent_id)
    to_add, to_remove = [], []
    for child_id, wanted in child_to_parents.items():
        have = current.get(child_id, set())
        to_add += [through(from_territory_id=child_id, to_territory_id=p) for p in wanted - have]
        to_remove += [(child_id, p) for p in have - wanted]
    if to_add:
        through.objects.bulk_create(to_add, batch_size=500)
    for child_id, parent_id in to_remove:
        through.objects.filter(from_territory_id=child_id, to_territory_id=parent_id).delete()
    changed = len(to_add) + len(to_remove)
    report.count("liens territoire englobant", "updated" if changed else "unchanged", changed or 1)


def epci_codes_by_commune(rows: list[dict]) -> dict[str, set[str]]:
    """Code INSEE d'une commune (membre, ou ancienne commune déléguée ou associée d'un membre) →
    SIREN de ses EPCI, d'après epci_france.csv. Les anciens codes relient les QPV décrits avec le
    COG 2024 (ex. Pierrefitte-sur-Seine, commune déléguée de Saint-Denis depuis 2025)."""
    by_commune = {}
    for row in rows:
        codes = row["insee_com"].split(";") + [c for c in row["anciens_insee_com"].split(";") if c]
        for code in codes:
            by_commune.setdefault(code, set()).add(row["siren_epci"])
    return by_commune


def repaired_geometry(raw: dict) -> tuple[dict, list[float], bool]:
    # shapely (et numpy) chargés au premier contour réparé, pas à l'import du module : les pages
    # qui ne lisent que les listes de territoires (création d'un contrat) n'en ont pas besoin.
    from . import geometry as geo

    fixed, was_repaired = geo.repair(raw)
    fixed = geo.to_geojson_dict(fixed)
    return fixed, geo.bbox(fixed), was_repaired


@transaction.atomic
def load_territories(*, progress: bool = False) -> LoadReport:
    report = LoadReport()

    # France, département, EPCI.
    upper = TerritorySync(TerritoryKind.FRANCE, "", report, "France")
    upper.put("FR", name="France", source="")
    france = upper.flush()["FR"]
    zones = TerritorySync(TerritoryKind.EMPLOYMENT_ZONE, "", report, "zones d'emploi")
    for row in read_csv("chomage_ze2020_nantes_trimestriel.csv")[:1]:
        zones.put(row["code_ze2020"], name=row["libelle_ze"], source="INSEE, zonage en zones d'emploi 2020")
    zone_by_code = zones.flush()
    depts = TerritorySync(TerritoryKind.DEPARTMENT, "", report, "départements")
    depts.put("44", name="Loire-Atlantique", source="INSEE COG")
    dept44 = depts.flush()["44"]

    la_rows = read_csv("qpv2024_loire_atlantique.csv")
    epcis = TerritorySync(TerritoryKind.EPCI, "", report, "EPCI")
    epci_names = {row["siren_epci"]: row["lib_epci"] for row in la_rows}
    for siren, name in epci_names.items():
        values = {"name": name, "source": "ANCT, liste des QPV 2024 (COG 2024)"}
        if siren == NANTES_METROPOLE_SIREN:
            values.update(
                population=NANTES_METROPOLE_POPULATION,
                population_source=POPULATION_SOURCE,
                population_year=POPULATION_YEAR,
            )
        epcis.put(siren, **values)
    national_epcis = read_csv("epci_france.csv")
    for row in national_epcis:
        if row["siren_epci"] not in epci_names:
            epcis.put(row["siren_epci"], name=row["nom"], source=EPCI_SOURCE)
    epci_by_code = epcis.flush()

    # Communes : les 24 de Nantes Métropole (population, contour), puis celles des autres QPV
    # de Loire-Atlantique (nom seulement).
    communes = TerritorySync(TerritoryKind.COMMUNE, "", report, "communes")
    shapes = {
        f["properties"]["code"]: f["geometry"]
        for f in read_geojson("communes_nantes_metropole.geojson")["features"]
    }
    commune_epci = {}
    for row in read_csv("communes_nantes_metropole.csv"):
        fixed, box, was_repaired = repaired_geometry(shapes[row["insee_com"]])
        communes.put(
            row["insee_com"],
            name=row["nom"],
            population=int(row["population_municipale"]),
            population_source=POPULATION_SOURCE,
            population_year=POPULATION_YEAR,
            geometry=fixed,
            bbox=box,
            geometry_repaired=was_repaired,
            source=f"{COMMUNE_SOURCE} ; contour : {COMMUNE_GEOMETRY_SOURCE}",
        )
        commune_epci[row["insee_com"]] = NANTES_METROPOLE_SIREN
    for row in la_rows:
        codes, names = row["insee_com"].split(";"), row["lib_com"].split(";")
        for code, name in zip(codes, names, strict=True):
            if code not in commune_epci:
                communes.put(code, name=name, source="ANCT, liste des QPV 2024 (COG 2024)")
                commune_epci[code] = row["siren_epci"]
    # Ailleurs en France : les communes où se trouve un QPV 2024 (nom seulement), membres d'un EPCI
    # de epci_france.csv ; une ancienne commune (code d'avant une fusion) n'est pas chargée.
    member_of = {
        code: (name, row["siren_epci"])
        for row in national_epcis
        for code, name in zip(row["insee_com"].split(";"), row["lib_com"].split(";"), strict=True)
    }
    qpv_list = read_csv("qpv2024_france_liste.csv")
    for code in sorted({c for row in qpv_list for c in row["insee_com"].split(";")}):
        if code not in commune_epci and code in member_of:
            name, siren = member_of[code]
            communes.put(code, name=name, source=EPCI_SOURCE)
            commune_epci[code] = siren
    commune_by_code = communes.flush()

    # QPV 2015 remplacés (connus pour la Loire-Atlantique).
    qpv2015 = TerritorySync(TerritoryKind.QPV, Geography.QPV_2015, report, "QPV 2015")
    for row in la_rows:
        qpv2015.put(
            row["code_qp2015"],
            name=row["lib_qp2015"],
            source="ANCT, correspondance QP2024 ↔ QP2015",
        )
    qpv2015_by_code = qpv2015.flush()
    predecessor_of = {row["code_qp"]: qpv2015_by_code[row["code_qp2015"]].pk for row in la_rows}

    # QPV 2024 : toute la France.
    statuses = {row["code_qp"]: row["statut_2024"] for row in qpv_list}
    features = read_geojson("qpv2024_france_wgs84.geojson")["features"]
    qpvs = TerritorySync(TerritoryKind.QPV, Geography.QPV_2024, report, "QPV 2024")
    iterator = tqdm(features, desc="QPV 2024", unit="QPV", disable=not progress)
    for feature in iterator:
        props = feature["properties"]
        code = props["code_qp"]
        fixed, box, was_repaired = repaired_geometry(feature["geometry"])
        status = statuses.get(code, "")
        qpvs.put(
            code,
            name=props["lib_qp"],
            status=status if status in QpvStatus.values else "",
            commune_codes=props["insee_com"].split(";"),
            geometry=fixed,
            bbox=box,
            geometry_repaired=was_repaired,
            source=QPV_SOURCE,
            predecessor_id=predecessor_of.get(code),
        )
    qpv_by_code = qpvs.flush()

    # Liens d'inclusion : QPV → communes connues (à défaut, directement l'EPCI de ses communes),
    # commune → EPCI et département.
    epci_of_commune = epci_codes_by_commune(national_epcis)
    links = {}
    for qpv in qpv_by_code.values():
        known = {commune_by_code[c].pk for c in qpv.commune_codes if c in commune_by_code}
        unknown = [c for c in qpv.commune_codes if c not in commune_by_code]
        known |= {epci_by_code[e].pk for c in unknown for e in epci_of_commune.get(c, ())}
        links[qpv.pk] = known
    nantes_zone = zone_by_code.get("5216")  # les 24 communes de Nantes Métropole sont dans la ZE 5216
    for code, commune in commune_by_code.items():
        links[commune.pk] = {epci_by_code[commune_epci[code]].pk}
        if code.startswith("44"):
            links[commune.pk].add(dept44.pk)
        if nantes_zone and commune_epci[code] == NANTES_METROPOLE_SIREN:
            links[commune.pk].add(nantes_zone.pk)
    for code in epci_names:
        links[epci_by_code[code].pk] = {dept44.pk}
    links[dept44.pk] = {france.pk}
    for zone in zone_by_code.values():
        links[zone.pk] = {france.pk}
    sync_parents(links, report)
    return report


@functools.cache
def national_epcis() -> dict[str, dict]:
    """Les EPCI de France de epci_france.csv, par SIREN (lu une fois par processus)."""
    return {row["siren_epci"]: row for row in read_csv("epci_france.csv")}
