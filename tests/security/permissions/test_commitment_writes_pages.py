"""Écritures d'engagements par les pages : chaque rôle × chaque action (modifier, proposer, valider,
renvoyer, démarrer, clore, supprimer, créer, confirmer le cahier) × un engagement de son partenaire,
d'un autre partenaire ou d'un autre contrat : autorisé ou refusé (403/404, ou connexion demandée), et
rien n'est écrit en cas de refus. Aucun partenaire ne modifie les données d'un autre en devinant un
identifiant : celui d'un autre contrat, sous l'adresse de ce contrat-ci, donne 404.

L'opérateur de l'instance (superutilisateur, rôle « operator ») a partout les droits d'un pilote."""

import pytest
from django.urls import reverse

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from tests import factories
from tests.factories.commitments import enjeu_of
from tests.worlds import built_once

from .matrix_world import ACTIONS, ROLES, TARGETS, expected_allowed, log_in, state, target_of

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def objectives(world, django_db_blocker):
    """Un objectif du premier enjeu de chaque contrat, bâti une fois (tests/worlds.py) : l'engagement
    que chaque cas crée s'y rattache, comme à l'objectif que la fabrique créait pour lui."""
    with built_once(django_db_blocker):
        yield {
            contract.pk: factories.ObjectiveFactory(enjeu=enjeu_of(contract))
            for contract in world["contracts"].values()
        }


def request_for(action, contract, partner, commitment):
    slug = contract.slug
    if action == "create":
        url = reverse("www:commitment_create", args=[slug, partner.slug])
        objective = contract.enjeux.first().objectives.first() or factories.ObjectiveFactory(
            enjeu=contract.enjeux.first()
        )
        return url, {"objective": objective.pk, "title": "Nouvel engagement", "scope": "CONTRAT"}
    if action == "confirm_cahier":
        url = reverse("www:confirm_cahier", args=[slug, partner.slug])
        return url, {"signatory_name": "Nom", "signatory_role": "Qualité", "agree": "on"}
    if action == "edit":
        url = reverse("www:commitment_edit", args=[slug, commitment.pk])
        return url, {
            "objective": commitment.objective_id,
            "title": "Titre modifié",
            "scope": "CONTRAT",
            "version": commitment.version,
        }
    names = {
        "propose": "proposer",
        "validate": "valider",
        "return": "renvoyer",
        "start": "demarrer",
        "close": "clore",
        "delete": "supprimer",
    }
    url = reverse("www:commitment_transition", args=[slug, commitment.pk, names[action]])
    return url, {"comment": "À revoir", "outcome": S.DONE}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, world, objectives, role, target, action):
    contract, partner = target_of(world, target)
    start_status = ACTIONS[action][0]
    commitment = factories.CommitmentFactory(
        contract=contract,
        partner=partner,
        objective=objectives[contract.pk],
        status=start_status or S.DRAFT,
        title="Engagement à protéger",
    )
    user = world["users"][role]
    log_in(client, world, role)
    before = state(contract, partner)
    url, data = request_for(action, contract, partner, commitment)
    response = client.post(url, data)
    allowed = expected_allowed(role, target, action)
    if allowed:
        assert response.status_code == 302, (response.status_code, response.content.decode()[:500])
        assert state(contract, partner) != before
    else:
        if user is None:
            assert response.status_code == 302 and reverse("www:login") in response["Location"]
        else:
            assert response.status_code in {403, 404}, response.status_code
        assert state(contract, partner) == before


@pytest.mark.parametrize("role", ROLES)
def test_reading_a_draft_of_another_contract_is_a_404(client, world, objectives, role):
    contract, partner = target_of(world, "other_contract")
    commitment = factories.CommitmentFactory(
        contract=contract,
        partner=partner,
        objective=objectives[contract.pk],
        status=S.DRAFT,
        title="Engagement à protéger",
    )
    log_in(client, world, role)
    response = client.get(reverse("www:commitment", args=[contract.slug, commitment.pk]))
    assert response.status_code == (200 if role in {"pilot_other", "operator"} else 404)


def test_an_id_from_another_contract_under_this_contract_url_is_a_404(client, world):
    """L'identifiant est cherché dans le contrat de l'URL : le deviner ne sert à rien."""
    other, partner = target_of(world, "other_contract")
    commitment = factories.CommitmentFactory(
        contract=other, partner=partner, status=S.DRAFT, title="Engagement à protéger"
    )
    log_in(client, world, "pilot")
    main = world["contracts"]["main"]
    for url in [
        reverse("www:commitment", args=[main.slug, commitment.pk]),
        reverse("www:commitment_edit", args=[main.slug, commitment.pk]),
    ]:
        assert client.get(url).status_code == 404
    response = client.post(reverse("www:commitment_transition", args=[main.slug, commitment.pk, "proposer"]))
    assert response.status_code == 404
    assert Commitment.objects.get(pk=commitment.pk).status == S.DRAFT
