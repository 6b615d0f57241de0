"""Sessions : l'activité prolonge la session au plus une fois par minute (cdv/core/sessions.py).

Une personne connectée qui enchaîne les pages n'écrit plus sa session à chaque requête ; passé
``SESSION_RENEW_SECONDS``, la requête suivante la prolonge (base et cookie) ; l'inactivité
déconnecte toujours ; un visiteur n'a jamais de session créée pour lui."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.core import sessions
from tests import factories

pytestmark = pytest.mark.django_db
COOKIE = settings.SESSION_COOKIE_NAME


@pytest.fixture
def clock(monkeypatch):
    """L'horloge du middleware, qu'un test avance à la main."""
    state = {"now": 1_900_000_000}
    monkeypatch.setattr(sessions, "now", lambda: state["now"])
    return state


def session_writes(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    writes = [q["sql"] for q in queries if q["sql"].lstrip().startswith('UPDATE "django_session"')]
    return response, writes


def stored_expiry(client):
    return Session.objects.get(session_key=client.cookies[COOKIE].value).expire_date


def test_activity_renews_the_session_at_most_once_per_period(client, clock):
    client.force_login(factories.UserFactory())
    url = reverse("www:my_space")

    first, writes = session_writes(client, url)  # session jamais datée : prolongée
    assert first.status_code == 200
    assert len(writes) == 1 and COOKIE in first.cookies
    assert first.cookies[COOKIE]["max-age"] == settings.SESSION_COOKIE_AGE
    expiry = stored_expiry(client)

    clock["now"] += settings.SESSION_RENEW_SECONDS - 1
    second, writes = session_writes(client, url)
    assert second.status_code == 200
    assert writes == [] and COOKIE not in second.cookies  # rien d'écrit, cookie inchangé
    assert stored_expiry(client) == expiry

    clock["now"] += 1
    third, writes = session_writes(client, url)
    assert len(writes) == 1 and third.cookies[COOKIE]["max-age"] == settings.SESSION_COOKIE_AGE
    assert stored_expiry(client) > expiry


def test_a_clock_set_back_renews_the_session(client, clock):
    client.force_login(factories.UserFactory())
    url = reverse("www:my_space")
    client.get(url)
    clock["now"] -= 3600
    response, writes = session_writes(client, url)
    assert len(writes) == 1 and COOKIE in response.cookies


def test_inactivity_still_logs_out(client, clock):
    client.force_login(factories.UserFactory())
    url = reverse("www:my_space")
    assert client.get(url).status_code == 200
    Session.objects.filter(session_key=client.cookies[COOKIE].value).update(
        expire_date="2000-01-01T00:00:00Z"
    )
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("www:login"))


def test_a_modified_session_is_saved_at_once_and_dated(client, clock):
    """La connexion modifie la session : enregistrée tout de suite, et datée ; la page suivante,
    dans la minute, n'écrit rien."""
    user = factories.UserFactory()
    user.set_password("un mot de passe assez long")
    user.save()
    response = client.post(
        reverse("www:login"), {"username": user.email, "password": "un mot de passe assez long"}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    session = Session.objects.get(session_key=client.cookies[COOKIE].value).get_decoded()
    assert session[sessions.RENEWED_AT] == clock["now"]
    _, writes = session_writes(client, reverse("www:my_space"))
    assert writes == []


def test_a_visitor_gets_no_session(client, clock):
    before = Session.objects.count()
    response = client.get(reverse("www:home"))
    assert COOKIE not in response.cookies
    client.cookies[COOKIE] = "clé-d-une-session-disparue-depuis-longtemps"  # cookie périmé
    response = client.get(reverse("www:home"))
    assert Session.objects.count() == before  # aucune session créée pour lui
    assert response.cookies[COOKIE].value == ""  # et son cookie périmé effacé


def test_a_stale_cookie_creates_no_session_even_on_a_response_that_never_read_it(rf, clock):
    """Une réponse qui n'a lu ni la session ni la personne (le middleware seul) : la session d'un
    cookie périmé, relue pour sa date, est vide ; aucune n'est créée."""
    request = rf.get("/")
    request.COOKIES[COOKIE] = "abcdefghijklmnopqrstuvwxyz012345"
    before = Session.objects.count()
    response = sessions.IdleSessionMiddleware(lambda request: HttpResponse("ok"))(request)
    assert Session.objects.count() == before
    assert response.cookies[COOKIE].value == ""
