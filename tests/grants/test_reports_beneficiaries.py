"""La part des bénéficiaires habitant un QPV, calculée d'après leurs adresses ou coordonnées :
seul l'agrégat est gardé, ni le fichier ni une adresse. Les adresses vont à un faux BAN local
(tests/fake_ban.py) : aucun test ne sort de la machine. Les contours des QPV 2024 viennent des
données de référence."""

import tempfile
from decimal import Decimal

import pytest
import shapely
from django.core import serializers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from cdv.georef import engine
from cdv.grants.enums import ReportStatus
from cdv.grants.models import ApplicationEvent, FinalReport
from tests.factories.grants import FinalReportFactory
from tests.fake_ban import FakeBan

from .reports_world import build_world, carried_out_post

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

OUTSIDE = (-1.5536, 47.2184)  # centre de Nantes, hors QPV


@pytest.fixture
def malakoff(db):
    """Un point du QPV Malakoff (Nantes), en longitude, latitude."""
    index = engine.get_index()
    geometry = index.geometries[list(index.codes).index("QN04413M")]
    lon, lat = shapely.get_coordinates(geometry.representative_point())[0]
    return float(lon), float(lat)


@pytest.fixture(autouse=True)
def scratch(tmp_path, settings, monkeypatch):
    """Le stockage des fichiers et le dossier temporaire de ce test, vérifiés vides à la fin."""
    settings.MEDIA_ROOT = tmp_path / "media"
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return {"media": tmp_path / "media", "temp": temp}


def leftovers(scratch) -> list:
    media = list(scratch["media"].rglob("*")) if scratch["media"].exists() else []
    return [p for p in media if p.is_file()] + list(scratch["temp"].iterdir())


def csv_file(lines, name="beneficiaires.csv"):
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def upload(client, world, file, version=""):
    return client.post(world.url("report_beneficiaries"), {"version": version, "file": file})


def test_coordinates_give_the_share_and_only_the_aggregate_is_kept(client, malakoff, scratch):
    world = build_world()
    client.force_login(world.referent)
    lon, lat = malakoff
    rows = ["longitude;latitude"] + [f"{lon};{lat}"] * 3 + [f"{OUTSIDE[0]};{OUTSIDE[1]}", "abc;def"]
    response = upload(client, world, csv_file(rows))
    assert response.status_code == 302
    report = FinalReport.objects.get(application=world.application)
    assert report.qpv_share == Decimal("75.00") and report.qpv_share_source == "CALCULE"
    assert (report.located_count, report.unlocated_count) == (4, 1)
    assert report.due_date is not None and report.status == ReportStatus.DRAFT
    assert leftovers(scratch) == []
    page = client.get(world.url("report_beneficiaries")).content.decode()
    assert "75 %" in page.replace("\u00a0", " ").replace("\u202f", " ")
    # Le nombre déclaré ensuite ne remplace pas la part calculée.
    client.post(world.url("report"), carried_out_post(report.version, qpv_beneficiaries="10"))
    report.refresh_from_db()
    assert report.qpv_share == Decimal("75.00") and report.qpv_beneficiaries == 10
    # Retirer la part calculée revient à la part déclarée (10 sur 40).
    client.post(world.url("report_beneficiaries"), {"oublier": "1"})
    report.refresh_from_db()
    assert report.qpv_share == Decimal("25.00") and report.qpv_share_source == "DECLARE"
    assert report.located_count is None


def test_addresses_are_geocoded_and_never_stored(client, malakoff, scratch):
    world = build_world()
    client.force_login(world.referent)
    lon, lat = malakoff
    known = {"12 rue de malakoff": (lon, lat, 0.95, "12 Rue de Malakoff 44000 Nantes", "44000", "44109")}
    rows = [
        "adresse;code_postal;commune",
        "12 rue de Malakoff;44000;Nantes",
        "1 place du Commerce;44000;Nantes",
        "Chemin inconnu;44000;Nantes",
    ]
    with FakeBan(known) as ban, override_settings(BAN_BASE_URL=ban.base_url):
        response = upload(client, world, csv_file(rows))
        assert ban.requests  # le faux BAN a bien été interrogé
    assert response.status_code == 302
    report = FinalReport.objects.get(application=world.application)
    assert report.qpv_share == Decimal("50.00")
    assert (report.located_count, report.unlocated_count) == (2, 1)
    assert leftovers(scratch) == []
    stored = serializers.serialize("json", FinalReport.objects.filter(pk=report.pk))
    stored += serializers.serialize("json", FinalReport.history.filter(id=report.pk))
    stored += serializers.serialize("json", ApplicationEvent.objects.filter(application=world.application))
    for address in ("Malakoff", "Commerce", "inconnu"):
        assert address.lower() not in stored.lower()


def test_more_than_5000_rows_are_refused_with_a_clear_error(client, scratch):
    world = build_world()
    client.force_login(world.referent)
    rows = ["longitude;latitude"] + [f"{OUTSIDE[0]};{OUTSIDE[1]}"] * 5001
    response = upload(client, world, csv_file(rows))
    assert response.status_code == 200
    assert "plus de 5\u202f000 lignes" in response.content.decode()
    assert not FinalReport.objects.filter(application=world.application).exists()
    assert leftovers(scratch) == []


def test_unreadable_or_unknown_columns_give_a_french_error_and_change_nothing(client, scratch):
    world = build_world()
    report = FinalReportFactory(application=world.application)
    client.force_login(world.referent)
    response = upload(client, world, csv_file(["nom;prénom", "Dupont;Ana"]), report.version)
    assert "aucune colonne d&#x27;adresse" in response.content.decode()
    response = upload(
        client, world, SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\nxxxx"), report.version
    )
    assert "déposez un tableau CSV ou XLSX" in response.content.decode()
    report.refresh_from_db()
    assert report.qpv_share is None and report.version == 1
    assert leftovers(scratch) == []


def test_only_the_association_uploads(client, malakoff, scratch):
    world = build_world()
    FinalReportFactory(application=world.application)
    lon, lat = malakoff
    client.force_login(world.instructor_a)
    assert client.get(world.url("report_beneficiaries")).status_code == 200
    response = upload(client, world, csv_file(["longitude;latitude", f"{lon};{lat}"]))
    assert response.status_code == 403
    client.force_login(world.other_referent)
    assert upload(client, world, csv_file(["longitude;latitude", f"{lon};{lat}"])).status_code == 404
    assert FinalReport.objects.get(application=world.application).qpv_share is None
