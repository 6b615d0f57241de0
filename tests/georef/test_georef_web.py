"""Page « Est-ce en QPV ? » : un point, un fichier déposé → traitement → avancement → résultat ;
la part en QPV enregistrée comme valeur d'indicateur d'un engagement. Aucun test ne sort de la
machine : les adresses vont à un faux BAN local (tests/fake_ban.py)."""

import csv
import datetime
import io
import tempfile
import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from shapely.geometry import shape

from cdv.commitments.models import Commitment
from cdv.georef import engine
from cdv.georef.models import GeorefJob, JobStatus
from cdv.indicators.enums import Scope, ValueStatus
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.partners.models import Partner
from cdv.territories.models import Qpv
from cdv.users.enums import Role
from tests import factories
from tests.fake_ban import FakeBan

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

HOME = "/georeferencement/"
OUTSIDE = (-1.5536, 47.2184)  # centre de Nantes, hors QPV


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def points_in(code, n):
    """n points distincts à l'intérieur du QPV ``code`` (2024)."""
    geometry = shape(Qpv.objects.get(code=code, geography="2024").geometry)
    west, south, east, north = geometry.bounds
    points, step = [], 0
    while len(points) < n:
        step += 1
        for i in range(1, step):
            for j in range(1, step):
                x = west + (east - west) * i / step
                y = south + (north - south) * j / step
                if (
                    geometry.contains(shape({"type": "Point", "coordinates": [x, y]}))
                    and (x, y) not in points
                ):
                    points.append((x, y))
    return points[:n]


def csv_upload(rows, name="beneficiaires.csv", sep=";"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def lonlat_file(inside=12, outside=8, invalid=1):
    rows = [["id", "longitude", "latitude"]]
    for k, (x, y) in enumerate(points_in("QN04413M", inside)):
        rows.append([f"in{k}", f"{x:.6f}", f"{y:.6f}"])
    for k in range(outside):
        rows.append([f"out{k}", f"{OUTSIDE[0] + k * 1e-4:.6f}", f"{OUTSIDE[1]:.6f}"])
    for k in range(invalid):
        rows.append([f"bad{k}", "", "abc"])
    return csv_upload(rows)


def read_result(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body), delimiter=";"))


@pytest.fixture
def user(db):
    return factories.UserFactory()


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def referent(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


@pytest.fixture
def forums():
    """Engagement de Tremplin que le pilote a validé : il peut recevoir une valeur d'indicateur."""
    commitment = Commitment.objects.get(title__startswith="Animer deux forums")
    Commitment.objects.filter(pk=commitment.pk).update(status="VALIDE")
    commitment.refresh_from_db()
    return commitment


@pytest.fixture
def share_indicator(nantes, forums):
    indicator = Indicator.objects.create(
        contract=nantes,
        code="part-beneficiaires-qpv",
        name="Part des bénéficiaires résidant en QPV",
        unit="%",
    )
    forums.indicators.add(indicator)
    return indicator


def upload(client, data_file, **fields):
    return client.post(
        HOME, {"fichier": data_file, "mode": "auto", "geographie": "2024", "score_min": "0.5", **fields}
    )


def test_preconditions_outside_point_is_outside():
    assert engine.locate_one(*OUTSIDE) is None


def test_anyone_can_locate_one_point_without_signing_in(client):
    (x, y) = points_in("QN04413M", 1)[0]
    response = client.get(HOME, {"lon": x, "lat": y, "geographie": "2024"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "QN04413M" in page and "Dans un QPV" in page
    assert "Connectez-vous" in page and 'type="file"' not in page  # dépôt réservé aux personnes connectées
    response = client.get(HOME, {"lon": OUTSIDE[0], "lat": OUTSIDE[1]})
    assert "Hors QPV" in response.content.decode()


def test_point_form_errors_are_french_and_422(client):
    response = client.get(HOME, {"lon": "200", "lat": "47"})
    assert response.status_code == 422
    assert "Longitude (degrés, WGS84) : 180 au plus." in response.content.decode()
    response = client.get(HOME, {"lon": "-1.5"})
    assert response.status_code == 422 and "longitude et la latitude" in response.content.decode()
    response = client.get(HOME, {"contrat": "nantes-metropole-2024-2030"})  # pas une recherche
    assert response.status_code == 200 and "error-summary" not in response.content.decode()
    assert response.content.decode().count('id="point_lon"') == 1


def test_one_address_is_geocoded_on_the_page(client, settings):
    settings.BAN_BACKOFF = 0  # les essais sur le port fermé ci-dessous, sans attente entre eux
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        response = client.get(HOME, {"adresse": "8 bd du Port Amiens"})
    page = response.content.decode()
    assert "8 Boulevard du Port 80000 Amiens" in page and "0,93" in page
    # Géocodeur injoignable (réglage des tests : port fermé) : réponse claire, pas d'erreur serveur.
    response = client.get(HOME, {"adresse": "8 bd du Port Amiens"})
    assert response.status_code == 200 and "Service de géocodage indisponible" in response.content.decode()


@override_settings(GEOREF_WEB_ADDRESS_RATE="2/m")
def test_address_lookups_on_the_page_are_rate_limited_per_client(client):
    cache.clear()
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        first = [client.get(HOME, {"adresse": "8 bd du Port Amiens"}) for _ in range(2)]
        # Un X-Forwarded-For forgé (aucun mandataire configuré) ne donne pas une adresse neuve.
        limited = client.get(HOME, {"adresse": "8 bd du Port Amiens"}, HTTP_X_FORWARDED_FOR="192.0.2.9")
        calls = len(ban.requests)
    assert [r.status_code for r in first] == [200, 200]
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    page = limited.content.decode()
    assert "Trop de recherches d&#x27;adresses" in page and "Réessayez dans" in page
    assert calls == 2  # le géocodeur n'a pas été appelé une troisième fois
    # Des coordonnées, calculées sur place, restent libres.
    assert client.get(HOME, {"lon": OUTSIDE[0], "lat": OUTSIDE[1]}).status_code == 200
    cache.clear()


# Budget de 0,45 s : un essai de 0,3 s, puis un second que le budget écourte ; sans budget, cinq
# essais de 0,3 s dépasseraient 1,5 s.
@override_settings(BAN_INTERACTIVE_TIMEOUT=0.3, BAN_INTERACTIVE_BUDGET=0.45)
def test_a_slow_geocoder_holds_the_page_only_briefly(client):
    cache.clear()
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        ban.delay = 2
        started = time.monotonic()
        response = client.get(HOME, {"adresse": "8 bd du Port Amiens"})
        elapsed = time.monotonic() - started
        ban.delay = 0
        # « Réessayez dans 30 s » du service : la page n'attend pas, elle répond tout de suite.
        ban.fail(1, status=429, retry_after="30")
        started = time.monotonic()
        busy = client.get(HOME, {"adresse": "8 bd du Port Amiens"})
        busy_elapsed = time.monotonic() - started
    assert response.status_code == 200 and "Service de géocodage indisponible" in response.content.decode()
    assert elapsed < 1.5
    assert "Service de géocodage indisponible" in busy.content.decode() and busy_elapsed < 1.5
    cache.clear()


def test_anonymous_cannot_upload(client):
    response = upload(client, lonlat_file())
    assert response.status_code == 403
    assert not GeorefJob.objects.exists()


def test_upload_coordinates_runs_and_owner_downloads_the_result(client, user, media_root):
    client.force_login(user)
    response = upload(client, lonlat_file())
    job = GeorefJob.objects.get(owner=user)
    assert response.status_code == 302 and response.url == reverse("www:georef_job", args=[job.pk])
    assert job.status == JobStatus.DONE, job.error_message
    assert job.options["mode"] == "lonlat" and job.options["lon"] == "longitude"
    assert job.summary["rows"] == 21 and job.summary["in_qpv"] == 12
    assert job.summary["by_status"]["ENTREE_INVALIDE"] == 1
    assert job.summary["by_qpv"]["QN04413M"][1] == 12
    assert job.progress_done == job.progress_total == 21
    assert not job.input_file  # le fichier déposé ne survit pas au traitement
    assert not list((media_root / "georef").rglob("entree*"))

    page = client.get(response.url).content.decode()
    assert "Télécharger le résultat" in page and "QN04413M" in page
    assert "<caption>Lignes par statut</caption>" in page and 'data-label="Lignes"' in page
    assert page.count("<h1") == 1 and "hx-get" not in page  # terminé : plus de scrutation

    download = client.get(reverse("www:georef_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="beneficiaires-qpv.csv"')
    rows = read_result(download)
    assert len(rows) == 21
    assert [r["id"] for r in rows][:2] == ["in0", "in1"]  # ordre et colonnes d'origine gardés
    assert {r["statut_qpv"] for r in rows if r["id"].startswith("in")} == {"DANS_QPV"}
    assert rows[-1]["statut_qpv"] == "ENTREE_INVALIDE" and rows[-1]["raison"]
    listing = client.get(HOME).content.decode()
    assert "beneficiaires.csv" in listing and "Terminé" in listing


def test_xlsx_upload_with_lambert93_columns(client, user):
    from openpyxl import Workbook
    from pyproj import Transformer

    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "X", "Y"])
    for k, (lon, lat) in enumerate([*points_in("QN04413M", 2), OUTSIDE]):
        x, y = to_l93.transform(lon, lat)
        sheet.append([f"p{k}", round(x, 2), round(y, 2)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(user)
    response = upload(client, SimpleUploadedFile("points.xlsx", buffer.getvalue()))
    job = GeorefJob.objects.get(owner=user)
    assert response.status_code == 302 and job.status == JobStatus.DONE, job.error_message
    assert job.options["mode"] == "xy" and job.summary["in_qpv"] == 2 and job.summary["rows"] == 3
    download = client.get(reverse("www:georef_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="points-qpv.csv"')
    assert b"".join(download.streaming_content).count(b"\n") == 4  # en-tête et trois lignes, fichier refermé


def test_job_and_result_are_invisible_to_anyone_else(client, user):
    client.force_login(user)
    upload(client, lonlat_file())
    job = GeorefJob.objects.get(owner=user)
    client.force_login(factories.UserFactory())
    for name in ("www:georef_job", "www:georef_job_status", "www:georef_download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404, name
    assert "beneficiaires.csv" not in client.get(HOME).content.decode()
    client.logout()
    response = client.get(reverse("www:georef_download", args=[job.pk]))
    assert response.status_code == 302 and "/connexion/" in response.url


def test_progress_fragment_polls_until_done(client, user):
    client.force_login(user)
    job = GeorefJob.objects.create(
        owner=user,
        original_name="gros.csv",
        options={"mode": "lonlat"},
        status=JobStatus.RUNNING,
        progress_done=250,
        progress_total=1000,
    )
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert 'data-hx-trigger="every 2s"' in page and "htmx-2.min.js" in page
    assert "250 lignes traitées sur 1000" in page and 'value="25"' in page
    assert ">Actualiser</a>" in page  # sans JavaScript
    status_url = reverse("www:georef_job_status", args=[job.pk])
    fragment = client.get(status_url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<h1" not in fragment.content.decode()
    GeorefJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, summary={"rows": 0, "in_qpv": 0})
    done = client.get(status_url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_addresses_are_geocoded_through_the_background_task(client, user, nantes):
    (x, y) = points_in("QN04413M", 1)[0]
    rows = [
        ["nom", "adresse", "code_postal", "commune"],
        ["A", "12 rue du Quartier", "44000", "Nantes"],
        ["B", "1 place du Commerce", "44000", "Nantes"],
        ["C", "rue floue", "", "Nantes"],
        ["D", "rue inconnue", "", "Nantes"],
        ["E", "", "", ""],
    ]
    fake = {"12 rue du quartier": (x, y, 0.88, "12 Rue du Quartier 44000 Nantes", "44000", "44109")}
    client.force_login(user)
    with FakeBan(fake) as ban, override_settings(BAN_BASE_URL=ban.base_url):
        response = upload(client, csv_upload(rows, name="adresses.csv"), contrat=nantes.slug)
    job = GeorefJob.objects.get(owner=user)
    assert response.status_code == 302
    assert job.task_id  # passé par la file (exécutée sur-le-champ dans les tests)
    assert job.contract == nantes
    assert job.options["mode"] == "address" and job.options["postcode"] == "code_postal"
    assert job.status == JobStatus.DONE, job.error_message
    by_status = job.summary["by_status"]
    assert by_status == {
        "DANS_QPV": 1,
        "HORS_QPV": 1,
        "NON_GEOCODE": 1,
        "SCORE_FAIBLE": 1,
        "ENTREE_INVALIDE": 1,
    }
    result = {r["nom"]: r for r in read_result(client.get(reverse("www:georef_download", args=[job.pk])))}
    assert result["A"]["code_qp"] == "QN04413M" and result["A"]["adresse_trouvee"].startswith("12 Rue")
    assert result["A"]["score_geocodage"] == "0.88"
    assert result["C"]["statut_qpv"] == "SCORE_FAIBLE"


def test_addresses_without_network_become_not_geocoded_rows(client, user, settings):
    settings.BAN_BACKOFF = 0  # tous les essais sur le port fermé, sans attente entre eux
    rows = [["adresse", "commune"], ["1 place du Commerce", "Nantes"], ["8 bd du Port", "Amiens"]]
    client.force_login(user)
    upload(client, csv_upload(rows))  # BAN_BASE_URL des tests : port fermé
    job = GeorefJob.objects.get(owner=user)
    assert job.status == JobStatus.DONE
    assert job.summary["by_status"]["NON_GEOCODE"] == 2
    result = read_result(client.get(reverse("www:georef_download", args=[job.pk])))
    assert "Service de géocodage indisponible" in result[0]["raison"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"a;b\n1;2\n", "Format non pris en charge"),
        ("vide.csv", b"", "vide"),
        ("binaire.csv", bytes(range(256)) * 10, "Fichier illisible"),
        ("colonnes.csv", b"nom;age\nA;3\n", "Colonnes non reconnues"),
    ],
)
def test_bad_files_get_a_clear_french_error(client, user, name, content, message):
    client.force_login(user)
    response = upload(client, SimpleUploadedFile(name, content))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not GeorefJob.objects.exists()


def test_named_column_must_exist(client, user):
    client.force_login(user)
    response = upload(client, lonlat_file(), mode="lonlat", col_lon="lng", col_lat="latitude")
    page = response.content.decode()
    assert response.status_code == 422 and "« lng » introuvable" in page and "longitude" in page


def test_too_large_file_is_refused(client, user, settings):
    settings.GEOREF_MAX_UPLOAD_MB = 0
    client.force_login(user)
    response = upload(client, lonlat_file())
    assert response.status_code == 422 and "trop volumineux" in response.content.decode()


def test_unexpected_failure_is_recorded_in_french_without_trace(client, user, monkeypatch):
    from cdv.georef import pipeline

    def boom(*args, **kwargs):
        raise RuntimeError("KeyError at line 42 in secret.py")

    monkeypatch.setattr(pipeline, "run", boom)
    client.force_login(user)
    upload(client, lonlat_file())
    job = GeorefJob.objects.get(owner=user)
    assert job.status == JobStatus.FAILED
    assert "erreur inattendue" in job.error_message and "secret.py" not in job.error_message
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert "Le traitement a échoué" in page and "secret.py" not in page
    assert client.get(reverse("www:georef_download", args=[job.pk])).status_code == 404


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}})
def test_large_jobs_wait_for_the_database_worker(client, user, monkeypatch):
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr("cdv.georef.tasks.SYNC_MAX_BYTES", 10)  # tout passe par la file
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)  # garder la transaction du test
    client.force_login(user)
    upload(client, lonlat_file())
    job = GeorefJob.objects.get(owner=user)
    assert job.status == JobStatus.PENDING and job.task_id
    assert "attend son tour" in client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.summary["in_qpv"] == 12


def test_purge_removes_old_result_files(client, user, media_root):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(user)
    upload(client, lonlat_file())
    job = GeorefJob.objects.get(owner=user)
    path = job.output_file.path
    GeorefJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=8))
    call_command("purge_georef_jobs", stdout=io.StringIO())
    job.refresh_from_db()
    assert not job.output_file and job.summary["rows"] == 21
    assert not (media_root / path).exists()
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert "a été effacé" in page
    assert client.get(reverse("www:georef_download", args=[job.pk])).status_code == 404


# --- part en QPV → valeur d'indicateur -------------------------------------------------------------


def finished_job(client, owner, nantes):
    client.force_login(owner)
    upload(client, lonlat_file(), contrat=nantes.slug)
    return GeorefJob.objects.get(owner=owner)


def test_partner_records_its_share_as_a_provisional_indicator_value(
    client, nantes, referent, forums, share_indicator
):
    job = finished_job(client, referent, nantes)
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert "Enregistrer la part en QPV" in page
    assert "60\u00a0%" in page and "12 sur 20" in page  # 12 en QPV sur 20 localisées, 1 ligne écartée
    key = f"{forums.pk}-{share_indicator.pk}"
    response = client.post(reverse("www:georef_record", args=[job.pk]), {"cible": key, "annee": 2025})
    assert response.status_code == 302 and response.url == reverse(
        "www:commitment", args=[nantes.slug, forums.pk]
    )
    value = IndicatorValue.objects.get(indicator=share_indicator)
    assert value.scope == Scope.TERRITORY and value.territory == nantes.epci and value.year == 2025
    assert value.value == Decimal("60.00") and value.numerator == 12 and value.denominator == 20
    assert value.status == ValueStatus.PROVISIONAL
    assert (
        value.source == f"{forums.partner.name}, adresses des bénéficiaires géoréférencées sur la plateforme"
    )
    assert f"Géoréférencement n° {job.pk}" in value.comment and "1 ligne(s) écartée(s)" in value.comment
    # Une seconde fois : la valeur provisoire est mise à jour, pas dupliquée.
    client.post(reverse("www:georef_record", args=[job.pk]), {"cible": key, "annee": 2025})
    assert IndicatorValue.objects.filter(indicator=share_indicator).count() == 1


def test_a_final_value_is_never_overwritten(client, nantes, referent, forums, share_indicator):
    IndicatorValue.objects.create(
        indicator=share_indicator,
        territory=nantes.epci,
        year=2025,
        value=Decimal("41.5"),
        status=ValueStatus.FINAL,
        commitment=forums,  # sa propre valeur, arrêtée depuis par le pilote
    )
    job = finished_job(client, referent, nantes)
    key = f"{forums.pk}-{share_indicator.pk}"
    response = client.post(reverse("www:georef_record", args=[job.pk]), {"cible": key, "annee": 2025})
    assert response.status_code == 422
    assert "Une valeur définitive existe déjà pour 2025" in response.content.decode()
    value = IndicatorValue.objects.get(indicator=share_indicator)
    assert value.value == Decimal("41.5") and value.status == ValueStatus.FINAL


def test_cannot_record_for_another_partners_commitment(client, nantes, referent, tremplin, share_indicator):
    other = Commitment.objects.filter(contract=nantes).exclude(partner=tremplin).first()
    other.indicators.add(share_indicator)
    job = finished_job(client, referent, nantes)
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert f'value="{other.pk}-{share_indicator.pk}"' not in page
    response = client.post(
        reverse("www:georef_record", args=[job.pk]),
        {"cible": f"{other.pk}-{share_indicator.pk}", "annee": 2025},
    )
    assert response.status_code == 422  # choix hors de la liste proposée
    assert not IndicatorValue.objects.filter(indicator=share_indicator).exists()


def test_service_rechecks_rights_and_ownership(client, nantes, referent, tremplin, forums, share_indicator):
    from django.core.exceptions import PermissionDenied

    from cdv.georef.services import record_share_as_indicator_value

    job = finished_job(client, referent, nantes)
    other = Commitment.objects.filter(contract=nantes).exclude(partner=tremplin).first()
    other.indicators.add(share_indicator)
    with pytest.raises(PermissionDenied, match="référents du partenaire"):
        record_share_as_indicator_value(
            user=referent, job=job, commitment=other, indicator=share_indicator, year=2025
        )
    stranger = factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user
    with pytest.raises(PermissionDenied, match="lancé ce traitement"):
        record_share_as_indicator_value(
            user=stranger, job=job, commitment=forums, indicator=share_indicator, year=2025
        )


def test_too_few_located_rows_are_not_published(client, nantes, referent, forums, share_indicator):
    client.force_login(referent)
    upload(client, lonlat_file(inside=3, outside=2), contrat=nantes.slug)
    job = GeorefJob.objects.get(owner=referent)
    key = f"{forums.pk}-{share_indicator.pk}"
    response = client.post(reverse("www:georef_record", args=[job.pk]), {"cible": key, "annee": 2025})
    assert (
        response.status_code == 422 and "Trop peu d&#x27;adresses localisées (5)" in response.content.decode()
    )


def test_a_reader_sees_no_recording_form_but_is_told_why(client, nantes, tremplin, share_indicator):
    reader = factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.READER).user
    job = finished_job(client, reader, nantes)
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert 'name="cible"' not in page
    assert "Seuls les pilotes d&#x27;un contrat et les référents (rédaction) d&#x27;un partenaire" in page
    response = client.post(reverse("www:georef_record", args=[job.pk]), {"cible": "1-1", "annee": 2025})
    assert response.status_code == 403


def test_without_a_suitable_indicator_the_page_says_why_and_what_to_do(client, nantes, referent, forums):
    # Référent de Tremplin, engagement validé, mais aucun indicateur en % attaché : pas de formulaire
    # silencieusement absent, une explication et la marche à suivre.
    job = finished_job(client, referent, nantes)
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert "Enregistrer la part en QPV comme indicateur" in page
    assert 'name="cible"' not in page
    assert "Aucun engagement que vous suivez n&#x27;a d&#x27;indicateur en %" in page
    assert "ajoutez un indicateur en %" in page


def test_the_year_defaults_to_the_last_completed_year_of_the_contract(
    client, nantes, referent, forums, share_indicator
):
    job = finished_job(client, referent, nantes)
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    today = timezone.localdate()
    expected = min(max(today.year - 1, nantes.start_year - 1), nantes.end_year)
    assert f'<option value="{expected}" selected>' in page
    assert f'<option value="{nantes.end_year}" selected>' not in page or expected == nantes.end_year


def test_jobs_are_read_only_in_the_admin(client, admin_user, user):
    job = GeorefJob.objects.create(owner=user, original_name="liste.csv", options={"mode": "lonlat"})
    client.force_login(admin_user)
    assert client.get(reverse("admin:georef_georefjob_changelist")).status_code == 200
    assert client.get(reverse("admin:georef_georefjob_change", args=[job.pk])).status_code == 200
    assert client.get(reverse("admin:georef_georefjob_add")).status_code == 403


def test_result_can_be_asked_as_an_xlsx_workbook(client, user):
    from openpyxl import load_workbook

    client.force_login(user)
    page = client.get(HOME).content.decode()
    assert 'name="format_sortie"' in page and "Classeur Excel (XLSX)" in page
    response = upload(client, lonlat_file(inside=3, outside=2), format_sortie="xlsx")
    job = GeorefJob.objects.get(owner=user)
    assert response.status_code == 302 and job.status == JobStatus.DONE, job.error_message
    assert job.options["output_format"] == "xlsx" and job.output_file.name.endswith("/resultat.xlsx")
    assert "Télécharger le résultat (XLSX)" in client.get(response.url).content.decode()
    download = client.get(reverse("www:georef_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith('attachment; filename="beneficiaires-qpv.xlsx"')
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == ("id", "longitude", "latitude", "code_qp", "lib_qp", "statut_qpv", "raison")
    assert [r[0] for r in rows[1:]] == ["in0", "in1", "in2", "out0", "out1", "bad0"]
    assert [r[5] for r in rows[1:4]] == ["DANS_QPV"] * 3 and rows[-1][5] == "ENTREE_INVALIDE"
    # un résultat XLSX, plus lent à écrire, passe par la file plus tôt qu'un CSV
    from cdv.georef import tasks

    job.input_size = tasks.SYNC_MAX_BYTES_XLSX + 1
    assert not tasks.runs_in_request(job)
    job.options["output_format"] = "csv"
    assert tasks.runs_in_request(job)
    # CSV par défaut, et un format inconnu est refusé
    assert upload(client, lonlat_file(inside=1, outside=0, invalid=0), format_sortie="ods").status_code == 422
    upload(client, lonlat_file(inside=1, outside=0, invalid=0))
    assert GeorefJob.objects.filter(owner=user).latest("pk").output_file.name.endswith("/resultat.csv")


def test_a_job_deleted_while_it_runs_does_not_come_back_nor_leave_its_result(user, media_root, monkeypatch):
    """Compte supprimé (ou purge) pendant le calcul : le traitement ne renaît pas en base à la fin, et
    son résultat n'est pas laissé sur le disque."""
    from cdv.georef import tasks

    job = GeorefJob.objects.create(owner=user, original_name="beneficiaires.csv", options={})

    def run_then_vanish(job, workdir):
        GeorefJob.objects.filter(pk=job.pk).delete()  # ce que fait la suppression du compte
        output = workdir / "resultat.csv"
        output.write_text("id;code_qp\n1;\n", encoding="utf-8")
        return {"rows": 1, "by_qpv": {}}, output

    monkeypatch.setattr(tasks, "_run", run_then_vanish)
    assert tasks.run_georef_job.call(job.pk) == JobStatus.DONE
    assert not GeorefJob.objects.filter(pk=job.pk).exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def _broken_workbook(sheet_xml: bytes) -> bytes:
    """Un classeur XLSX valide dont la feuille est remplacée par ``sheet_xml``."""
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["longitude", "latitude"])
    workbook.active.append([-1.55, 47.21])
    good = io.BytesIO()
    workbook.save(good)
    source, out = zipfile.ZipFile(io.BytesIO(good.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, sheet_xml if item.filename.endswith("sheet1.xml") else data)
    return out.getvalue()


SHEET_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    "sheet_xml",
    [
        # openpyxl refuse l'entité en citant le chemin du fichier temporaire sur le serveur
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><x>&e;</x>',
        b"<x",
    ],
    ids=["entite", "xml-tronque"],
)
def test_a_broken_workbook_is_refused_without_revealing_any_server_path(client, user, sheet_xml):
    client.force_login(user)
    response = upload(client, SimpleUploadedFile("liste.xlsx", _broken_workbook(sheet_xml)))
    page = response.content.decode()
    assert response.status_code == 422 and "le classeur XLSX ne s&#x27;ouvre pas" in page
    assert "/tmp" not in page and tempfile.gettempdir() not in page and ".upload" not in page
    assert not GeorefJob.objects.exists()


def test_a_workbook_broken_after_its_header_fails_the_job_without_revealing_any_path(client, user):
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="n"><v>-1.55</v></c><c r="B%d" t="n"><v>47.21</v></c></row>' % (i, i, i)
        for i in range(2, 3000)  # assez de lignes pour que l'en-tête se lise avant la fin abîmée
    )
    sheet = (
        b'<?xml version="1.0"?><worksheet ' + SHEET_NS + b'><dimension ref="A1:B3000"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>longitude</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>latitude</t></is></c></row>'
        + rows
        + b'<row r="3000"><c r="A3000"><v>1</v></c'
    )
    client.force_login(user)
    upload(client, SimpleUploadedFile("liste.xlsx", _broken_workbook(sheet)))
    job = GeorefJob.objects.get(owner=user)
    assert job.status == JobStatus.FAILED
    assert job.error_message.startswith("Fichier illisible : le classeur XLSX est abîmé")
    assert "/" not in job.error_message.split("Déposez")[0] and "line" not in job.error_message


# --- seulement ses propres valeurs, jamais la série officielle (ticket 13) -------------------------


def api_headers(user):
    from cdv.users.services import create_api_token

    _, key = create_api_token(user=user, name="script")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def official_epci_values(nantes):
    return {
        (v.year, v.value)
        for v in IndicatorValue.objects.filter(
            indicator__contract=nantes, indicator__code="taux-pauvrete", territory=nantes.epci
        )
    }


def test_an_official_indicator_attached_through_the_api_never_receives_a_share(
    client, nantes, referent, tremplin, forums
):
    """La partenaire attache le taux de pauvreté officiel à son brouillon par l'API : ni le brouillon,
    ni l'engagement une fois validé n'ouvrent la série de la métropole."""
    draft = Commitment.objects.get(title__startswith="Financer vingt permis")
    assert draft.partner == tremplin and draft.status == "BROUILLON"
    base = f"/api/v1/contracts/{nantes.slug}/commitments/{draft.pk}"
    headers = api_headers(referent)
    patched = client.patch(
        base,
        {"version": draft.version, "indicators": ["taux-pauvrete"]},
        content_type="application/json",
        **headers,
    )
    assert patched.status_code == 200 and patched.json()["indicators"] == ["taux-pauvrete"]
    before = official_epci_values(nantes)
    assert before  # 12 % en 2023
    poverty = Indicator.objects.get(contract=nantes, code="taux-pauvrete")
    job = finished_job(client, referent, nantes)
    page = client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
    assert f'value="{draft.pk}-{poverty.pk}"' not in page
    response = client.post(
        reverse("www:georef_record", args=[job.pk]), {"cible": f"{draft.pk}-{poverty.pk}", "annee": 2025}
    )
    assert response.status_code in {403, 422}
    assert official_epci_values(nantes) == before

    # Validé par le pilote : toujours pas, c'est une série officielle (valeurs venues d'ailleurs).
    Commitment.objects.filter(pk=draft.pk).update(status="VALIDE")
    from django.core.exceptions import ValidationError

    from cdv.georef.services import record_share_as_indicator_value

    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="ne viennent pas de cet engagement"):
        record_share_as_indicator_value(
            user=referent, job=job, commitment=draft, indicator=poverty, year=2025
        )
    response = client.post(
        reverse("www:georef_record", args=[job.pk]), {"cible": f"{draft.pk}-{poverty.pk}", "annee": 2025}
    )
    assert response.status_code in {403, 422}
    assert official_epci_values(nantes) == before
    assert not IndicatorValue.objects.filter(indicator=poverty, year=2025).exists()


def test_only_a_validated_commitment_records_a_share(client, nantes, referent, forums, share_indicator):
    from django.core.exceptions import PermissionDenied

    from cdv.georef.services import record_share_as_indicator_value

    job = finished_job(client, referent, nantes)
    for status in ("BROUILLON", "PROPOSE", "RENVOYE", "REALISE"):
        Commitment.objects.filter(pk=forums.pk).update(status=status)
        forums.refresh_from_db()
        key = f"{forums.pk}-{share_indicator.pk}"
        assert f'value="{key}"' not in client.get(reverse("www:georef_job", args=[job.pk])).content.decode()
        with pytest.raises(PermissionDenied, match="validé"):
            record_share_as_indicator_value(
                user=referent, job=job, commitment=forums, indicator=share_indicator, year=2025
            )
    assert not IndicatorValue.objects.filter(indicator=share_indicator).exists()


def test_a_share_is_the_commitments_own_value_and_another_partner_cannot_overwrite_it(
    client, nantes, referent, tremplin, forums, share_indicator
):
    job = finished_job(client, referent, nantes)
    key = f"{forums.pk}-{share_indicator.pk}"
    client.post(reverse("www:georef_record", args=[job.pk]), {"cible": key, "annee": 2025})
    value = IndicatorValue.objects.get(indicator=share_indicator)
    assert value.commitment == forums  # marquée comme venant de cet engagement

    other = Commitment.objects.filter(contract=nantes).exclude(partner=tremplin).first()
    Commitment.objects.filter(pk=other.pk).update(status="VALIDE")
    other.indicators.add(share_indicator)
    rival = factories.MembershipFactory(contract=nantes, partner=other.partner, role=Role.EDITOR).user
    client.force_login(rival)
    upload(client, lonlat_file(inside=2, outside=18), contrat=nantes.slug)
    rival_job = GeorefJob.objects.get(owner=rival)
    page = client.get(reverse("www:georef_job", args=[rival_job.pk])).content.decode()
    assert f'value="{other.pk}-{share_indicator.pk}"' not in page
    from django.core.exceptions import ValidationError

    from cdv.georef.services import record_share_as_indicator_value

    for year in (2025, 2024):
        response = client.post(
            reverse("www:georef_record", args=[rival_job.pk]),
            {"cible": f"{other.pk}-{share_indicator.pk}", "annee": year},
        )
        assert response.status_code in {403, 422}
        with pytest.raises(ValidationError, match="ne viennent pas de cet engagement"):
            record_share_as_indicator_value(
                user=rival, job=rival_job, commitment=other, indicator=share_indicator, year=year
            )
    value.refresh_from_db()
    assert value.value == Decimal("60.00") and value.commitment == forums
    assert IndicatorValue.objects.filter(indicator=share_indicator).count() == 1


def test_an_indicator_added_by_amendment_after_validation_receives_nothing(
    client, nantes, referent, tremplin, share_indicator
):
    """Seuls les indicateurs que le pilote a vus en validant l'engagement : un indicateur en % ajouté
    ensuite par avenant (série encore vide, par exemple un taux officiel pas encore importé) non."""
    from django.core.exceptions import ValidationError

    from cdv.commitments import services as commitment_services
    from cdv.georef.services import record_share_as_indicator_value

    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    draft = Commitment.objects.get(title__startswith="Financer vingt permis")
    draft.indicators.add(share_indicator)
    commitment_services.propose(user=referent, commitment=draft)
    commitment_services.validate(user=pilot, commitment=draft)
    commitment_services.confirm_cahier(
        user=referent,
        contract=nantes,
        partner=tremplin,
        signatory_name="Awa",
        signatory_role="Directrice",
        confirmed=True,
    )
    draft.refresh_from_db()
    official = Indicator.objects.create(
        contract=nantes, code="taux-emploi-officiel", name="Taux d'emploi (INSEE)", unit="%"
    )
    commitment_services.update_commitment(
        user=referent,
        commitment=draft,
        expected_version=draft.version,
        data={},
        indicators=[share_indicator, official],
        amendment_reason="Ajout d'un indicateur",
    )
    draft.refresh_from_db()
    job = finished_job(client, referent, nantes)
    with pytest.raises(ValidationError, match="après la validation"):
        record_share_as_indicator_value(
            user=referent, job=job, commitment=draft, indicator=official, year=2025
        )
    assert not IndicatorValue.objects.filter(indicator=official).exists()
    value = record_share_as_indicator_value(
        user=referent, job=job, commitment=draft, indicator=share_indicator, year=2025
    )
    assert value.commitment == draft


# --- stockage objet S3 (plusieurs serveurs) --------------------------------------------------------


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}})
def test_a_file_job_reads_and_writes_the_object_storage_and_nothing_on_the_local_disk(
    client, user, s3_storage, monkeypatch
):
    """Déposé sur un serveur, traité par un service de fond, téléchargé : tout passe par le seau S3
    partagé ; le disque local (MEDIA_ROOT) reste vide ; les droits ne changent pas."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr("cdv.georef.tasks.SYNC_MAX_BYTES", 10)  # par la file, comme un gros fichier
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    client.force_login(user)
    upload(client, lonlat_file())
    job = GeorefJob.objects.get(owner=user)
    assert job.status == JobStatus.PENDING
    assert list(s3_storage.objects()) == [job.input_file.name]
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.summary["in_qpv"] == 12, job.error_message
    stored = s3_storage.objects()
    assert list(stored) == [job.output_file.name]  # le fichier déposé est effacé du seau

    download = client.get(reverse("www:georef_download", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body == stored[job.output_file.name] and int(download["Content-Length"]) == len(body)
    assert len(list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))) == 21
    client.force_login(factories.UserFactory())
    assert client.get(reverse("www:georef_download", args=[job.pk])).status_code == 404

    GeorefJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - datetime.timedelta(days=8))
    call_command("purge_georef_jobs", stdout=io.StringIO())
    assert s3_storage.objects() == {}
    assert s3_storage.local_files() == []


def test_large_georef_files_stream_through_the_object_storage_without_being_held_in_memory(
    client, user, s3_storage, tmp_path
):
    """Un fichier de 16 Mo entre et sort du seau par morceaux : en plus de ce que tient le seau
    simulé lui-même (moto garde et renvoie l'objet en mémoire), jamais plus de quelques Mo."""
    import tracemalloc

    from cdv.georef import tasks

    size = 16 * 1024 * 1024
    s3_storage.put("georef/gros/entree.csv", b"x" * size)
    s3_storage.put("georef/gros/resultat.csv", b"y" * size)
    job = GeorefJob.objects.create(
        owner=user,
        original_name="gros.csv",
        input_file="georef/gros/entree.csv",
        output_file="georef/gros/resultat.csv",
        status=JobStatus.DONE,
        summary={"rows": 1},
    )
    client.force_login(user)

    def peak(action):
        tracemalloc.start()
        try:
            result = action()
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    s3 = job.output_file.storage.connection.meta.client  # client créé (modèles de botocore chargés)

    def read_raw():  # le seau simulé seul : lire l'objet par morceaux de 1 Mo
        body = s3.get_object(Bucket="cdv-tests", Key="georef/gros/resultat.csv")["Body"]
        return sum(len(chunk) for chunk in iter(lambda: body.read(1024 * 1024), b""))

    def download():
        response = client.get(reverse("www:georef_download", args=[job.pk]))
        return sum(len(chunk) for chunk in response.streaming_content)

    raw, baseline = peak(read_raw)
    local, input_peak = peak(lambda: tasks._local_input(job, tmp_path))
    received, output_peak = peak(download)
    assert raw == local.stat().st_size == received == size
    margin = 4 * 1024 * 1024
    assert input_peak < baseline + margin, f"dépôt : {input_peak / 2**20:.1f} Mo ({baseline / 2**20:.1f})"
    assert output_peak < baseline + margin, f"envoi : {output_peak / 2**20:.1f} Mo ({baseline / 2**20:.1f})"
    assert s3_storage.local_files() == []
