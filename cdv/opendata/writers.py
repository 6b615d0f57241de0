"""Écriture des ressources : CSV, JSON, XLSX et GeoJSON.

- CSV : UTF-8 **sans** BOM, séparateur virgule, point décimal, fins de ligne CRLF (RFC 4180), en-tête
  = noms techniques des colonnes ; booléens ``true``/``false``, dates ISO 8601 ; c'est le format
  décrit par ``datapackage.json`` et celui des schémas de données publiques français. Qui ouvre
  les fichiers dans un tableur prend le XLSX.
- Formules (la règle de tous les exports, ``cdv.core.formulas``) : dans le XLSX, chaque texte est
  une cellule de type texte, sa valeur inchangée (``set_text``) ; dans le CSV, un texte qui commence
  par =, +, -, @, une tabulation ou un retour chariot reçoit une apostrophe en tête (``csv_text``),
  sauf un simple nombre. Le JSON et le GeoJSON, lus par des programmes, gardent le texte tel quel.
- Rien n'est entre guillemets sans nécessité (séparateur, guillemet ou saut de ligne dans la
  valeur) : « 1.10 » s'écrit 1.10, et la Table Schema le déclare texte (type string).
- Une valeur sous secret statistique vaut « s » dans le CSV et le XLSX, ``null`` dans le JSON (avec
  ``secret_statistique: true``) : jamais 0.
"""

import csv
import datetime
import io
import json
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from cdv.core.formulas import csv_text
from cdv.core.spreadsheets import append_row, set_text, xlsx_text

from .schema import LICENSE, SECRET

DATE_FORMAT = "yyyy-mm-dd"


def csv_cell(value) -> str:
    if value is None:
        return ""
    if value is SECRET:
        return str(SECRET)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return csv_text(str(value))


def json_value(value):
    if value is SECRET:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def csv_bytes(resource, rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(resource.column_names)
    for row in rows:
        writer.writerow([csv_cell(row[name]) for name in resource.column_names])
    return buffer.getvalue().encode("utf-8")


def _dumps(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def json_bytes(resource, rows: list[dict], *, contract, schema_url: str) -> bytes:
    return _dumps(
        {
            "contrat": {"identifiant": contract.slug, "intitule": contract.title},
            "ressource": resource.name,
            "titre": resource.title,
            "description": resource.description,
            "licence": LICENSE,
            "schema": schema_url,
            "nombre_de_lignes": len(rows),
            "colonnes": [column.descriptor() for column in resource.columns],
            "donnees": [{key: json_value(value) for key, value in row.items()} for row in rows],
        }
    )


def geojson_bytes(resource, features, *, contract) -> bytes:
    collection = []
    for row, geometry in features:
        properties = {key: json_value(value) for key, value in row.items()}
        collection.append(
            {
                "type": "Feature",
                "id": row[resource.primary_key[0]],
                "geometry": geometry,
                "properties": properties,
            }
        )
    return _dumps(
        {
            "type": "FeatureCollection",
            "name": f"{contract.slug}-{resource.name}",
            "licence": LICENSE,
            "features": collection,
        }
    )


# ---------------------------------------------------------------------------------------------
# XLSX


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
