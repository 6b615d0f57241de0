"""Cellules de classeur communes aux exports et aux imports XLSX (cahiers d'engagements, plan
d'action, audit, données ouvertes, géoréférencement).

``safe_text`` neutralise un texte qu'un tableur prendrait pour une formule (``formulas.NEEDS_QUOTE_RE``)
et ``unsafe_text`` défait cette neutralisation à l'import : l'aller-retour est exact.
"""

import io
import re

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .formulas import NEEDS_QUOTE_RE

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def safe_text(value) -> str:
    """Texte sûr pour une cellule : sans caractère interdit, et jamais pris pour une formule.

    Un texte qui commence par =, +, -, @, une tabulation ou un retour chariot (éventuellement
    précédés d'apostrophes) reçoit une apostrophe en tête : le tableur l'affiche tel quel au lieu
    de l'exécuter. ``unsafe_text`` retire cette apostrophe à l'import : l'aller-retour est exact.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + text if NEEDS_QUOTE_RE.match(text) else text


def unsafe_text(text: str) -> str:
    return text[1:] if text.startswith("'") and NEEDS_QUOTE_RE.match(text[1:]) else text


def set_text(cell, value):
    cell.value = safe_text(value) if value not in (None, "") else None
    if cell.value is not None:
        cell.data_type = "s"


def normalize_header(value) -> str:
    text = str(value or "").replace("’", "'").replace("\u00a0", " ").strip().rstrip("*").strip()
    return re.sub(r"\s+", " ", text).casefold()


def norm_text(value) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value or ""))
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def save_workbook(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def header_row(ws, labels, widths, technical=()):
    for index, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=index)
        set_text(cell, label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(index)].width = width
        if index in technical:
            ws.column_dimensions[get_column_letter(index)].hidden = True
    ws.freeze_panes = "A2"
