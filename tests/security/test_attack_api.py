"""Sondes inter-partenaires et inter-contrats de l'API : chaque écriture (créer, modifier, faire
avancer un engagement ; situer des points, qui n'écrit rien) et chaque lecture par identifiant
d'une donnée non publique, avec des identifiants devinés, forgés ou pris dans un autre contrat
(dans le chemin, sous le nom d'un autre contrat, ou dans le corps JSON : partenaire, objectif,
action, quartiers, indicateurs, champs que le schéma n'a pas).

Le monde est celui de tests/security/attack_world.py (Nantes, un autre contrat, partenaires A et B,
un objet de chaque sorte de chaque côté). Chaque sonde dit qui appelle (jeton d'API de ce rôle,
ou aucun), la requête et le statut attendu ; un refus ne change rien en base (empreinte de toutes
les tables, historiques compris) et dit pourquoi en français (``detail``) ; une réussite écrit. La
matrice rôle × action sur les engagements reste dans tests/security/permissions/.
"""

import pickle
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.contracts.enums import ContractStatus
from cdv.users.enums import Role
from cdv.users.models import ApiToken
from cdv.users.services import create_api_token
from tests import factories
from tests.security.attack_world import changed_tables, fingerprint, probe_world, sent_and_undone

# Ces tests ouvrent leurs propres campagnes de suivi sur le contrat de Nantes : leur monde (plus bas)
# retire d'abord celles de la démonstration.
pytestmark = [pytest.mark.django_db, pytest.mark.demo]

API = "/api/v1/contracts"


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker, tmp_path_factory):
    """Le monde des sondes (``probe_world``), avec un appel à projets, un jeton d'API par rôle et un
    contrat en préparation ; bâti une fois pour le fichier, chaque test annule ce qu'il écrit et
    reçoit sa copie du monde picklé (``world``, tests/security/conftest.py)."""
    with probe_world(django_db_blocker, tmp_path_factory) as w:
        add_grants(w)
        w["keys"] = {
            role: create_api_token(user=user, name="sondes")[1]
            for role, user in w["users"].items()
            if user is not None
        }
        preparing = factories.ContractFactory(slug="contrat-en-preparation", status=ContractStatus.PREPARING)
        factories.MembershipFactory(contract=preparing, role=Role.PILOT)
        w["preparing"] = preparing
        yield pickle.dumps(w, pickle.HIGHEST_PROTOCOL)


def add_grants(w):
    """Un appel à projets ouvert à Nantes, deux associations et leurs référents, un brouillon de A
    et un dossier complet de A (prêt au dépôt)."""
    from tests.grants.applying_helpers import association

    call = factories.CallFactory(contract=w["nantes"], year=2099)
    factories.CallFunderFactory(call=call)
    factories.CallFunderFactory(call=call)
    asso_a, asso_b = (
        association(name="Association A"),
        association(name="Association B", siret="", rna="W442000999"),
    )
    for name, asso in (("referent_a", asso_a), ("referent_b", asso_b)):
        w["users"][name] = factories.MembershipFactory(
            contract=w["nantes"], partner=asso, role=Role.APPLICANT
        ).user
    w["grants"] = {
        "call": call,
        "asso_a": asso_a,
        "draft_a": factories.ApplicationFactory(call=call, partner=asso_a, title="Brouillon de A"),
        "complete_a": complete_application_of(call, asso_a, w["nantes"].enjeux.order_by("number").first()),
    }


def complete_application_of(call, partner, enjeu):
    """Un brouillon prêt au dépôt : équilibré (10 000 € = 4 000 € + 2 × 3 000 € demandés), statuts joints."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    today = timezone.localdate()
    factories.CallDocumentFactory(call=call)
    application = factories.ApplicationFactory(
        call=call,
        partner=partner,
        objectives="Rompre l'isolement.",
        public="Habitants",
        places="Maison de quartier",
        evaluation_indicators="Participants",
        start_date=today + datetime.timedelta(days=60),
        end_date=today + datetime.timedelta(days=300),
        enjeu=enjeu,
    )
    factories.BudgetLineFactory(application=application, account="64", amount=Decimal("10000"))
    factories.BudgetLineFactory(application=application, account="70", amount=Decimal("4000"))
    for funder in call.funders.all():
        application.funder_lines.create(funder=funder, requested_amount=Decimal("3000"))
    application.documents.add(factories.PartnerDocumentFactory(partner=partner))
    return application


def aap(world, key=None):
    path = f"{n(world)}/calls/2099/applications"
    return f"{path}/brouillon-{world['grants'][key].pk}" if key else path


def draft_of_a_unchanged(world):
    from cdv.grants.models import Application

    return Application.objects.get(pk=world["grants"]["draft_a"].pk).title == "Brouillon de A"


SUBMIT = {"sworn_name": "Camille Martin", "sworn_statement": True, "republican_contract": True}
BUDGET = {"version": 1, "lines": [{"account": "64", "label": "Animatrice", "amount": "5000"}]}


def headers(world, role):
    if role == "anonymous":
        return {}
    if role == "forged_token":
        return {"HTTP_AUTHORIZATION": "Bearer cdv_jeton-invente-de-toutes-pieces"}
    return {"HTTP_AUTHORIZATION": f"Bearer {world['keys'][role]}"}


def code(objective):
    return f"{objective.enjeu.number}.{objective.number}"


def c(world, key):
    return world["commitments"][key]


# --- Chemins et corps -------------------------------------------------------------------------


def n(world):
    return f"{API}/{world['nantes'].slug}"


def o(world):
    return f"{API}/{world['other'].slug}"


def new_commitment(world, partner="a", **extra):
    objective = c(world, "a_draft").objective
    partner_slug = world[partner].slug if partner in {"a", "b", "outsider"} else partner
    return {
        "partner": partner_slug,
        "objective": code(objective),
        "title": "Engagement créé par l'API",
        "scope": CommitmentScope.CONTRACT,
        **extra,
    }


def patch(world, key="a_draft", **extra):
    return {"version": c(world, key).version, "title": "Titre modifié par l'API", **extra}


def propose():
    return {"action": "propose"}


# --- Les sondes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiProbe:
    name: str
    role: str
    method: str
    path: Callable  # world -> chemin
    body: Callable | None  # world -> corps JSON
    status: int
    check: Callable | None = None  # world -> True si la valeur forgée n'a servi à rien


def A(name, role, method, path, body, status, check=None):
    return ApiProbe(name, role, method, path, body, status, check)


def draft_of_a_untouched_but_retitled(world):
    draft = Commitment.objects.get(pk=c(world, "a_draft").pk)
    return (
        draft.title == "Titre modifié par l'API"
        and draft.partner == world["a"]
        and draft.contract == world["nantes"]
        and draft.status == S.DRAFT
        and draft.confirmed_by_id is None
    )


WRITES = [
    # Appel à projets : le dossier de sa propre association
    A(
        "aap create: référent A pour A",
        "referent_a",
        "post",
        aap,
        lambda w: {"partner": w["grants"]["asso_a"].slug},
        201,
    ),
    A(
        "aap create: référent B pour A",
        "referent_b",
        "post",
        aap,
        lambda w: {"partner": w["grants"]["asso_a"].slug},
        403,
    ),
    A(
        "aap create: anonyme",
        "anonymous",
        "post",
        aap,
        lambda w: {"partner": w["grants"]["asso_a"].slug},
        401,
    ),
    A(
        "aap update: référent A",
        "referent_a",
        "patch",
        lambda w: aap(w, "draft_a"),
        lambda w: {"version": 1, "summary": "Résumé"},
        200,
    ),
    A(
        "aap update: référent B sur le dossier de A",
        "referent_b",
        "patch",
        lambda w: aap(w, "draft_a"),
        lambda w: {"version": 1, "title": "Volé"},
        404,
        draft_of_a_unchanged,
    ),
    A(
        "aap update: pilote (pas son dossier)",
        "pilot",
        "patch",
        lambda w: aap(w, "draft_a"),
        lambda w: {"version": 1, "title": "Volé"},
        404,
        draft_of_a_unchanged,
    ),
    A(
        "aap budget: référent A",
        "referent_a",
        "put",
        lambda w: aap(w, "draft_a") + "/budget",
        lambda w: BUDGET,
        200,
    ),
    A(
        "aap budget: référent B sur le dossier de A",
        "referent_b",
        "put",
        lambda w: aap(w, "draft_a") + "/budget",
        lambda w: BUDGET,
        404,
    ),
    A(
        "aap submit: référent A",
        "referent_a",
        "post",
        lambda w: aap(w, "complete_a") + "/submit",
        lambda w: SUBMIT,
        200,
    ),
    A(
        "aap submit: référent B sur le dossier de A",
        "referent_b",
        "post",
        lambda w: aap(w, "complete_a") + "/submit",
        lambda w: SUBMIT,
        404,
    ),
    # Réussites (les sondes ne passent pas à vide)
    A("create: référent A pour A", "editor_a", "post", lambda w: f"{n(w)}/commitments", new_commitment, 201),
    A(
        "create: pilote pour B",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, "b"),
        201,
    ),
    A(
        "patch: référent A, son brouillon",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        patch,
        200,
    ),
    A(
        "transition: référent A propose son brouillon",
        "editor_a",
        "post",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}/transitions",
        lambda w: propose(),
        200,
    ),
    # Créer : le partenaire du corps JSON
    A(
        "create: référent A pour B",
        "editor_a",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, "b"),
        403,
    ),
    A(
        "create: référent B pour A",
        "editor_b",
        "post",
        lambda w: f"{n(w)}/commitments",
        new_commitment,
        403,
    ),
    A("create: lecteur A pour A", "reader_a", "post", lambda w: f"{n(w)}/commitments", new_commitment, 403),
    A("create: anonyme", "anonymous", "post", lambda w: f"{n(w)}/commitments", new_commitment, 401),
    A(
        "create: pilote d'un autre contrat, chez Nantes",
        "pilot_other",
        "post",
        lambda w: f"{n(w)}/commitments",
        new_commitment,
        403,
    ),
    A(
        "create: référent A dans un contrat où il ne l'est pas",
        "editor_a",
        "post",
        lambda w: f"{o(w)}/commitments",
        lambda w: new_commitment(w, objective=code(w["other_objective"])),
        403,
    ),
    A(
        "create: pilote, partenaire hors contrat",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, "outsider"),
        409,
    ),
    A(
        "create: partenaire inconnu",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, "partenaire-qui-n-existe-pas"),
        409,
    ),
    # Créer : les références du corps JSON sont cherchées dans le contrat du chemin
    A(
        "create: objectif d'un autre contrat",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, objective=code(w["other_objective"])),
        409,
    ),
    A(
        "create: action d'un autre contrat",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, action=w["other_action"].code),
        409,
    ),
    A(
        "create: quartier d'un autre contrat",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, scope=CommitmentScope.QPV, qpvs=[w["other_qpv"].code]),
        409,
    ),
    A(
        "create: indicateur d'un autre contrat",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments",
        lambda w: new_commitment(w, indicators=[w["other_indicator"].code]),
        409,
    ),
    # Modifier : l'engagement du chemin est cherché dans le contrat du chemin
    A(
        "patch: engagement d'un autre contrat sous Nantes (pilote de Nantes)",
        "pilot",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'other_draft').pk}",
        lambda w: patch(w, "other_draft"),
        404,
    ),
    A(
        "patch: engagement d'un autre contrat sous Nantes (son pilote)",
        "pilot_other",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'other_draft').pk}",
        lambda w: patch(w, "other_draft"),
        404,
    ),
    A(
        "patch: engagement de Nantes sous un autre contrat",
        "pilot_other",
        "patch",
        lambda w: f"{o(w)}/commitments/{c(w, 'a_draft').pk}",
        patch,
        404,
    ),
    A(
        "patch: référent A, brouillon de B",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'b_draft').pk}",
        lambda w: patch(w, "b_draft"),
        404,  # le brouillon d'un autre partenaire est invisible (docs/security.md)
    ),
    A(
        "patch: référent A, engagement confirmé de B",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'b_confirmed').pk}",
        lambda w: patch(w, "b_confirmed", amendment_reason="Forgé"),
        403,
    ),
    A(
        "patch: référent B, brouillon de A",
        "editor_b",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        patch,
        404,  # le brouillon d'un autre partenaire est invisible (docs/security.md)
    ),
    A(
        "patch: lecteur A",
        "reader_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        patch,
        403,
    ),
    A(
        "patch: anonyme",
        "anonymous",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        patch,
        401,
    ),
    A(
        "patch: objectif d'un autre contrat",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        lambda w: patch(w, objective=code(w["other_objective"])),
        409,
    ),
    A(
        "patch: action d'un autre contrat",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        lambda w: patch(w, action=w["other_action"].code),
        409,
    ),
    A(
        "patch: quartier d'un autre contrat",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        lambda w: patch(w, scope=CommitmentScope.QPV, qpvs=[w["other_qpv"].code]),
        409,
    ),
    A(
        "patch: indicateur d'un autre contrat",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        lambda w: patch(w, indicators=[w["other_indicator"].code]),
        409,
    ),
    A(
        "patch: champs hors schéma (partenaire, contrat, état, confirmé par)",
        "editor_a",
        "patch",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        lambda w: patch(
            w,
            partner=w["b"].slug,
            partner_id=w["b"].pk,
            contract=w["other"].slug,
            contract_id=w["other"].pk,
            status=S.CONFIRMED,
            confirmed_by_id=w["users"]["pilot"].pk,
        ),
        200,
        draft_of_a_untouched_but_retitled,
    ),
    # Faire avancer : même recherche
    A(
        "transition: engagement d'un autre contrat sous Nantes",
        "pilot",
        "post",
        lambda w: f"{n(w)}/commitments/{c(w, 'other_draft').pk}/transitions",
        lambda w: propose(),
        404,
    ),
    A(
        "transition: engagement de Nantes sous un autre contrat",
        "pilot_other",
        "post",
        lambda w: f"{o(w)}/commitments/{c(w, 'a_draft').pk}/transitions",
        lambda w: propose(),
        404,
    ),
    A(
        "transition: référent B, brouillon de A",
        "editor_b",
        "post",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}/transitions",
        lambda w: propose(),
        404,  # le brouillon d'un autre partenaire est invisible (docs/security.md)
    ),
    A(
        "transition: référent A valide lui-même",
        "editor_a",
        "post",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}/transitions",
        lambda w: {"action": "validate"},
        403,
    ),
    # Situer des points : lecture libre, rien n'est écrit
    A(
        "georef: anonyme, des points",
        "anonymous",
        "post",
        lambda w: "/api/v1/georef",
        lambda w: {"points": [{"lon": -1.5536, "lat": 47.2184}]},
        200,
    ),
    A(
        "georef: jeton inventé",
        "forged_token",
        "post",
        lambda w: "/api/v1/georef",
        lambda w: {"points": [{"lon": -1.5536, "lat": 47.2184}]},
        401,
    ),
]

READS = [
    # Réussites
    A(
        "commitment: brouillon de A, lecteur A",
        "reader_a",
        "get",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        None,
        200,
    ),
    A(
        "meeting: comité technique, lecteur A",
        "reader_a",
        "get",
        lambda w: f"{n(w)}/meetings/{w['cotech'].pk}",
        None,
        200,
    ),
    A(
        "feedback: retour en attente, son auteur",
        "editor_a",
        "get",
        lambda w: f"{n(w)}/feedback/{w['feedback']['a'].pk}",
        None,
        200,
    ),
    A(
        "feedback: retour en attente, pilote",
        "pilot",
        "get",
        lambda w: f"{n(w)}/feedback/{w['feedback']['a'].pk}",
        None,
        200,
    ),
    A(
        "evaluation: en cours, lecteur A",
        "reader_a",
        "get",
        lambda w: f"{n(w)}/evaluations/MI_PARCOURS",
        None,
        200,
    ),
    # Refus
    A(
        "commitment: brouillon de B, lecteur A",
        "reader_a",
        "get",
        lambda w: f"{n(w)}/commitments/{c(w, 'b_draft').pk}",
        None,
        404,
    ),
    A(
        "commitment: brouillon, anonyme",
        "anonymous",
        "get",
        lambda w: f"{n(w)}/commitments/{c(w, 'b_draft').pk}",
        None,
        404,
    ),
    A(
        "commitment: brouillon d'un autre contrat sous Nantes",
        "pilot",
        "get",
        lambda w: f"{n(w)}/commitments/{c(w, 'other_draft').pk}",
        None,
        404,
    ),
    A(
        "commitment: brouillon de Nantes, pilote d'un autre contrat",
        "pilot_other",
        "get",
        lambda w: f"{n(w)}/commitments/{c(w, 'a_draft').pk}",
        None,
        404,
    ),
    A(
        "commitment: brouillon de Nantes sous un autre contrat",
        "pilot_other",
        "get",
        lambda w: f"{o(w)}/commitments/{c(w, 'a_draft').pk}",
        None,
        404,
    ),
    A(
        "meeting: comité technique, anonyme",
        "anonymous",
        "get",
        lambda w: f"{n(w)}/meetings/{w['cotech'].pk}",
        None,
        404,
    ),
    A(
        "meeting: comité technique, pilote d'un autre contrat",
        "pilot_other",
        "get",
        lambda w: f"{n(w)}/meetings/{w['cotech'].pk}",
        None,
        404,
    ),
    A(
        "meeting: instance d'un autre contrat sous Nantes",
        "pilot",
        "get",
        lambda w: f"{n(w)}/meetings/{w['other_cotech'].pk}",
        None,
        404,
    ),
    A(
        "feedback: retour en attente de A, anonyme",
        "anonymous",
        "get",
        lambda w: f"{n(w)}/feedback/{w['feedback']['a'].pk}",
        None,
        404,
    ),
    A(
        "feedback: retour en attente de A, référent B",
        "editor_b",
        "get",
        lambda w: f"{n(w)}/feedback/{w['feedback']['a'].pk}",
        None,
        404,
    ),
    A(
        "feedback: retour d'un autre contrat sous Nantes",
        "pilot",
        "get",
        lambda w: f"{n(w)}/feedback/{w['feedback']['other'].pk}",
        None,
        404,
    ),
    A(
        "feedback: retour de Nantes sous un autre contrat",
        "editor_a",
        "get",
        lambda w: f"{o(w)}/feedback/{w['feedback']['a'].pk}",
        None,
        404,
    ),
    A(
        "evaluation: en cours, anonyme",
        "anonymous",
        "get",
        lambda w: f"{n(w)}/evaluations/MI_PARCOURS",
        None,
        404,
    ),
    A(
        "evaluation: en cours, pilote d'un autre contrat",
        "pilot_other",
        "get",
        lambda w: f"{n(w)}/evaluations/MI_PARCOURS",
        None,
        404,
    ),
    A(
        "evaluation: celle d'un autre contrat, pilote de Nantes",
        "pilot",
        "get",
        lambda w: f"{o(w)}/evaluations/MI_PARCOURS",
        None,
        404,
    ),
    A(
        "indicator: indicateur d'un autre contrat sous Nantes",
        "pilot",
        "get",
        lambda w: f"{n(w)}/indicators/{w['other_indicator'].code}/values",
        None,
        404,
    ),
    A(
        "action: action d'un autre contrat sous Nantes",
        "pilot",
        "get",
        lambda w: f"{n(w)}/actions/{w['other_action'].pk}",
        None,
        404,
    ),
    A(
        "partner: partenaire hors contrat",
        "pilot",
        "get",
        lambda w: f"{n(w)}/partners/{w['outsider'].slug}",
        None,
        404,
    ),
    A(
        "contract: contrat en préparation, pilote d'un autre contrat",
        "pilot",
        "get",
        lambda w: f"{API}/{w['preparing'].slug}",
        None,
        404,
    ),
    A(
        "contract: engagements d'un contrat en préparation",
        "pilot",
        "get",
        lambda w: f"{API}/{w['preparing'].slug}/commitments",
        None,
        404,
    ),
]


def call(client, probe, world):
    kwargs = headers(world, probe.role)
    path = probe.path(world)
    if probe.method == "get":
        return client.get(path, **kwargs)
    return getattr(client, probe.method)(path, probe.body(world), content_type="application/json", **kwargs)


@pytest.mark.parametrize("probe", WRITES + READS, ids=lambda p: p.name)
def test_api_probe(client, world, probe):
    # Les tables changées par l'appel (empreinte avant et après, relue seulement si le compteur
    # d'écritures a bougé : tests/security/attack_world.py) ; la vérification de la sonde lit
    # la base juste après l'appel, avant que son écriture soit annulée.
    checked = []

    def request():
        response = call(client, probe, world)
        if probe.check:
            checked.append(bool(probe.check(world)))
        return response

    response, changed = sent_and_undone(request)
    assert response.status_code == probe.status, (response.status_code, response.content[:500])
    writes = probe.method != "get" and probe.status in {200, 201} and not probe.name.startswith("georef")
    if writes:
        assert changed, "réussite sans écriture : la sonde passe à vide"
    else:
        assert changed == []
    if probe.check:
        assert checked == [True], "la valeur forgée a servi"
    if probe.status >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and detail.strip(), response.content


def test_no_list_shows_an_object_of_another_contract_or_an_unpublished_one(client, world):
    """Les listes filtrent comme les lectures par identifiant : rien d'ailleurs, rien de caché."""
    anonymous_ids = {
        "commitments": {
            item["id"] for item in client.get(f"{n(world)}/commitments?limit=200").json()["items"]
        },
        "meetings": {item["id"] for item in client.get(f"{n(world)}/meetings?limit=200").json()["items"]},
        "decisions": {item["id"] for item in client.get(f"{n(world)}/decisions?limit=200").json()["items"]},
        "feedback": {item["id"] for item in client.get(f"{n(world)}/feedback?limit=200").json()["items"]},
    }
    assert c(world, "a_draft").pk not in anonymous_ids["commitments"]
    assert c(world, "a_confirmed").pk in anonymous_ids["commitments"]
    assert world["cotech"].pk not in anonymous_ids["meetings"]
    assert world["decision"].pk not in anonymous_ids["decisions"]
    assert world["feedback"]["a"].pk not in anonymous_ids["feedback"]
    pilot = headers(world, "pilot")
    seen = {item["id"] for item in client.get(f"{n(world)}/commitments?limit=200", **pilot).json()["items"]}
    assert c(world, "a_draft").pk in seen and c(world, "other_a").pk not in seen
    seen = {item["id"] for item in client.get(f"{n(world)}/feedback?limit=200", **pilot).json()["items"]}
    assert world["feedback"]["a"].pk in seen and world["feedback"]["other"].pk not in seen


def test_session_writes_without_csrf_token_are_refused(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world["users"]["editor_a"])
    before = fingerprint()
    draft = c(world, "a_draft")
    response = browser.patch(
        f"{n(world)}/commitments/{draft.pk}", patch(world), content_type="application/json"
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    response = browser.post(f"{n(world)}/commitments", new_commitment(world), content_type="application/json")
    assert response.status_code == 403
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.parametrize("how", ["revoked", "inactive", "forged"])
def test_a_dead_or_forged_token_writes_nothing(client, world, how):
    key = world["keys"]["editor_a"]
    if how == "revoked":
        ApiToken.objects.filter(user=world["users"]["editor_a"]).update(revoked=True)
    elif how == "inactive":
        world["users"]["editor_a"].is_active = False
        world["users"]["editor_a"].save()
    else:
        key = key[:-4] + "AAAA"
    before = fingerprint()
    response = client.patch(
        f"{n(world)}/commitments/{c(world, 'a_draft').pk}",
        patch(world),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 401, response.content
    assert changed_tables(before, fingerprint()) == []


def test_every_api_write_is_probed_both_ways(world):
    """Chaque opération d'écriture du schéma OpenAPI a ici une réussite et au moins un refus : une
    nouvelle écriture fait échouer ce test tant qu'elle n'est pas sondée."""
    import re

    from cdv.api.urls import api

    schema = api.get_openapi_schema()
    operations = [
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method in methods
        if method.lower() not in {"get", "head", "options", "parameters"}
    ]
    assert operations, "aucune écriture dans le schéma ?"
    missing = []
    for method, template in operations:
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        probes = [p for p in WRITES if p.method.upper() == method and pattern.match(p.path(world))]
        if not any(p.status < 400 for p in probes) or not any(p.status >= 400 for p in probes):
            missing.append((method, template))
    assert missing == []
