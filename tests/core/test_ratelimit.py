"""Limite d'appels (cdv/core/ratelimit.py) : chaque appel compte une fois, même quand le compteur
disparaît du cache (éviction) pendant qu'un autre serveur compte."""

import types

import pytest
from django.core.cache import cache

from cdv.core import ratelimit
from cdv.core.ratelimit import rate_limited


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    # Une heure fixe au milieu d'une minute : les appels d'un test tombent dans la même fenêtre.
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_800_000_030.0))
    cache.clear()
    yield
    cache.clear()


def test_calls_beyond_the_rate_wait_for_the_next_window(rf):
    request = rf.get("/", REMOTE_ADDR="192.0.2.1")
    assert [rate_limited(request, scope="essai", rate="2/m") for _ in range(2)] == [None, None]
    wait = rate_limited(request, scope="essai", rate="2/m")
    assert wait is not None and 1 <= wait <= 61
    other = rf.get("/", REMOTE_ADDR="192.0.2.2")
    assert rate_limited(other, scope="essai", rate="2/m") is None  # une autre adresse a son compteur


def test_a_counter_evicted_under_a_call_keeps_what_another_server_counted(rf, monkeypatch):
    """Le compteur est évincé du cache entre l'``add`` et l'``incr`` d'un serveur ; un autre serveur
    compte alors un appel. Le premier ne doit pas écraser ce compte en repartant de 1."""
    request = rf.get("/", REMOTE_ADDR="192.0.2.1")
    assert rate_limited(request, scope="essai", rate="2/m") is None  # le compteur existe
    real_incr = cache.incr
    raced = []

    def incr_after_eviction(key, delta=1, version=None):
        if raced:
            return real_incr(key, delta, version)
        raced.append(key)
        cache.delete(key)  # évincé…
        try:
            return real_incr(key, delta, version)  # … ValueError : clé absente
        finally:
            # … et, avant que ce serveur ne reparte, un autre compte un appel de la même adresse.
            assert rate_limited(request, scope="essai", rate="2/m") is None

    monkeypatch.setattr(cache, "incr", incr_after_eviction)
    assert rate_limited(request, scope="essai", rate="2/m") is None
    assert raced
    # Le premier appel est perdu avec le compteur évincé ; les deux suivants, comptés chacun par
    # un serveur, restent comptés : deux appels sur deux permis, le suivant attend.
    assert rate_limited(request, scope="essai", rate="2/m") is not None
