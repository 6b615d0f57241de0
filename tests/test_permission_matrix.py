"""Chaque rôle × chaque action d'écriture × un engagement de son partenaire, d'un autre
partenaire ou d'un autre contrat : autorisé ou refusé (403/404, ou connexion demandée), et rien
n'est écrit en cas de refus. Aucun partenaire ne modifie les données d'un autre en devinant un
identifiant."""

import pytest
from django.urls import reverse

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "pilot", "editor_a", "editor_b", "reader_a", "council", "evaluator", "pilot_other"]
TARGETS = ["own_partner", "other_partner", "other_contract"]
# action : (état de départ, qui peut, s'agissant d'un engagement du partenaire A du contrat C)
ACTIONS = {
    "edit": (S.DRAFT, {"pilot", "editor_a"}),
    "propose": (S.DRAFT, {"pilot", "editor_a"}),
    "validate": (S.PROPOSED, {"pilot"}),
    "return": (S.PROPOSED, {"pilot"}),
    "start": (S.CONFIRMED, {"pilot", "editor_a"}),
    "close": (S.IN_PROGRESS, {"pilot", "editor_a"}),
    "delete": (S.DRAFT, {"pilot", "editor_a"}),
    "create": (None, {"pilot", "editor_a"}),
    "confirm_cahier": (S.VALIDATED, {"pilot", "editor_a"}),
}


@pytest.fixture
def world(nantes):
    other_contract = factories.ContractFactory(slug="autre-contrat")
    other_contract.qpvs.add(*nantes.qpvs.all()[:2])
    factories.EnjeuFactory(contract=other_contract, number=1)
    partner_a = factories.PartnerFactory(name="Partenaire A")
    partner_b = factories.PartnerFactory(name="Partenaire B")
    for contract in (nantes, other_contract):
        for partner in (partner_a, partner_b):
            factories.SignatoryFactory(contract=contract, partner=partner)
    users = {"anonymous": None}
    specs = {
        "pilot": (nantes, None, Role.PILOT),
        "editor_a": (nantes, partner_a, Role.EDITOR),
        "editor_b": (nantes, partner_b, Role.EDITOR),
        "reader_a": (nantes, partner_a, Role.READER),
        "council": (nantes, partner_b, Role.COUNCIL_MEMBER),
        "evaluator": (nantes, None, Role.EVALUATOR),
        "pilot_other": (other_contract, None, Role.PILOT),
    }
    for name, (contract, partner, role) in specs.items():
        users[name] = factories.MembershipFactory(contract=contract, partner=partner, role=role).user
    return {
        "users": users,
        "contracts": {"nantes": nantes, "other": other_contract},
        "partners": {"a": partner_a, "b": partner_b},
    }


def make_commitment(contract, partner, status):
    objective = factories.ObjectiveFactory(enjeu=contract.enjeux.first())
    return Commitment.objects.create(
        contract=contract,
        partner=partner,
        objective=objective,
        title="Engagement à protéger",
        scope=CommitmentScope.CONTRACT,
        status=status,
    )


def target_of(world, target):
    """(contrat, partenaire) de l'objet visé : A dans C, B dans C, A dans un autre contrat."""
    c, p = world["contracts"], world["partners"]
    return {
        "own_partner": (c["nantes"], p["a"]),
        "other_partner": (c["nantes"], p["b"]),
        "other_contract": (c["other"], p["a"]),
    }[target]


def expected_allowed(role, target, action):
    allowed = ACTIONS[action][1]
    if target == "own_partner":
        return role in allowed
    if target == "other_partner":  # les droits du référent A valent pour B à son référent seul
        owners = {"editor_b"} if "editor_a" in allowed else set()
        return role in (allowed - {"editor_a"}) | owners
    return role == "pilot_other" and "pilot" in allowed  # un autre contrat : seul son pilote


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


def state(contract, partner):
    return sorted(
        Commitment.objects.filter(contract=contract, partner=partner).values_list(
            "pk", "status", "title", "version"
        )
    )


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, world, role, target, action):
    contract, partner = target_of(world, target)
    start_status = ACTIONS[action][0]
    commitment = make_commitment(contract, partner, start_status or S.DRAFT)
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
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
def test_reading_a_draft_of_another_contract_is_a_404(client, world, role):
    contract, partner = target_of(world, "other_contract")
    commitment = make_commitment(contract, partner, S.DRAFT)
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    response = client.get(reverse("www:commitment", args=[contract.slug, commitment.pk]))
    assert response.status_code == (200 if role == "pilot_other" else 404)


def test_an_id_from_another_contract_under_this_contract_url_is_a_404(client, world):
    """L'identifiant est cherché dans le contrat de l'URL : le deviner ne sert à rien."""
    other, partner = target_of(world, "other_contract")
    commitment = make_commitment(other, partner, S.DRAFT)
    client.force_login(world["users"]["pilot"])
    nantes = world["contracts"]["nantes"]
    for url in [
        reverse("www:commitment", args=[nantes.slug, commitment.pk]),
        reverse("www:commitment_edit", args=[nantes.slug, commitment.pk]),
    ]:
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "proposer"])
    )
    assert response.status_code == 404
    assert Commitment.objects.get(pk=commitment.pk).status == S.DRAFT


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
    commitment = make_commitment(contract, partner, ACTIONS[action][0] or S.DRAFT)
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
