"""Qui voit quel contrat : ``Contract.objects.visible_to(user)`` (listes, flux, API) et le droit
« voir » de ``contract_abilities`` (chaque page et chaque appel d'un contrat, qui lisent le contrat
par son identifiant puis demandent ce droit) disent la même chose, pour chaque rôle et chaque état
du contrat. Un contrat en préparation reste à ses membres et à l'opérateur."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from cdv.contracts.abilities import contract_abilities
from cdv.contracts.enums import ContractStatus
from cdv.contracts.models import Contract
from cdv.users.enums import ROLES_WITH_PARTNER, Role
from cdv.users.models import CrossContractReader
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracts():
    """Un contrat par état, et un second en préparation dont personne ici n'est membre."""
    made = {status: factories.ContractFactory(status=status) for status in ContractStatus}
    made["other_preparing"] = factories.ContractFactory(preparing=True)
    return made


def people(contracts):
    preparing = contracts[ContractStatus.PREPARING]
    users = {"anonymous": AnonymousUser(), "no_role": factories.UserFactory()}
    for role in Role:
        partner = factories.PartnerFactory() if role in ROLES_WITH_PARTNER else None
        users[role.value] = factories.MembershipFactory(contract=preparing, role=role, partner=partner).user
    users["operator"] = factories.UserFactory(is_superuser=True, is_staff=True)
    state = factories.PartnerFactory(kind="ETAT")
    factories.SignatoryFactory(contract=preparing, partner=state)
    users["state_reader"] = factories.UserFactory()
    CrossContractReader.objects.create(user=users["state_reader"], partner=state)
    return users


def test_visible_to_and_the_view_right_agree_for_every_role_and_status(contracts):
    ours = Contract.objects.filter(pk__in=[c.pk for c in contracts.values()])
    preparing = contracts[ContractStatus.PREPARING]
    for name, user in people(contracts).items():
        listed = set(ours.visible_to(user))
        allowed = {c for c in ours if contract_abilities(user, c)["view"]}
        assert listed == allowed, name
        public = {contracts[ContractStatus.ACTIVE], contracts[ContractStatus.ENDED]}
        members = name not in {"anonymous", "no_role", "state_reader", "operator"}
        expected = set(ours) if name == "operator" else public | ({preparing} if members else set())
        assert listed == expected, name


def test_a_contract_in_preparation_is_a_404_to_non_members_on_its_pages(client, contracts):
    """La page d'accueil du contrat (liste ``visible_to``) et ses contours (``get_contract`` : le
    contrat lu par son identifiant, puis le droit « voir »)."""
    preparing = contracts[ContractStatus.PREPARING]
    users = people(contracts)
    urls = [reverse(name, args=[preparing.slug]) for name in ("www:contract", "www:map_geojson")]
    expected = {"no_role": 404, "state_reader": 404, Role.EDITOR.value: 200, "operator": 200}
    for url in urls:
        client.logout()
        assert client.get(url).status_code == 404, url
        for name, status in expected.items():
            client.force_login(users[name])
            assert client.get(url).status_code == status, (url, name)
