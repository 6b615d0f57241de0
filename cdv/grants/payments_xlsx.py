"""Le classeur des versements et retards d'un appel (openpyxl) : le même tableau que la page,
en-têtes en français, montants et jours en nombres, dates en dates ; une feuille de totaux par
financeur."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from cdv.core.spreadsheets import append_row

from .selectors_payments import FIRST_PAYMENT_DAYS, SIGNATURE_DAYS, Board

EURO = '#,##0.00 "€"'
DATE = "DD/MM/YYYY"
BOLD = Font(bold=True)

HEADERS = [
    "N° de dossier",
    "Association",
    "Projet",
    "Financeur",
    "Voté (€)",
    "Versé (€)",
    "Reste à verser (€)",
    "Date du vote",
    "Jours depuis le vote",
    "Acte signé le",
    "Jours depuis la signature",
    "Prochaine échéance",
    "Échéance prévue le",
    "Premier versement le",
    "Jours du vote au premier versement",
    "État",
    "En retard",
    "Motif du retard",
]
MONEY_COLUMNS = (5, 6, 7)
DATE_COLUMNS = (8, 10, 13, 14)


def _sheet(workbook: Workbook, title: str, headers: list[str]):
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = BOLD
    sheet.freeze_panes = "A2"
    return sheet


def _format(sheet, row: int, money: tuple[int, ...], dates: tuple[int, ...] = ()) -> None:
    for column in money:
        sheet.cell(row=row, column=column).number_format = EURO
    for column in dates:
        sheet.cell(row=row, column=column).number_format = DATE


def build_payments_xlsx(call, board: Board) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheet = _sheet(workbook, "Versements", HEADERS)
    for row in board.rows:
        append_row(
            sheet,
            [
                row.number,
                row.partner,
                row.title,
                row.funder,
                row.voted,
                row.paid,
                row.remaining,
                row.decision_date,
                row.days_since_vote,
                row.signed_on,
                row.days_since_signature,
                row.next_label,
                row.next_due,
                row.first_paid_on,
                row.days_to_first_payment,
                row.stage_label,
                "oui" if row.late else "non",
                " ; ".join(row.late),
            ],
        )
        _format(sheet, sheet.max_row, MONEY_COLUMNS, DATE_COLUMNS)

    totals = _sheet(
        workbook,
        "Totaux par financeur",
        [
            "Financeur",
            "Subventions",
            "En retard",
            "Voté (€)",
            "Versé (€)",
            "Reste à verser (€)",
            "Jours du vote au premier versement (moyenne)",
        ],
    )
    for total in [*board.totals, board.grand_total]:
        append_row(
            totals,
            [
                total.funder,
                total.lines,
                total.late,
                total.voted,
                total.paid,
                total.remaining,
                total.average_days_to_first_payment,
            ],
        )
        _format(totals, totals.max_row, (4, 5, 6))
    for cell in totals[totals.max_row]:
        cell.font = BOLD
    totals.append([])
    totals.append(
        [
            f"En retard : une échéance non versée après sa date prévue, rien de versé {FIRST_PAYMENT_DAYS} "
            f"jours après la signature de l'acte, ou l'acte non signé {SIGNATURE_DAYS} jours après le vote."
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
