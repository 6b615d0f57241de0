"""Écritures de l'API sur le dossier de sa propre association : les mêmes services que les pages,
les mêmes refus (403, 404 pour le dossier d'une autre association, 422 en français nommant le
champ, 409 en cas de conflit), et rien ne change quand c'est refusé."""

import pytest

from cdv.grants.enums import ApplicationStatus
from cdv.grants.models import Application
from cdv.users.services import create_api_token
from tests import factories

from .applying_helpers import association, complete_application, referent_of

pytestmark = pytest.mark.django_db

API = "/api/v1/contracts"


def auth(user):
    return {"HTTP_AUTHORIZATION": "Bearer " + create_api_token(user=user, name="test")[1]}


def send(client, method, url, user, data):
    return getattr(client, method)(url, data, content_type="application/json", **auth(user))


@pytest.fixture
def setup():
    call = factories.CallFactory(year=2025)
    funder = factories.CallFunderFactory(call=call)
    factories.CallFunderFactory(call=call)  # deux financeurs : le dossier complet est équilibré
    asso = association()
    other = association(siret="", rna="W442000999")
    referent = referent_of(asso, call.contract)
    stranger = referent_of(other, call.contract)
    base = f"{API}/{call.contract.slug}/calls/2025/applications"
    return {
        "call": call,
        "funder": funder,
        "asso": asso,
        "referent": referent,
        "stranger": stranger,
        "base": base,
    }


def test_the_referent_creates_fills_and_submits_an_application(client, setup):
    s = setup
    created = send(client, "post", s["base"], s["referent"], {"partner": s["asso"].slug, "title": "Ateliers"})
    assert created.status_code == 201, created.content
    ref = created.json()["ref"]
    assert ref.startswith("brouillon-") and created.json()["status"] == "BROUILLON"
    application = Application.objects.get(partner=s["asso"])
    patched = send(
        client,
        "patch",
        f"{s['base']}/{ref}",
        s["referent"],
        {"version": created.json()["version"], "summary": "Des ateliers d'écriture", "years": 2},
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["summary"] == "Des ateliers d'écriture" and patched.json()["years"] == 2
    budget = send(
        client,
        "put",
        f"{s['base']}/{ref}/budget",
        s["referent"],
        {
            "version": patched.json()["version"],
            "lines": [{"account": "64", "label": "Animatrice", "amount": "5000"}],
            "requests": [{"funder": s["funder"].partner.slug, "amount": "5000", "later_amounts": ["1000"]}],
        },
    )
    assert budget.status_code == 200, budget.content
    assert [b["amount"] for b in budget.json()["budget"]] == ["5000.00"]
    assert [(line["requested_amount"], line["later_amounts"]) for line in budget.json()["funder_lines"]] == [
        ("5000.00", ["1000.00"])
    ]
    application.refresh_from_db()
    assert application.summary == "Des ateliers d'écriture"


def test_submitting_gives_a_number(client, setup):
    s = setup
    application = complete_application(call=s["call"], partner=s["asso"])
    response = send(
        client,
        "post",
        f"{s['base']}/brouillon-{application.pk}/submit",
        s["referent"],
        {"sworn_name": "Camille Martin", "sworn_statement": True, "republican_contract": True},
    )
    assert response.status_code == 200, response.content
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and application.number
    assert response.json()["ref"] == application.number


def test_submitting_without_the_sworn_statement_is_refused_in_french(client, setup):
    s = setup
    application = complete_application(call=s["call"], partner=s["asso"])
    response = send(
        client,
        "post",
        f"{s['base']}/brouillon-{application.pk}/submit",
        s["referent"],
        {"sworn_name": "Camille Martin", "sworn_statement": False, "republican_contract": True},
    )
    assert response.status_code == 422, response.content
    assert "sworn_statement" in response.json()["detail"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT and application.number == ""


def test_another_associations_application_is_a_404_and_unchanged(client, setup):
    s = setup
    application = factories.ApplicationFactory(call=s["call"], partner=s["asso"], summary="Avant")
    url = f"{s['base']}/brouillon-{application.pk}"
    for method, path, data in [
        ("patch", "", {"version": 1, "summary": "Pirate"}),
        ("put", "/budget", {"version": 1, "lines": []}),
        ("post", "/submit", {"sworn_name": "X", "sworn_statement": True, "republican_contract": True}),
    ]:
        response = send(client, method, url + path, s["stranger"], data)
        assert response.status_code == 404, (path, response.content)
    application.refresh_from_db()
    assert application.summary == "Avant" and not application.budget_lines.exists()


def test_creating_for_another_association_is_refused(client, setup):
    s = setup
    other = association(siret="", rna="W442000777")
    response = send(client, "post", s["base"], s["referent"], {"partner": other.slug})
    assert response.status_code == 403, response.content
    assert not Application.objects.filter(call=s["call"]).exists()


def test_bad_input_names_the_field_in_french_and_changes_nothing(client, setup):
    s = setup
    application = factories.ApplicationFactory(call=s["call"], partner=s["asso"], summary="Avant")
    url = f"{s['base']}/brouillon-{application.pk}"
    foreign = factories.QpvFactory()
    # 422 : le schéma refuse la requête ; 409 : elle est conforme, les données la refusent (un code
    # inconnu de ce contrat ou de cet appel).
    cases = [
        ("patch", "", {"version": 1, "qpvs": [foreign.code]}, "qpvs", 409),
        ("patch", "", {"version": 1, "years": 9}, "years", 422),
        ("patch", "", {"version": 1, "objective": "9.9"}, "objective", 409),
        ("put", "/budget", {"version": 1, "lines": [{"account": "64", "amount": "-5"}]}, "lines", 422),
        ("put", "/budget", {"version": 1, "lines": [{"account": "99", "amount": "5"}]}, "lines", 422),
        (
            "put",
            "/budget",
            {"version": 1, "requests": [{"funder": "inconnu", "amount": "5"}]},
            "requests",
            409,
        ),
    ]
    for method, path, data, field, status in cases:
        response = send(client, method, url + path, s["referent"], data)
        assert response.status_code == status, (data, response.content)
        assert field in response.json()["detail"], response.json()
    application.refresh_from_db()
    assert application.summary == "Avant" and application.version == 1
    assert (
        not application.budget_lines.exists()
        and not application.qpvs.exclude(pk__in=s["call"].contract.qpvs.all()).exists()
    )


def test_a_stale_version_is_a_409_listing_the_changes(client, setup):
    s = setup
    application = factories.ApplicationFactory(call=s["call"], partner=s["asso"], summary="Avant")
    url = f"{s['base']}/brouillon-{application.pk}"
    first = send(client, "patch", url, s["referent"], {"version": 1, "summary": "Première"})
    assert first.status_code == 200
    second = send(client, "patch", url, s["referent"], {"version": 1, "summary": "Seconde"})
    assert second.status_code == 409, second.content
    assert second.json()["changes"][0][0] == "summary"
    application.refresh_from_db()
    assert application.summary == "Première"


def test_writes_need_a_token(client, setup):
    response = client.post(setup["base"], {"partner": setup["asso"].slug}, content_type="application/json")
    assert response.status_code == 401
    assert not Application.objects.filter(call=setup["call"]).exists()
