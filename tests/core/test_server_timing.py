import re

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from cdv.core.middleware import ServerTimingMiddleware

# Syntaxe W3C Server Timing : métrique = nom *( ";" paramètre ) ; paramètre = nom "=" (jeton / chaîne
# entre guillemets) ; métriques séparées par des virgules.
TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
QUOTED = r'"(?:[^"\\\x00-\x1f\x7f]|\\.)*"'
METRIC = rf"{TOKEN}(?:\s*;\s*{TOKEN}=(?:{TOKEN}|{QUOTED}))*"
HEADER = re.compile(rf"^{METRIC}(?:\s*,\s*{METRIC})*$")
OURS = re.compile(
    r'db;dur=(\d+\.\d);desc="(\d+) (requetes?) SQL", app;dur=(\d+\.\d)(;desc="avant le flux")?$'
)


def parse(value):
    assert HEADER.match(value), value
    match = OURS.search(value)
    assert match, value
    db_ms, count, word, app_ms, streaming = match.groups()
    return float(db_ms), int(count), word, float(app_ms), bool(streaming)


def run_queries(n):
    with connection.cursor() as cursor:
        for _ in range(n):
            cursor.execute("SELECT 1")


def test_the_middleware_comes_first_to_measure_the_whole_request():
    assert settings.MIDDLEWARE[0] == "cdv.core.middleware.ServerTimingMiddleware"


@pytest.mark.django_db
@pytest.mark.reference  # pages du contrat de Nantes et d'un QPV réels
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/contrats/nantes-metropole-2024-2030/",
        "/contrats/nantes-metropole-2024-2030/indicateurs/",
        "/api/v1/contracts",
        "/api/v1/qpv/QN04405M",
    ],
)
def test_pages_carry_a_well_formed_header_with_the_exact_query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    db_ms, count, word, app_ms, streaming = parse(response["Server-Timing"])
    assert count == len(queries) > 0
    assert word == ("requete" if count == 1 else "requetes")
    assert 0 <= db_ms <= app_ms
    assert not streaming
    # Un en-tête HTTP se limite à l'ASCII (RFC 9110) : ni accent ni autre octet au-delà de 0x7F.
    assert all(byte < 0x80 for byte in response["Server-Timing"].encode("utf-8")), response["Server-Timing"]


@pytest.mark.django_db
def test_a_404_is_measured_too(client):
    response = client.get("/contrats/inconnu/")
    assert response.status_code == 404
    parse(response["Server-Timing"])


@pytest.mark.django_db
@pytest.mark.parametrize(("n", "label"), [(0, "0 requete SQL"), (1, "1 requete SQL"), (3, "3 requetes SQL")])
def test_counts_queries_with_debug_off(n, label):
    assert settings.DEBUG is False and not connection.force_debug_cursor

    def view(request):
        run_queries(n)
        return HttpResponse("ok")

    logged = len(connection.queries_log)
    response = ServerTimingMiddleware(view)(RequestFactory().get("/"))
    db_ms, count, *_ = parse(response["Server-Timing"])
    assert count == n and f'desc="{label}"' in response["Server-Timing"]
    assert response["Server-Timing"].isascii()
    if n == 0:
        assert db_ms == 0
    assert connection.execute_wrappers == []
    assert len(connection.queries_log) == logged  # aucune requête gardée en mémoire


@pytest.mark.django_db
def test_a_header_set_by_the_view_is_kept():
    def view(request):
        response = HttpResponse("ok")
        response["Server-Timing"] = 'cache;desc="hit"'
        return response

    value = ServerTimingMiddleware(view)(RequestFactory().get("/"))["Server-Timing"]
    assert value.startswith('cache;desc="hit", db;dur=')
    assert HEADER.match(value)


@pytest.mark.django_db
def test_streaming_responses_still_stream():
    consumed = []

    def rows():
        for i in range(3):
            run_queries(1)  # une requête pendant le flux, après l'envoi des en-têtes
            consumed.append(i)
            yield f"ligne {i}\n".encode()

    def view(request):
        run_queries(2)
        return StreamingHttpResponse(rows(), content_type="text/plain")

    response = ServerTimingMiddleware(view)(RequestFactory().get("/"))
    assert response.streaming and consumed == []  # rien n'a été lu d'avance
    db_ms, count, word, app_ms, streaming = parse(response["Server-Timing"])
    assert count == 2 and streaming
    assert connection.execute_wrappers == []
    assert b"".join(response.streaming_content) == b"ligne 0\nligne 1\nligne 2\n"
    assert consumed == [0, 1, 2]


@pytest.mark.django_db
def test_the_wrapper_is_removed_when_the_view_raises():
    def view(request):
        run_queries(1)
        raise RuntimeError("boum")

    with pytest.raises(RuntimeError):
        ServerTimingMiddleware(view)(RequestFactory().get("/"))
    assert connection.execute_wrappers == []


@pytest.mark.django_db
def test_failed_queries_are_counted():
    def view(request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM table_qui_n_existe_pas")
        except Exception:  # noqa: BLE001 — on vérifie seulement le comptage
            pass
        return HttpResponse("ok")

    with transaction.atomic():
        response = ServerTimingMiddleware(view)(RequestFactory().get("/"))
        transaction.set_rollback(True)
    assert parse(response["Server-Timing"])[1] == 1


@pytest.mark.django_db
def test_anonymous_visitors_do_not_get_the_header_in_production(client, django_user_model, settings):
    """Le nombre de requêtes dirait à un visiteur si un objet caché existe (404 en 2 requêtes ou en 5)."""
    settings.DEBUG = False
    settings.CDV_SERVER_TIMING = False
    url = "/contrats/nantes-metropole-2024-2030/engagements/999999/"
    assert "Server-Timing" not in client.get(url)
    assert "Server-Timing" not in client.get("/")
    staff = django_user_model.objects.create_user(
        email="equipe@example.org", password="x" * 16, is_staff=True
    )
    client.force_login(staff)
    assert "db;dur=" in client.get("/")["Server-Timing"]
    client.logout()
    settings.CDV_SERVER_TIMING = True  # banc d'essai : le réglage l'active pour tous
    assert "db;dur=" in client.get("/")["Server-Timing"]
