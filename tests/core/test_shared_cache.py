"""Plusieurs serveurs, un cache commun (REDIS_URL) : un vrai Redis, lancé par le test, et deux
connexions réglées comme en production (config/settings/base.py, REDIS_CACHE), une par « serveur ».

- la génération du cache des pages publiques est commune : une écriture sur un serveur rend
  périmées les pages gardées par l'autre, et une page gardée par l'un est servie par l'autre ;
- la limite d'appels compte les appels reçus par les deux serveurs, atomiquement, même lancés au
  même instant ; ses compteurs expirent.
"""

import socket
import threading
import types

import pytest
from django.core.cache import caches
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from cdv.core import pagecache, ratelimit
from config.settings.base import REDIS_CACHE
from tests.redis_server import RedisServer


@pytest.fixture(scope="module")
def redis_url():
    with RedisServer() as server:
        yield server.url


class PerThreadCache:
    """Le ``cache`` des modules testés, aiguillé vers le cache du « serveur » du fil courant."""

    def __init__(self):
        self.local = threading.local()

    def serve_from(self, server_cache):
        self.local.cache = server_cache

    def __getattr__(self, name):
        return getattr(self.local.cache, name)


@pytest.fixture
def servers(redis_url, monkeypatch, settings):
    """Deux caches Redis distincts (connexions à eux) sur le même serveur Redis, et l'aiguillage."""
    settings.CDV_PUBLIC_CACHE_SECONDS = 60
    with override_settings(CACHES={"default": {**REDIS_CACHE, "LOCATION": redis_url}}):
        a, b = caches.create_connection("default"), caches.create_connection("default")
    assert a is not b and a._cache is not b._cache
    a.clear()
    switch = PerThreadCache()
    monkeypatch.setattr(pagecache, "cache", switch)
    monkeypatch.setattr(ratelimit, "cache", switch)
    yield a, b, switch
    a.clear()
    for server_cache in (a, b):  # RedisCache.close() garde ses connexions : on les ferme
        for pool in server_cache._cache._pools.values():
            pool.disconnect()


class Visitor:
    """Un identifiant d'utilisateur pour la requête (le middleware d'authentification n'est pas là)."""

    def __init__(self, authenticated):
        self.is_authenticated = authenticated


def page_cache_middleware(served):
    """Le middleware des pages publiques devant une vue publique qui compte ses calculs."""

    def view(request):
        if request.method == "POST":
            return HttpResponse("enregistré")
        served.append(request.path)
        response = HttpResponse(f"<p>calcul n° {len(served)}</p>")
        response["Cache-Control"] = "public, max-age=60"
        return response

    return pagecache.PublicPageCacheMiddleware(view)


def request(method="get", *, signed_in=False):
    made = getattr(RequestFactory(), method)("/contrats/exemple/")
    made.user = Visitor(signed_in)
    return made


def test_a_page_kept_by_one_server_is_served_by_the_other_until_a_write_on_either(servers):
    a, b, switch = servers
    served = []
    server_a, server_b = page_cache_middleware(served), page_cache_middleware(served)

    switch.serve_from(a)
    first = server_a(request())
    switch.serve_from(b)
    second = server_b(request())
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert second.content == first.content == b"<p>calcul n\xc2\xb0 1</p>"
    assert second["Content-Type"] == first["Content-Type"]

    # Une écriture d'une personne connectée sur B : A ne sert plus sa page gardée.
    switch.serve_from(b)
    assert server_b(request("post", signed_in=True)).status_code == 200
    switch.serve_from(a)
    after = server_a(request())
    assert after["X-Cache"] == "miss" and after.content == b"<p>calcul n\xc2\xb0 2</p>"
    switch.serve_from(b)
    assert server_b(request())["X-Cache"] == "hit"
    assert len(served) == 2


def test_both_servers_read_the_same_generation_and_see_its_bump(servers):
    a, b, switch = servers
    switch.serve_from(a)
    generation = pagecache._generation()
    switch.serve_from(b)
    assert pagecache._generation() == generation
    pagecache.bump_generation()
    bumped = pagecache._generation()
    switch.serve_from(a)
    assert pagecache._generation() == bumped != generation


def test_a_kept_page_expires_with_the_public_cache_duration(servers):
    a, b, switch = servers
    switch.serve_from(a)
    page_cache_middleware([])(request())
    client = b._cache.get_client()
    page_keys = [key for key in client.keys("*public-cache*") if b"generation" not in key]
    assert len(page_keys) == 1
    assert 0 < client.ttl(page_keys[0]) <= 60


@pytest.fixture
def fixed_window(monkeypatch):
    """Une heure fixe au milieu d'une minute : les appels d'un test tombent dans la même fenêtre."""
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.mark.usefixtures("fixed_window")
def test_the_rate_limit_counts_the_calls_received_by_both_servers(servers, rf):
    a, b, switch = servers
    call = rf.get("/", REMOTE_ADDR="192.0.2.7")
    answers = []
    for server_cache in (a, b, a, b, a, b):
        switch.serve_from(server_cache)
        answers.append(ratelimit.rate_limited(call, scope="essai", rate="4/m"))
    assert answers[:4] == [None] * 4
    assert all(wait is not None and wait >= 1 for wait in answers[4:])
    # Le compteur expire avec sa fenêtre : rien n'est gardé pour toujours.
    client = a._cache.get_client()
    (key,) = client.keys("*cdv-limite:essai:192.0.2.7:*")
    assert 0 < client.ttl(key) <= 61


@pytest.mark.usefixtures("fixed_window")
def test_simultaneous_calls_on_two_servers_never_exceed_the_rate(servers, rf):
    """Quarante appels au même instant, vingt par serveur : exactement dix passent (compte atomique,
    aucun appel perdu ni compté deux fois)."""
    a, b, switch = servers
    call = rf.get("/", REMOTE_ADDR="192.0.2.8")
    start = threading.Barrier(40)
    answers = []

    def client(server_cache):
        switch.serve_from(server_cache)
        start.wait()
        answers.append(ratelimit.rate_limited(call, scope="rafale", rate="10/m"))

    threads = [threading.Thread(target=client, args=(server,)) for server in [a, b] * 20]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 40
    assert answers.count(None) == 10


def test_without_an_answer_from_redis_pages_are_computed_and_calls_pass(monkeypatch, rf, caplog):
    """Redis arrêté ou injoignable : le cache ne garde plus rien, mais le site répond (pages
    calculées, écritures confirmées, appels non limités) et le journal le signale."""
    with socket.socket() as probe:  # un port où personne n'écoute
        probe.bind(("127.0.0.1", 0))
        closed = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    with override_settings(CACHES={"default": {**REDIS_CACHE, "LOCATION": closed}}):
        down = caches.create_connection("default")
    monkeypatch.setattr(pagecache, "cache", down)
    monkeypatch.setattr(ratelimit, "cache", down)
    served = []
    middleware = page_cache_middleware(served)
    with override_settings(CDV_PUBLIC_CACHE_SECONDS=60):
        pages = [middleware(request()) for _ in range(2)]
        write = middleware(request("post", signed_in=True))
    assert [page.status_code for page in pages] == [200, 200] and len(served) == 2
    assert write.status_code == 200
    call = rf.get("/", REMOTE_ADDR="192.0.2.9")
    assert [ratelimit.rate_limited(call, scope="essai", rate="1/m") for _ in range(3)] == [None] * 3
    # Un avertissement au journal, pas un par opération : la connexion cesse d'interroger Redis un moment.
    warnings = [r for r in caplog.records if r.name == "cdv.core.rediscache"]
    assert len(warnings) == 1 and "Redis ne répond pas" in warnings[0].getMessage()
