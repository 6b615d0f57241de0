import html
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cdv.users.enums import Role
from cdv.users.models import Invitation, Membership, User
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-solide-42"


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def association(nantes):
    partner = factories.PartnerFactory(name="Association invitée")
    factories.SignatoryFactory(contract=nantes, partner=partner, kind="PARTICIPANT")
    return partner


def link_in(message):
    return re.search(r"https?://\S+", message.body).group(0)


def test_login_by_email_and_logout(client):
    User.objects.create_user(email="referente@example.org", password=PASSWORD)
    response = client.post(reverse("www:login"), {"username": "referente@example.org", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")
    assert "referente@example.org" in client.get(reverse("www:my_space")).content.decode()
    client.post(reverse("www:logout"))
    assert client.get(reverse("www:my_space")).status_code == 302


def test_wrong_password_gets_a_french_error(client):
    User.objects.create_user(email="referente@example.org", password=PASSWORD)
    response = client.post(reverse("www:login"), {"username": "referente@example.org", "password": "faux"})
    assert response.status_code == 200
    assert "adresse électronique et un mot de passe valides" in html.unescape(response.content.decode())


def test_login_attempts_are_rate_limited(client):
    User.objects.create_user(email="cible@example.org", password=PASSWORD)
    for _ in range(5):
        client.post(reverse("www:login"), {"username": "cible@example.org", "password": "faux"})
    response = client.post(reverse("www:login"), {"username": "cible@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "temporairement bloquée" in response.content.decode()


def test_password_reset_by_email(client):
    User.objects.create_user(email="oubli@example.org", password="ancien-mot-de-passe-9")
    client.post(reverse("www:password_reset"), {"email": "oubli@example.org"})
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0])
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="oubli@example.org").check_password(PASSWORD)


def test_unknown_address_for_reset_reveals_nothing(client):
    response = client.post(reverse("www:password_reset"), {"email": "personne@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_pilot_invites_a_referent_who_sets_a_password(client, nantes, pilot, association):
    client.force_login(pilot)
    url = reverse("www:invitations", args=[nantes.slug])
    response = client.post(
        url, {"email": "Referent@Asso.example", "role": Role.EDITOR, "partner": association.pk}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["referent@asso.example"]
    assert "Association invitée" in message.body
    link = link_in(message)
    invitation = Invitation.objects.get(email="referent@asso.example")
    assert link.rsplit("/", 2)[-2] not in invitation.token_hash  # seule l'empreinte est stockée

    client.logout()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(path)
    assert "Association invitée" in page.content.decode()
    bad = client.post(path, {"password1": PASSWORD, "password2": "autre"})
    assert "ne sont pas identiques" in bad.content.decode()
    response = client.post(path, {"first_name": "Awa", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="referent@asso.example")
    assert user.check_password(PASSWORD)
    assert Membership.objects.filter(
        user=user, contract=nantes, partner=association, role=Role.EDITOR
    ).exists()
    # Le lien ne sert qu'une fois.
    client.logout()
    assert client.get(path).status_code == 410


def test_invitation_rules(client, nantes, pilot, association):
    client.force_login(pilot)
    url = reverse("www:invitations", args=[nantes.slug])
    response = client.post(url, {"email": "x@example.org", "role": Role.EDITOR})
    assert "au nom d'un partenaire" in html.unescape(response.content.decode())
    assert mail.outbox == []
    assert client.get("/invitation/jeton-invente/").status_code == 404


def test_only_a_pilot_of_this_contract_invites(client, nantes, association):
    editor = factories.MembershipFactory(contract=nantes, partner=association, role=Role.EDITOR).user
    client.force_login(editor)
    response = client.post(
        reverse("www:invitations", args=[nantes.slug]), {"email": "x@example.org", "role": Role.PILOT}
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_existing_account_accepts_after_logging_in(client, nantes, pilot, association):
    existing = User.objects.create_user(email="deja@example.org", password=PASSWORD)
    from cdv.users.services import invite

    _, link = invite(
        inviter=pilot, contract=nantes, email="deja@example.org", role=Role.READER, partner=association
    )
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert "Connectez-vous" in client.get(path).content.decode()
    client.force_login(existing)
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(user=existing, role=Role.READER, partner=association).exists()


def test_my_space_has_a_plain_title_and_help_texts_are_linked_to_their_fields(client, nantes, pilot):
    client.force_login(pilot)
    page = client.get(reverse("www:my_space")).content.decode()
    assert "<title>Mon espace — Contrat de ville</title>" in page
    form = client.get(reverse("www:invitations", args=[nantes.slug])).content.decode()
    described = re.search(r'aria-describedby="(id_partner_helptext)"', form)
    assert described and f'id="{described.group(1)}"' in form


# --- invitations : seulement les partenaires qui prennent part au contrat (ticket 13) --------------


def test_invitations_offer_only_partners_taking_part_in_the_contract(
    client, nantes, pilot, association, django_assert_max_num_queries
):
    foreign = [factories.PartnerFactory(name=f"Organisation étrangère {n}") for n in range(30)]
    client.force_login(pilot)
    url = reverse("www:invitations", args=[nantes.slug])
    with django_assert_max_num_queries(25):
        page = client.get(url).content.decode()
    assert "Association invitée" in page
    assert "Organisation étrangère" not in page
    response = client.post(url, {"email": "x@example.org", "role": Role.EDITOR, "partner": foreign[0].pk})
    assert response.status_code == 200 and not Invitation.objects.exists()
    from django.core.exceptions import ValidationError

    from cdv.users.services import invite

    with pytest.raises(ValidationError, match="ne prend pas part au contrat"):
        invite(inviter=pilot, contract=nantes, email="x@example.org", role=Role.EDITOR, partner=foreign[0])
    assert not Invitation.objects.exists() and mail.outbox == []


def test_an_old_invitation_for_a_partner_outside_the_contract_gives_no_role(client, nantes, pilot):
    from cdv.users.services import accept_invitation, hash_token

    foreign = factories.PartnerFactory(name="Organisation étrangère")
    invitation = Invitation.objects.create(
        email="vieux@example.org",
        contract=nantes,
        partner=foreign,
        role=Role.EDITOR,
        token_hash=hash_token("jeton"),
        invited_by=pilot,
        expires_at=timezone.now() + timedelta(days=3),
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="ne prend pas part au contrat"):
        accept_invitation(invitation=invitation, password=PASSWORD)
    assert not Membership.objects.filter(partner=foreign).exists()


def test_pilot_adds_an_existing_partner_to_the_contract_explicitly(client, nantes, pilot):
    from cdv.contracts.models import Signatory

    foreign = factories.PartnerFactory(name="Bailleur Lointain", siret="73282932000074")
    client.force_login(pilot)
    url = reverse("www:invitations", args=[nantes.slug])
    found = client.get(url, {"q": "lointain"}).content.decode()
    assert "Bailleur Lointain" in found and "Ajouter un partenaire au contrat" in found
    assert "Bailleur Lointain" in client.get(url, {"q": "73282932"}).content.decode()
    # Sans confirmer : rien.
    response = client.post(
        url, {"action": "add_partner", "ajout-partner": foreign.pk, "ajout-kind": "PARTICIPANT"}
    )
    assert response.status_code == 422 and "Confirmez" in html.unescape(response.content.decode())
    assert not Signatory.objects.filter(partner=foreign).exists()
    response = client.post(
        url,
        {
            "action": "add_partner",
            "ajout-partner": foreign.pk,
            "ajout-kind": "PARTICIPANT",
            "ajout-confirm": "on",
        },
    )
    assert response.status_code == 302
    assert Signatory.objects.get(contract=nantes, partner=foreign).kind == "PARTICIPANT"
    assert "Bailleur Lointain" in client.get(url).content.decode()
    response = client.post(url, {"email": "y@example.org", "role": Role.EDITOR, "partner": foreign.pk})
    assert response.status_code == 302 and Invitation.objects.filter(partner=foreign).exists()


def test_pilot_creates_a_new_partner_in_the_contract(client, nantes, pilot):
    from cdv.contracts.models import Signatory
    from cdv.partners.models import Partner

    client.force_login(pilot)
    url = reverse("www:invitations", args=[nantes.slug])
    response = client.post(
        url,
        {
            "action": "create_partner",
            "nouveau-name": "Régie de quartier Nouvelle",
            "nouveau-kind": "ASSOCIATION",
            "nouveau-place": "PARTICIPANT",
            "nouveau-confirm": "on",
        },
    )
    assert response.status_code == 302
    partner = Partner.objects.get(name="Régie de quartier Nouvelle")
    assert Signatory.objects.filter(contract=nantes, partner=partner, kind="PARTICIPANT").exists()


def test_a_pilot_of_another_contract_cannot_add_a_partner_here(client, nantes):
    from cdv.contracts.models import Signatory

    other_pilot = factories.MembershipFactory(role=Role.PILOT).user  # pilote d'un autre contrat
    foreign = factories.PartnerFactory(name="Organisation étrangère")
    client.force_login(other_pilot)
    url = reverse("www:invitations", args=[nantes.slug])
    response = client.post(
        url,
        {
            "action": "add_partner",
            "ajout-partner": foreign.pk,
            "ajout-kind": "PARTICIPANT",
            "ajout-confirm": "on",
        },
    )
    assert response.status_code in {403, 404}
    assert not Signatory.objects.filter(partner=foreign).exists()


def test_an_invited_pilot_gets_the_back_office_of_their_contract_only(client, nantes, pilot):
    from cdv.users.services import accept_invitation, invite

    invitation, _ = invite(inviter=pilot, contract=nantes, email="copilote@example.org", role=Role.PILOT)
    user = accept_invitation(invitation=invitation, password=PASSWORD)
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    client.force_login(user)
    assert client.get(reverse("admin:plan_enjeu_changelist")).status_code == 200
    assert client.get(reverse("admin:users_user_changelist")).status_code == 403
