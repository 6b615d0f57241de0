"""Validation groupée : le pilote valide ou renvoie d'un coup une sélection d'engagements proposés,
avec un seul commentaire ; tout ou rien, depuis le tableau de pilotage, sans JavaScript."""

import html
import re

import pytest
from django.urls import reverse

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def make(contract, partner, title, status=S.PROPOSED):
    enjeu = contract.enjeux.order_by("number").first() or factories.EnjeuFactory(contract=contract)
    return Commitment.objects.create(
        contract=contract,
        partner=partner,
        objective=factories.ObjectiveFactory(enjeu=enjeu),
        title=title,
        scope=CommitmentScope.CONTRACT,
        status=status,
    )


@pytest.fixture
def partner():
    return factories.PartnerFactory(name="Partenaire (validation groupée)")


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def proposed(nantes, partner):
    return [make(nantes, partner, f"Engagement groupé {i}") for i in (1, 2, 3)]


def statuses(commitments):
    return [Commitment.objects.get(pk=c.pk).status for c in commitments]


def post(client, contract, ids, action, comment=""):
    return client.post(
        reverse("www:dashboard", args=[contract.slug]),
        {"engagements": [str(i) for i in ids], "action": action, "comment": comment},
    )


def test_the_queue_offers_checkboxes_and_the_two_bulk_actions(client, nantes, pilot, proposed):
    client.force_login(pilot)
    response = client.get(reverse("www:dashboard", args=[nantes.slug]))
    body = response.content.decode()
    for c in proposed:
        assert f'name="engagements" value="{c.pk}"' in body
    page = text(response)
    assert "Valider la sélection" in page and "Renvoyer la sélection" in page


def test_pilot_validates_a_selection_in_one_go(client, nantes, pilot, proposed):
    client.force_login(pilot)
    response = post(client, nantes, [c.pk for c in proposed[:2]], "valider")
    assert response.status_code == 302
    assert statuses(proposed) == [S.VALIDATED, S.VALIDATED, S.PROPOSED]
    page = text(client.get(response.url))
    assert "2 engagements validés" in page


def test_pilot_returns_a_selection_with_one_comment(client, nantes, pilot, proposed):
    client.force_login(pilot)
    response = post(client, nantes, [c.pk for c in proposed], "renvoyer", "Précisez les moyens 2026.")
    assert response.status_code == 302
    for c in proposed:
        c.refresh_from_db()
        assert (c.status, c.status_comment) == (S.RETURNED, "Précisez les moyens 2026.")


def test_returning_without_a_comment_is_refused_and_nothing_changes(client, nantes, pilot, proposed):
    client.force_login(pilot)
    response = post(client, nantes, [c.pk for c in proposed], "renvoyer", "  ")
    assert response.status_code == 422
    assert "Expliquez au partenaire pourquoi" in text(response)
    assert statuses(proposed) == [S.PROPOSED] * 3


def test_a_commitment_not_proposed_fails_the_whole_selection_and_is_named(
    client, nantes, pilot, partner, proposed
):
    draft = make(nantes, partner, "Brouillon pas encore proposé", status=S.DRAFT)
    client.force_login(pilot)
    response = post(client, nantes, [proposed[0].pk, draft.pk], "valider")
    assert response.status_code == 422
    page = text(response)
    assert "« Brouillon pas encore proposé »" in page and "Aucun engagement n'a été modifié" in page
    assert statuses([proposed[0], draft]) == [S.PROPOSED, S.DRAFT]


def test_a_forged_id_of_another_contract_is_refused_and_nothing_is_written(
    client, nantes, pilot, partner, proposed
):
    other = factories.ContractFactory(slug="autre-contrat-groupe", title="Autre contrat (groupé)")
    foreign = make(other, partner, "Engagement d'un autre contrat")
    versions = proposed[0].history.count()
    client.force_login(pilot)
    response = post(client, nantes, [proposed[0].pk, foreign.pk], "valider")
    assert response.status_code == 422
    page = text(response)
    assert f"n° {foreign.pk}" in page and "Engagement d'un autre contrat" not in page
    assert statuses([proposed[0], foreign]) == [S.PROPOSED, S.PROPOSED]
    assert proposed[0].history.count() == versions


def test_a_non_pilot_is_refused(client, nantes, partner, proposed):
    for role, member_partner in ((Role.EVALUATOR, None), (Role.EDITOR, partner)):
        user = factories.MembershipFactory(contract=nantes, role=role, partner=member_partner).user
        client.force_login(user)
        response = post(client, nantes, [c.pk for c in proposed], "valider")
        assert response.status_code == 403
        assert statuses(proposed) == [S.PROPOSED] * 3


def test_no_selection_is_a_clear_error(client, nantes, pilot, proposed):
    client.force_login(pilot)
    response = post(client, nantes, [], "valider")
    assert response.status_code == 422
    assert "Cochez au moins un engagement" in text(response)
