"""Cache des pages publiques (cdv/core/pagecache.py) : les visiteurs reçoivent une page gardée, sans
requête SQL ; une écriture faite sur le site la rend aussitôt périmée ; rien de ce qu'une personne
connectée voit n'entre dans le cache."""

import pytest
from django.core.cache import cache
from django.test import Client

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
QPV_URL = "/contrats/nantes-metropole-2024-2030/quartiers/QN04406M/"


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.CDV_PUBLIC_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def test_a_visitor_gets_the_stored_page_without_any_sql_query(client, django_assert_num_queries):
    first = client.get(QPV_URL)
    assert first["X-Cache"] == "miss"
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    with django_assert_num_queries(0):
        second = client.get(QPV_URL)
    assert second["X-Cache"] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    # Les en-têtes de sécurité sont posés sur la page gardée comme sur la page calculée.
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert second[header] == first[header], header
    assert "db;dur=" in second["Server-Timing"]


def test_query_string_and_htmx_requests_are_stored_apart(client):
    url = "/contrats/nantes-metropole-2024-2030/recherche/"
    emploi = client.get(url, {"q": "emploi"})
    devoirs = client.get(url, {"q": "devoirs"})
    assert devoirs["X-Cache"] == "miss" and devoirs.content != emploi.content
    assert client.get(url, {"q": "emploi"})["X-Cache"] == "hit"
    assert client.get(url, {"q": "emploi"}, headers={"HX-Request": "true"})["X-Cache"] == "miss"


def test_a_write_on_the_site_makes_the_public_page_current_at_once(client, nantes):
    partner = factories.PartnerFactory(name="Partenaire du test de cache")
    factories.SignatoryFactory(contract=nantes, partner=partner)
    commitment = Commitment.objects.create(
        contract=nantes,
        partner=partner,
        objective=nantes.enjeux.get(number=1).objectives.first(),
        title="Engagement du test de cache",
        scope=CommitmentScope.CONTRACT,
        status=S.CONFIRMED,
    )
    before = client.get(QPV_URL)
    assert client.get(QPV_URL)["X-Cache"] == "hit"

    pilot = Client()
    pilot.force_login(factories.MembershipFactory(contract=nantes, role=Role.PILOT).user)
    response = pilot.post(f"/contrats/{nantes.slug}/engagements/{commitment.pk}/demarrer/")
    assert response.status_code in {200, 302}
    commitment.refresh_from_db()
    assert commitment.status == S.IN_PROGRESS

    after = client.get(QPV_URL)
    assert after["X-Cache"] == "miss"
    assert after.content != before.content


def test_a_refused_write_keeps_the_stored_pages(client, nantes):
    client.get(QPV_URL)
    commitment = Commitment.objects.filter(contract=nantes).order_by("pk").first()
    Client().post(f"/contrats/{nantes.slug}/engagements/{commitment.pk}/demarrer/")  # anonyme : refusé
    assert client.get(QPV_URL)["X-Cache"] == "hit"


def test_signed_in_people_never_get_nor_fill_the_cache(client, nantes):
    devoirs = Commitment.objects.get(title__startswith="Ouvrir l'aide aux devoirs")
    Commitment.objects.filter(pk=devoirs.pk).update(status=S.VALIDATED)
    client.get(QPV_URL)  # gardée pour les visiteurs : l'engagement validé n'y est pas
    evaluator = Client()
    evaluator.force_login(factories.MembershipFactory(contract=nantes, role=Role.EVALUATOR).user)
    own = evaluator.get(QPV_URL)
    assert not own.has_header("X-Cache")
    assert "private" in own["Cache-Control"]
    assert "Ouvrir l&#x27;aide aux devoirs" in own.content.decode()
    visitor = client.get(QPV_URL)
    assert visitor["X-Cache"] == "hit"
    assert "Ouvrir l&#x27;aide aux devoirs" not in visitor.content.decode()


def test_a_visitor_with_a_session_or_a_pending_message_is_served_by_the_view(client):
    client.get(QPV_URL)
    with_session = Client()
    with_session.cookies["sessionid"] = "x"
    assert not with_session.get(QPV_URL).has_header("X-Cache")
    with_message = Client()
    with_message.cookies["messages"] = "x"
    assert not with_message.get(QPV_URL).has_header("X-Cache")


def test_errors_and_pages_that_set_a_cookie_are_not_stored(client):
    missing = "/contrats/nantes-metropole-2024-2030/quartiers/QN99999M/"
    assert client.get(missing).status_code == 404
    assert not client.get(missing).has_header("X-Cache")
    login = client.get("/connexion/")
    assert login.cookies  # jeton CSRF du formulaire
    assert not client.get("/connexion/").has_header("X-Cache")


def test_public_api_answers_are_stored_and_keep_their_etag(client):
    url = "/api/v1/contracts"
    first = client.get(url)
    assert first["X-Cache"] == "miss"
    second = client.get(url)
    assert second["X-Cache"] == "hit" and second["ETag"] == first["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert not_modified.status_code == 304 and not not_modified.content
    with_token = client.get(url, headers={"Authorization": "Bearer x"})
    assert not with_token.has_header("X-Cache")


def test_disabled_cache_stores_nothing(client, settings):
    settings.CDV_PUBLIC_CACHE_SECONDS = 0
    client.get(QPV_URL)
    assert not client.get(QPV_URL).has_header("X-Cache")


@pytest.mark.parametrize(
    "name",
    [
        "contracts",
        "contract",
        "indicators",
        "partners",
        "search",
        "map",
        "feedback_list",
        "meetings",
        "decisions",
        "evaluations",
        "amendments",
        "accessibility",
    ],
)
def test_every_public_list_page_is_stored_for_visitors(client, nantes, name):
    from django.urls import reverse

    kwargs = {} if name in {"contracts", "accessibility"} else {"slug": nantes.slug}
    url = reverse(f"www:{name}", kwargs=kwargs)
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("public"), first["Cache-Control"]
    assert client.get(url)["X-Cache"] == "hit"


def test_a_page_stored_for_one_host_is_not_served_to_another(client, settings):
    """Les liens absolus d'une page (flux, API, partage) nomment l'hôte et le schéma demandés."""
    settings.ALLOWED_HOSTS = ["contrat.example.org", "autre.example.org"]
    first = client.get(QPV_URL, HTTP_HOST="contrat.example.org")
    assert first["X-Cache"] == "miss"
    assert client.get(QPV_URL, HTTP_HOST="contrat.example.org")["X-Cache"] == "hit"
    assert client.get(QPV_URL, HTTP_HOST="autre.example.org")["X-Cache"] == "miss"
    assert client.get(QPV_URL, HTTP_HOST="contrat.example.org", secure=True)["X-Cache"] == "miss"
    assert client.get(QPV_URL, HTTP_HOST="autre.example.org")["X-Cache"] == "hit"
