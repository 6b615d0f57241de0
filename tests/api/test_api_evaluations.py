"""GET /api/v1/contracts/{slug}/evaluations : adoptées pour le public, en cours pour les membres."""

import datetime
import json
from decimal import Decimal

import pytest

from cdv.evaluation import services
from cdv.evaluation.models import Judgement, QuestionnaireResponse
from cdv.monitoring.models import Meeting
from cdv.users.enums import Role
from tests import factories
from tests.evaluation.test_evaluation_report import (
    COUNCIL_TEXT,
    JUDGEMENT,
    MEMBER_EMAIL,
    MEMBER_NAME,
    PAPER_TEXT,
    Q1,
    Q2,
    RECOMMENDATION,
    build_evaluation,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/contracts/nantes-metropole-2024-2030/evaluations"
COUNCIL_ITEM_KEYS = {"qpv", "number", "text", "kind", "count", "mean", "distribution", "texts"}


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def evaluation(nantes, pilot):
    return build_evaluation(nantes, pilot)


def test_anonymous_sees_nothing_of_an_evaluation_in_progress(client, evaluation):
    page = client.get(BASE).json()
    # Ni l'évaluation finale bâtie ici, ni l'évaluation à mi-parcours de démonstration (en cours).
    assert page["count"] == 0 and page["items"] == []
    for kind in ("FINALE", "MI_PARCOURS"):
        response = client.get(f"{BASE}/{kind}")
        assert response.status_code == 404 and "Aucune évaluation" in response.json()["detail"]
    assert client.get(f"{BASE}/ANNUELLE").status_code == 422
    assert client.get("/api/v1/contracts/inconnu/evaluations").status_code == 404


@pytest.mark.demo
def test_members_read_the_evaluation_in_progress_with_its_evidence(client, evaluation, pilot):
    client.force_login(pilot)
    page = client.get(BASE).json()
    assert [e["kind"] for e in page["items"]] == ["MI_PARCOURS", "FINALE"]  # mi-parcours d'abord
    data = client.get(f"{BASE}/FINALE").json()
    assert data["status"] == "EN_COURS" and data["content"] == "DONNEES_DU_MOMENT" and data["version"] is None
    assert data["evidence_visible"] is True
    q1, q2 = data["questions"]
    assert (q1["text"], q2["text"]) == (Q1, Q2)
    assert q1["judgement"] == {"scale": 3, "scale_label": "Largement atteint", "text": JUDGEMENT}
    assert q2["judgement"] is None
    assert q1["evidence"]["overall"]["label"] == "Ensemble" and "indicators" in q1["evidence"]
    assert [r["text"] for r in data["recommendations"]] == [RECOMMENDATION]

    # Un membre d'un autre contrat ne la voit pas.
    client.logout()
    stranger = factories.MembershipFactory(role=Role.PILOT).user
    client.force_login(stranger)
    assert client.get(f"{BASE}/FINALE").status_code == 404


def test_the_public_reads_the_adopted_version_exactly_as_adopted(client, evaluation, pilot):
    report = services.adopt(
        user=pilot,
        evaluation=evaluation,
        meeting=Meeting.objects.create(
            contract=evaluation.contract, kind="COPIL", title="COPIL", date=datetime.date(2030, 6, 12)
        ),
        confirmed=True,
    )
    # Après l'adoption, une correction directe en base ne change pas ce qui a été adopté.
    Judgement.objects.filter(question__evaluation=evaluation, question__number=1).update(text="Réécrit.")

    page = client.get(BASE).json()
    assert [e["kind"] for e in page["items"]] == ["FINALE"]
    data = client.get(f"{BASE}/FINALE").json()
    assert data["status"] == "ADOPTEE" and data["adopted_on"] == "2030-06-12"
    assert data["content"] == "VERSION_ADOPTEE"
    assert data["version"]["number"] == report.version and data["version"]["adopted"] is True
    assert data["version"]["checksum"] == report.checksum
    q1 = data["questions"][0]
    assert q1["judgement"]["text"] == JUDGEMENT

    # L'avis du conseil citoyen, agrégé : 2 réponses (4 et 2), moyenne 3, textes triés.
    scale, free = q1["council"]
    assert scale["count"] == 2 and Decimal(scale["mean"]) == 3 and scale["distribution"] == [0, 1, 0, 1, 0]
    assert (
        free["texts"] == sorted([COUNCIL_TEXT, PAPER_TEXT], key=str.casefold) and free["distribution"] is None
    )
    dervallieres = next(q for q in data["qpvs"] if q["code"] == "QN04406M")
    assert dervallieres["responses"] == 2 and dervallieres["on_paper"] == 1

    # Adoptée, l'évaluation est publique avec ses éléments de preuve, tels qu'adoptés.
    assert data["evidence_visible"] is True
    assert all(q["evidence"] is not None for q in data["questions"])
    assert client.get(BASE).headers["Cache-Control"].startswith("public")


def test_no_individual_answer_and_no_identity_in_the_api(client, evaluation, pilot):
    services.adopt(
        user=pilot,
        evaluation=evaluation,
        meeting=Meeting.objects.create(
            contract=evaluation.contract, kind="COPIL", title="COPIL", date="2030-06-12"
        ),
        confirmed=True,
    )
    for viewer in (None, pilot):
        if viewer is not None:
            client.force_login(viewer)
        body = client.get(BASE).content.decode()
        data = json.loads(body)
        for needle in (MEMBER_EMAIL, *MEMBER_NAME, "respondent", "papier-"):
            assert needle not in body
        for key in QuestionnaireResponse.objects.filter(questionnaire__evaluation=evaluation).values_list(
            "respondent_key", flat=True
        ):
            assert key not in body
        items = [i for e in data["items"] for q in e["questions"] for i in q["council"]]
        items += [i for e in data["items"] for q in e["qpvs"] for i in q["items"]]
        assert items and all(set(i) == COUNCIL_ITEM_KEYS for i in items)


def test_the_openapi_schema_documents_the_endpoints_in_french(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/contracts/{slug}/evaluations"]["get"]
    assert operation["tags"] == ["evaluations"] and operation["operationId"] == "list_evaluations"
    assert "/api/v1/contracts/{slug}/evaluations/{kind}" in schema["paths"]
    props = schema["components"]["schemas"]["CouncilItemOut"]["properties"]
    assert "sans auteur" in props["texts"]["description"]
