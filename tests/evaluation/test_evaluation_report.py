"""Le rapport d'évaluation en PDF et en DOCX, sur Nantes, d'une évaluation bâtie à la main (celle de
la démonstration : test_evaluation_demo_report.py). Ses versions figées, rendues à l'identique après
un changement des données, et servies par ses pages : test_evaluation_documents.py ; sa commande
(``build_evaluation_report``) : test_build_evaluation_report_command.py."""

import io

import pytest
from docx import Document

from cdv.evaluation import documents, services
from cdv.evaluation.enums import Criterion, EvaluationKind, ItemKind, QuestionnaireStatus
from cdv.evaluation.report import build_payload
from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import PdfText, assert_french_a4_docx, assert_pdf_ua_metadata, pdf_page_texts
from tests.worlds import built_once, fresh_copy

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

MEMBER_EMAIL = "zephyrine.confidentielle@example.org"
MEMBER_NAME = ("Zéphyrine", "Confidentielle")
Q1 = "Les forums emploi de proximité ont-ils rapproché les habitants de l'emploi ?"
Q2 = "Les habitants ont-ils été associés au pilotage du contrat ?"
JUDGEMENT = "Les forums ont touché des habitants éloignés de l'emploi, mais trop peu de jeunes."
COUNCIL_TEXT = "Le forum au centre social a aidé plusieurs voisins à trouver un stage."
PAPER_TEXT = "Plus de présence dans les halls d'immeuble."
RECOMMENDATION = "Tenir un forum emploi dans chaque quartier, deux fois par an."
COUNCIL_QPV = "QN04406M"


def build_evaluation(contract, pilot, *, kind=EvaluationKind.FINAL, is_demo=False, council_qpv=COUNCIL_QPV):
    """Une évaluation complète sur des données bâties à la main, par les services : deux questions,
    un jugement, une recommandation sur l'enjeu 1, le questionnaire du conseil citoyen du quartier
    ``council_qpv`` (code d'un QPV du contrat) et ses deux réponses.

    Finale par défaut : les données de démonstration portent déjà une évaluation à mi-parcours.
    """
    enjeux = {e.number: e for e in contract.enjeux.all()}
    evaluation = services.create_evaluation(
        user=pilot,
        contract=contract,
        kind=kind,
        title="Évaluation finale du contrat de ville",
        period_start=2024,
        period_end=2030,
        method="Entretiens avec les partenaires, analyse des bilans annuels, questionnaires de quartier.",
        is_demo=is_demo,
    )
    q1 = services.add_question(
        user=pilot, evaluation=evaluation, text=Q1, criterion=Criterion.EFFECTIVENESS, enjeux=[enjeux[1]]
    )
    q2 = services.add_question(user=pilot, evaluation=evaluation, text=Q2, criterion=Criterion.PARTICIPATION)
    services.save_judgement(user=pilot, question=q1, scale=3, text=JUDGEMENT)
    services.add_recommendation(user=pilot, evaluation=evaluation, text=RECOMMENDATION, enjeux=[enjeux[1]])

    qpv = contract.qpvs.get(code=council_qpv)
    council = factories.PartnerFactory(name="Conseil citoyen de test", kind=PartnerKind.CITIZEN_COUNCIL)
    council.qpvs.add(qpv)
    member = factories.MembershipFactory(
        contract=contract,
        role=Role.COUNCIL_MEMBER,
        partner=council,
        user__email=MEMBER_EMAIL,
        user__first_name=MEMBER_NAME[0],
        user__last_name=MEMBER_NAME[1],
    ).user
    questionnaire = services.create_questionnaire(
        user=pilot,
        evaluation=evaluation,
        qpv=qpv,
        title=f"Questionnaire du conseil citoyen — {qpv.name}",
        items=[
            ("L'accès à l'emploi s'est-il amélioré dans le quartier ?", ItemKind.SCALE, q1),
            ("Qu'est-ce qui a le plus aidé ?", ItemKind.TEXT, q1),
            ("Le conseil citoyen a-t-il été écouté ?", ItemKind.SCALE, q2),
        ],
    )
    services.set_questionnaire_status(
        user=pilot, questionnaire=questionnaire, status=QuestionnaireStatus.OPEN
    )
    services.submit_answers(user=member, questionnaire=questionnaire, answers={1: 4, 2: COUNCIL_TEXT, 3: 2})
    services.enter_paper_response(user=pilot, questionnaire=questionnaire, answers={1: 2, 2: PAPER_TEXT})
    return evaluation


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) : l'évaluation finale et son pilote ; chaque
    test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
        pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
        yield {"pilot": pilot, "evaluation": build_evaluation(contract, pilot)}


@pytest.fixture
def world(built_world):
    return fresh_copy(built_world)


@pytest.fixture
def pilot(world):
    return world["pilot"]


@pytest.fixture
def evaluation(world):
    return world["evaluation"]


# Le document de travail de l'évaluation du monde, tel quel : composé une fois pour les tests qui le
# lisent sans rien changer avant.
@pytest.fixture(scope="module")
def live_payload(built_world, django_db_blocker):
    with django_db_blocker.unblock():
        return build_payload(built_world["evaluation"])


@pytest.fixture(scope="module")
def live_pdf(live_payload, django_db_blocker):
    with django_db_blocker.unblock():
        return documents.render_pdf(live_payload)


@pytest.fixture(scope="module")
def live_docx(live_payload, django_db_blocker):
    with django_db_blocker.unblock():
        return documents.render_docx(live_payload)


def flat(text: str) -> str:
    """Le texte sur une ligne : les retours à la ligne des cellules et des paragraphes ne comptent pas."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def pdf_pages(content: bytes) -> list[str]:
    return [flat(page) for page in pdf_page_texts(content)]


def pdf_text(content: bytes) -> str:
    return " ".join(pdf_pages(content))


def lazy_pdf_text(content: bytes) -> PdfText:
    """``pdf_text(content)`` pour ``in`` seulement, lu page à page jusqu'à ce que le texte cherché y soit."""
    return PdfText(content, blank_pages=True)


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
    return flat("\n".join(parts))


def assert_report_content(text: str, contract):
    for expected in (Q1, Q2, JUDGEMENT, COUNCIL_TEXT, PAPER_TEXT, RECOMMENDATION):
        assert flat(expected) in text
    assert "Largement atteint (3 sur 4)" in text
    assert documents.NO_JUDGEMENT in text  # Q2 n'est pas jugée
    assert "Enjeu 1." in text and "Questions transversales" in text
    assert "Synthèse" in text and "Méthode" in text and "Recommandations" in text
    # L'avis du conseil, agrégé : deux réponses, moyenne 3 (4 et 2), dont une sur papier.
    assert "2 réponses, moyenne 3 sur 5" in text
    assert "2 réponses au questionnaire du conseil citoyen, dont 1 sur formulaire papier" in text
    for qpv in contract.qpvs.all():
        assert f"Quartier {qpv.name}" in text
    # Jamais l'identité d'un répondant.
    assert MEMBER_EMAIL not in text and MEMBER_NAME[0] not in text and MEMBER_NAME[1] not in text


def test_pdf_has_every_part_and_one_page_per_qpv(live_pdf, nantes):
    pdf = live_pdf  # documents.render_pdf(build_payload(evaluation))
    assert pdf.startswith(b"%PDF")
    assert_pdf_ua_metadata(pdf, title="Évaluation finale du contrat de ville — " + nantes.title)
    pages = pdf_pages(pdf)
    text = " ".join(pages)
    assert_report_content(text, nantes)
    assert pages[0].startswith("Évaluation finale") and documents.WORKING_DRAFT in pages[0]
    for qpv in nantes.qpvs.all():
        heading = f"Quartier {qpv.name} {qpv.code}"
        assert sum(1 for page in pages if page.startswith(heading)) == 1, heading
    assert documents.DEMO_LABEL not in text


def test_pdf_has_charts_with_their_data_and_comparability_warnings(live_payload):
    html = documents.render_html(live_payload)
    # Enjeu 1 : le taux d'emploi de démonstration a un début et une fin de période → une courbe.
    assert "<svg" in html and "Données du graphique" in html
    assert "Comparabilité" in html  # le chômage localisé est celui de la zone d'emploi
    assert "Indicateurs des enjeux de la question" in html


def test_docx_is_editable_and_has_the_same_content(live_docx, nantes):
    content = live_docx  # documents.render_docx(build_payload(evaluation))
    doc = Document(io.BytesIO(content))
    text = docx_text(content)
    assert_report_content(text, nantes)
    assert documents.WORKING_DRAFT in text
    assert flat(documents.DOCX_CHARTS_NOTE) in text
    assert "Données du graphique" in text  # les graphiques, en tableaux de données
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Synthèse" in headings and "Méthode" in headings and "Recommandations" in headings
    assert f"Question 1. {Q1}" in headings
    assert doc.core_properties.title.startswith("Évaluation finale du contrat de ville")


def test_docx_is_a4_in_french_and_every_table_repeats_its_header_row(live_docx):
    """Ouvert dans Word ou LibreOffice : A4, correcteur en français, en-têtes de tableaux répétés."""
    content = live_docx  # documents.render_docx(build_payload(evaluation))
    assert_french_a4_docx(content)
    # Le jugement et l'avis des conseils citoyens : une ligne d'en-tête, puis leurs contenus.
    doc = Document(io.BytesIO(content))
    judged = next(t for t in doc.tables if t.rows[0].cells[0].text == "Le jugement des évaluateurs")
    assert [c.text for c in judged.rows[0].cells] == [
        "Le jugement des évaluateurs",
        "L'avis des conseils citoyens",
    ]
    assert JUDGEMENT in judged.rows[1].cells[0].text and COUNCIL_TEXT in judged.rows[1].cells[1].text


def test_evaluation_document_refuses_a_foreign_version_or_format(evaluation, nantes, pilot):
    report = services.freeze_report(user=pilot, evaluation=evaluation)
    demo = nantes.evaluations.get(kind=EvaluationKind.MID_TERM)
    with pytest.raises(ValueError, match="autre évaluation"):
        documents.evaluation_document(demo, "pdf", report=report)
    with pytest.raises(ValueError, match="Format inconnu"):
        documents.evaluation_document(evaluation, "odt")


def test_texts_typed_by_people_stay_text(evaluation, pilot):
    question = evaluation.questions.get(number=2)
    services.save_judgement(user=pilot, question=question, scale=1, text="<b>Gras</b> & <script>x</script>")
    html = documents.render_html(build_payload(evaluation))
    assert "&lt;b&gt;Gras&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "<b>Gras</b> & <script>x</script>" in docx_text(documents.render_docx(build_payload(evaluation)))


def test_the_report_states_where_the_contracts_headline_gap_stands(
    client, evaluation, nantes, pilot, live_payload, live_pdf, live_docx
):
    """Le chiffre de une de la page d'accueil (le même choix) : sa valeur, sa comparaison, l'écart,
    l'année de publication et la source, dans le contenu, le PDF, le DOCX et la page de travail."""
    from cdv.contracts.models import headline_figure

    figure = headline_figure(nantes.key_figures.all())
    assert figure is not None and figure.comparison_value is not None
    payload = live_payload  # build_payload(evaluation), rendu plus bas en PDF et en DOCX
    headline = payload["headline"]
    assert (headline["label"], headline["source_url"]) == (figure.label, figure.source_url)
    assert headline["value"] == float(figure.value) and headline["comparison_value"] == float(
        figure.comparison_value
    )
    expected_gap = float((figure.value - figure.comparison_value).quantize(figure.value.__class__("0.1")))
    assert headline["gap_points"] == expected_gap
    sentence = documents.headline_sentence(headline)
    assert figure.label.lower() in sentence.lower() and figure.source_label in sentence
    assert figure.published_on[:4] in sentence
    assert flat(sentence) in pdf_text(live_pdf)
    docx = Document(io.BytesIO(live_docx))
    assert any(sentence == p.text for p in docx.paragraphs)
    import html as htmllib
    import re

    from django.urls import reverse

    client.force_login(pilot)
    from cdv.www.views.evaluation import KIND_SLUGS

    response = client.get(reverse("www:evaluation", args=[nantes.slug, KIND_SLUGS[evaluation.kind]]))
    page = htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    assert flat(sentence) in flat(page)
