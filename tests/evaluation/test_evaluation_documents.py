"""Les versions figées du rapport d'une évaluation : rendues à l'identique (PDF, DOCX) après un
changement des données, à côté du document de travail ; adoptée, une nouvelle version marquée
adoptée, l'ancienne toujours lisible. Et le rapport servi par ses pages : document de travail au
pilote, format inconnu refusé ; adoptée, le rapport adopté à tous, et plus de nouvelle version.

Le monde est le petit contrat de test_council_visibility.py (deux quartiers, un enjeu, l'évaluation
finale et sa version 1 figée), bâti une fois pour ce fichier : un rapport de huit pages, composé
autant de fois que le parcours en demande, au lieu des quarante du rapport de démonstration."""

import datetime

import pytest
from django.urls import reverse

from cdv.evaluation import documents, services
from cdv.evaluation.enums import EvaluationStatus
from cdv.evaluation.models import EvaluationReport
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from tests.evaluation import test_council_visibility as small_contract
from tests.evaluation.test_evaluation_report import JUDGEMENT, docx_text, lazy_pdf_text, pdf_text

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


def test_a_frozen_version_renders_identically_after_the_data_change(world, people):
    evaluation, pilot = world["evaluation"], people["pilot"]
    first = EvaluationReport.objects.get(evaluation=evaluation, version=1)  # figée avec le monde
    before_pdf, name = documents.evaluation_document(evaluation, "pdf")
    before_docx, _ = documents.evaluation_document(evaluation, "docx")
    assert name == f"evaluation-finale-{SLUG}-v1.pdf"
    question = evaluation.questions.get(number=1)
    services.save_judgement(
        user=pilot, question=question, scale=1, text="Un tout autre jugement, écrit après."
    )

    after_pdf, _ = documents.evaluation_document(evaluation, "pdf")  # par défaut : la dernière version figée
    assert pdf_text(after_pdf) == pdf_text(before_pdf)
    assert docx_text(documents.evaluation_document(evaluation, "docx")[0]) == docx_text(before_docx)
    text = pdf_text(after_pdf)
    assert JUDGEMENT in text and "Un tout autre jugement" not in text
    assert f"Version 1 figée le {documents.fr_date(first.created_at)}" in text
    assert first.checksum in text.replace(" ", "")

    live, live_name = documents.evaluation_document(evaluation, "pdf", live=True)
    live_text = lazy_pdf_text(live)
    assert "Un tout autre jugement, écrit après." in live_text
    assert documents.WORKING_DRAFT in live_text and live_name.endswith("-document-de-travail.pdf")

    # Adoptée : une version 2, marquée adoptée, rendue par défaut ; la version 1 reste lisible.
    adopted = services.adopt(
        user=pilot,
        evaluation=evaluation,
        meeting=Meeting.objects.create(
            contract=evaluation.contract, kind="COPIL", title="COPIL", date=datetime.date(2030, 6, 12)
        ),
        confirmed=True,
    )
    text = lazy_pdf_text(documents.evaluation_document(evaluation, "pdf")[0])
    assert adopted.version == 2
    assert f"Version 2 figée le {documents.fr_date(adopted.created_at)}, adoptée le 12 juin 2030" in text
    assert "Un tout autre jugement, écrit après." in text
    old = pdf_text(documents.evaluation_document(evaluation, "pdf", report=first)[0])
    assert old == pdf_text(before_pdf)
