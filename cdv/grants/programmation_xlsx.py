"""Le classeur de la programmation (openpyxl) : le même tableau que la page, avec ses totaux ;
en-têtes en français, montants en nombres (format euro), une feuille par total."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from cdv.core.spreadsheets import append_row

from .programmation import KIND_LABELS, KINDS, Programmation

EURO = '#,##0.00 "€"'
BOLD = Font(bold=True)


def _sheet(workbook: Workbook, title: str, headers: list[str]):
    sheet = workbook.create_sheet(title)
    append_row(sheet, headers)
    for cell in sheet[1]:
        cell.font = BOLD
    sheet.freeze_panes = "A2"
    return sheet


def _money(sheet, row: int, first_column: int) -> None:
    for cell in sheet[row][first_column - 1 :]:
        if isinstance(cell.value, int | float | Decimal) and not isinstance(cell.value, bool):
            cell.number_format = EURO


def build_programmation_xlsx(call, programmation: Programmation) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    fixed = ["N° de dossier", "Association", "Projet", "Enjeu", "Quartiers", "État du dossier"]
    headers = list(fixed)
    for funder in programmation.funders:
        headers += [f"{funder.name} — état"] + [
            f"{funder.name} — {KIND_LABELS[k].lower()} (€)" for k in KINDS
        ]
    headers += [f"Total {KIND_LABELS[k].lower()} (€)" for k in KINDS]
    sheet = _sheet(workbook, "Programmation", headers)
    first_money = len(fixed) + 1
    for row in programmation.rows:
        values = [row.number, row.partner, row.title, row.enjeu, row.qpv_names, row.status_label]
        for cell in row.cells:
            if cell is None:
                values += ["Non sollicité", None, None, None, None]
            else:
                values += [
                    cell.status_label,
                    cell.requested,
                    cell.proposed,
                    cell.simulated_value if cell.is_simulated else None,
                    cell.voted,
                ]
        values += [getattr(row.totals, k) for k in KINDS]
        append_row(sheet, values)
    total = ["Total", "", f"{len(programmation.rows)} dossiers", "", "", ""]
    for funder in programmation.funders:
        total += [""] + [getattr(funder.totals, k) for k in KINDS]
    total += [getattr(programmation.grand_total, k) for k in KINDS]
    append_row(sheet, total)
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for index in range(2, sheet.max_row + 1):
        _money(sheet, index, first_money)

    funders = _sheet(
        workbook,
        "Financeurs",
        ["Financeur", "Ligne budgétaire", "Lignes", "Enveloppe (€)"]
        + [f"{KIND_LABELS[k]} (€)" for k in KINDS]
        + ["Reste sur l'enveloppe (€)", "Dépassement"],
    )
    for funder in programmation.funders:
        append_row(
            funders,
            [funder.name, funder.label, funder.lines, funder.envelope]
            + [getattr(funder.totals, k) for k in KINDS]
            + [funder.remaining, "oui" if funder.over_envelope else "non"],
        )
        _money(funders, funders.max_row, 4)

    for title, groups, note in (
        ("Enjeux", programmation.by_enjeu, ""),
        ("Quartiers", programmation.by_qpv, programmation.qpv_rule),
    ):
        sheet = _sheet(workbook, title, [title[:-1], "Dossiers"] + [f"{KIND_LABELS[k]} (€)" for k in KINDS])
        for group in groups:
            append_row(sheet, [group.label, group.applications] + [getattr(group.totals, k) for k in KINDS])
            _money(sheet, sheet.max_row, 3)
        if note:
            append_row(sheet, [])
            append_row(sheet, [note])

    shares = _sheet(
        workbook, "Part en QPV", ["Montant", "Projets en QPV (€)", "Total (€)", "Part en QPV (%)"]
    )
    for label, share, in_qpv, whole in programmation.shares:
        append_row(shares, [label, in_qpv, whole, share])
        _money(shares, shares.max_row, 2)
        shares.cell(row=shares.max_row, column=4).number_format = "0.0"
    append_row(shares, [])
    append_row(
        shares,
        [
            "Projets en QPV : ceux qui portent sur un ou plusieurs quartiers prioritaires ; "
            "les projets de tout le territoire n'y sont pas comptés."
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
