"""L'évaluation à mi-parcours de la démonstration de Nantes, en PDF puis en DOCX : le rapport entier
(une quarantaine de pages), marqué « démonstration », chaque question, et aucune adresse des membres
des conseils citoyens. Le rapport d'une évaluation bâtie à la main : test_evaluation_report.py."""

import pytest

from cdv.evaluation import documents
from cdv.evaluation.enums import EvaluationKind
from tests.evaluation.test_evaluation_report import docx_text, flat, pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_nantes_demo_evaluation_in_both_formats(nantes):
    """L'évaluation de démonstration de Nantes (données de démonstration), en PDF puis en DOCX.
    Son temps (cible : moins de 30 s) se mesure par bench/evaluation.py, pas ici."""
    evaluation = nantes.evaluations.get(kind=EvaluationKind.MID_TERM)
    assert evaluation.is_demo
    pdf, pdf_name = documents.evaluation_document(evaluation, "pdf")
    docx, docx_name = documents.evaluation_document(evaluation, "docx")
    text = pdf_text(pdf)
    assert documents.DEMO_LABEL in text and documents.DEMO_LABEL in docx_text(docx)
    assert pdf_name == "evaluation-mi-parcours-nantes-metropole-2024-2030-document-de-travail.pdf"
    assert docx_name.endswith(".docx")
    for question in evaluation.questions.all():
        assert flat(question.text) in text
    assert "conseil.dervallieres@example.org" not in text and "conseil.bellevue@example.org" not in text
