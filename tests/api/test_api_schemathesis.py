"""Tests de propriétés de l'API d'après son schéma OpenAPI (schemathesis), dans le processus.

Le schéma est lu sur l'application WSGI de Django (``/api/v1/openapi.json``) ; chaque cas généré
est envoyé à cette même application, dans la transaction du test : il voit les données réelles et
la démonstration chargées pour la session, et n'y laisse rien.

Pour aller plus loin que des 404, les paramètres qui désignent un objet (slug du contrat, code de
QPV, numéro d'enjeu, code d'objectif, numéro d'action…) reçoivent une fois sur deux une valeur
réelle, tirée de la base au début du test (« dictionnaires » de schemathesis liés à chaque
paramètre, opération par opération) ; le reste du temps, la valeur est générée d'après le schéma.
Les exemples du schéma (``example`` de chaque paramètre de chemin, corps d'exemple des écritures)
sont joués en plus.

Cinq tests, un sous-test par opération :
- lectures anonymes : phases « examples », « coverage » (valeurs limites, types faux, paramètres
  manquants, méthodes inattendues) et « fuzzing » ;
- lectures d'un pilote (jeton d'API) : « examples » et « fuzzing » ;
- écritures d'un pilote : les trois phases, davantage de cas ;
- écritures, puis lectures, avec toutes les vérifications de schemathesis (« accept_… ») :
  dont ST201 et ST202 ; un refus qui tient aux données du moment (code inconnu, année hors du
  contrat, moyen en double…) répond 409, un refus par le schéma 422.

Vérifications : aucune erreur serveur, statut documenté, type de contenu et corps conformes au
schéma de la réponse ; pour les deux tests « accept_what_the_schema_allows », toutes celles de
schemathesis, sans exception ni adaptation.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cdv.commitments.models import Commitment
from cdv.contracts.models import Contract
from cdv.indicators.models import Indicator
from cdv.monitoring.models import Feedback, Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories

# Les identifiants réels tirés de la base viennent de la démonstration (voir plus haut).
pytestmark = pytest.mark.demo
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Borné et reproductible : mêmes cas à chaque exécution, sans base d'exemples sur disque. Les
# vérifications de santé de Hypothesis (fixtures de fonction, lenteur, taille des données) ne disent
# rien d'utile ici : les données viennent du schéma et chaque cas est une requête HTTP.
HYPOTHESIS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
SEED = 2024
REAL = 0.5  # une fois sur deux, un identifiant réel


def _dictionaries():
    """Valeurs réelles, par nature d'identifiant (au moins une chacune)."""
    nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
    values = {
        "contracts": list(Contract.objects.values_list("slug", flat=True)),
        "qpvs": list(nantes.qpvs.values_list("code", flat=True)) + ["QP044005", "qn04413m"],
        "enjeux": list(Enjeu.objects.filter(contract=nantes).values_list("number", flat=True)),
        "objectives": [
            o.code for o in Objective.objects.filter(enjeu__contract=nantes).select_related("enjeu")
        ],
        "actions": list(Action.objects.values_list("pk", flat=True)),
        "action_codes": list(Action.objects.for_contract(nantes).values_list("code", flat=True)),
        "partners": list(Partner.objects.values_list("slug", flat=True)),
        "commitments": list(Commitment.objects.values_list("pk", flat=True)),
        "indicators": list(Indicator.objects.values_list("code", flat=True)),
        "meetings": list(Meeting.objects.values_list("pk", flat=True)),
        "feedback": list(Feedback.objects.values_list("pk", flat=True)),
        "territories": ["QN04413M", "244400404", "44109", "5216", "FR", "QPV_CONTRAT"],
        "periods": ["2023", "2024", "2025-T4", "2025T1"],
        "years": [2024, 2025, 2026],
        "epcis": ["244400404", "244400644"],
        "versions": [1, 2, 3],
    }
    return {name: {"values": entries} for name, entries in values.items() if entries}


def _bind(dictionary):
    return {"dictionary": dictionary, "probability": REAL}


def _per_operation(operation_id, **parameters):
    return {"include-operation-id": operation_id, "parameters": {k: _bind(v) for k, v in parameters.items()}}


def _config(headers=None, coverage=True, mode=None):
    data = {
        "seed": SEED,
        "dictionaries": _dictionaries(),
        "parameters": {
            "path.slug": _bind("contracts"),
            "path.partner_slug": _bind("partners"),
            "path.number": _bind("enjeux"),
            "query.contract": _bind("contracts"),
            "query.qpv": _bind("qpvs"),
            "query.partner": _bind("partners"),
            "query.owner": _bind("partners"),
            "query.enjeu": _bind("enjeux"),
            "query.objective": _bind("objectives"),
            "query.epci": _bind("epcis"),
            "query.territory": _bind("territories"),
            "query.period": _bind("periods"),
            "query.year": _bind("years"),
        },
        "operations": [
            _per_operation("get_qpv", **{"path.code": "qpvs"}),
            _per_operation("get_objective", **{"path.code": "objectives"}),
            _per_operation("indicator_values", **{"path.code": "indicators"}),
            _per_operation("get_action", **{"path.pk": "actions"}),
            _per_operation("get_meeting", **{"path.pk": "meetings"}),
            _per_operation("get_feedback", **{"path.pk": "feedback"}),
            _per_operation("get_commitment", **{"path.pk": "commitments"}),
            _per_operation(
                "create_commitment",
                **{
                    "body.partner": "partners",
                    "body.objective": "objectives",
                    "body.action": "action_codes",
                    "body.qpvs[*]": "qpvs",
                    "body.indicators[*]": "indicators",
                    "body.means[*].year": "years",
                },
            ),
            _per_operation(
                "update_commitment",
                **{
                    "path.pk": "commitments",
                    "body.version": "versions",
                    "body.objective": "objectives",
                    "body.action": "action_codes",
                    "body.qpvs[*]": "qpvs",
                    "body.indicators[*]": "indicators",
                    "body.means[*].year": "years",
                },
            ),
            # L'action vient de l'énumération du schéma, avec ses règles (commentaire, issue).
            _per_operation("transition_commitment", **{"path.pk": "commitments"}),
        ],
    }
    if headers:
        data["headers"] = headers
    if not coverage:
        data["phases"] = {"coverage": {"enabled": False}}
    if mode:
        data["generation"] = {"mode": mode}
    return SchemathesisConfig.from_dict(data)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32 lit ``request.node._nodeid``, que pytest 9 n'a plus (il sert seulement à
    nommer les sous-tests « [GET /api/v1/…] ») : on le lui donne."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def wsgi_app(db, settings):
    """L'application WSGI, sans fermer la connexion à la fin de chaque requête (comme le client de
    test de Django) : la base du test est une transaction ouverte, qu'il ne faut pas perdre.

    Le géocodeur BAN de la suite vise un port fermé : ``POST /georef`` refait ses essais sans
    attendre entre deux (mêmes essais, même réponse, sans 0,15 s d'attente par adresse)."""
    settings.BAN_BACKOFF = 0
    application = get_wsgi_application()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def anonymous_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, config=_config())


@pytest.fixture
def pilot_headers(nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    _, key = create_api_token(user=pilot, name="schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def pilot_schema(wsgi_app, pilot_headers):
    """Écritures. Le caractère nul, refusé partout, est déclaré par le schéma de chaque texte : les
    cas valides n'en contiennent pas et vont jusqu'aux services."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, config=_config(pilot_headers))


@pytest.fixture
def pilot_fuzz_schema(wsgi_app, pilot_headers):
    """Sans la phase « coverage » : ses cas limites sont déjà joués sans jeton."""
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", wsgi_app, config=_config(pilot_headers, coverage=False)
    )


@pytest.fixture
def contract_schema(wsgi_app, pilot_headers):
    """Cas valides et invalides d'après le schéma (mode « all »), pour les vérifications du contrat."""
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", wsgi_app, config=_config(pilot_headers, mode="all")
    )


anonymous = schemathesis.pytest.from_fixture("anonymous_schema")
pilot = schemathesis.pytest.from_fixture("pilot_schema")
pilot_fuzz = schemathesis.pytest.from_fixture("pilot_fuzz_schema")
contract = schemathesis.pytest.from_fixture("contract_schema")


@anonymous.include(method="GET").parametrize()
@HYPOTHESIS
def test_anonymous_reads_never_fail(case):
    case.call_and_validate(checks=CHECKS)


@pilot_fuzz.include(method="GET").parametrize()
@HYPOTHESIS
def test_pilot_reads_never_fail(case):
    case.call_and_validate(checks=CHECKS)


@pilot.exclude(method="GET").parametrize()
@settings(HYPOTHESIS, max_examples=40)
def test_pilot_writes_never_fail(case):
    case.call_and_validate(checks=CHECKS)


@contract.exclude(method="GET").parametrize()
@settings(HYPOTHESIS, max_examples=30)
def test_writes_accept_what_the_schema_allows_and_refuse_the_rest(case):
    """Toutes les vérifications de schemathesis, telles quelles, dont « accepted a schema-invalid
    request » (ST201) et « rejected a schema-valid request » (ST202) : le document déclare ce que le
    serveur vérifie (énumérations, motifs, chiffres des montants, règles entre champs), et un corps
    conforme refusé pour le sens de ses données (code inconnu du contrat, année hors de sa période,
    engagement confirmé sans motif d'avenant…) reçoit 409, pas 422 (#18, point 4)."""
    case.call_and_validate()


@pytest.fixture
def anonymous_contract_schema(wsgi_app):
    """Lectures anonymes, cas valides et invalides (mode « all »)."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, config=_config(mode="all"))


anonymous_contract = schemathesis.pytest.from_fixture("anonymous_contract_schema")


@anonymous_contract.include(method="GET").parametrize()
@HYPOTHESIS
def test_reads_accept_what_the_schema_allows_and_refuse_the_rest(case):
    """Les mêmes vérifications que pour les écritures, sur les lectures anonymes (filtres, chemins)."""
    case.call_and_validate()
