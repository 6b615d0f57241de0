"""Le rapport d'une évaluation (PDF, DOCX, versions) servi par ses pages : document de travail au
pilote, format inconnu refusé ; adoptée, le rapport adopté à tous, et plus de nouvelle version.

Le monde est le petit contrat de test_council_visibility.py (deux quartiers, un enjeu, l'évaluation
finale et sa version 1 figée), bâti une fois pour ce fichier : un rapport de huit pages, composé
autant de fois que le parcours en demande, au lieu des quarante du rapport de démonstration."""

import datetime

import pytest
from django.urls import reverse

from cdv.evaluation.enums import EvaluationStatus
from cdv.evaluation.models import EvaluationReport
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from tests.evaluation import test_council_visibility as small_contract

pytestmark = pytest.mark.django_db
SLUG, KIND = small_contract.SLUG, "finale"
# Le monde de test_council_visibility.py (ses fixtures), bâti pour ce fichier comme là-bas.
built_world, world, people = small_contract.built_world, small_contract.world, small_contract.people


def url(name, *args):
    return reverse(f"www:{name}", args=[SLUG, KIND, *args])


def test_report_documents_are_served_by_the_document_builder(client, world, people):
    evaluation = world["evaluation"]
    client.force_login(people["pilot"])
    response = client.get(url("evaluation_document", "pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert client.get(url("evaluation_document", "odt")).status_code == 404

    copil = Meeting.objects.create(
        contract=evaluation.contract, kind=MeetingKind.COPIL, title="COPIL", date=datetime.date(2030, 6, 12)
    )
    response = client.post(url("evaluation_adopt"), {"meeting": copil.pk, "confirm": "oui"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.ADOPTED
    client.logout()
    for fmt in ("pdf", "docx"):
        assert client.get(url("evaluation_document", fmt)).status_code == 200
    adopted = EvaluationReport.objects.get(evaluation=evaluation, adopted=True)
    assert client.get(url("evaluation_version_document", adopted.version, "pdf")).status_code == 200
    client.force_login(people["pilot"])
    client.post(url("evaluation_freeze"))  # adoptée : refusé
    assert EvaluationReport.objects.filter(evaluation=evaluation).count() == adopted.version
