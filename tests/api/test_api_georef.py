"""API « Est-ce en QPV ? » : GET pour un point, POST pour une liste (points ou adresses), limites,
validation en français, ordre des réponses. Les adresses vont à un faux BAN local."""

import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from shapely.geometry import shape

from cdv.api.georef import MAX_ADDRESSES, MAX_POINTS
from cdv.territories.models import Qpv
from tests.fake_ban import FakeBan

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

URL = "/api/v1/georef"
OUTSIDE = (-1.5536, 47.2184)


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def inside():
    point = shape(Qpv.objects.get(code="QN04413M", geography="2024").geometry).representative_point()
    return point.x, point.y


def post(client, body, **headers):
    return client.post(URL, body, content_type="application/json", **headers)


def test_get_one_point_inside_and_outside(client, inside):
    response = client.get(URL, {"lon": inside[0], "lat": inside[1]})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "DANS_QPV" and data["qpv"]["code"] == "QN04413M" and data["qpv"]["name"]
    assert data["geography"] == "2024" and data["reason"] is not None
    assert response["Cache-Control"] == "public, max-age=300"
    data = client.get(URL, {"lon": OUTSIDE[0], "lat": OUTSIDE[1]}).json()
    assert data["status"] == "HORS_QPV" and data["qpv"] is None


def test_get_validates_in_french(client):
    response = client.get(URL, {"lon": "200", "lat": "47"})
    assert response.status_code == 422
    assert "lon : doit être inférieur ou égal à 180" in response.json()["detail"]
    response = client.get(URL, {"lat": "47"})
    assert response.status_code == 422 and "lon : valeur obligatoire" in response.json()["detail"]
    response = client.get(URL, {"lon": "-1.5", "lat": "47", "geography": "2030"})
    assert response.status_code == 422 and "geography" in response.json()["detail"]


def test_get_in_2015_geography(client, inside):
    """Les contours 2015 ne sont pas livrés : 404 qui le dit (jamais une erreur serveur)."""
    response = client.get(URL, {"lon": inside[0], "lat": inside[1], "geography": "2015"})
    if response.status_code == 200:
        assert response.json()["geography"] == "2015"
    else:
        assert response.status_code == 404 and "géographie 2015" in response.json()["detail"]


def test_post_points_keeps_order_with_status_and_reason(client, inside):
    points = [
        {"lon": OUTSIDE[0], "lat": OUTSIDE[1]},
        {"lon": inside[0], "lat": inside[1]},
        {"lon": 500, "lat": 47},  # hors limites : refusé sans faire échouer les autres
        {"lon": 47.2, "lat": -1.55},  # inversés
    ]
    response = post(client, {"points": points})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["count"] == 4 and data["in_qpv"] == 1 and data["geography"] == "2024"
    results = data["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == ["HORS_QPV", "DANS_QPV", "ENTREE_INVALIDE", "ENTREE_INVALIDE"]
    assert results[1]["qpv"]["code"] == "QN04413M"
    assert results[2]["reason"] and results[3]["reason"]
    assert response["Cache-Control"] == "private, no-store"


def test_post_limits_are_enforced_in_french(client):
    too_many = [{"lon": 0.0, "lat": 45.0}] * (MAX_POINTS + 1)
    response = post(client, {"points": too_many})
    assert response.status_code == 422 and f"{MAX_POINTS} au plus" in response.json()["detail"]
    assert post(client, {"points": [{"lon": 0.0, "lat": 45.0}] * MAX_POINTS}).status_code == 200
    response = post(client, {"addresses": [{"q": "8 bd du port"}] * (MAX_ADDRESSES + 1)})
    assert response.status_code == 422 and f"{MAX_ADDRESSES} au plus" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "soit « points », soit « addresses »"),
        ({"points": [], "addresses": []}, "soit « points », soit « addresses »"),
        ({"points": [{"lon": "abc", "lat": 47}]}, "points.0.lon"),
        ({"points": [{"lat": 47}]}, "valeur obligatoire"),
        ({"addresses": [{"q": "x", "postcode": "4400"}]}, "postcode"),
        ({"points": [{"lon": 1, "lat": 45}], "min_score": 2}, "min_score"),
    ],
)
def test_post_validation(client, body, message):
    response = post(client, body)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_post_unreadable_body(client):
    response = client.post(URL, "pas du json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert "JSON" in response.json()["detail"]


def test_post_addresses_are_geocoded_in_order(client, inside):
    fake = {
        "12 rue du quartier": (inside[0], inside[1], 0.9, "12 Rue du Quartier 44000 Nantes", "44000", "44109")
    }
    addresses = [
        {"q": "12 rue du Quartier Nantes"},
        {"address": "1 place du Commerce", "city": "Nantes", "postcode": "44000"},
        {"q": "rue floue"},
        {"q": "nulle part"},
        {"q": "  "},
    ]
    with FakeBan(fake) as ban, override_settings(BAN_BASE_URL=ban.base_url):
        response = post(client, {"addresses": addresses})
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "DANS_QPV",
        "HORS_QPV",
        "SCORE_FAIBLE",
        "NON_GEOCODE",
        "ENTREE_INVALIDE",
    ]
    assert results[0]["qpv"]["code"] == "QN04413M" and results[0]["score"] == pytest.approx(0.9)
    assert results[1]["label"] == "1 Place du Commerce 44000 Nantes"
    assert results[2]["lon"] is not None and "0.31" in results[2]["reason"]
    assert len(ban.csv_requests()) == 2  # un lot avec code postal, un lot sans


def test_min_score_is_a_parameter(client):
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        response = post(client, {"addresses": [{"q": "rue floue"}], "min_score": 0.2})
    assert response.json()["results"][0]["status"] == "HORS_QPV"


def test_addresses_without_network_are_not_geocoded_but_points_still_work(client, inside):
    response = post(client, {"addresses": [{"q": "8 bd du port"}]})  # réglage des tests : port fermé
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["status"] == "NON_GEOCODE" and "Service de géocodage indisponible" in result["reason"]
    assert post(client, {"points": [{"lon": inside[0], "lat": inside[1]}]}).json()["in_qpv"] == 1


@override_settings(GEOREF_API_ADDRESS_RATE="2/m")
def test_address_calls_are_rate_limited_per_ip(client, inside):
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        assert post(client, {"addresses": [{"q": "8 bd du port"}]}).status_code == 200
        assert post(client, {"addresses": [{"q": "8 bd du port"}]}).status_code == 200
        response = post(client, {"addresses": [{"q": "8 bd du port"}]})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1 and "Trop d'appels avec adresses" in response.json()["detail"]
    assert (
        post(client, {"points": [{"lon": inside[0], "lat": inside[1]}]}).status_code == 200
    )  # points : libres


def test_invalid_token_is_refused_rather_than_anonymous(client):
    response = client.get(URL, {"lon": 0, "lat": 45}, headers={"Authorization": "Bearer faux"})
    assert response.status_code == 401


def test_openapi_documents_the_limits(client):
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/georef"]["post"]
    assert f"{MAX_POINTS}" in operation["description"] and "429" in operation["responses"]
    assert {"401", "404", "422"} <= set(spec["paths"]["/api/v1/georef"]["get"]["responses"])
    assert "Géoréférencement" in {t["x-displayName"] for t in spec["tags"]}


@override_settings(GEOREF_API_ADDRESS_RATE="2/m")
def test_a_forged_forwarded_for_does_not_escape_the_rate_limit(client):
    """Sans mandataire configuré, X-Forwarded-For est ignoré : une adresse neuve par appel ne sert à rien."""
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        codes = [
            post(
                client, {"addresses": [{"q": "8 bd du port"}]}, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"
            ).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 429]


@override_settings(GEOREF_API_ADDRESS_RATE="2/m", CDV_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_saw(client):
    """Derrière nginx, chaque client a sa limite ; ce qu'il écrit à gauche de l'en-tête ne compte pas."""
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        body = {"addresses": [{"q": "8 bd du port"}]}
        forged = [post(client, body, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 198.51.100.66") for i in range(3)]
        other = post(client, body, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert [r.status_code for r in forged] == [200, 200, 429]
    assert other.status_code == 200


@override_settings(BAN_INTERACTIVE_TIMEOUT=0.3, BAN_INTERACTIVE_BUDGET=1)
def test_a_slow_geocoder_holds_an_api_call_only_briefly(client):
    with FakeBan() as ban, override_settings(BAN_BASE_URL=ban.base_url):
        ban.delay = 2
        started = time.monotonic()
        response = post(client, {"addresses": [{"q": "8 bd du port"}]})
        elapsed = time.monotonic() - started
    assert response.status_code == 200 and elapsed < 1.5
    (result,) = response.json()["results"]
    assert result["status"] == "NON_GEOCODE" and "Service de géocodage indisponible" in result["reason"]
