"""Écritures d'engagements par l'API (jeton d'API) : chaque rôle × chaque action (modifier, proposer,
valider, renvoyer, démarrer, clore, créer) × un engagement de son partenaire, d'un autre partenaire ou
d'un autre contrat : autorisé (200/201) ou refusé (401 sans jeton, 403/404), et rien n'est écrit en
cas de refus.

L'opérateur de l'instance (superutilisateur, rôle « operator ») a partout les droits d'un pilote."""

import pytest

from cdv.commitments.enums import CommitmentStatus as S
from tests import factories

from .matrix_world import ACTIONS, ROLES, TARGETS, expected_allowed, state, target_of

pytestmark = pytest.mark.django_db


API_ACTIONS = ["edit", "propose", "validate", "return", "start", "close", "create"]


def api_call(client, action, contract, partner, commitment, headers):
    base = f"/api/v1/contracts/{contract.slug}/commitments"
    if action == "create":
        objective = factories.ObjectiveFactory(enjeu=contract.enjeux.first())
        body = {
            "partner": partner.slug,
            "objective": f"{objective.enjeu.number}.{objective.number}",
            "title": "Créé par l'API",
            "scope": "CONTRAT",
        }
        return client.post(base, body, content_type="application/json", **headers)
    if action == "edit":
        body = {"version": commitment.version, "title": "Titre modifié"}
        return client.patch(f"{base}/{commitment.pk}", body, content_type="application/json", **headers)
    body = {"action": action, "comment": "À revoir", "outcome": S.DONE}
    return client.post(
        f"{base}/{commitment.pk}/transitions", body, content_type="application/json", **headers
    )


@pytest.mark.parametrize("action", API_ACTIONS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_api_permission_matrix(client, world, role, target, action):
    from cdv.users.services import create_api_token

    contract, partner = target_of(world, target)
    commitment = factories.CommitmentFactory(
        contract=contract,
        partner=partner,
        status=ACTIONS[action][0] or S.DRAFT,
        title="Engagement à protéger",
    )
    user = world["users"][role]
    headers = {}
    if user is not None:
        headers = {"HTTP_AUTHORIZATION": "Bearer " + create_api_token(user=user, name="matrice")[1]}
    before = state(contract, partner)
    response = api_call(client, action, contract, partner, commitment, headers)
    if expected_allowed(role, target, action):
        assert response.status_code in {200, 201}, (response.status_code, response.content[:300])
        assert state(contract, partner) != before
    else:
        assert response.status_code in ({401} if user is None else {403, 404}), response.status_code
        assert state(contract, partner) == before
