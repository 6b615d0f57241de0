"""Écriture des ressources : CSV, JSON et GeoJSON (le XLSX : ``cdv.opendata.xlsx``).

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

from cdv.core.formulas import csv_text

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
