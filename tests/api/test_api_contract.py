"""Le contrat de l'API tel que le lisent les outils : authentification avant toute validation,
étiquettes et identifiants d'opération utilisables par les générateurs de clients."""

import re

import pytest

pytestmark = pytest.mark.django_db
ASCII_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json()


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
