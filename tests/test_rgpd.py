"""Données personnelles : export, suppression (pseudonymisation), purge selon les durées de
conservation, jamais de membre de conseil citoyen nommé en public."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cdv.monitoring import feedback as feedback_rules
from cdv.monitoring.models import Feedback
from cdv.users.enums import Role
from cdv.users.models import ApiToken, Invitation, Membership, User
from cdv.users.services import create_api_token
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "un-mot-de-passe-solide-42"


@pytest.fixture
def member(nantes):
    council = factories.PartnerFactory(name="Conseil citoyen de test")
    membership = factories.MembershipFactory(contract=nantes, partner=council, role=Role.COUNCIL_MEMBER)
    user = membership.user
    user.first_name, user.last_name = "Camille", "Dupont"
    user.set_password(PASSWORD)
    user.save()
    return user


def test_export_gives_my_data_as_json(client, member, nantes):
    create_api_token(user=member, name="script")
    Feedback.objects.create(
        contract=nantes,
        author=member,
        partner=member.memberships.first().partner,
        kind=Feedback._meta.get_field("kind").choices[0][0],
        text="Mon retour",
    )
    client.force_login(member)
    response = client.get(reverse("www:my_data"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profil"]["adresse"] == member.email and data["profil"]["nom"] == "Dupont"
    assert data["roles"][0]["role"] == "Membre d'un conseil citoyen"
    assert data["jetons_api"][0]["usage"] == "script" and "key_hash" not in json.dumps(data)
    assert data["retours"][0]["texte"] == "Mon retour"


def test_delete_account_pseudonymises_and_keeps_contributions(client, member, nantes):
    council = member.memberships.first().partner
    fb = Feedback.objects.create(
        contract=nantes,
        author=member,
        partner=council,
        kind=Feedback._meta.get_field("kind").choices[0][0],
        text="Reste",
    )
    create_api_token(user=member, name="script")
    client.force_login(member)
    assert (
        client.post(reverse("www:delete_account"), {"password": "faux", "confirm": "oui"}).status_code == 400
    )
    response = client.post(reverse("www:delete_account"), {"password": PASSWORD, "confirm": "oui"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == f"supprime-{member.pk}@invalid"
    assert (member.first_name, member.last_name, member.is_active) == ("", "", False)
    assert not member.has_usable_password() and str(member) == "compte supprimé"
    assert not Membership.objects.filter(user=member).exists()
    assert not ApiToken.objects.filter(user=member).exists()
    fb.refresh_from_db()
    assert fb.text == "Reste" and feedback_rules.public_attribution(fb) == council.name
    assert client.get(reverse("www:my_space")).status_code == 302  # déconnecté


def test_council_members_are_never_named_in_public(member, nantes):
    fb = Feedback(contract=nantes, author=member, partner=member.memberships.first().partner, text="x")
    assert "Dupont" not in feedback_rules.public_attribution(fb)
    fb.partner = None
    assert "Dupont" not in feedback_rules.public_attribution(fb)


def test_purge_applies_retention(settings, nantes):
    settings.RETENTION_INACTIVE_ACCOUNTS_DAYS = 30
    settings.RETENTION_INVITATIONS_DAYS = 10
    old = User.objects.create_user(email="ancien@example.org", password=PASSWORD)
    User.objects.filter(pk=old.pk).update(last_login=timezone.now() - timedelta(days=60))
    recent = User.objects.create_user(email="recent@example.org", password=PASSWORD)
    Invitation.objects.create(
        email="x@example.org",
        contract=nantes,
        role=Role.PILOT,
        token_hash="a" * 64,
        expires_at=timezone.now() - timedelta(days=20),
    )
    call_command("purge_personal_data", "--dry-run")
    assert User.objects.get(pk=old.pk).email == "ancien@example.org"
    call_command("purge_personal_data")
    assert User.objects.get(pk=old.pk).email == f"supprime-{old.pk}@invalid"
    assert User.objects.get(pk=recent.pk).email == "recent@example.org"
    assert not Invitation.objects.filter(email="x@example.org").exists()
