"""La page des invitations reste petite quand l'instance compte des milliers de partenaires (une
instance nationale en a 20 000) : elle ne propose que les partenaires qui prennent part au contrat,
et trouve les autres par une recherche (nom, sigle, SIREN ou SIRET) aux résultats limités, qui
marche sans JavaScript (formulaire GET)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.contracts.enums import SignatoryKind
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.django_db


def many_partners(count, start=0):
    """``count`` organisations de l'instance qui ne prennent pas part au contrat (une requête)."""
    Partner.objects.bulk_create(
        Partner(
            name=f"Organisation lointaine {n:05d}",
            slug=f"organisation-lointaine-{n:05d}",
            kind=PartnerKind.ASSOCIATION,
            siret=f"{90000000000000 + n}",
        )
        for n in range(start, start + count)
    )


@pytest.fixture
def contract():
    contract = factories.ContractFactory(with_qpv=True)
    for name in ("Association du quartier", "Bailleur social"):
        factories.SignatoryFactory(
            contract=contract, partner=factories.PartnerFactory(name=name), kind=SignatoryKind.PARTICIPANT
        )
    return contract


@pytest.fixture
def pilot_client(client, contract):
    client.force_login(factories.MembershipFactory(contract=contract, role=Role.PILOT).user)
    return client


def get(client, contract, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("www:invitations", args=[contract.slug]), params)
    assert response.status_code == 200
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return page, len(queries)


def test_invitations_page_does_not_grow_with_the_partners_of_the_instance(pilot_client, contract):
    get(pilot_client, contract)  # première requête de la session
    few_page, few_queries = get(pilot_client, contract)
    many_partners(2000)
    many_page, many_queries = get(pilot_client, contract)
    assert many_queries == few_queries
    assert len(many_page) == len(few_page) < 40_000
    assert "Association du quartier" in many_page and "Organisation lointaine" not in many_page


def test_partner_search_by_name_or_siret_returns_a_bounded_list(pilot_client, contract):
    many_partners(300)
    get(pilot_client, contract)  # première requête de la session (qui la date, cdv/core/sessions.py)
    page, queries = get(pilot_client, contract, q="lointaine")
    assert page.count('name="ajout-partner"') == 20  # les 20 premiers, triés par nom
    assert "Organisation lointaine 00000" in page and "Organisation lointaine 00020" not in page
    assert "Les 20 premiers résultats seulement : précisez la recherche." in page
    many_partners(3000, start=300)
    bigger, more_queries = get(pilot_client, contract, q="lointaine")
    assert more_queries == queries and len(bigger) == len(page)
    by_siret, _ = get(pilot_client, contract, q="90000000000123")
    assert by_siret.count('name="ajout-partner"') == 1 and "Organisation lointaine 00123" in by_siret
    # Un partenaire qui prend déjà part au contrat n'est pas proposé une seconde fois.
    assert 'name="ajout-partner"' not in get(pilot_client, contract, q="Bailleur social")[0]
