"""Le contrat de l'API tel que le lisent les outils : authentification avant toute validation,
étiquettes et identifiants d'opération utilisables par les générateurs de clients."""

import json
import re

import jsonschema
import pytest
from django.test import Client

from cdv.users.services import create_api_token
from tests import factories

pytestmark = pytest.mark.django_db
ASCII_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@pytest.fixture(scope="module")
def served_document(django_db_blocker):
    """Le document tel que le serveur l'envoie, demandé une fois pour le fichier."""
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.content


@pytest.fixture
def spec(served_document):
    return json.loads(served_document)  # chaque test lit sa propre copie


def _write_operations(spec):
    """Les écritures qui exigent le jeton d'API (``security`` déclaré), chemins remplis."""
    values = {"slug": "un-contrat", "pk": "1", "year": "2025", "number": "2025-0001"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                yield method, re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer jeton-inconnu"}, {"HTTP_AUTHORIZATION": "Basic abc"}],
    ids=["sans-jeton", "jeton-inconnu", "autre-schema"],
)
def test_writes_answer_401_before_looking_at_the_body(client, spec, headers):
    """Un appel anonyme ou au jeton faux reçoit 401, sans la liste des champs manquants : il
    n'apprend rien du corps attendu (#18, point 5)."""
    operations = list(_write_operations(spec))
    assert len(operations) >= 7
    for method, url in operations:
        for body in ("{}", '{"version": "x"}', "pas du json"):
            response = getattr(client, method)(url, body, content_type="application/json", **headers)
            assert response.status_code == 401, (method, url, body, response.content)
            data = response.json()
            assert set(data) == {"detail"}, (method, url, data)
            assert "valeur obligatoire" not in data["detail"], (method, url)


def test_tags_and_operation_ids_are_ascii_for_client_generators(spec):
    """openapi-python-client et consorts font un module par étiquette et une fonction par
    opération : des noms ASCII (``evaluations``, pas ``é_valuations``) ; le nom français reste
    affiché (x-displayName, description)."""
    declared = spec["tags"]
    assert declared and all(ASCII_NAME.match(tag["name"]) for tag in declared), [t["name"] for t in declared]
    assert all(tag.get("x-displayName") and tag.get("description") for tag in declared)
    assert {"Évaluations", "Géoréférencement", "Engagements"} <= {t["x-displayName"] for t in declared}
    names = {tag["name"] for tag in declared}
    operation_ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["tags"] and set(operation["tags"]) <= names, (method, path)
            assert ASCII_NAME.match(operation["operationId"]), (method, path, operation["operationId"])
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


def _body_schema(spec, method, path):
    operation = spec["paths"][path][method]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": spec["components"]})


BAD = "/api/v1/contracts/aucun-contrat"
# Chaque corps est envoyé à une adresse qui désigne un contrat inexistant : bien formé, il reçoit
# 404 (200 pour /georef) ; mal formé, 422 avec la liste des champs en cause.
COMMITMENT = {"partner": "ville-de-nantes", "objective": "1.1", "title": "Permanences"}
MEANS = {"year": 2026, "funding": "DROIT_COMMUN"}
BODIES = [
    ("transition", {"action": "propose"}, True),
    ("transition", {"action": "publier"}, False),
    ("transition", {"action": "close"}, False),
    ("transition", {"action": "close", "outcome": "BROUILLON"}, False),
    ("transition", {"action": "close", "outcome": "REALISE"}, True),
    ("transition", {"action": "close", "outcome": "ABANDONNE", "comment": " "}, False),
    ("transition", {"action": "close", "outcome": "ABANDONNE", "comment": "Plus de crédits"}, True),
    ("transition", {"action": "return"}, False),
    ("transition", {"action": "return", "comment": "À préciser"}, True),
    ("transition", {"action": "return", "comment": "\x00"}, False),
    ("create", {**COMMITMENT, "qpvs": ["QN04413M"]}, True),
    ("create", COMMITMENT, False),  # portée QPV par défaut : au moins un QPV
    ("create", {**COMMITMENT, "scope": "QPV", "qpvs": []}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT"}, True),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "qpvs": ["QN04413M"]}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "objective": "1-1"}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "title": ""}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "qpvs": [], "indicators": ["a b"]}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "amount_eur": "12000.50"}]}, True),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "amount_eur": 12000.5}]}, True),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "amount_eur": "12000.505"}]}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "amount_eur": "1e3"}]}, False),
    (
        "create",
        {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "amount_eur": "1234567890123"}]},
        False,
    ),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "fte": "99999.99"}]}, True),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "fte": "100000"}]}, False),
    ("create", {**COMMITMENT, "scope": "CONTRAT", "means": [{**MEANS, "fte": -1}]}, False),
    ("update", {"version": 1, "scope": "METROPOLE", "qpvs": []}, True),
    ("update", {"version": 1, "scope": "METROPOLE", "qpvs": ["QN04413M"]}, False),
    ("update", {"version": 1, "scope": "QPV", "qpvs": []}, False),
    ("update", {"version": 1, "qpvs": []}, True),  # la portée enregistrée décide (règle du service)
    ("update", {"version": 1, "title": None}, False),
    ("budget", {"version": 1}, False),
    ("budget", {"version": 1, "lines": None}, False),
    ("budget", {"version": 1, "requests": [{"funder": "nantes-metropole", "amount": "5000"}]}, True),
    ("budget", {"version": 1, "lines": [{"account": "64", "amount": "12345678901.5"}]}, False),
    ("project", {"version": 1, "qpv_share": "100"}, True),
    ("project", {"version": 1, "qpv_share": "100.5"}, False),
    ("project", {"version": 1, "scope": None}, False),
    ("project", {"version": 1, "title": " "}, False),
    ("project", {"version": 1, "title": "Ateliers\x00"}, False),
    ("project", {"version": 1, "summary": "\x00"}, False),
    ("submit", {"sworn_name": "Ada", "sworn_statement": True, "republican_contract": True}, True),
    ("submit", {"sworn_name": " ", "sworn_statement": True, "republican_contract": True}, False),
    ("submit", {"sworn_name": "Ada", "sworn_statement": False, "republican_contract": True}, False),
    ("submit", {"sworn_name": "Ada", "sworn_statement": True, "republican_contract": False}, False),
    ("georef", {"points": [{"lon": -1.55, "lat": 47.2}]}, True),
    ("georef", {}, False),
    ("georef", {"addresses": [{"q": "5 rue du Croisic\x00"}]}, False),
    # Un champ inconnu est ignoré, contenu compris (caractère nul aussi).
    ("georef", {"points": [{"lon": -1.55, "lat": 47.2, "note\x00": "\x00"}], "x\x00": ["\x00"]}, True),
    ("georef", {"points": [], "addresses": []}, False),
    ("georef", {"points": None}, False),
    ("georef", {"points": [], "min_score": "haut"}, False),
]
APPLICATION = "/api/v1/contracts/{slug}/calls/{year}/applications/{number}"
OPERATIONS = {
    "transition": (
        "post",
        "/api/v1/contracts/{slug}/commitments/{pk}/transitions",
        f"{BAD}/commitments/1/transitions",
    ),
    "create": ("post", "/api/v1/contracts/{slug}/commitments", f"{BAD}/commitments"),
    "update": ("patch", "/api/v1/contracts/{slug}/commitments/{pk}", f"{BAD}/commitments/1"),
    "project": ("patch", APPLICATION, f"{BAD}/calls/2025/applications/2025-0001"),
    "budget": ("put", f"{APPLICATION}/budget", f"{BAD}/calls/2025/applications/2025-0001/budget"),
    "submit": ("post", f"{APPLICATION}/submit", f"{BAD}/calls/2025/applications/2025-0001/submit"),
    "georef": ("post", "/api/v1/georef", "/api/v1/georef"),
}


@pytest.fixture
def token():
    _, key = create_api_token(user=factories.UserFactory(), name="contrat")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.mark.parametrize(("operation", "body", "well_formed"), BODIES)
def test_the_openapi_document_declares_what_the_server_checks(
    client, spec, token, operation, body, well_formed
):
    """Énumérations, motifs, chiffres des montants et règles entre champs : le schéma du corps
    accepte exactement ce que la validation du serveur accepte (#18, point 4)."""
    method, path, url = OPERATIONS[operation]
    assert _body_schema(spec, method, path).is_valid(body) is well_formed
    response = getattr(client, method)(url, json.dumps(body), content_type="application/json", **token)
    refused = response.status_code == 422 and bool(response.json().get("errors"))
    assert refused is not well_formed, (response.status_code, response.content)
    assert well_formed is not (response.status_code == 422), (response.status_code, response.content)
    if refused:
        assert all(error["message"] != "valeur invalide" for error in response.json()["errors"])


def _string_schemas(node):
    if isinstance(node, dict):
        if node.get("type") == "string":
            yield node
        for key, value in node.items():
            if key not in {"examples", "example", "default"}:
                yield from _string_schemas(value)
    elif isinstance(node, list):
        for item in node:
            yield from _string_schemas(item)


def test_every_text_received_declares_the_refused_nul_character(spec):
    """Le serveur refuse le caractère nul (U+0000) dans tout paramètre et tout champ d'un corps :
    chaque texte reçu le déclare, par son motif, une énumération ou un format (#18, point 4)."""
    received = [
        operation.get(part)
        for operations in spec["paths"].values()
        for operation in operations.values()
        for part in ("parameters", "requestBody")
    ]
    names, text = set(), json.dumps(received)
    while found := set(re.findall(r"#/components/schemas/(\w+)", text)) - names:
        names |= found
        text = json.dumps([spec["components"]["schemas"][name] for name in found])
    received += [spec["components"]["schemas"][name] for name in names]
    assert {"CommitmentIn", "MeansIn", "BudgetLineIn", "GeorefAddressIn"} <= names
    texts = list(_string_schemas(received))
    assert len(texts) > 40
    for text in texts:
        if {"enum", "const", "format"} & text.keys():
            continue
        validator = jsonschema.Draft202012Validator(text)
        assert not validator.is_valid("a\x00") and not validator.is_valid("\x00a"), text


@pytest.mark.reference
@pytest.mark.parametrize(
    ("period", "valid"),
    [("", True), ("2024", True), ("2024-T3", True), ("2024t3", True), ("2024-Q4", True), ("2024-T5", False)]
    + [(" 2024", False), ("fin 2025", False), ("24", False), ("２０２４", False)],
)
def test_the_period_filter_follows_its_declared_pattern(client, spec, period, valid):
    operation = spec["paths"]["/api/v1/contracts/{slug}/indicators/{code}/values"]["get"]
    (schema,) = [p["schema"] for p in operation["parameters"] if p["name"] == "period"]
    assert jsonschema.Draft202012Validator(schema).is_valid(period) is valid
    url = "/api/v1/contracts/nantes-metropole-2024-2030/indicators/taux-chomage-localise/values"
    assert (client.get(url, {"period": period}).status_code == 422) is not valid
