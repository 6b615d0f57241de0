import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from shapely.geometry import shape

from cdv.contracts.enums import MilestoneKind, SignatoryKind
from cdv.contracts.models import Contract, KeyFigure, Milestone, Signatory
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.models import Territory
from tests.worlds import built_once

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

NANTES_QPV = {
    "QN04405M": ("Bellevue", {"44109", "44162"}),
    "QN04406M": ("Les Dervallières", {"44109"}),
    "QN04407I": ("Le Breil", {"44109"}),
    "QN04408M": ("Bout des landes - Bout des pavés - Chêne des Anglais", {"44109"}),
    "QN04409I": ("La Boissière", {"44109"}),
    "QN04410I": ("Port Boyer", {"44109"}),
    "QN04411I": ("Le Clos Toreau", {"44109"}),
    "QN04412M": ("Le Ranzay", {"44109"}),
    "QN04413M": ("Malakoff", {"44109"}),
    "QN04414M": ("Bottière Pin Sec", {"44109"}),
    "QN04415I": ("La Halvêque", {"44109"}),
    "QN04416I": ("La Petite Sensive", {"44109"}),
    "QN04417I": ("Plaisance", {"44114"}),
    "QN04418M": ("Château", {"44143"}),
    "QN04419I": ("Le Sillon de Bretagne", {"44162"}),
}


def table_counts():
    return {
        "territories": Territory.objects.count(),
        "links": Territory.parents.through.objects.count(),
        "partners": Partner.objects.count(),
        "contracts": Contract.objects.count(),
        "signatories": Signatory.objects.count(),
        "milestones": Milestone.objects.count(),
        "figures": KeyFigure.objects.count(),
        "enjeux": Enjeu.objects.count(),
        "contract_history": Contract.history.count(),
        "partner_history": Partner.history.count(),
    }


def test_all_1584_qpv_of_the_2024_geography_are_loaded(national_qpv_count):
    qpvs = Territory.objects.qpvs(Geography.QPV_2024)
    assert qpvs.count() == national_qpv_count
    assert qpvs.filter(geometry__isnull=True).count() == 0
    # Statuts issus de la lettre finale du code (17 codes « C » de Mayotte restent sans statut).
    assert qpvs.filter(status="").count() == 17
    assert qpvs.filter(status="NOUVEAU").count() == 139
    multi = qpvs.get(code="QN04405M")
    assert multi.commune_codes == ["44109", "44162"]


def test_every_stored_geometry_is_a_valid_multipolygon_and_invalid_sources_were_repaired():
    repaired = 0
    for geometry, was_repaired, bbox in Territory.objects.filter(geometry__isnull=False).values_list(
        "geometry", "geometry_repaired", "bbox"
    ):
        geom = shape(geometry)
        assert geom.is_valid
        assert geom.geom_type == "MultiPolygon"
        assert not geom.is_empty
        assert list(geom.bounds) == pytest.approx(bbox, abs=1e-6)
        repaired += was_repaired
    # Le fichier source arrondit les coordonnées : des centaines de contours sont invalides.
    assert repaired > 500


def test_repair_keeps_the_area_of_the_source_geometry():
    path = Path(settings.REFERENCE_DATA_DIR) / "qpv2024_nantes_metropole.geojson"
    import json

    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        stored = Territory.objects.get(code=feature["properties"]["code_qp"], geography="2024")
        source_area = shape(feature["geometry"]).buffer(0).area
        assert shape(stored.geometry).area == pytest.approx(source_area, rel=0.02)


def test_the_15_nantes_qpv_with_their_exact_codes_names_and_communes(nantes):
    qpvs = {q.code: q for q in nantes.qpvs.prefetch_related("parents")}
    assert set(qpvs) == set(NANTES_QPV)
    for code, (name, communes) in NANTES_QPV.items():
        qpv = qpvs[code]
        assert qpv.name == name
        assert {p.code for p in qpv.parents.all() if p.kind == TerritoryKind.COMMUNE} == communes
        assert qpv.predecessor.code == "QP" + code[2:5] + "0" + code[5:7]
        assert qpv.predecessor.geography == Geography.QPV_2015


def test_nantes_metropole_and_its_24_communes():
    epci = Territory.objects.epcis().get(code="244400404")
    assert epci.name == "Nantes Métropole"
    assert epci.population == 683_981
    communes = Territory.objects.communes().in_epci("244400404")
    assert communes.count() == 24
    with open(Path(settings.REFERENCE_DATA_DIR) / "communes_nantes_metropole.csv", encoding="utf-8") as f:
        expected = {row["insee_com"]: int(row["population_municipale"]) for row in csv.DictReader(f)}
    assert dict(communes.values_list("code", "population")) == expected
    assert sum(expected.values()) == epci.population
    assert Territory.objects.qpvs().in_epci("244400404").count() == 15


def test_the_contract_its_signatories_enjeux_milestones_and_headline_figures(nantes):
    assert nantes.epci.code == "244400404"
    assert (nantes.start_year, nantes.end_year) == (2024, 2030)
    assert str(nantes.signed_on) == "2023-12-07"
    signatories = {s.partner.name for s in nantes.signatories.filter(kind=SignatoryKind.SIGNATORY)}
    assert signatories == {
        "État — Préfecture de la Loire-Atlantique",
        "Nantes Métropole",
        "Ville de Nantes",
        "Ville de Saint-Herblain",
        "Ville d'Orvault",
        "Ville de Rezé",
        "Département de Loire-Atlantique",
        "Région Pays de la Loire",
        "Caisse d'allocations familiales de Loire-Atlantique",
    }
    participants = nantes.signatories.filter(kind=SignatoryKind.PARTICIPANT)
    assert {p.partner.kind for p in participants} == {"CONSEIL_CITOYEN", "COLLECTIF"}
    assert participants.count() == 3
    assert list(nantes.enjeux.values_list("title", flat=True)) == [
        "Emploi et activité économique",
        "Émancipation : éducation, jeunesse, accès aux droits",
        "Tranquillité publique",
        "Transition écologique juste",
    ]
    kinds = list(nantes.milestones.values_list("kind", "year"))
    assert (MilestoneKind.SIGNATURE, 2023) in kinds
    assert (MilestoneKind.COMMITMENTS, 2024) in kinds
    assert (MilestoneKind.MID_TERM_EVALUATION, 2027) in kinds
    assert (MilestoneKind.END, 2030) in kinds
    assert sum(1 for k, _ in kinds if k == MilestoneKind.YEARLY_REVIEW) == 6
    poverty = nantes.key_figures.get(code="part-des-habitants-sous-le-seuil-de-pauvrete")
    assert (poverty.value, poverty.comparison_value) == (Decimal("44"), Decimal("12"))
    assert poverty.source_url.startswith("https://www.actu44.fr/")
    families = nantes.key_figures.get(code="part-de-familles-monoparentales")
    assert (families.value, families.comparison_value) == (Decimal("50"), Decimal("33"))
    assert nantes.key_figures.get(code="population-des-qpv").value == Decimal("54800")


def test_reference_facts_are_never_marked_as_demo_and_never_invented(nantes):
    assert not Partner.objects.filter(signatures__contract=nantes, is_demo=True).exists()
    # Ce que les sources ne disent pas reste vide.
    assert not nantes.signatories.exclude(signatory_role="").exists()
    assert nantes.milestones.exclude(done_on=None).count() == 1  # seule la signature est attestée


@pytest.fixture(scope="module")
def reloaded(reference_data, django_db_blocker):
    """Un second chargement sur des données déjà à jour, lancé une fois pour les deux tests qui le
    vérifient (les tables, le compte rendu) : chaque chargement relit et répare les 1 600 contours."""
    with built_once(django_db_blocker):
        before = table_counts()
        out = io.StringIO()
        call_command("load_reference_data", verbosity=1, stdout=out)
        yield {"before": before, "after": table_counts(), "out": out.getvalue()}


def test_loading_twice_changes_nothing(reloaded):
    assert reloaded["after"] == reloaded["before"]


def test_a_changed_source_value_is_updated_and_recorded_in_history(nantes):
    Contract.objects.filter(pk=nantes.pk).update(title="Titre altéré")
    history_before = nantes.history.count()
    call_command("load_reference_data", verbosity=0)
    nantes.refresh_from_db()
    assert nantes.title == "Contrat de ville de Nantes Métropole 2024-2030"
    assert nantes.history.count() == history_before + 1


def test_the_command_reports_in_french(reloaded, national_qpv_count):
    out = reloaded["out"]
    assert f"QPV 2024 : 0 créé(s), 0 mis à jour, {national_qpv_count} inchangé(s)" in out
    assert "rien n'a changé" in out


def test_qpv_elsewhere_in_france_have_their_commune_and_epci():
    """Un contrat hors Loire-Atlantique montre « 5 QPV dans 1 commune », pas « dans 0 commune »."""
    villejean = Territory.objects.get(code="QN03502M")
    assert [(c.code, c.name) for c in villejean.parents.filter(kind=TerritoryKind.COMMUNE)] == [
        ("35238", "Rennes")
    ]
    rennes = Territory.objects.communes().get(code="35238")
    assert set(rennes.parents.values_list("kind", "code")) == {(TerritoryKind.EPCI, "243500139")}
    assert Territory.objects.qpvs().in_epci("243500139").count() == 5
    assert list(Territory.objects.communes().in_epci("243500139").values_list("name", flat=True)) == [
        "Rennes"
    ]
