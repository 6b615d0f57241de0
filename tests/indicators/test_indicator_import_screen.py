"""Import des valeurs d'indicateurs à l'écran, par le pilote du contrat : téléversement, colonnes,
aperçu, confirmation ; le même code que la commande ``import_indicator_values``."""

import hashlib
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdv.indicators.enums import ValueStatus
from cdv.indicators.models import IndicatorValue
from cdv.users.enums import Role
from tests import factories
from tests.indicators.test_indicator_import import csv_bytes, snapshot, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def qpvs(nantes):
    return list(nantes.qpvs.order_by("code").values_list("code", flat=True))


def upload_url(contract):
    return reverse("www:indicator_import", args=[contract.slug])


def long_file(qpvs, year=2031, values=("1200", "3400")):
    rows = [["indicateur", "territoire", "periode", "valeur"]]
    rows += [["population", code, str(year), value] for code, value in zip(qpvs, values, strict=False)]
    return csv_bytes(rows)


def upload(client, contract, content, name="valeurs.csv", **data):
    """Téléverse ``content`` ; rend l'adresse de l'aperçu (la réponse est une redirection)."""
    response = client.post(upload_url(contract), {"fichier": SimpleUploadedFile(name, content), **data})
    assert response.status_code == 302, response.content.decode()[:3000]
    return response["Location"]


def preview_params(response):
    """Les champs du formulaire de confirmation de l'aperçu, tels que le navigateur les enverrait."""
    html = response.content.decode()
    form = re.search(r'<form[^>]*id="confirmer"[^>]*>(.*?)</form>', html, re.S)
    assert form, "pas de formulaire « Confirmer l'import » dans l'aperçu"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    return {
        name: value.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"')
        for name, value in fields.items()
    }


def confirm(client, url, **params):
    preview = client.get(url, params)
    assert preview.status_code == 200, preview.content.decode()[:3000]
    return client.post(url.split("?")[0], preview_params(preview))


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# --- droits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reader", "editor", "other_pilot"])
def test_only_the_contracts_pilots_import(client, nantes, pilot, qpvs, who):
    partner = factories.PartnerFactory()
    if who == "other_pilot":
        user = factories.MembershipFactory(role=Role.PILOT).user
    else:
        role = Role.READER if who == "reader" else Role.EDITOR
        user = factories.MembershipFactory(contract=nantes, role=role, partner=partner).user
    client.force_login(pilot)
    preview = upload(client, nantes, long_file(qpvs))
    before = snapshot()
    client.force_login(user)
    assert client.get(upload_url(nantes)).status_code == 403
    response = client.post(upload_url(nantes), {"fichier": SimpleUploadedFile("v.csv", long_file(qpvs))})
    assert response.status_code == 403
    assert client.get(preview, {"source": "INSEE", "millesime": "2031"}).status_code == 403
    assert client.post(preview.split("?")[0], {"source": "INSEE", "millesime": "2031"}).status_code == 403
    assert snapshot() == before


def test_anonymous_is_sent_to_login(client, nantes):
    response = client.get(upload_url(nantes))
    assert response.status_code == 302 and "connexion" in response["Location"]


def test_a_token_is_never_a_path(client, nantes, pilot):
    client.force_login(pilot)
    for token in ["..", "a" * 63, "../../etc/passwd", "A" * 64]:
        url = upload_url(nantes) + token.replace("/", "%2F") + "/"
        assert client.get(url).status_code == 404
    missing = reverse("www:indicator_import_preview", args=[nantes.slug, "0" * 64])
    assert client.get(missing).status_code == 404


# --- aperçu puis confirmation ----------------------------------------------------------------


def test_upload_page_and_dashboard_link(client, nantes, pilot):
    client.force_login(pilot)
    page = client.get(upload_url(nantes))
    assert page.status_code == 200
    assert "Importer des valeurs d'indicateurs" in text(page)
    dashboard = client.get(reverse("www:dashboard", args=[nantes.slug]))
    assert upload_url(nantes) in dashboard.content.decode()


def test_preview_writes_nothing_and_confirm_writes(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    before = snapshot()
    url = upload(client, nantes, long_file(qpvs), source="INSEE, RP 2031", millesime="2031")
    preview = client.get(url)
    assert preview.status_code == 200
    page = text(preview)
    assert "2 valeurs seraient créées" in page
    assert "Confirmer l'import" in page
    assert "Disposition reconnue : longue" in page
    assert snapshot() == before, "l'aperçu a écrit en base"

    response = confirm(client, url)
    assert response.status_code == 302
    assert response["Location"] == upload_url(nantes)
    done = client.get(response["Location"])
    assert "Import terminé : 2 valeurs créées" in text(done)
    value = IndicatorValue.objects.get(
        indicator__contract=nantes, indicator__code="population", territory__code=qpvs[0], year=2031
    )
    assert value.value == Decimal("1200")
    assert (value.source, value.vintage) == ("INSEE, RP 2031", "2031")
    assert value.status == ValueStatus.PROVISIONAL


def test_the_pending_file_is_kept_in_the_object_storage_shared_by_the_servers(
    client, nantes, pilot, qpvs, s3_storage
):
    """Avec un stockage S3, le fichier en attente entre l'aperçu et la confirmation est dans le seau
    (un autre serveur le relit), rien sur le disque local ; il est effacé après la confirmation."""
    client.force_login(pilot)
    url = upload(client, nantes, long_file(qpvs), source="INSEE, RP 2031", millesime="2031")
    token = url.split("/")[-2]
    assert s3_storage.objects() == {f"prive/imports-indicateurs/{nantes.pk}/{token}": long_file(qpvs)}
    assert s3_storage.local_files() == []

    response = confirm(client, url)
    assert response.status_code == 302
    assert IndicatorValue.objects.filter(indicator__contract=nantes, year=2031).count() == 2
    assert s3_storage.objects() == {}
    assert s3_storage.local_files() == []


def test_confirmed_import_is_idempotent(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    content = long_file(qpvs)
    confirm(client, upload(client, nantes, content), source="INSEE", millesime="2031")
    after_first = snapshot()
    url = upload(client, nantes, content)
    preview = client.get(url, {"source": "INSEE", "millesime": "2031"})
    assert "0 valeur serait créée, 0 modifiée, 2 inchangées" in text(preview)
    response = confirm(client, url, source="INSEE", millesime="2031")
    assert response.status_code == 302
    assert "0 valeur créée, 0 modifiée, 2 inchangées" in text(client.get(response["Location"]))
    assert snapshot() == after_first


def test_final_values_only_when_the_pilot_says_so(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    confirm(client, upload(client, nantes, long_file(qpvs)), source="INSEE", millesime="2031", definitif="on")
    value = IndicatorValue.objects.get(indicator__contract=nantes, territory__code=qpvs[0], year=2031)
    assert value.status == ValueStatus.FINAL


def test_bad_rows_are_listed_with_row_and_column_and_nothing_is_written(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    content = csv_bytes(
        [
            ["indicateur", "territoire", "periode", "valeur"],
            ["population", qpvs[0], "2031", "1200"],
            ["population", qpvs[1], "2031", "12,a"],
            ["inconnu", qpvs[2], "2031", "5"],
        ]
    )
    before = snapshot()
    url = upload(client, nantes, content)
    preview = client.get(url, {"source": "INSEE", "millesime": "2031"})
    assert preview.status_code == 200
    html = preview.content.decode()
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    assert ("3", "valeur", "« 12,a » n&#x27;est pas un nombre.") in rows
    assert any(row[0] == "4" and row[1] == "indicateur" and "n&#x27;existe pas" in row[2] for row in rows)
    page = text(preview)
    assert "2 lignes refusées" in page
    assert "Confirmer l'import" not in page
    # Une confirmation forcée est refusée de même, sans rien écrire.
    response = client.post(
        url.split("?")[0], {"source": "INSEE", "millesime": "2031", "empreinte": url.split("/")[-2]}
    )
    assert response.status_code == 422
    assert "n&#x27;est pas un nombre" in response.content.decode()
    assert snapshot() == before


def test_source_and_vintage_are_required_with_a_french_error(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    before = snapshot()
    url = upload(client, nantes, long_file(qpvs))
    preview = client.get(url)
    page = text(preview)
    assert "Indiquez la source des valeurs" in page
    assert "Indiquez le millésime des valeurs" in page
    assert "Confirmer l'import" not in page
    token = url.split("/")[-2]
    response = client.post(url.split("?")[0], {"source": "", "millesime": "", "empreinte": token})
    assert response.status_code == 422
    assert "Indiquez la source des valeurs" in text(response)
    assert snapshot() == before


def test_a_source_column_replaces_the_file_default(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    content = csv_bytes(
        [
            ["indicateur", "territoire", "periode", "valeur", "source", "millesime"],
            ["population", qpvs[0], "2031", "10", "CAF", "2030"],
        ]
    )
    response = confirm(client, upload(client, nantes, content))
    assert response.status_code == 302
    value = IndicatorValue.objects.get(indicator__contract=nantes, territory__code=qpvs[0], year=2031)
    assert (value.source, value.vintage) == ("CAF", "2030")


def test_insee_wide_layout_is_detected_and_mapped(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    content = csv_bytes(
        [["CODGEO", "LIBGEO", "P25_POP", "P25_MEN"]]
        + [[code, f"Quartier {code}", str(1000 + i), "5"] for i, code in enumerate(qpvs[:3])]
    )
    url = upload(client, nantes, content, name="insee.csv")
    page = text(client.get(url, {"source": "INSEE, RP 2025", "millesime": "2025"}))
    assert "Disposition reconnue : large" in page
    assert "P25_POP" in page and "P25_MEN" in page
    assert "Indiquez la période des valeurs" in page
    params = {"source": "INSEE, RP 2025", "millesime": "2025", "periode": "2025", "colonne_0": "population"}
    page = text(client.get(url, params))
    assert "3 valeurs seraient créées" in page
    assert "Colonnes ignorées : « P25_MEN »" in page
    response = confirm(client, url, **params)
    assert response.status_code == 302
    stored = dict(
        IndicatorValue.objects.filter(
            indicator__contract=nantes, indicator__code="population", year=2025, territory__code__in=qpvs[:3]
        ).values_list("territory__code", "value")
    )
    assert stored == {code: Decimal(1000 + i) for i, code in enumerate(qpvs[:3])}


def test_long_layout_columns_can_be_chosen(client, nantes, pilot, qpvs):
    client.force_login(pilot)
    content = xlsx_bytes([["Ind", "Code QP", "An", "Nb"], ["population", qpvs[0], 2031, 77]])
    url = upload(client, nantes, content, name="valeurs.xlsx")
    params = {
        "source": "INSEE",
        "millesime": "2031",
        "col_indicateur": "Ind",
        "col_territoire": "Code QP",
        "col_periode": "An",
        "col_valeur": "Nb",
    }
    page = text(client.get(url, params))
    assert "1 valeur serait créée" in page
    assert confirm(client, url, **params).status_code == 302
    assert (
        IndicatorValue.objects.get(indicator__contract=nantes, territory__code=qpvs[0], year=2031).value == 77
    )


def test_confirm_refused_when_the_file_changed_since_the_preview(client, nantes, pilot, qpvs, media):
    client.force_login(pilot)
    url = upload(client, nantes, long_file(qpvs))
    token = url.split("/")[-2]
    assert token == hashlib.sha256(long_file(qpvs)).hexdigest()
    preview = client.get(url, {"source": "INSEE", "millesime": "2031"})
    params = preview_params(preview)
    stored = next(media.rglob(token))
    stored.write_bytes(long_file(qpvs, values=("1", "2")))
    before = snapshot()
    response = client.post(url.split("?")[0], params)
    assert response.status_code == 409
    assert "Le fichier a changé depuis l'aperçu" in text(response)
    assert snapshot() == before


def test_upload_refuses_other_formats_and_empty_files(client, nantes, pilot):
    client.force_login(pilot)
    response = client.post(upload_url(nantes), {"fichier": SimpleUploadedFile("v.pdf", b"%PDF-1.4")})
    assert response.status_code == 422
    assert "déposez un fichier .csv ou .xlsx" in text(response)
    response = client.post(upload_url(nantes), {"fichier": SimpleUploadedFile("v.csv", b"")})
    assert response.status_code == 422


def test_preview_queries_do_not_grow_with_the_rows(
    client, nantes, pilot, qpvs, django_assert_max_num_queries
):
    client.force_login(pilot)
    small = upload(client, nantes, long_file(qpvs[:2]))
    years = range(2031, 2051)
    rows = [["indicateur", "territoire", "periode", "valeur"]]
    rows += [["population", code, str(year), "5"] for code in qpvs for year in years]
    big = upload(client, nantes, csv_bytes(rows))
    params = {"source": "INSEE", "millesime": "2031"}
    with django_assert_max_num_queries(15):
        assert client.get(small, params).status_code == 200
    with django_assert_max_num_queries(15):
        page = client.get(big, params)
    assert f"{len(rows) - 1} valeurs seraient créées" in text(page).replace("\u202f", "")


def test_the_pilot_can_correct_the_detected_layout(client, nantes, pilot, qpvs):
    """Un fichier large dont la colonne des codes n'a pas un intitulé connu est lu comme long :
    le pilote choisit « large », la colonne du territoire et l'indicateur de chaque colonne."""
    client.force_login(pilot)
    content = csv_bytes([["CODE_QP", "POP"], [qpvs[0], "321"], [qpvs[1], "654"]])
    url = upload(client, nantes, content, source="INSEE", millesime="2025", periode="2025")
    page = text(client.get(url))
    assert "Disposition reconnue : longue" in page
    assert "Ce champ est obligatoire" in page  # colonnes d'un fichier long introuvables
    params = {"disposition": "large", "col_territoire": "CODE_QP", "colonne_1": "population"}
    page = text(client.get(url, {"source": "INSEE", "millesime": "2025", "periode": "2025", **params}))
    assert "2 valeurs seraient créées" in page, page[:3000]
    response = confirm(client, url, source="INSEE", millesime="2025", periode="2025", **params)
    assert response.status_code == 302
    assert stored_value(nantes, qpvs[1], 2025) == 654


def stored_value(contract, code, year):
    return IndicatorValue.objects.get(
        indicator__contract=contract, indicator__code="population", territory__code=code, year=year
    ).value


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.csv", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "une page web"),
        ("v.csv", b"%PDF-1.4 ...", "un PDF"),
        ("v.xlsx", b"PK\x03\x04 pas une archive", "archive endommagée"),
        ("v.xlsx", b"indicateur;territoire\n", "n'est pas un classeur XLSX"),
    ],
)
def test_hostile_files_are_refused_at_upload_and_nothing_is_kept(
    client, nantes, pilot, media, name, content, message
):
    client.force_login(pilot)
    response = client.post(upload_url(nantes), {"fichier": SimpleUploadedFile(name, content)})
    assert response.status_code == 422
    assert message in text(response).replace("&#x27;", "'")
    assert "<script>alert" not in response.content.decode()
    assert not [path for path in media.rglob("*") if path.is_file()]
