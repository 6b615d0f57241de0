"""Écriture des ressources en XLSX : feuille « Données », « Colonnes » et « À propos ».

Les règles des fichiers (formules, secret statistique) sont celles de ``cdv.opendata.writers`` ; ce
module est à part pour que le serveur ne charge openpyxl qu'au premier classeur demandé.
"""

import datetime
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from cdv.core.spreadsheets import append_row, set_text, xlsx_text

from .schema import LICENSE
from .writers import DATE_FORMAT


def _xlsx_cell(cell, value):
    if value is None:
        return
    if isinstance(value, bool | int | Decimal):
        cell.value = value
    elif isinstance(value, datetime.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        set_text(cell, value)


def _data_sheet(sheet, resource, rows):
    sheet.title = "Données"
    sheet.append(resource.column_names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for index, name in enumerate(resource.column_names, start=1):
            _xlsx_cell(sheet.cell(row=number, column=index), row[name])
    sheet.freeze_panes = "A2"


def _columns_sheet(sheet, resource):
    sheet.append(["Colonne", "Intitulé", "Type", "Obligatoire", "Description"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in resource.columns:
        values = [
            column.name,
            column.title,
            column.type,
            "oui" if column.required else "non",
            column.description,
        ]
        append_row(sheet, values)


def _about_sheet(sheet, resource, contract):
    for label, value in [
        ("Contrat", contract.title),
        ("Fichier", resource.title),
        ("Description", resource.description),
        ("Licence", f"{LICENSE['title']} ({LICENSE['path']})"),
        ("Démonstration", "Les lignes où « est_demonstration » vaut VRAI sont fictives : écartez-les."),
    ]:
        append_row(sheet, [label, value])


def xlsx_bytes(resource, rows: list[dict], *, contract) -> bytes:
    workbook = Workbook()
    _data_sheet(workbook.active, resource, rows)
    _columns_sheet(workbook.create_sheet("Colonnes"), resource)
    _about_sheet(workbook.create_sheet("À propos"), resource, contract)
    workbook.properties.title = xlsx_text(f"{resource.title} — {contract.title}")
    workbook.properties.creator = "Contrat de ville"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
