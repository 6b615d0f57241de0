"""Le socle de chaque DOCX de la plateforme (python-docx) : A4, en français, en-têtes de tableaux
répétés.

Le modèle par défaut de python-docx est au format US Letter et en anglais (``w:lang en-US``) :
un correcteur orthographique ou un lecteur d'écran lirait le texte en anglais. Chaque document
part donc de ``new_french_a4_document()``, et chaque tableau de données marque sa première ligne
avec ``repeat_header_row()``, pour que Word et LibreOffice la répètent en haut de chaque page et
que les lecteurs d'écran l'annoncent comme en-tête.
"""

from __future__ import annotations

LANGUAGE = "fr-FR"
A4_WIDTH_TWIPS, A4_HEIGHT_TWIPS = 11906, 16838  # 210 × 297 mm


def new_french_a4_document():
    """Un document vide : chaque section en A4 portrait, le français comme langue du texte (valeurs
    par défaut, style Normal, langue du thème, propriétés du document)."""
    from docx import Document
    from docx.shared import Twips

    doc = Document()
    for section in doc.sections:
        section.page_width, section.page_height = Twips(A4_WIDTH_TWIPS), Twips(A4_HEIGHT_TWIPS)
    from docx.oxml.ns import qn

    defaults = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _set_language(defaults)
    _set_language(doc.styles["Normal"].element.get_or_add_rPr())
    _set_theme_language(doc.settings.element)
    doc.core_properties.language = LANGUAGE
    return doc


def repeat_header_row(row) -> None:
    """La ligne d'en-tête d'un tableau, répétée en haut de chaque page (``w:tblHeader``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    if properties.find(qn("w:tblHeader")) is None:
        header = OxmlElement("w:tblHeader")
        header.set(qn("w:val"), "true")
        properties.append(header)


def _set_language(run_properties) -> None:
    """``w:lang`` d'un ``w:rPr`` : le français, y compris pour les caractères d'Asie orientale (le
    modèle y met l'anglais) ; la langue des écritures de droite à gauche reste celle du modèle."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = run_properties.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        run_properties.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE)


def _set_theme_language(settings) -> None:
    from docx.oxml.ns import qn

    theme = settings.find(qn("w:themeFontLang"))
    if theme is not None:
        theme.set(qn("w:val"), LANGUAGE)
