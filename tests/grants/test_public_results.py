"""La page publique des projets financés d'un appel : après le comité, tout le monde y lit, pour
chaque projet, l'association, l'intitulé, le résumé, les montants votés par financeur et leur état ;
les totaux par financeur et la part des montants pour les projets en QPV. Rien d'autre."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cdv.grants.enums import ApplicationStatus
from cdv.grants.models import Call
from tests import factories

from ._public_world import SECRETS, build_world, main, text

pytestmark = pytest.mark.django_db
EUR = "\u00a0€"


@pytest.fixture
def world():
    return build_world()


def results_url(call, **query):
    url = reverse("www:call_results", kwargs={"slug": call.contract.slug, "year": call.year})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def row(response, application) -> str:
    """Le texte de la ligne du projet (son ancre « projet-<n> »)."""
    found = re.search(rf'<tr id="projet-{application.pk}">(.*?)</tr>', response.content.decode(), re.S)
    assert found, f"pas de ligne pour {application.title}"
    return html.unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", found.group(1))))


def test_each_funded_project_shows_association_summary_amounts_per_funder_and_public_state(client, world):
    response = client.get(results_url(world.call))
    assert response.status_code == 200
    garden = row(response, world.garden)
    assert "Jardin des Lilas" in garden and "Association Les Lilas" in garden
    assert "Un jardin cultivé ensemble au pied des immeubles." in garden
    # Montants à la française, état public de chaque financement : acte signé, versé en entier.
    assert f"Préfecture test : 12\u202f500{EUR} (Conventionné)" in garden
    assert f"Métropole test : 3\u202f000{EUR} (Payé)" in garden
    assert f"Total : 15\u202f500{EUR}" in garden
    assert "Caisse test" not in garden  # sa ligne est rejetée
    assert "Quartier Alpha" in garden and "Vivre ensemble" not in garden  # groupé sous son enjeu
    assert "Créer du lien" in garden and "Jardins partagés" in garden
    assert f"Métropole test : 2\u202f000{EUR} (Voté)" in row(response, world.both)
    assert "Tout le territoire" in row(response, world.whole)
    body = response.content.decode()
    assert reverse("www:action", kwargs={"slug": world.contract.slug, "pk": world.action.pk}) in body
    assert reverse("www:qpv", kwargs={"slug": world.contract.slug, "code": world.alpha.code}) in body


def test_totals_per_funder_and_the_share_of_amounts_for_projects_in_qpv(client, world):
    page = text(client.get(results_url(world.call)))
    assert f"4 projets financés, portés par 2 associations, pour 20\u202f000{EUR} votés" in page
    # 15 500 + 2 000 + 1 000 dans les quartiers, 1 500 sur tout le territoire.
    assert "92,5\u00a0% de ces montants vont à des projets situés" in page
    assert f"Préfecture test Programme 147 2 14\u202f000{EUR}" in page
    assert f"Métropole test — 2 5\u202f000{EUR}" in page
    assert f"Caisse test — 1 1\u202f000{EUR}" in page
    assert f"Total 20\u202f000{EUR}" in page


def test_projects_grouped_by_enjeu_or_by_quartier(client, world):
    by_enjeu = text(client.get(results_url(world.call)))
    assert by_enjeu.index(f"Enjeu {world.enjeu.number} : Vivre ensemble : 2 projets") < by_enjeu.index(
        f"Enjeu {world.other_enjeu.number} : Emploi : 2 projets"
    )
    by_quartier = client.get(results_url(world.call, par="quartier"))
    page = text(by_quartier)
    # Un projet sur deux quartiers est listé dans chacun et y compte pour moitié.
    assert f"Quartier Alpha : 2 projets, 16\u202f500{EUR}" in page
    assert f"Quartier Beta : 2 projets, 2\u202f000{EUR}" in page
    assert f"Tout le territoire : 1 projet, 1\u202f500{EUR}" in page
    assert page.count("Médiation Alpha Beta") == 2
    body = by_quartier.content.decode()
    assert f'id="quartier-{world.alpha.code}"' in body and 'id="tout-le-territoire"' in body
    assert 'aria-current="page">Par quartier' in body
    # Un regroupement inconnu : la page par enjeu.
    assert 'aria-current="page">Par enjeu' in client.get(results_url(world.call, par="x")).content.decode()


def test_nothing_but_voted_lines_of_published_calls_of_this_contract_appears(client, world):
    for grouping in ("enjeu", "quartier"):
        page = text(client.get(results_url(world.call, par=grouping)))
        for secret in SECRETS:
            assert secret not in page, (grouping, secret)


def test_the_page_is_a_404_before_the_committee_and_for_a_call_not_published(client, world):
    pilot = world.users["pilote"]
    for call in (world.pending_call, world.archived_call):
        assert client.get(results_url(call)).status_code == 404
    draft = factories.CallFactory(contract=world.contract, draft=True, committee_held_at=timezone.now())
    assert client.get(results_url(draft)).status_code == 404
    client.force_login(pilot)
    assert client.get(results_url(world.pending_call)).status_code == 404
    assert client.get(results_url(draft)).status_code == 404
    # Le comité se tient : la page paraît, et la page de l'appel y mène.
    Call.objects.filter(pk=world.pending_call.pk).update(committee_held_at=timezone.now())
    client.logout()
    assert client.get(results_url(world.pending_call)).status_code == 200
    call_page = client.get(reverse("www:call", kwargs={"slug": world.contract.slug, "year": world.call.year}))
    assert results_url(world.call) in call_page.content.decode()


def test_anonymous_and_every_role_read_the_same_public_content(client, world):
    url = results_url(world.call)
    anonymous = client.get(url)
    assert anonymous["Cache-Control"].startswith("public")
    for name, user in world.users.items():
        client.force_login(user)
        assert main(client.get(url)) == main(anonymous), name
    client.logout()


def test_queries_do_not_grow_with_the_number_of_projects(client, world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = results_url(world.call)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    state, metro, caf = world.funders
    qpvs = [world.alpha, world.beta]
    for n in range(60):
        application = factories.ApplicationFactory(
            call=world.call,
            partner=factories.PartnerFactory(name=f"Association n° {n}"),
            status=ApplicationStatus.DECIDED,
            title=f"Projet en nombre {n:02d}",
            qpvs=qpvs[: 1 + n % 2],
            enjeu=world.enjeu if n % 2 else world.other_enjeu,
            action=world.action if n % 3 else None,
        )
        for funder in (state, metro, caf)[: 1 + n % 3]:
            line = factories.FunderLineFactory(
                application=application, funder=funder, voted=True, voted_amount=Decimal(1000 + n)
            )
        if n % 4 == 0:
            factories.PaymentFactory(line=line, amount=Decimal(500))
    for grouping in ("enjeu", "quartier"):
        with django_assert_max_num_queries(len(before.captured_queries)):
            response = client.get(results_url(world.call, par=grouping))
        assert text(response).count("Projet en nombre") >= 60


def test_the_public_state_says_voted_signed_or_paid_and_nothing_of_the_report():
    from cdv.grants.models import FunderLine
    from cdv.grants.selectors_public import public_state

    def state(line):
        return public_state(FunderLine.objects.with_follow_up().get(pk=line.pk))

    voted = factories.voted_line(amount=Decimal("5000"))
    assert state(voted) == "Voté"
    factories.GrantActFactory(line=voted)  # préparé, pas signé
    assert state(voted) == "Voté"
    factories.FinalReportFactory(application=voted.application, accepted=True)
    assert state(voted) == "Voté"  # le compte-rendu n'est pas public
    advance = factories.voted_line(amount=Decimal("5000"))
    factories.PaymentFactory(line=advance, amount=Decimal("2500"))
    assert state(advance) == "Conventionné"
    factories.PaymentFactory(line=advance, amount=Decimal("2500"))
    assert state(advance) == "Payé"
    signed = factories.GrantActFactory(signed=True).line
    assert state(signed) == "Conventionné"
