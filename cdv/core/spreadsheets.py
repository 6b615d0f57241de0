"""Cellules de classeur communes aux exports et aux imports XLSX (cahiers d'engagements, plan
d'action, audit, données ouvertes, géoréférencement, appel à projets).

Règle contre l'injection de formules (``cdv.core.formulas``) : dans un classeur, un texte est écrit
comme une cellule **texte** (``set_text``, ``append_row``, ``text_cell``), sa valeur inchangée ; un
tableur ne l'exécute jamais et openpyxl, pandas ou LibreOffice le relisent identique. Seuls les
caractères de contrôle interdits dans un classeur sont retirés. ``unsafe_text`` retire, à l'import,
l'apostrophe qu'ajoutaient nos classeurs d'avant cette règle (et qu'ajoute toujours le CSV).
"""

import io
import re

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from .formulas import NEEDS_QUOTE_RE

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def xlsx_text(value) -> str:
    """Le texte d'une cellule de classeur : la valeur, sans les caractères de contrôle interdits."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def unsafe_text(text: str) -> str:
    return text[1:] if text.startswith("'") and NEEDS_QUOTE_RE.match(text[1:]) else text


def set_text(cell, value):
    """Écrit ``value`` en cellule texte (vide pour None ou "") : jamais une formule ni une erreur."""
    cell.value = xlsx_text(value) if value not in (None, "") else None
    if cell.value is not None:
        cell.data_type = "s"


def text_cell(sheet, value):
    """Une cellule texte à passer à ``sheet.append`` (feuille normale ou en écriture seule)."""
    cell = WriteOnlyCell(sheet) if isinstance(sheet, WriteOnlyWorksheet) else Cell(sheet)
    set_text(cell, value)
    return cell


def append_row(sheet, values):
    """``sheet.append(values)`` où chaque texte devient une cellule texte (règle ci-dessus)."""
    sheet.append([text_cell(sheet, v) if isinstance(v, str) else v for v in values])


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
