"""Figer, adopter, publier une évaluation, par ses pages : le pilote seul fige des versions ; un COPIL
du contrat l'adopte ; adoptée, elle est publique avec l'avis agrégé des conseils citoyens. Le monde
par test (rôles, conseils citoyens, questionnaires de démonstration) et les gestes des pages sont
ceux de test_evaluation_pages.py. Le rapport servi par ses pages (PDF, DOCX, versions) :
test_evaluation_documents.py, sur un petit contrat."""

import pytest

from cdv.evaluation import services
from cdv.evaluation.enums import EvaluationStatus, QuestionnaireStatus
from cdv.evaluation.models import EvaluationReport
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from tests.evaluation.test_evaluation_pages import (
    KIND,
    SECRET_EMAIL,
    SECRET_FIRST,
    SECRET_LAST,
    adopt,
    answers_post,
    login,
    q_url,
    scale_and_text_numbers,
    text,
    url,
)
from tests.evaluation.test_evaluation_pages import world as pages_world

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

# Le monde de test_evaluation_pages.py (sa fixture), bâti pour chaque test comme là-bas.
world = pages_world


def test_pilot_freezes_versions_and_only_the_pilot_does(client, world):
    login(client, world, "evaluator")
    assert client.post(url("evaluation_freeze", KIND)).status_code == 403
    client.logout()
    login(client, world, "pilot")
    assert client.post(url("evaluation_freeze", KIND)).status_code == 302
    report = EvaluationReport.objects.get(evaluation=world["evaluation"], version=1)
    page = text(client.get(url("evaluation", KIND)))
    assert "Version 1" in page and report.checksum in page
    data = client.get(url("evaluation_version_json", KIND, 1)).json()
    assert data["checksum_sha256"] == report.checksum and data["payload"]["questions"]


def test_adoption_requires_a_copil_of_the_contract(client, world):
    nantes, other = world["nantes"], world["other"]
    cotech = Meeting.objects.create(
        contract=nantes, kind="COTECH", title="Comité technique", date="2027-05-01"
    )
    foreign = Meeting.objects.create(
        contract=other, kind=MeetingKind.COPIL, title="COPIL ailleurs", date="2027-05-01"
    )
    login(client, world, "pilot")
    for meeting in (cotech, foreign):
        response = client.post(url("evaluation_adopt", KIND), {"meeting": meeting.pk, "confirm": "oui"})
        assert response.status_code == 200 and "L'adoption n'est pas enregistrée" in text(response)
    world["evaluation"].refresh_from_db()
    assert world["evaluation"].status == EvaluationStatus.IN_PROGRESS


def test_adopted_evaluation_is_public_with_the_councils_aggregated_view(client, world):
    evaluation, derv = world["evaluation"], world["derv"]
    scale, free = scale_and_text_numbers(derv)
    user = world["users"]["council"]
    services.submit_answers(
        user=user, questionnaire=derv, answers={scale: 1, free: "Réponse d’une habitante du quartier."}
    )
    key = services.respondent_key(derv, user)
    login(client, world, "pilot")
    client.post(url("evaluation_freeze", KIND))
    client.logout()
    adopt(client, world)
    derv.refresh_from_db()
    assert derv.status == QuestionnaireStatus.CLOSED
    adopted = EvaluationReport.objects.get(evaluation=evaluation, adopted=True)
    assert adopted.version == 2

    listing = text(client.get(url("evaluations")))
    assert evaluation.title in listing and "Adoptée par le comité de pilotage" in listing
    response = client.get(url("evaluation", KIND))
    assert response.status_code == 200
    page = text(response)
    judgement = evaluation.questions.get(number=1).judgement
    assert judgement.text in page and "Avis des conseils citoyens" in page
    assert "Réponse d’une habitante du quartier." in page  # l'avis agrégé : des textes, sans nom
    assert "Version 2 du rapport" not in page and "version 2 du rapport" in page
    # Adoptée, l'évaluation est publique avec ses éléments de preuve ; l'historique des jugements, les
    # versions de travail et les noms des auteurs restent aux membres.
    assert "Éléments de preuve" in page and "Taux d'emploi des 15-64 ans (démonstration)" in page
    assert "Historique du jugement" not in page and "Versions figées" not in page
    assert adopted.checksum in page and "Inès Roux" not in page
    assert "Rapport adopté en PDF" in page
    # Les engagements cités par les recommandations : seulement ceux qui sont publiés.
    assert "Équiper 200 logements de thermostats programmables" in page
    assert "Animer deux forums emploi par an" not in page  # proposé, pas encore publié
    assert 'name="q1-scale"' not in response.content.decode()
    questionnaires = text(client.get(url("questionnaires", KIND)))
    assert "Résultats agrégés" in questionnaires and "Répondre" not in questionnaires
    results = client.get(q_url("questionnaire_results", derv))
    assert results.status_code == 200
    assert client.get(q_url("questionnaire", derv)).status_code == 404
    assert client.get(q_url("questionnaire_pdf", derv)).status_code in (302, 404)
    assert client.get(url("evaluation_version_json", KIND, 2)).status_code == 200
    assert client.get(url("evaluation_version_json", KIND, 1)).status_code == 404
    for address in [
        url("evaluation", KIND),
        url("questionnaires", KIND),
        q_url("questionnaire_results", derv),
    ]:
        content = client.get(address).content.decode()
        for secret in (SECRET_FIRST, SECRET_LAST, SECRET_EMAIL, key):
            assert secret not in content, (address, secret)
    # Adoptée, elle est figée : plus de jugement, ni de réponse.
    login(client, world, "evaluator")
    assert (
        client.post(url("evaluation_judgement", KIND, 1), {"q1-scale": 4, "q1-text": "x"}).status_code == 403
    )
    client.logout()
    login(client, world, "council")
    assert client.post(q_url("questionnaire", derv), answers_post(derv, {scale: 3})).status_code == 403
