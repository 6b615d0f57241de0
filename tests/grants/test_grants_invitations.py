"""Inviter aux rôles de l'appel à projets : le partenaire de la bonne sorte, le quartier du
contrat pour le correspondant et le délégué du préfet ; le quartier passe de l'invitation au rôle."""

import html
import re

import pytest
from django.core import mail
from django.urls import reverse

from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from cdv.users.models import Invitation, Membership, User
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-solide-42"


@pytest.fixture
def world():
    q1 = factories.QpvFactory(name="Quartier des Lilas")
    contract = factories.ContractFactory(qpvs=[q1])
    state = factories.PartnerFactory(kind=PartnerKind.STATE, name="Préfecture")
    city = factories.PartnerFactory(kind=PartnerKind.COMMUNE, name="Ville")
    asso = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION, name="Asso du quartier")
    for partner in (state, city, asso):
        factories.SignatoryFactory(contract=contract, partner=partner)
    pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
    return {"contract": contract, "q1": q1, "state": state, "city": city, "asso": asso, "pilot": pilot}


def invite(client, world, **data):
    client.force_login(world["pilot"])
    url = reverse("www:invitations", args=[world["contract"].slug])
    return client.post(url, {"email": "invitee@example.org", **data})


def test_the_invitation_page_offers_the_grants_roles_and_the_contracts_quarters(client, world):
    client.force_login(world["pilot"])
    page = client.get(reverse("www:invitations", args=[world["contract"].slug])).content.decode()
    for role in (
        Role.APPLICANT,
        Role.INSTRUCTOR,
        Role.CORRESPONDENT,
        Role.PREFECT_DELEGATE,
        Role.COMMITTEE_MEMBER,
    ):
        assert f'value="{role.value}"' in page
    assert "Quartier des Lilas" in page
    assert factories.QpvFactory(name="Quartier ailleurs").name not in page


def test_a_prefect_delegate_gets_the_state_line_and_the_quarter_on_acceptance(client, world):
    response = invite(
        client, world, role=Role.PREFECT_DELEGATE, partner=world["state"].pk, qpv=world["q1"].pk
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    invitation = Invitation.objects.get(contract=world["contract"])
    assert invitation.qpv == world["q1"] and invitation.partner == world["state"]
    listing = client.get(reverse("www:invitations", args=[world["contract"].slug])).content.decode()
    assert '<td data-label="Quartier">Quartier des Lilas</td>' in listing
    client.logout()
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = client.post(path, {"first_name": "Awa", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="invitee@example.org")
    membership = Membership.objects.get(user=user)
    assert (membership.role, membership.partner, membership.qpv) == (
        Role.PREFECT_DELEGATE,
        world["state"],
        world["q1"],
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": Role.CORRESPONDENT}, "qpv", "s'exerce pour un quartier"),
        (
            {"role": Role.CORRESPONDENT, "qpv": "foreign"},
            "qpv",
            "n'est pas un quartier prioritaire de ce contrat",
        ),
        ({"role": Role.EDITOR, "partner": "city", "qpv": "q1"}, "qpv", "Seuls le correspondant"),
        ({"role": Role.PREFECT_DELEGATE, "partner": "city", "qpv": "q1"}, "partner", "au nom de l'État"),
        ({"role": Role.PREFECT_DELEGATE, "qpv": "q1"}, "partner", "au nom de l'État"),
        ({"role": Role.APPLICANT, "partner": "city"}, "partner", "au nom d'une association"),
        ({"role": Role.INSTRUCTOR, "partner": "asso"}, "partner", "au nom d'un financeur"),
        ({"role": Role.INSTRUCTOR}, "partner", "au nom d'un partenaire"),
        (
            {"role": Role.COMMITTEE_MEMBER, "partner": "asso"},
            "partner",
            "ne s'exerce pas au nom d'un partenaire",
        ),
    ],
)
def test_bad_invitations_are_refused_in_french(client, world, data, field, message):
    foreign = factories.QpvFactory()
    values = {"foreign": foreign.pk, "q1": world["q1"].pk, "city": world["city"].pk, "asso": world["asso"].pk}
    post = {k: values.get(v, v) for k, v in data.items()}
    response = invite(client, world, **post)
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not Invitation.objects.filter(contract=world["contract"]).exists() and mail.outbox == []


def test_an_applicant_and_an_instructor_and_a_committee_member_are_invited(client, world):
    for email, data in [
        ("asso@example.org", {"role": Role.APPLICANT, "partner": world["asso"].pk}),
        ("ville@example.org", {"role": Role.INSTRUCTOR, "partner": world["city"].pk}),
        ("comite@example.org", {"role": Role.COMMITTEE_MEMBER}),
        ("quartier@example.org", {"role": Role.CORRESPONDENT, "qpv": world["q1"].pk}),
    ]:
        assert invite(client, world, **{**data, "email": email}).status_code == 302
    assert Invitation.objects.filter(contract=world["contract"]).count() == 4
