"""Les rôles d'une personne (``cdv/users/roles.py``) : lus une fois par objet ``user`` (une requête
SQL, quelle que soit la fonction de droits qui les demande), et relus quand un service change ses
appartenances."""

import pytest

from cdv.commitments.abilities import commitment_abilities
from cdv.contracts.abilities import contract_abilities
from cdv.monitoring.abilities import can_post_feedback
from cdv.users import roles
from cdv.users.enums import Role
from cdv.users.models import User
from cdv.users.services import accept_invitation, invite
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_abilities_function_shares_one_read_of_the_roles(nantes, django_assert_num_queries):
    partner = factories.PartnerFactory()
    member = factories.MembershipFactory(contract=nantes, role=Role.EDITOR, partner=partner)
    user = User.objects.get(pk=member.user_id)
    commitment = factories.CommitmentFactory(contract=nantes, partner=partner)
    with django_assert_num_queries(1):
        assert contract_abilities(user, nantes)["view_internals"]
        assert not contract_abilities(user, nantes)["steer"]
        commitment_abilities(user, commitment)
        assert can_post_feedback(user, nantes)
        assert roles.is_editor_for(user, nantes, partner.pk)
        assert not roles.is_pilot_anywhere(user)


def test_a_role_given_by_an_accepted_invitation_counts_at_once(nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    user = factories.UserFactory()
    assert not contract_abilities(user, nantes)["invite"]  # rôles lus et gardés sur l'objet
    invitation, _ = invite(inviter=pilot, contract=nantes, email=user.email, role=Role.PILOT)
    accept_invitation(invitation=invitation, user=user)
    assert contract_abilities(user, nantes)["invite"]
    assert nantes.pk in roles.piloted_contract_ids(user)
