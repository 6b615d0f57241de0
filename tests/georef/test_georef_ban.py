"""Client du géocodeur BAN contre un faux service local (tests/fake_ban.py) : aucun test ne sort."""

import pytest
from django.test import override_settings

from cdv.georef.ban import BanGeocoder, GeocoderUnavailable, _retry_after
from tests.fake_ban import FakeBan


@pytest.fixture
def ban():
    with FakeBan() as fake:
        yield fake


def geocoder(ban, **kwargs):
    sleeps = []
    options = {"retries": 3, "backoff": 0.5, "timeout": 2, "sleep": sleeps.append, **kwargs}
    return BanGeocoder(ban.base_url, **options), sleeps


def test_batch_in_chunks_keeps_order_score_and_label(ban):
    client, sleeps = geocoder(ban, batch_size=2)
    batch = [
        {"q": "8 bd du Port", "city": "Amiens"},
        {"q": "", "city": ""},  # vide : pas envoyé
        {"q": "adresse qui n'existe pas"},
        {"q": "1 place du Commerce", "city": "Nantes"},
        {"q": "rue floue"},
    ]
    results = client.geocode(batch)
    assert len(results) == 5
    assert results[0].label == "8 Boulevard du Port 80000 Amiens"
    assert results[0].score == pytest.approx(0.93)
    assert (results[0].lon, results[0].lat) == pytest.approx((2.290084, 49.897443))
    assert results[1] is None and results[2] is None
    assert results[3].label.startswith("1 Place du Commerce")
    assert results[4].score == pytest.approx(0.31)  # score faible gardé tel quel : le pipeline décide
    posts = ban.csv_requests()
    assert [rows for *_, rows in posts] == [2, 2]  # 4 adresses non vides, paquets de 2
    assert posts[0][2]["columns"] == ["q", "city"]
    assert sleeps == []


def test_postcode_and_citycode_are_filters_not_query_columns(ban):
    client, _ = geocoder(ban)
    found, filtered = client.geocode(
        [{"q": "8 bd du port", "postcode": "80000"}, {"q": "8 bd du port", "postcode": "44000"}]
    )
    assert found is not None and filtered is None
    fields = ban.csv_requests()[0][2]
    assert fields["columns"] == ["q"] and fields["postcode"] == ["postcode"]


def test_retries_with_exponential_backoff_on_500_then_succeeds(ban):
    client, sleeps = geocoder(ban)
    ban.fail(2, status=500)
    (result,) = client.geocode([{"q": "8 bd du port"}])
    assert result is not None
    assert sleeps == [0.5, 1.0]
    assert len(ban.csv_requests()) == 3


def test_429_honours_retry_after(ban):
    client, sleeps = geocoder(ban)
    ban.fail(1, status=429, retry_after="3")
    (result,) = client.geocode([{"q": "8 bd du port"}])
    assert result is not None
    assert sleeps == [3.0]


def test_retry_after_is_capped_and_read_as_http_date():
    assert _retry_after("7") == 7.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # date passée
    assert _retry_after("n'importe quoi") is None


def test_gives_up_after_last_retry_with_french_message(ban):
    client, sleeps = geocoder(ban, retries=2)
    ban.fail(10, status=503)
    with pytest.raises(GeocoderUnavailable, match="Service de géocodage indisponible.*3 essais"):
        client.geocode([{"q": "8 bd du port"}])
    assert sleeps == [0.5, 1.0]
    assert len(ban.csv_requests()) == 3


def test_client_error_is_not_retried(ban):
    client, sleeps = geocoder(ban)
    ban.fail(1, status=400)
    with pytest.raises(GeocoderUnavailable, match="refusé la demande \\(erreur 400\\)"):
        client.geocode([{"q": "8 bd du port"}])
    assert sleeps == []


def test_timeout_is_retried_then_reported(ban):
    client, sleeps = geocoder(ban, timeout=0.2, retries=1)
    ban.delay = 1.0
    with pytest.raises(GeocoderUnavailable, match="pas de réponse en 0.2 s"):
        client.geocode([{"q": "8 bd du port"}])
    assert sleeps == [0.5]


def test_unreachable_service_gives_a_clear_error():
    client = BanGeocoder("http://127.0.0.1:9", retries=1, backoff=0, sleep=lambda s: None)
    with pytest.raises(GeocoderUnavailable, match="service injoignable"):
        client.geocode([{"q": "8 bd du port"}])


def test_geocode_one_uses_the_search_endpoint(ban):
    client, _ = geocoder(ban)
    result = client.geocode_one("8 bd du Port Amiens")
    assert result.label == "8 Boulevard du Port 80000 Amiens" and result.score == pytest.approx(0.93)
    assert client.geocode_one("inconnue au bataillon") is None
    assert client.geocode_one("ab") is None  # trop court : pas d'appel
    method, path, params, _ = ban.requests[0]
    assert (method, path, params["limit"]) == ("GET", "/search/", "1")
    assert len(ban.requests) == 2


def test_geocode_one_retries_too(ban):
    client, sleeps = geocoder(ban)
    ban.fail(1, status=502)
    assert client.geocode_one("8 bd du port") is not None
    assert sleeps == [0.5]


def test_base_url_and_options_come_from_settings(ban):
    with override_settings(BAN_BASE_URL=ban.base_url + "/", BAN_BATCH_SIZE=1, BAN_RETRIES=0):
        client = BanGeocoder()
    assert client.base_url == ban.base_url and client.batch_size == 1 and client.retries == 0
    client.geocode([{"q": "8 bd du port"}, {"q": "rue floue"}])
    assert len(ban.csv_requests()) == 2


def test_too_large_batch_is_split(ban):
    client, _ = geocoder(ban, batch_size=4)
    ban.fail(1, status=413)
    results = client.geocode([{"q": "8 bd du port"}] * 4)
    assert all(r is not None for r in results)
    assert [rows for *_, rows in ban.csv_requests()] == [4, 2, 2]
