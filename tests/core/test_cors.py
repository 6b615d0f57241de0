"""CORS : les ressources publiques en lecture se lisent depuis un autre site, sans identifiants ;
rien d'autre (pages privées, écritures, appels avec un jeton ou une session)."""

import pytest

from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories

pytestmark = pytest.mark.django_db

SLUG = "nantes-metropole-2024-2030"
ORIGIN = "https://carto.example.org"
PUBLIC_GETS = [
    "/api/v1/contracts",
    f"/api/v1/contracts/{SLUG}",
    "/api/v1/qpv?epci=244400404",
    "/api/v1/qpv/QN04413M",
    f"/contrats/{SLUG}/donnees/datapackage.json",
    f"/contrats/{SLUG}/donnees/quartiers.csv",
    f"/contrats/{SLUG}/donnees/quartiers.geojson",
    f"/contrats/{SLUG}/carte.geojson",
    f"/contrats/{SLUG}/agenda.ics",
    f"/contrats/{SLUG}/actualites.atom",
]


def assert_no_cors(response):
    cors = {
        name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")
    }
    assert cors == {}


@pytest.mark.parametrize("url", PUBLIC_GETS)
def test_public_reads_allow_any_origin_without_credentials(client, nantes, url):
    response = client.get(url, headers={"Origin": ORIGIN})
    assert response.status_code == 200, url
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    # Sans Origin aussi : une même réponse, gardable par un cache partagé, pour tous.
    assert client.get(url)["Access-Control-Allow-Origin"] == "*"


def test_a_script_elsewhere_can_read_the_etag_and_file_name(client, nantes):
    response = client.get(f"/contrats/{SLUG}/donnees/quartiers.csv", headers={"Origin": ORIGIN})
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "content-disposition"} <= exposed


@pytest.mark.parametrize("url", PUBLIC_GETS)
def test_preflight_of_a_public_read_is_answered(client, nantes, url):
    response = client.options(
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept, if-none-match",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "POST" not in response["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"accept", "if-none-match"} <= allowed and "authorization" not in allowed
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "headers"),
    [("POST", ""), ("PATCH", "content-type"), ("GET", "authorization"), ("DELETE", "")],
)
def test_preflight_for_a_write_or_a_token_is_not_allowed(client, nantes, method, headers):
    request_headers = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    response = client.options(f"/api/v1/contracts/{SLUG}/commitments", headers=request_headers)
    assert_no_cors(response)


@pytest.mark.parametrize(
    "url",
    [
        "/",  # page HTML : lue par un navigateur, pas par un script d'ailleurs
        f"/contrats/{SLUG}/donnees/",
        "/espace/",
        "/connexion/",
        "/admin/",
    ],
)
def test_pages_get_no_cors_headers(client, nantes, url):
    assert_no_cors(client.get(url, headers={"Origin": ORIGIN}))
    assert_no_cors(client.options(url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}))


def test_a_write_gets_no_cors_headers(client, nantes):
    response = client.post(
        f"/api/v1/contracts/{SLUG}/commitments",
        {},
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code >= 400
    assert_no_cors(response)


def test_an_api_call_with_a_token_gets_no_cors_headers(client, nantes):
    user = factories.MembershipFactory(contract=nantes, role=Role.EDITOR).user
    _, key = create_api_token(user=user, name="test")
    response = client.get("/api/v1/contracts", headers={"Origin": ORIGIN, "Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert_no_cors(response)
    bad = client.get("/api/v1/contracts", headers={"Origin": ORIGIN, "Authorization": "Bearer faux"})
    assert bad.status_code == 401
    assert_no_cors(bad)


def test_a_signed_in_session_gets_no_cors_headers(client, nantes):
    client.force_login(factories.MembershipFactory(contract=nantes, role=Role.PILOT).user)
    for url in ("/api/v1/contracts", f"/contrats/{SLUG}/donnees/datapackage.json"):
        response = client.get(url, headers={"Origin": ORIGIN})
        assert response.status_code == 200, url
        assert_no_cors(response)


def test_a_personal_calendar_address_gets_no_cors_headers(client, nantes):
    """L'adresse personnelle de l'agenda (``?cle=``) lit avec les droits d'un membre : pas de CORS."""
    assert_no_cors(client.get(f"/contrats/{SLUG}/agenda.ics?cle=1-abc", headers={"Origin": ORIGIN}))
