import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.contracts.enums import ContractStatus
from cdv.territories.models import Qpv
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def text_of(response):
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)), html


def test_home_shows_the_contract_at_a_glance(client):
    response = client.get("/")
    assert response.status_code == 200
    text, html = text_of(response)
    assert 'lang="fr"' in html
    assert "Contrat de ville de Nantes Métropole 2024-2030" in text
    assert "7 décembre 2023" in text
    # Les 15 QPV et leurs communes.
    assert "Les 15 quartiers prioritaires" in text
    for name in ["Malakoff", "Les Dervallières", "Bellevue", "Plaisance", "Château", "Le Sillon de Bretagne"]:
        assert name in text
    assert "Nantes, Saint-Herblain" in text
    assert "QN04413M" in text
    # Les quatre enjeux.
    for enjeu in ["Emploi et activité économique", "Tranquillité publique", "Transition écologique juste"]:
        assert enjeu in text
    # L'écart de une, avec sa source.
    assert "44 %" in text and "12 %" in text
    assert "+32 points" in text and "×3,7" in text
    assert "https://www.actu44.fr/la-politique-de-la-ville-un-nouveau-contrat-2024-2030/" in html
    # Le calendrier.
    assert "Évaluation à mi-parcours" in text
    assert "Fin du contrat" in text


def test_home_marks_demonstration_data(client):
    text, _ = text_of(client.get("/"))
    assert "Données de démonstration" in text


def test_home_needs_no_javascript_and_is_accessible_in_structure(client):
    _, html = text_of(client.get("/"))
    assert "<script" not in html
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    assert html.count("<h1") == 1
    assert "<main" in html and 'role="banner"' in html and 'role="contentinfo"' in html
    for table in re.findall(r"<table.*?</table>", html, flags=re.S):
        assert "<caption>" in table and 'scope="col"' in table


def test_timeline_says_where_the_contract_stands(client):
    text, html = text_of(client.get("/"))
    assert "milestone-done" in html  # la signature
    assert "réalisé le 7 décembre 2023" in text


def test_home_query_count_is_bounded_whatever_the_data_size(client, nantes):
    def count():
        cache.clear()  # la carte SVG est mise en cache : on compte à froid
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    nantes.qpvs.add(*Qpv.objects.filter(code__startswith="QN013")[:30])
    for enjeu in nantes.enjeux.all():
        objective = factories.ObjectiveFactory(enjeu=enjeu, number=50 + enjeu.number)
        factories.ActionFactory.create_batch(5, objective=objective)
    for partner in factories.PartnerFactory.create_batch(10):
        factories.SignatoryFactory(contract=nantes, partner=partner)
    after = count()
    assert after == before
    assert after <= 16  # dont 2 pour la carte SVG quand elle n'est pas encore en cache, 1 pour le calendrier,
    # 1 pour l'appel à projets ouvert


def test_other_contracts_are_listed_and_reachable(client):
    other = factories.ContractFactory(title="Contrat de ville de test", slug="test-ailleurs")
    _, html = text_of(client.get("/"))
    assert "/contrats/test-ailleurs/" in html
    response = client.get("/contrats/test-ailleurs/")
    assert response.status_code == 200
    assert other.title in response.content.decode()


def test_a_contract_in_preparation_is_not_public(client):
    factories.ContractFactory(slug="en-preparation", status=ContractStatus.PREPARING)
    assert client.get("/contrats/en-preparation/").status_code == 404
    assert "/contrats/en-preparation/" not in client.get("/").content.decode()


def test_empty_instance_explains_what_to_do(client, without_demo_reviews):
    from cdv.contracts.models import Contract
    from cdv.grants.models import Application

    Application.objects.all().delete()  # les dossiers d'appel à projets protègent leur contrat
    Contract.objects.all().delete()
    response = client.get("/")
    assert response.status_code == 200
    assert "load_reference_data" in response.content.decode()


def test_home_lists_a_few_other_contracts_and_links_to_all_of_them(client):
    for n in range(15):
        factories.ContractFactory(title=f"Contrat de ville de test {n:02d}", slug=f"test-liste-{n:02d}")
    _, html = text_of(client.get("/"))
    assert html.count('<li><a href="/contrats/test-liste-') == 12, html[html.index('id="autres"') :][:3000]
    assert 'href="/contrats/">Les 15 autres contrats</a>' in html
    listing = client.get("/contrats/").content.decode()
    assert all(f"/contrats/test-liste-{n:02d}/" in listing for n in range(15))


def test_the_static_map_is_computed_once_then_served_from_the_cache(client, django_assert_num_queries):
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        client.get("/")
    with CaptureQueriesContext(connection) as warm:
        body = client.get("/").content.decode()
    assert len(warm.captured_queries) == len(cold.captured_queries) - 2
    assert body.count("<path") >= 15
