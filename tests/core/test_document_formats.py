"""Le socle commun des documents : DOCX A4 en français (cdv.core.docx), PDF avec métadonnées XMP
PDF/UA (html_to_pdf)."""

import io

import pytest

from cdv.commitments.documents import html_to_pdf
from cdv.core.docx import new_french_a4_document, repeat_header_row
from tests.document_checks import assert_french_a4_docx, assert_pdf_ua_metadata


def saved(doc) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def test_a_new_document_is_a4_french_and_its_table_headers_repeat():
    doc = new_french_a4_document()
    doc.add_paragraph("Bonjour")
    table = doc.add_table(rows=2, cols=2)
    repeat_header_row(table.rows[0])
    repeat_header_row(table.rows[0])  # sans effet la seconde fois
    assert table.rows[0]._tr.xml.count("w:tblHeader") == 1
    assert_french_a4_docx(saved(doc))


def test_a_table_without_header_row_is_refused_by_the_check():
    doc = new_french_a4_document()
    doc.add_table(rows=2, cols=2)
    with pytest.raises(AssertionError, match="pas de ligne d'en-tête"):
        assert_french_a4_docx(saved(doc))


def test_html_to_pdf_writes_xmp_title_language_and_pdfua_identifier():
    html = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        "<title>Bilan « test » — quartier Bellevue</title></head>"
        "<body><h1>Bilan</h1><p>Texte.</p></body></html>"
    )
    assert_pdf_ua_metadata(html_to_pdf(html), title="Bilan « test » — quartier Bellevue")


def test_a_pdf_is_composed_once_for_the_same_html_and_stylesheet(monkeypatch, tmp_path):
    from django.core.cache import cache

    from cdv.commitments import documents

    composed = []
    compose = documents._compose_pdf
    monkeypatch.setattr(
        documents, "_compose_pdf", lambda html, css: composed.append(html) or compose(html, css)
    )
    cache.clear()
    page = '<!doctype html><html lang="fr"><head><title>{}</title></head><body><p>{}</p></body></html>'
    first = html_to_pdf(page.format("Cahier", "Texte"))
    assert html_to_pdf(page.format("Cahier", "Texte")) == first and len(composed) == 1
    other = html_to_pdf(page.format("Cahier", "Autre texte"))  # un autre contenu : recomposé
    assert len(composed) == 2 and other != first
    stylesheet = tmp_path / "autre.css"
    stylesheet.write_text("p { color: #123456; }", encoding="utf-8")
    html_to_pdf(page.format("Cahier", "Texte"), css_path=stylesheet)  # une autre feuille : recomposé
    assert len(composed) == 3
    cache.clear()
