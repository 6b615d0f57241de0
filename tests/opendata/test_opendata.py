"""Données ouvertes d'un contrat : CSV, JSON, XLSX, GeoJSON et Data Package validé par frictionless."""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import frictionless
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from shapely.geometry import shape

from cdv.commitments.enums import PUBLIC_STATUSES
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.contracts.enums import ContractStatus
from cdv.core.formulas import csv_text
from cdv.indicators.enums import Scope
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.opendata.resources import BY_NAME, RESOURCES
from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope
from cdv.plan.models import Action, Enjeu, Objective
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

SLUG = "nantes-metropole-2024-2030"
BASE = f"/contrats/{SLUG}/donnees/"
INJECTION = '=HYPERLINK("https://example.org/vol","Cliquez ici")'
TABULAR = ("csv", "json", "xlsx")


def url(name, fmt):
    return f"{BASE}{name}.{fmt}"


def csv_rows(client, name):
    response = client.get(url(name, "csv"))
    assert response.status_code == 200, response.content[:300]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def csv_header(client, name):
    return next(csv.reader(io.StringIO(client.get(url(name, "csv")).content.decode("utf-8"))))


def json_data(client, name):
    return json.loads(client.get(url(name, "json")).content)


def xlsx_sheet(client, name):
    workbook = load_workbook(io.BytesIO(client.get(url(name, "xlsx")).content))
    return workbook["Données"]


def xlsx_text(value) -> str:
    """Une cellule XLSX écrite comme le CSV l'écrirait."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def any_objective(contract):
    return Objective.objects.filter(enjeu__contract=contract).order_by("enjeu__number", "number").first()


def add_volume(contract, n=30):
    """Des données en plus : engagements (quartiers, moyens, indicateurs), actions, valeurs."""
    qpvs = list(contract.qpvs.all()[:3])
    indicator = Indicator.objects.filter(contract=contract).first()
    objective = any_objective(contract)
    for i in range(n):
        commitment = factories.CommitmentFactory(
            contract=contract,
            objective=objective,
            title=f"Engagement en volume {i}",
            qpvs=qpvs,
            indicators=[indicator],
            status=S.IN_PROGRESS,
        )
        factories.CommitmentMeansFactory(
            commitment=commitment, year=2025, fte=Decimal("0.5"), amount_eur=1000
        )
        factories.CommitmentMeansFactory(commitment=commitment, year=2025, amount_eur=250, specific=True)
        factories.ActionFactory(
            objective=objective,
            scope=ActionScope.QPV,
            qpvs=qpvs,
            pilot_partner=factories.PartnerFactory(),
            contributors=[factories.PartnerFactory(), commitment.partner],
        )
        factories.IndicatorValueFactory(
            indicator=indicator, territory=qpvs[i % 3], year=1990 + i, value=Decimal(i), is_demo=True
        )


# ---------------------------------------------------------------------------------------------
# Page


def test_the_open_data_page_lists_each_file_with_its_formats_count_and_licence(client, nantes):
    response = client.get(BASE)
    assert response.status_code == 200
    page = response.content.decode()
    for resource in RESOURCES:
        assert resource.title in page
        for fmt in resource.formats:
            assert f'href="http://testserver{url(resource.name, fmt)}"' in page
    assert "quartiers.geojson" in page and "enjeux.geojson" not in page
    assert f'href="{BASE}datapackage.json"' in page and 'href="/api/v1/docs"' in page
    assert "Licence Ouverte" in page and "etalab-2.0" in page
    count = Commitment.objects.filter(contract=nantes, status__in=PUBLIC_STATUSES).count()
    assert re.search(rf"<td[^>]*>{count}</td>", page)  # engagements publics, comptés


def test_the_open_data_page_is_accessible_markup(client):
    page = client.get(BASE).content.decode()
    body = page.split('<main id="contenu"', 1)[1]
    assert page.count("<h1") == 1
    levels = [int(level) for level in re.findall(r"<h([1-6])", body)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert body.count("<table") == body.count("<caption") == len(RESOURCES) + 1
    assert "<th>" not in body and body.count('<th scope="') > 0
    assert "<script" not in page and "style=" not in page and "<style" not in page


# ---------------------------------------------------------------------------------------------
# Colonnes, lignes, ce qui est public


def test_every_file_has_the_columns_of_its_schema_and_rows_match_the_database(client, nantes):
    for resource in RESOURCES:
        assert csv_header(client, resource.name) == resource.column_names
    assert len(csv_rows(client, "quartiers")) == nantes.qpvs.count() == 15
    assert len(csv_rows(client, "enjeux")) == Enjeu.objects.filter(contract=nantes).count()
    assert len(csv_rows(client, "objectifs")) == Objective.objects.filter(enjeu__contract=nantes).count()
    assert (
        len(csv_rows(client, "actions")) == Action.objects.filter(objective__enjeu__contract=nantes).count()
    )
    public = Commitment.objects.filter(contract=nantes, status__in=PUBLIC_STATUSES)
    assert len(csv_rows(client, "engagements")) == public.count()
    assert (
        len(csv_rows(client, "valeurs-indicateurs"))
        == IndicatorValue.objects.filter(indicator__contract=nantes).count()
    )
    partners = {int(row["id"]) for row in csv_rows(client, "partenaires")}
    assert set(nantes.signatories.values_list("partner_id", flat=True)) <= partners
    assert set(public.values_list("partner_id", flat=True)) <= partners


def test_the_documentation_describes_every_column():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent.parent / "docs" / "opendata.md").read_text(encoding="utf-8")
    for resource in RESOURCES:
        assert f"### `{resource.name}`" in doc
        assert all(f"| `{name}` |" in doc for name in resource.column_names), resource.name


def sign_a_demo_grant(contract):
    """La démonstration a des actes signés mais ses financeurs n'ont pas de SIRET (aucun n'est
    inventé) : on en donne un au financeur d'un acte signé pour que le fichier SCDL ait une ligne."""
    from cdv.grants.scdl import voted_lines

    line = (
        voted_lines(contract)
        .exclude(act__signed_on=None)
        .filter(funder__partner__siren="214401093")  # la Ville de Nantes
        .select_related("funder__partner")
        .order_by("pk")
        .first()
    )
    partner = line.funder.partner
    partner.siret = "21440109300015"
    partner.save()
    return line


def test_rows_read_by_each_resource_have_exactly_its_columns(nantes):
    from django.contrib.auth.models import AnonymousUser

    sign_a_demo_grant(nantes)
    for resource in RESOURCES:
        rows = resource.read(nantes, AnonymousUser())
        assert rows, resource.name
        assert all(list(row) == resource.column_names for row in rows), resource.name


def test_a_draft_or_proposed_commitment_never_appears_even_for_a_pilot(client, nantes):
    hidden = [
        factories.CommitmentFactory(contract=nantes, status=status, title=f"Engagement secret {status}")
        for status in (S.DRAFT, S.PROPOSED, S.VALIDATED, S.RETURNED)
    ]
    shown = factories.CommitmentFactory(
        contract=nantes, status=S.CONFIRMED, title="Engagement confirmé visible"
    )
    pilot = factories.MembershipFactory(contract=nantes, role="PILOTE").user
    for who in (None, pilot):
        if who:
            client.force_login(who)
        for fmt in TABULAR:
            content = client.get(url("engagements", fmt)).content
            text = (
                content.decode("utf-8")
                if fmt != "xlsx"
                else str(list(xlsx_sheet(client, "engagements").values))
            )
            assert "Engagement confirmé visible" in text
            assert not any(c.title in text for c in hidden)
        rows = csv_rows(client, "engagements")
        assert {row["etat"] for row in rows} <= {s.value for s in PUBLIC_STATUSES}
        assert str(shown.pk) in {row["id"] for row in rows}
        partners = {int(row["id"]) for row in csv_rows(client, "partenaires")}
        assert not any(c.partner_id in partners for c in hidden)


def test_statuses_come_with_their_code_and_french_label(client, nantes):
    factories.CommitmentFactory(
        contract=nantes, status=S.ABANDONED, title="Engagement abandonné", status_comment="Plus de local."
    )
    row = next(r for r in csv_rows(client, "engagements") if r["intitule"] == "Engagement abandonné")
    assert (row["etat"], row["etat_libelle"]) == ("ABANDONNE", "Abandonné")
    assert row["portee"] == "CONTRAT" and row["portee_libelle"] == "Tout le contrat"


def test_demo_rows_are_flagged(client, nantes):
    real = factories.CommitmentFactory(contract=nantes, title="Engagement réel", status=S.CONFIRMED)
    demo = factories.CommitmentFactory(
        contract=nantes, title="Engagement fictif", is_demo=True, status=S.CONFIRMED
    )
    flags = {row["id"]: row["est_demonstration"] for row in csv_rows(client, "engagements")}
    assert flags[str(real.pk)] == "false" and flags[str(demo.pk)] == "true"
    for name, model in [("actions", Action), ("objectifs", Objective), ("partenaires", Partner)]:
        demo_ids = {str(pk) for pk in model.objects.filter(is_demo=True).values_list("pk", flat=True)}
        rows = csv_rows(client, name)
        assert any(row["est_demonstration"] == "true" for row in rows), name
        assert all((row["est_demonstration"] == "true") == (row["id"] in demo_ids) for row in rows), name
    values = csv_rows(client, "valeurs-indicateurs")
    assert {row["est_demonstration"] for row in values} == {"true", "false"}


def test_a_secret_value_stays_s_and_never_0(client, nantes):
    indicator = Indicator.objects.filter(contract=nantes).first()
    qpv = nantes.qpvs.first()
    secret = IndicatorValue.objects.create(
        indicator=indicator, territory=qpv, year=1999, is_secret=True, denominator=8, scope=Scope.TERRITORY
    )
    row = next(r for r in csv_rows(client, "valeurs-indicateurs") if r["id"] == str(secret.pk))
    assert row["valeur"] == "s" and row["secret_statistique"] == "true"
    record = next(r for r in json_data(client, "valeurs-indicateurs")["donnees"] if r["id"] == secret.pk)
    assert record["valeur"] is None and record["secret_statistique"] is True
    sheet = xlsx_sheet(client, "valeurs-indicateurs")
    header = [c.value for c in sheet[1]]
    line = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == secret.pk)
    assert line[header.index("valeur")] == "s"


def test_actions_carry_their_scope_and_qpv_codes(client, nantes):
    qpvs = list(nantes.qpvs.order_by("code")[:2])
    action = factories.ActionFactory(objective=any_objective(nantes), scope=ActionScope.QPV)
    action.qpvs.set(qpvs)
    row = next(r for r in csv_rows(client, "actions") if r["id"] == str(action.pk))
    assert row["echelle"] == "QPV" and row["qpv"] == ";".join(q.code for q in qpvs)
    assert row["objectif"] == str(action.objective_id)


def test_files_of_another_contract_never_mix(client, nantes):
    other = factories.ContractFactory()
    enjeu = factories.EnjeuFactory(contract=other)
    factories.CommitmentFactory(
        contract=other,
        partner=factories.PartnerFactory(name="Partenaire d'ailleurs"),
        objective__enjeu=enjeu,
        title="Engagement d'un autre contrat",
        status=S.CONFIRMED,
    )
    assert "Engagement d'un autre contrat" not in client.get(url("engagements", "csv")).content.decode()
    assert "Partenaire d'ailleurs" not in client.get(url("partenaires", "csv")).content.decode()
    other_csv = client.get(f"/contrats/{other.slug}/donnees/engagements.csv").content.decode()
    assert "Engagement d'un autre contrat" in other_csv


# ---------------------------------------------------------------------------------------------
# Formats


def test_xlsx_opens_and_has_the_same_rows_as_the_csv(client, nantes):
    sign_a_demo_grant(nantes)
    for resource in RESOURCES:
        sheet = xlsx_sheet(client, resource.name)
        # le CSV ajoute l'apostrophe de protection (csv_text) que le XLSX n'a pas besoin d'ajouter
        rows = [[csv_text(xlsx_text(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
        expected = list(csv.reader(io.StringIO(client.get(url(resource.name, "csv")).content.decode())))
        assert rows == expected, resource.name


def test_json_has_metadata_and_one_object_per_row(client, nantes):
    for resource in RESOURCES:
        data = json_data(client, resource.name)
        assert data["ressource"] == resource.name and data["contrat"]["identifiant"] == SLUG
        assert data["licence"]["name"] == "etalab-2.0"
        assert data["schema"] == f"http://testserver{BASE}datapackage.json"
        assert [c["name"] for c in data["colonnes"]] == resource.column_names
        assert data["nombre_de_lignes"] == len(data["donnees"]) == len(csv_rows(client, resource.name))
        assert all(list(row) == resource.column_names for row in data["donnees"])
    quartier = json_data(client, "quartiers")["donnees"][0]
    assert isinstance(quartier["contour_repare"], bool) and quartier["code"].startswith("QN")


def test_geojson_is_a_feature_collection_with_one_valid_geometry_per_qpv(client, nantes):
    response = client.get(url("quartiers", "geojson"))
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    assert sorted(f["id"] for f in data["features"]) == sorted(nantes.qpvs.values_list("code", flat=True))
    for feature in data["features"]:
        assert feature["type"] == "Feature" and feature["properties"]["code"] == feature["id"]
        geometry = shape(feature["geometry"])
        assert geometry.is_valid and not geometry.is_empty
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_cells_starting_like_a_formula_are_neutralised_in_csv_and_xlsx(client, nantes):
    partner = factories.PartnerFactory(name=INJECTION, short_name="+33 6 00 00 00 00")
    commitment = factories.CommitmentFactory(
        contract=nantes,
        partner=partner,
        title=INJECTION,
        target="-1+1",
        description="@SUM(A1:A9)",
        status=S.CONFIRMED,
    )
    row = next(r for r in csv_rows(client, "engagements") if r["id"] == str(commitment.pk))
    assert row["intitule"] == "'" + INJECTION and row["partenaire_nom"] == "'" + INJECTION
    assert row["cible"] == "'-1+1" and row["description"] == "'@SUM(A1:A9)"
    partner_row = next(r for r in csv_rows(client, "partenaires") if r["id"] == str(partner.pk))
    assert partner_row["nom"] == "'" + INJECTION and partner_row["nom_court"] == "'+33 6 00 00 00 00"
    sheet = xlsx_sheet(client, "engagements")
    header = [c.value for c in sheet[1]]
    line = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == commitment.pk)
    cell = line[header.index("intitule")]
    # XLSX : une cellule texte, relue identique (pas d'apostrophe ajoutée), jamais une formule
    assert cell.value == INJECTION and cell.data_type == "s"
    assert line[header.index("cible")].value == "-1+1" and line[header.index("cible")].data_type == "s"
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
    record = next(r for r in json_data(client, "engagements")["donnees"] if r["id"] == commitment.pk)
    assert record["intitule"] == INJECTION  # le JSON garde le texte exact


# ---------------------------------------------------------------------------------------------
# En-têtes HTTP, cache, erreurs


@pytest.mark.parametrize(
    "name, fmt, content_type",
    [
        ("engagements", "csv", "text/csv; charset=utf-8"),
        ("partenaires", "json", "application/json"),
        ("actions", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("quartiers", "geojson", "application/geo+json"),
    ],
)
def test_downloads_have_type_filename_cache_and_etag(client, name, fmt, content_type):
    response = client.get(url(name, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{SLUG}-{name}.{fmt}"'
    assert response["Cache-Control"] == "public, max-age=300"
    etag = response["ETag"]
    assert re.fullmatch(r'(W/)?"[0-9a-f]{40}"', etag)
    again = client.get(url(name, fmt), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(url(name, fmt), HTTP_IF_NONE_MATCH='"autre"').status_code == 200


def test_the_etag_follows_the_content(client, nantes):
    before = client.get(url("engagements", "csv"))["ETag"]
    before_xlsx = client.get(url("engagements", "xlsx"))["ETag"]
    assert client.get(url("engagements", "csv"))["ETag"] == before  # stable
    factories.CommitmentFactory(contract=nantes, title="Engagement nouveau", status=S.CONFIRMED)
    assert client.get(url("engagements", "csv"), HTTP_IF_NONE_MATCH=before).status_code == 200
    assert client.get(url("engagements", "xlsx"), HTTP_IF_NONE_MATCH=before_xlsx).status_code == 200


def test_a_signed_in_person_gets_the_same_file_but_not_a_shared_cache(client, nantes):
    anonymous = client.get(url("engagements", "csv"))
    client.force_login(factories.MembershipFactory(contract=nantes, role="PILOTE").user)
    member = client.get(url("engagements", "csv"))
    assert member.content == anonymous.content and member["ETag"] == anonymous["ETag"]
    assert member["Cache-Control"] == "private, no-cache"


def test_the_datapackage_is_a_download_with_etag(client):
    response = client.get(f"{BASE}datapackage.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="{SLUG}-datapackage.json"'
    assert response["Cache-Control"] == "public, max-age=300"
    assert client.get(f"{BASE}datapackage.json", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


@pytest.mark.parametrize("path", ["inconnu.csv", "engagements.pdf", "enjeux.geojson", "engagements.CSV"])
def test_an_unknown_file_or_format_is_a_404_in_french(client, path):
    response = client.get(BASE + path)
    assert response.status_code == 404
    assert "n'existe pas" in response.content.decode() or "Aucun fichier" in response.content.decode()


def test_a_contract_in_preparation_has_no_open_data_even_for_its_members(client):
    contract = factories.ContractFactory(status=ContractStatus.PREPARING)
    factories.EnjeuFactory(contract=contract)
    paths = ["", "datapackage.json", "enjeux.csv", "quartiers.geojson"]
    for path in paths:
        assert client.get(f"/contrats/{contract.slug}/donnees/{path}").status_code == 404
    client.force_login(factories.MembershipFactory(contract=contract, role="PILOTE").user)
    for path in paths:
        assert client.get(f"/contrats/{contract.slug}/donnees/{path}").status_code == 404


def test_an_unknown_contract_is_a_404(client):
    assert client.get("/contrats/inconnu/donnees/engagements.csv").status_code == 404


# ---------------------------------------------------------------------------------------------
# Requêtes SQL bornées


def all_urls():
    urls = [BASE, f"{BASE}datapackage.json"]
    for resource in RESOURCES:
        urls += [url(resource.name, fmt) for fmt in resource.formats]
    return urls


def test_queries_do_not_grow_with_the_data(client, nantes, django_assert_max_num_queries):
    def count(path):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries.captured_queries)

    before = {path: count(path) for path in all_urls()}
    assert max(before.values()) <= 12
    add_volume(nantes, 30)
    assert len(csv_rows(client, "engagements")) >= 30
    for path, n in before.items():
        with django_assert_max_num_queries(n):
            assert client.get(path).status_code == 200


# ---------------------------------------------------------------------------------------------
# Data Package validé par frictionless


def download_package(client, folder):
    """datapackage.json et chaque CSV, enregistrés côte à côte avec des chemins relatifs."""
    descriptor = json.loads(client.get(f"{BASE}datapackage.json").content)
    for resource in descriptor["resources"]:
        assert resource["path"] == f"http://testserver{url(resource['name'], 'csv')}"
        response = client.get(resource["path"].removeprefix("http://testserver"))
        assert response.status_code == 200
        local = f"{resource['name']}.csv"
        (folder / local).write_bytes(response.content)
        resource["path"] = local
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    return descriptor


def validate(folder):
    return frictionless.validate(str(folder / "datapackage.json"))


def error_types(report):
    return {error.type for task in report.tasks for error in task.errors} | {e.type for e in report.errors}


def test_the_datapackage_describes_every_file(client):
    descriptor = json.loads(client.get(f"{BASE}datapackage.json").content)
    assert descriptor["profile"] == "tabular-data-package" and descriptor["name"] == SLUG
    assert descriptor["licenses"][0]["name"] == "etalab-2.0"
    assert any("ANCT" in source["title"] for source in descriptor["sources"])
    assert [r["name"] for r in descriptor["resources"]] == [r.name for r in RESOURCES]
    engagements = next(r for r in descriptor["resources"] if r["name"] == "engagements")
    fields = {f["name"]: f for f in engagements["schema"]["fields"]}
    assert fields["etat"]["constraints"]["enum"] and fields["id"]["constraints"]["required"]
    assert all(f["title"] and f["description"] for f in fields.values())
    assert engagements["schema"]["primaryKey"] == ["id"]
    keys = {k["fields"]: k["reference"] for k in engagements["schema"]["foreignKeys"]}
    assert keys["partenaire"] == {"resource": "partenaires", "fields": "id"}
    actions = BY_NAME["actions"].table_schema()
    assert {"fields": "objectif", "reference": {"resource": "objectifs", "fields": "id"}} in actions[
        "foreignKeys"
    ]


def test_the_datapackage_and_its_files_are_valid_for_frictionless(client, nantes, tmp_path):
    add_volume(nantes, 5)
    sign_a_demo_grant(nantes)
    factories.CommitmentFactory(
        contract=nantes, partner=factories.PartnerFactory(name=INJECTION), title=INJECTION, status=S.CONFIRMED
    )
    indicator = Indicator.objects.filter(contract=nantes).first()
    IndicatorValue.objects.create(
        indicator=indicator, territory=nantes.qpvs.first(), year=1998, is_secret=True
    )
    download_package(client, tmp_path)
    report = validate(tmp_path)
    assert report.valid, report.flatten(["type", "note"])[:10]
    assert report.stats["errors"] == 0
    assert len(report.tasks) == len(RESOURCES)


def test_the_validation_catches_a_bad_integer(client, tmp_path):
    download_package(client, tmp_path)
    path = tmp_path / "enjeux.csv"
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    first = lines[1].split(",")
    first[1] = "deux"  # numero : un entier
    lines[1] = ",".join(first)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    report = validate(tmp_path)
    assert not report.valid and "type-error" in error_types(report)


def test_the_validation_checks_foreign_keys_between_files(client, nantes, tmp_path):
    factories.CommitmentFactory(contract=nantes, title="Engagement orphelin", status=S.CONFIRMED)
    download_package(client, tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "engagements.csv").read_text(encoding="utf-8"))))
    orphan = next(r for r in rows if r["intitule"] == "Engagement orphelin")
    path = tmp_path / "partenaires.csv"
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    kept = [line for line in lines if not line.startswith(orphan["partenaire"] + ",")]
    assert len(kept) == len(lines) - 1
    path.write_bytes("\r\n".join(kept).encode("utf-8"))
    report = validate(tmp_path)
    assert not report.valid and "foreign-key" in error_types(report)


def test_an_archived_action_stays_in_the_open_data_with_its_archive_date(client, nantes):
    """Archivée, une action quitte les pages publiques mais reste dans les fichiers (des engagements y
    renvoient), avec sa date d'archivage ; une action en vigueur a la colonne vide."""
    import datetime

    from django.utils import timezone

    from cdv.plan.models import Action

    action = Action.objects.for_contract(nantes).order_by("pk").first()
    Action.objects.filter(pk=action.pk).update(
        archived_at=timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0))
    )
    rows = {int(row["id"]): row for row in csv_rows(client, "actions")}
    assert rows[action.pk]["archive_le"] == "2026-03-02"
    assert all(row["archive_le"] == "" for pk, row in rows.items() if pk != action.pk)
    objectives = csv_rows(client, "objectifs")
    assert objectives and all(row["archive_le"] == "" for row in objectives)
