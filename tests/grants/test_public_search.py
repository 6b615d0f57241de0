"""La recherche du site trouve les projets financés (intitulé, association, résumé, sans tenir
compte des accents) et mène à leur ligne sur la page des projets financés de leur appel ; jamais
un projet qui n'est pas public."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

from ._public_world import build_world, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def search(client, world, query):
    url = reverse("www:search", kwargs={"slug": world.contract.slug})
    return client.get(url, {"q": query})


def test_funded_projects_are_found_by_title_association_and_summary(client, world):
    results = reverse("www:call_results", kwargs={"slug": world.contract.slug, "year": world.call.year})
    response = search(client, world, "jardin lilas")
    page = text(response)
    assert "Projets financés (1)" in page and "Jardin des Lilas" in page
    assert f'href="{results}#projet-{world.garden.pk}"' in response.content.decode()
    assert "Jardin des Lilas" in text(search(client, world, "cultive ensemble immeubles"))  # sans accents
    page = text(search(client, world, "Association Les Tilleuls"))
    assert "Médiation Alpha Beta" in page and "Fête de Beta" in page
    # L'ancre existe bien sur la page de l'appel.
    assert f'id="projet-{world.garden.pk}"' in client.get(results).content.decode()


@pytest.mark.parametrize(
    "title",
    ["Brouillon Omega", "Projet refusé Zeta", "Projet pas encore voté Kappa", "Projet archivé Lambda"],
)
def test_a_project_that_is_not_public_is_never_found(client, world, title):
    assert "Aucun résultat" in text(search(client, world, title))
    client.force_login(world.users["pilote"])
    assert "Aucun résultat" in text(search(client, world, title))


def test_a_project_of_another_contract_is_not_found_here(client, world):
    assert "Aucun résultat" in text(search(client, world, "Projet d'ailleurs Sigma"))


def test_search_queries_do_not_grow_with_the_funded_projects(client, world, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as before:
        search(client, world, "projet")
    for n in range(30):
        application = factories.ApplicationFactory(
            call=world.call, partner=world.lilas, decided=True, title=f"Projet en nombre {n}"
        )
        factories.FunderLineFactory(application=application, funder=world.funders[0], voted=True)
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert "Projet en nombre 29" in text(search(client, world, "projet"))
