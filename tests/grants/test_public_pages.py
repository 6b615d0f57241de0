"""Les projets financés sur les pages publiques d'un quartier, d'un enjeu et d'une action : ceux
qui y sont rattachés (et, sur un quartier, à part, ceux de tout le territoire), avec les montants
par financeur et leur état, l'appel le plus récent d'abord, en un nombre borné de requêtes."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.grants.enums import ApplicationStatus
from cdv.grants.selectors_public import PAGE_LIMIT
from tests import factories

from ._public_world import SECRETS, build_world, main, text

pytestmark = pytest.mark.django_db
EUR = "\u00a0€"


@pytest.fixture
def world():
    return build_world()


def qpv_url(world, qpv):
    return reverse("www:qpv", kwargs={"slug": world.contract.slug, "code": qpv.code})


def enjeu_url(world, enjeu):
    return reverse("www:enjeu", kwargs={"slug": world.contract.slug, "enjeu_slug": enjeu.slug})


def action_url(world, action):
    return reverse("www:action", kwargs={"slug": world.contract.slug, "pk": action.pk})


def section(response) -> str:
    page = text(response).replace(" ,", ",").replace(" .", ".")
    start = page.index("Projets financés par l'appel à projets")
    return page[start:]


def funded(world, *, call=None, title, qpvs, amount="1000", **kwargs):
    application = factories.ApplicationFactory(
        call=call or world.call,
        partner=world.lilas,
        status=ApplicationStatus.DECIDED,
        title=title,
        qpvs=qpvs,
        **kwargs,
    )
    factories.FunderLineFactory(
        application=application, funder=world.funders[0], voted=True, voted_amount=Decimal(amount)
    )
    return application


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_qpv_page_lists_its_funded_projects_then_those_of_the_whole_territory(client, world):
    response = client.get(qpv_url(world, world.alpha))
    page = section(response)
    local, whole = page.split("Sur tout le territoire", 1)
    assert "Jardin des Lilas" in local and "Médiation Alpha Beta" in local
    assert "Association Les Lilas" in local and "Un jardin cultivé ensemble au pied des immeubles." in local
    assert f"Préfecture test : 12\u202f500{EUR} (Conventionné)" in local
    assert f"Métropole test : 3\u202f000{EUR} (Payé)" in local
    assert f"Métropole test : 2\u202f000{EUR} (Voté)" in local
    assert "Fête de Beta" not in page  # un projet du seul quartier Beta
    assert "Radio des quartiers" in whole and "Radio des quartiers" not in local
    assert "2 projets financés dans le quartier" in local
    body = response.content.decode()
    results = reverse("www:call_results", kwargs={"slug": world.contract.slug, "year": world.call.year})
    assert f'{results}#projet-{world.garden.pk}"' in body  # chaque projet mène à sa ligne
    assert f'{results}?par=quartier#quartier-{world.alpha.code}"' in body
    assert f"{results}?par=quartier#tout-le-territoire" in body
    assert "Fête de Beta" in section(client.get(qpv_url(world, world.beta)))


def test_the_enjeu_and_action_pages_list_the_projects_attached_to_them(client, world):
    enjeu = section(client.get(enjeu_url(world, world.enjeu)))
    assert "Jardin des Lilas" in enjeu and "Radio des quartiers" in enjeu
    assert "Médiation Alpha Beta" not in enjeu  # un autre enjeu
    assert f"Préfecture test : 12\u202f500{EUR} (Conventionné)" in enjeu
    other = section(client.get(enjeu_url(world, world.other_enjeu)))
    assert "Médiation Alpha Beta" in other and "Fête de Beta" in other and "Jardin des Lilas" not in other
    action = section(client.get(action_url(world, world.action)))
    assert "Jardin des Lilas" in action and "Radio des quartiers" in action
    assert "Médiation Alpha Beta" not in action
    lonely = factories.ActionFactory(objective=world.objective, title="Action sans projet")
    assert "Aucun projet n'est encore financé au titre de cette action." in section(
        client.get(action_url(world, lonely))
    )


def test_drafts_rejected_lines_calls_not_voted_and_other_contracts_never_appear(client, world):
    for url in (
        qpv_url(world, world.alpha),
        qpv_url(world, world.beta),
        enjeu_url(world, world.enjeu),
        action_url(world, world.action),
    ):
        page = text(client.get(url))
        for secret in SECRETS:
            assert secret not in page, (url, secret)


def test_anonymous_and_every_role_read_the_same_sections(client, world):
    urls = [qpv_url(world, world.alpha), enjeu_url(world, world.enjeu), action_url(world, world.action)]
    expected = {url: section(client.get(url)) for url in urls}
    for name, user in world.users.items():
        client.force_login(user)
        for url in urls:
            assert section(client.get(url)) == expected[url], (name, url)
    client.logout()
    assert main(client.get(urls[0]))  # la page s'affiche entière pour un visiteur


def test_most_recent_call_first_and_at_most_a_bounded_list_with_a_link_to_each_call(client, world):
    older = factories.CallFactory(contract=world.contract, voted=True, year=world.call.year - 1)
    funded(world, call=older, title="Projet de l'an passé", qpvs=[world.alpha])
    page = section(client.get(qpv_url(world, world.alpha)))
    assert page.index("Jardin des Lilas") < page.index("Projet de l'an passé")
    assert f"2 par l'appel {world.call.year}, 1 par l'appel {older.year}" in page
    for n in range(PAGE_LIMIT):
        funded(world, title=f"Projet nombreux {n:02d}", qpvs=[world.alpha])
    page = section(client.get(qpv_url(world, world.alpha)))
    assert f"{PAGE_LIMIT + 3} projets financés dans le quartier" in page
    assert f"Voici les {PAGE_LIMIT} plus récents" in page
    assert "Projet de l'an passé" not in page  # au-delà de la liste ; sur la page de son appel
    older_results = reverse("www:call_results", kwargs={"slug": world.contract.slug, "year": older.year})
    assert older_results in client.get(qpv_url(world, world.alpha)).content.decode()


def test_the_pages_keep_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    urls = [qpv_url(world, world.alpha), enjeu_url(world, world.enjeu), action_url(world, world.action)]
    before = {url: queries(client, url) for url in urls}
    older = factories.CallFactory(contract=world.contract, voted=True, year=world.call.year - 1)
    for n in range(40):
        call = world.call if n % 2 else older
        application = funded(
            world,
            call=call,
            title=f"Projet en nombre {n:02d}",
            qpvs=[world.alpha, world.beta][: 1 + n % 2],
            scope="TERRITOIRE" if n % 5 == 0 else "QPV",
            enjeu=world.enjeu,
            action=world.action,
        )
        factories.FunderLineFactory(application=application, funder=world.funders[1], voted=True)
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            assert client.get(url).status_code == 200
