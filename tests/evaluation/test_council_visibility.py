"""L'avis des conseils citoyens pendant l'évaluation : lu par les pilotes, les évaluateurs et le
conseil citoyen du quartier, par personne d'autre (API, document de travail PDF/DOCX, versions
figées) ; et, partout, un quartier n'a de résultats qu'à partir de EVALUATION_MIN_ANSWERS réponses
(« résultats masqués : moins de 5 réponses »).

Le monde est un petit contrat à lui (deux quartiers, un enjeu) : ce qui est vérifié ne dépend pas de
la taille du contrat, et le rapport de chaque rôle en a huit pages au lieu de vingt-cinq pour
Nantes."""

import io
import json

import pytest
from docx import Document

from cdv.evaluation import services
from cdv.monitoring.models import Meeting
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import PdfText
from tests.evaluation.test_evaluation_report import COUNCIL_TEXT, PAPER_TEXT, build_evaluation
from tests.worlds import built_once, fresh_copy

pytestmark = pytest.mark.django_db
SLUG = "evaluation-des-conseils"
API = f"/api/v1/contracts/{SLUG}/evaluations/FINALE"
COUNCIL_QPV = "QN09800M"  # ni donné par la fabrique (QN096…, QN097…), ni réel (pas de département 98)


def build_people(contract, evaluation):
    partner = factories.PartnerFactory(name="Bailleur")
    factories.SignatoryFactory(contract=contract, partner=partner)
    other_council = factories.PartnerFactory(
        name="Conseil citoyen d'un autre quartier", kind="CONSEIL_CITOYEN"
    )
    other_council.qpvs.add(contract.qpvs.exclude(code=COUNCIL_QPV).get())
    own_council = evaluation.questionnaires.get().qpv.partners_covering.get(name="Conseil citoyen de test")
    specs = {
        "editor": (partner, Role.EDITOR),
        "reader": (partner, Role.READER),
        "other_council": (other_council, Role.COUNCIL_MEMBER),
        "own_council": (own_council, Role.COUNCIL_MEMBER),
        "evaluator": (None, Role.EVALUATOR),
        "pilot": (None, Role.PILOT),
    }
    return {
        name: factories.MembershipFactory(contract=contract, partner=partner, role=role).user
        for name, (partner, role) in specs.items()
    }


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) : le contrat, l'évaluation en cours, sa version 1
    figée et les six personnes ; chaque test annule ce qu'il écrit. Les mêmes documents (même contenu)
    ne sont alors composés qu'une fois pour tous les rôles qui les lisent à l'identique."""
    with built_once(django_db_blocker, EVALUATION_MIN_ANSWERS=1):
        contract = factories.ContractFactory(slug=SLUG, title="Contrat de ville des conseils citoyens")
        contract.qpvs.add(
            factories.QpvFactory(code=COUNCIL_QPV, name="Quartier du conseil"),
            factories.QpvFactory(name="Quartier voisin"),
        )
        factories.EnjeuFactory(contract=contract, number=1, title="Emploi et activité économique")
        pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
        evaluation = build_evaluation(contract, pilot, council_qpv=COUNCIL_QPV)
        people = build_people(contract, evaluation)
        services.freeze_report(user=pilot, evaluation=evaluation)
        yield {"pilot": pilot, "evaluation": evaluation, "people": people}


@pytest.fixture
def world(built_world, settings):
    settings.EVALUATION_MIN_ANSWERS = 1
    return fresh_copy(built_world)


@pytest.fixture
def pilot(world):
    return world["pilot"]


@pytest.fixture
def evaluation(world):
    return world["evaluation"]


@pytest.fixture
def people(world):
    return world["people"]


def _pdf_text(content):
    return PdfText(content)  # lu page à page selon le besoin


def _docx_text(content):
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return " ".join([p.text for p in document.paragraphs] + cells)


def _reads(client, user):
    """Ce que la personne lit de l'avis du conseil citoyen : API, document de travail, version figée."""
    client.force_login(user)
    base = f"/contrats/{SLUG}/evaluations/finale"

    def get(url, read):
        response = client.get(url)
        return read(response.content) if response.status_code == 200 else ""

    return {
        "api": get(API, lambda c: json.dumps(json.loads(c), ensure_ascii=False)),
        "pdf": get(f"{base}/rapport.pdf", _pdf_text),
        "docx": get(f"{base}/rapport.docx", _docx_text),
        "version_json": get(
            f"{base}/versions/1/contenu.json", lambda c: json.dumps(json.loads(c), ensure_ascii=False)
        ),
        "version_pdf": get(f"{base}/versions/1/rapport.pdf", _pdf_text),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("editor", False),
        ("reader", False),
        ("other_council", False),
        ("own_council", True),
        ("evaluator", True),
        ("pilot", True),
    ],
)
def test_council_answers_of_an_evaluation_in_progress_only_for_pilots_evaluators_and_own_council(
    client, people, who, sees
):
    # La version 1 est figée dans le monde du fichier (built_world).
    for where, text in _reads(client, people[who]).items():
        # Texte libre : une phrase courte, que le PDF peut couper en fin de ligne.
        found = "stage" in text and "halls" in text
        assert found == sees, (who, where)


def test_a_neighbourhood_under_the_minimum_shows_no_results_anywhere(
    client, evaluation, people, pilot, settings
):
    settings.EVALUATION_MIN_ANSWERS = 5  # la version 1, figée avant, est masquée elle aussi
    reads = _reads(client, people["pilot"])
    for where, text in reads.items():
        assert COUNCIL_TEXT[:20] not in text and PAPER_TEXT[:20] not in text, where
    assert "moins de 5 réponses" in reads["pdf"] and "moins de 5 réponses" in reads["docx"]
    dervallieres = next(q for q in client.get(API).json()["qpvs"] if q["code"] == COUNCIL_QPV)
    assert dervallieres["responses"] == 2 and dervallieres["items"] == [] and dervallieres["masked"] is True
    page = client.get(f"/contrats/{SLUG}/evaluations/finale/questionnaires/{COUNCIL_QPV}/resultats/")
    text = page.content.decode()
    assert page.status_code == 200 and "Résultats masqués : moins de 5 réponses" in text
    assert "stage" not in text

    # Adoptée, l'évaluation est publique, mais le quartier reste masqué.
    services.adopt(
        user=pilot,
        evaluation=evaluation,
        meeting=Meeting.objects.create(
            contract=evaluation.contract, kind="COPIL", title="COPIL", date="2030-06-12"
        ),
        confirmed=True,
    )
    client.logout()
    public = client.get(f"/contrats/{SLUG}/evaluations/finale/").content.decode()
    assert "stage" not in public
    api = client.get(API).json()
    assert not [i for q in api["questions"] for i in q["council"]]
    results = client.get(f"/contrats/{SLUG}/evaluations/finale/questionnaires/{COUNCIL_QPV}/resultats/")
    assert "Résultats masqués : moins de 5 réponses" in results.content.decode()


def test_from_the_minimum_the_results_show(client, evaluation, people, settings):
    settings.EVALUATION_MIN_ANSWERS = 2
    evaluation.reports.all().delete()  # pas encore de version figée (celle du monde, le temps du test)
    reads = _reads(client, people["pilot"])
    assert "stage" in reads["api"] and "stage" in reads["pdf"]


def test_the_threshold_is_five_by_default():
    import os

    from config.settings import base

    assert "EVALUATION_MIN_ANSWERS" in os.environ or base.EVALUATION_MIN_ANSWERS == 5
