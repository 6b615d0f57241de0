"""L'acte en DOCX et en PDF : le même contenu (référence, parties, montant à la française,
montants annuels d'une CPO, échéancier, compte-rendu CERFA 15059), A4, lisible par python-docx
et par pypdf."""

import io
from decimal import Decimal

import pytest
from docx import Document
from pypdf import PdfReader

from cdv.grants.acts import act_document, build_act_docx, build_act_pdf, euros, template_of
from cdv.grants.services import acts as services
from tests.document_checks import assert_french_a4_docx, assert_pdf_ua_metadata, pdf_page_texts
from tests.factories.grants import ActTemplateFactory, PaymentInstalmentFactory

from .acts_world import build_acts_world

pytestmark = pytest.mark.django_db


def plain(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return plain("\n".join(parts))


def pdf_text(content: bytes) -> str:
    return plain("\n".join(pdf_page_texts(content)))


def prepared(world):
    act = services.prepare_act(user=world.instructor_a, line=world.line_a)
    act.line = world.line_a
    return act


def test_euros_are_written_the_french_way():
    assert plain(euros(Decimal("12500"))) == "12 500,00 €"
    assert plain(euros(Decimal("1234567.5"))) == "1 234 567,50 €"


def test_the_docx_is_a4_and_carries_reference_amount_and_parties():
    world = build_acts_world()
    ActTemplateFactory(
        contract=world.call.contract,
        partner=world.funder_a.partner,
        reference_prefix="NM",
        signatory_name="Camille Martin",
        signatory_title="Vice-présidente",
        clauses="Le logo du financeur figure sur les supports de communication.",
    )
    act = prepared(world)
    PaymentInstalmentFactory(line=act.line)  # un tableau : l'échéancier
    content = build_act_docx(act, template_of(act))
    assert_french_a4_docx(content)
    doc = Document(io.BytesIO(content))
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert doc.core_properties.language == "fr-FR"
    # La langue du texte, et les en-têtes de tableaux répétés sur chaque page
    normal = doc.styles["Normal"].element.xml
    assert 'w:lang w:val="fr-FR"' in normal
    assert all(
        '<w:tblHeader w:val="true"/>' in table.rows[0]._tr.xml
        for table in doc.tables
        if table.style.name == "Table Grid"
    )
    text = docx_text(content)
    assert act.reference in text and act.reference.startswith("NM-")
    assert "Montant de la subvention est de 12 500,00 €".lower() in text.lower()
    assert "Arrêté attributif de subvention" in text
    assert "73282932000074" in text and "W442001234" in text and "Camille Durand" in text
    assert "Ateliers de cuisine du quartier" in text
    assert "15059" in text and "contrat d'engagement républicain" in text
    assert "Le logo du financeur" in text and "Vice-présidente" in text


def test_the_pdf_has_the_same_content():
    world = build_acts_world(amount_a=Decimal("30000"))
    PaymentInstalmentFactory(line=world.line_a, kind="AVANCE", order=1, amount=Decimal("24000"))
    PaymentInstalmentFactory(line=world.line_a, kind="SOLDE", order=2, amount=Decimal("6000"))
    act = prepared(world)
    content = build_act_pdf(act, template_of(act))
    assert_pdf_ua_metadata(content, title=f"Convention attributive de subvention {act.reference}")
    reader = PdfReader(io.BytesIO(content))
    box = reader.pages[0].mediabox
    assert round(float(box.width) * 25.4 / 72) == 210 and round(float(box.height) * 25.4 / 72) == 297
    text = pdf_text(content)
    assert "Convention attributive de subvention" in text
    assert act.reference in text
    assert "30 000,00 €" in text and "24 000,00 €" in text and "6 000,00 €" in text
    assert "Échéancier de versement" in text


def test_a_cpo_shows_each_yearly_amount_in_both_formats():
    world = build_acts_world(amount_a=Decimal("8000"), years=3, later=["9000", "9500"])
    act = prepared(world)
    year = world.call.year
    for text in (docx_text(build_act_docx(act)), pdf_text(build_act_pdf(act))):
        assert "Convention pluriannuelle d'objectifs" in text
        assert f"{year + 2}" in text and "9 500,00 €" in text and "26 500,00 €" in text


def test_without_template_sensible_defaults_are_used():
    world = build_acts_world()
    act = prepared(world)
    document = act_document(act, None)
    texts = " ".join(b.text + " ".join(b.items) for b in document.blocks)
    assert "loi n° 2000-321" in texts
    assert "Nantes" in texts  # lieu : la commune du financeur
    assert document.draft is True


def test_a_prepared_act_keeps_the_template_of_its_preparation_until_prepared_again():
    world = build_acts_world()
    contract, partner = world.call.contract, world.funder_a.partner
    services.save_act_template(
        user=world.instructor_a, contract=contract, partner=partner, version=None, data={"place": "Rezé"}
    )
    act = prepared(world)
    services.save_act_template(
        user=world.instructor_a, contract=contract, partner=partner, version=1, data={"place": "Orvault"}
    )
    assert "Fait à Rezé" in docx_text(build_act_docx(act, template_of(act)))
    act = prepared(world)
    assert "Fait à Orvault" in pdf_text(build_act_pdf(act, template_of(act)))
