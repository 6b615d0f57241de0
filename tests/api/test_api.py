import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.contracts.enums import ContractStatus
from cdv.territories.models import Qpv
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.reference]


def test_openapi_is_3_1_and_documents_every_endpoint(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/v1/qpv", "/api/v1/qpv/{code}", "/api/v1/contracts", "/api/v1/contracts/{slug}"} <= set(
        spec["paths"]
    )


def test_list_qpv_is_paginated_over_the_whole_2024_geography(client, national_qpv_count):
    data = client.get("/api/v1/qpv", {"limit": 10}).json()
    assert data["count"] == national_qpv_count
    assert len(data["items"]) == 10
    assert "geometry" not in data["items"][0]


def test_list_qpv_by_epci_and_by_contract(client):
    by_epci = client.get("/api/v1/qpv", {"epci": "244400404"}).json()
    by_contract = client.get("/api/v1/qpv", {"contract": "nantes-metropole-2024-2030"}).json()
    assert by_epci["count"] == by_contract["count"] == 15
    codes = [item["code"] for item in by_contract["items"]]
    assert codes == sorted(codes)
    bellevue = next(item for item in by_contract["items"] if item["code"] == "QN04405M")
    assert {c["name"] for c in bellevue["communes"]} == {"Nantes", "Saint-Herblain"}
    assert bellevue["predecessor"] == {"code": "QP044005", "name": "Bellevue"}
    carene = client.get("/api/v1/qpv", {"epci": "244400644"}).json()
    assert {item["code"] for item in carene["items"]} == {"QN04401M", "QN04402I", "QN04403I"}


def test_list_qpv_search_by_name(client):
    data = client.get("/api/v1/qpv", {"q": "malakoff"}).json()
    assert [item["code"] for item in data["items"]] == ["QN04413M"]


def test_list_qpv_2015_geography(client):
    data = client.get("/api/v1/qpv", {"geography": "2015"}).json()
    assert data["count"] == 19
    assert all(item["code"].startswith("QP") for item in data["items"])


def test_bad_filters_get_a_french_error_naming_the_parameter(client):
    response = client.get("/api/v1/qpv", {"epci": "12"})
    assert response.status_code == 422
    body = response.json()
    assert "epci" in body["detail"] and "format invalide" in body["detail"]
    response = client.get("/api/v1/qpv", {"geography": "2030"})
    assert response.status_code == 422
    assert "geography" in response.json()["detail"]


def test_unknown_epci_or_contract_is_a_404_with_a_message(client):
    response = client.get("/api/v1/qpv", {"epci": "200072726"})  # chargé : Châteaubriant-Derval
    assert response.status_code == 200
    response = client.get("/api/v1/qpv", {"epci": "244400405"})
    assert response.status_code == 404
    assert "SIREN 244400405" in response.json()["detail"]
    response = client.get("/api/v1/qpv", {"contract": "inconnu"})
    assert response.status_code == 404


def test_qpv_detail_has_its_geojson_geometry(client):
    data = client.get("/api/v1/qpv/QN04413M").json()
    assert data["name"] == "Malakoff"
    assert data["geometry"]["type"] == "MultiPolygon"
    assert data["contracts"] == ["nantes-metropole-2024-2030"]
    assert client.get("/api/v1/qpv/qn04413m").json()["code"] == "QN04413M"
    missing = client.get("/api/v1/qpv/QN99999M")
    assert missing.status_code == 404
    assert "QN99999M" in missing.json()["detail"]


def test_contracts_list_and_detail(client):
    items = client.get("/api/v1/contracts").json()["items"]
    assert [c["slug"] for c in items] == ["nantes-metropole-2024-2030"]
    assert items[0]["qpv_count"] == 15
    data = client.get("/api/v1/contracts/nantes-metropole-2024-2030").json()
    assert data["epci"] == {"code": "244400404", "name": "Nantes Métropole"}
    assert len(data["qpvs"]) == 15
    assert [e["number"] for e in data["enjeux"]] == [1, 2, 3, 4]
    assert sum(1 for s in data["signatories"] if s["kind"] == "SIGNATAIRE") == 9
    assert any(m["kind"] == "EVALUATION_MI_PARCOURS" and m["year"] == 2027 for m in data["milestones"])
    poverty = next(
        f for f in data["key_figures"] if f["code"] == "part-des-habitants-sous-le-seuil-de-pauvrete"
    )
    assert float(poverty["gap_points"]) == 32
    assert float(poverty["gap_ratio"]) == 3.7
    assert client.get("/api/v1/contracts/inconnu").status_code == 404


def test_a_contract_in_preparation_is_hidden_from_anonymous_users(client):
    draft = factories.ContractFactory(status=ContractStatus.PREPARING, slug="brouillon")
    assert client.get("/api/v1/contracts/brouillon").status_code == 404
    assert "brouillon" not in [c["slug"] for c in client.get("/api/v1/contracts").json()["items"]]
    member = factories.MembershipFactory(contract=draft, role="EVALUATEUR").user
    client.force_login(member)
    assert client.get("/api/v1/contracts/brouillon").status_code == 200


def test_query_count_does_not_grow_with_the_data(client):
    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    list_url = "/api/v1/qpv?limit=500"
    detail_url = "/api/v1/contracts/nantes-metropole-2024-2030"
    before = (count(list_url), count(detail_url))
    nantes_qpv = Qpv.objects.get(code="QN04413M")
    for qpv in Qpv.objects.filter(code__startswith="QN0")[:40]:
        qpv.parents.add(*nantes_qpv.parents.all())
    from cdv.contracts.models import Contract

    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    contract.qpvs.add(*Qpv.objects.filter(code__startswith="QN01")[:20])
    for year in range(2024, 2030):
        factories.MilestoneFactory(contract=contract, year=year, kind="AUTRE")
    for partner in factories.PartnerFactory.create_batch(5):
        factories.SignatoryFactory(contract=contract, partner=partner)
    after = (count(list_url), count(detail_url))
    assert after == before
    assert max(after) <= 10
