"""La commande ``build_evaluation_report`` : le rapport d'évaluation écrit dans un fichier (PDF ou
DOCX selon l'option ou l'extension ; document de travail, dernière version figée ou version choisie)
et ses erreurs, claires et en français. Le monde (l'évaluation finale et son pilote) est celui de
tests/evaluation/test_evaluation_report.py, bâti une fois pour ce fichier."""

import io

import pytest
from django.core.management import CommandError, call_command

from cdv.evaluation import documents, services
from cdv.evaluation.models import Evaluation
from tests.evaluation import test_evaluation_report as report_tests
from tests.evaluation.test_evaluation_report import JUDGEMENT, docx_text, pdf_text

# Le monde de test_evaluation_report.py (ses fixtures), bâti une fois pour ce fichier.
built_world = report_tests.built_world
world = report_tests.world
pilot = report_tests.pilot
evaluation = report_tests.evaluation

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def run(*args):
    out = io.StringIO()
    call_command("build_evaluation_report", *args, stdout=out)
    return out.getvalue()


def test_command_writes_pdf_and_docx(evaluation, pilot, tmp_path):
    target = tmp_path / "rapport.pdf"
    out = run("--contract", "nantes-metropole-2024-2030", "--kind", "final", "-o", str(target))
    assert target.read_bytes().startswith(b"%PDF")
    assert str(target) in out and documents.WORKING_DRAFT in out and "PDF" in out
    assert JUDGEMENT in pdf_text(target.read_bytes())

    services.freeze_report(user=pilot, evaluation=evaluation)
    services.save_judgement(user=pilot, question=evaluation.questions.get(number=1), scale=2, text="Révisé.")
    docx = tmp_path / "rapport.docx"
    out = run(
        "--contract", "nantes-metropole-2024-2030", "--kind", "finale", "--format", "docx", "-o", str(docx)
    )
    assert docx.read_bytes().startswith(b"PK") and "Version 1 figée le" in out
    assert JUDGEMENT in docx_text(docx.read_bytes())

    live = tmp_path / "travail.docx"  # le format suit l'extension
    run("--contract", "nantes-metropole-2024-2030", "--kind", "final", "--live", "-o", str(live))
    assert "Révisé." in docx_text(live.read_bytes())

    again = tmp_path / "v1.pdf"
    out = run(
        "--contract", "nantes-metropole-2024-2030", "--kind", "final", "--version", "1", "-o", str(again)
    )
    assert "Version 1 figée le" in out and JUDGEMENT in pdf_text(again.read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "inconnu", "--kind", "mid-term"], "Aucun contrat « inconnu »"),
        (["--contract", "nantes-metropole-2024-2030", "--kind", "annuelle"], "Nature d'évaluation inconnue"),
        (["--contract", "nantes-metropole-2024-2030", "--kind", "final"], "n'a pas d'évaluation finale"),
        (
            ["--contract", "nantes-metropole-2024-2030", "--kind", "mid-term", "--version", "7"],
            "pas de version 7",
        ),
        (
            ["--contract", "nantes-metropole-2024-2030", "--kind", "mid-term", "--format", "odt"],
            "Format inconnu",
        ),
        (
            ["--contract", "nantes-metropole-2024-2030", "--kind", "mid-term", "-o", "/nulle/part/r.pdf"],
            "n'existe pas",
        ),
    ],
)
def test_command_errors_are_clear_and_french(args, message, built_world):
    # Le contrat n'a pas d'évaluation finale : celle du monde du fichier est retirée (le temps du test).
    Evaluation.objects.filter(pk=built_world["evaluation"].pk).delete()
    with pytest.raises(CommandError, match=message):
        run(*args)
