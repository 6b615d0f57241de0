"""Le tableau de pilotage compte juste, et son coût ne dépend pas du nombre d'engagements : les
effectifs sont comptés par la base, aucun engagement ni quartier (avec son contour) n'est chargé
pour être compté."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.commitments.enums import CommitmentStatus as S
from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def world():
    north, south = factories.QpvFactory(name="Quartier Nord"), factories.QpvFactory(name="Quartier Sud")
    contract = factories.ContractFactory(qpvs=[north, south])
    first = factories.EnjeuFactory(contract=contract, number=1, title="Emploi")
    second = factories.EnjeuFactory(contract=contract, number=2, title="Cadre de vie")
    pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
    partners = (factories.PartnerFactory(name="Alpha"), factories.PartnerFactory(name="Bêta"))
    return {
        "contract": contract,
        "enjeux": (first, second),
        "qpvs": (north, south),
        "partners": partners,
        "pilot": pilot,
    }


def add_commitments(world, copies):
    """``copies`` fois le même lot : 2 partenaires, 2 enjeux, quartiers et états variés."""
    contract, (first, second), (north, south) = world["contract"], world["enjeux"], world["qpvs"]
    alpha, beta = world["partners"]
    for _ in range(copies):
        for partner, enjeu, qpvs, status in (
            (alpha, first, [north], S.PROPOSED),
            (alpha, first, [north, south], S.CONFIRMED),
            (alpha, second, [], S.DONE),
            (beta, second, [south], S.CONFIRMED),
        ):
            factories.CommitmentFactory(
                contract=contract,
                partner=partner,
                objective=factories.ObjectiveFactory(enjeu=enjeu),
                qpvs=qpvs,
                status=status,
            )


def dashboard(client, world, **params):
    return client.get(reverse("www:dashboard", args=[world["contract"].slug]), params)


def test_dashboard_counts_by_partner_and_quarter_and_enjeu(client, world):
    add_commitments(world, 2)
    client.force_login(world["pilot"])
    response = dashboard(client, world)
    page = text(response)
    assert "8 engagements." in page
    assert "À valider (2)" in page  # les deux engagements proposés d'Alpha
    assert "N'ont pas encore tout confirmé (1)" in page
    matrix = response.context["partner_rows"]
    assert [(p.name, [c["total"] for c in cells]) for p, cells in matrix] == [
        ("Alpha", [4, 2]),
        ("Bêta", [0, 2]),
    ]
    assert matrix[0][1][0]["statuses"] == sorted([(S.CONFIRMED.label, 2), (S.PROPOSED.label, 2)])
    quarters = response.context["qpv_rows"]
    # Un engagement sur deux quartiers compte dans chacun ; un engagement sans quartier dans aucun.
    assert [(q.name, [c["total"] for c in cells]) for q, cells in quarters] == [
        ("Quartier Nord", [4, 0]),
        ("Quartier Sud", [2, 2]),
    ]
    content = response.content.decode()
    assert 'data-label="2. Cadre de vie"' in content  # chaque case dit son enjeu sur petit écran
    filtered = dashboard(client, world, etat=S.CONFIRMED, partenaire=matrix[1][0].slug)
    assert [(p.name, [c["total"] for c in cells]) for p, cells in filtered.context["partner_rows"]] == [
        ("Bêta", [0, 2])
    ]
    assert [p.name for p in filtered.context["all_partners"]] == ["Alpha", "Bêta"]  # le filtre garde tout


def test_dashboard_queries_do_not_grow_with_commitments(client, world):
    add_commitments(world, 1)
    client.force_login(world["pilot"])
    dashboard(client, world)  # première requête de la session
    with CaptureQueriesContext(connection) as few:
        assert dashboard(client, world).status_code == 200
    add_commitments(world, 10)
    with CaptureQueriesContext(connection) as many:
        assert "44 engagements." in text(dashboard(client, world))
    assert len(many) == len(few) <= 16
