"""Plan d'action : des feuilles du classeur XLSX importé aux éléments vérifiés, sans rien écrire.

Chaque ligne des feuilles « Enjeux », « Objectifs », « Actions » devient un ``PlanRow`` : son code
(« 1 », « 1.2 », « 1.2.3 ») et ses valeurs lues (quartiers du contrat, partenaires qui y prennent
part, état, dates, archivage). Chaque erreur nomme sa feuille, sa ligne et sa colonne ; une ligne
fautive est marquée ``failed`` et le ``writer`` la saute. Les colonnes sont décrites dans
``cdv.plan.spreadsheet``.
"""

import datetime
import re
from dataclasses import dataclass, field
from functools import partial

from cdv.commitments.mapper import MAX_SHEET_ROWS
from cdv.commitments.xlsx_export import qpv_queryset
from cdv.core.spreadsheets import norm_text, normalize_header, unsafe_text
from cdv.core.uploads import sentence
from cdv.partners.models import Partner

from .enums import ActionScope, ActionStatus

ENJEUX, OBJECTIVES, ACTIONS = "Enjeux", "Objectifs", "Actions"
ALL_QPVS = "Tous les QPV du contrat"
YES = "oui"
LIST_SEPARATOR = ";"

ENJEU_COLUMNS = [("number", "Numéro", 10), ("title", "Intitulé", 50), ("summary_plain", "Résumé", 60)]
ENJEU_COLUMNS += [("description", "Description", 60)]
OBJECTIVE_COLUMNS = [
    ("code", "Code", 10),
    ("title", "Intitulé", 60),
    ("description", "Description", 60),
    ("archived", "Archivé", 10),
]
ACTION_COLUMNS = [
    ("code", "Code", 10),
    ("title", "Intitulé", 50),
    ("summary_plain", "Résumé en langage clair", 60),
    ("description", "Description", 40),
    ("qpvs", "Quartiers (codes QPV)", 30),
    ("pilot_partner", "Partenaire pilote", 30),
    ("contributors", "Partenaires contributeurs", 40),
    ("status", "État", 14),
    ("start_on", "Début", 12),
    ("end_on", "Fin", 12),
    ("archived", "Archivée", 10),
]
SHEETS = [(ENJEUX, ENJEU_COLUMNS), (OBJECTIVES, OBJECTIVE_COLUMNS), (ACTIONS, ACTION_COLUMNS)]
OBJECTIVE_CODE = re.compile(r"^(\d{1,4})\.(\d{1,4})$")
ACTION_CODE = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,4})$")
STATUS_BY_LABEL = {label.casefold(): value for value, label in ActionStatus.choices}


@dataclass
class PlanRow:
    """Une ligne lue : ``parent`` (numéro d'enjeu ou code d'objectif) et ``number`` ou ``code``
    la situent ; ``values`` sont les champs du modèle ; ``archived`` : la colonne « Archivé »."""

    sheet: str
    row: int
    number: int = 0
    code: str = ""
    parent: int | str = 0
    values: dict = field(default_factory=dict)
    archived: bool = False
    qpvs: list = field(default_factory=list)
    contributors: list = field(default_factory=list)
    failed: bool = False


def locator(errors, sheet, columns, row):
    """(erreur sur une colonne de la ligne, erreur sur la ligne)."""

    def at_column(key, message):
        label = next(text for k, text, _ in columns if k == key)
        errors.at(sentence(message), sheet=sheet, row=row, column=label)

    def at_row(message):
        errors.at(sentence(message), sheet=sheet, row=row)

    return at_column, at_row


def _text(value) -> str:
    return unsafe_text(norm_text(value))


def _rows(workbook, title, columns, errors):
    """Lignes de la feuille en dictionnaires {clé: texte brut}, avec leur numéro de ligne."""
    if title not in workbook.sheetnames:
        errors.at(f"la feuille « {title} » manque (repartez du fichier exporté).", sheet=title)
        return []
    ws = workbook[title]
    lines = ws.iter_rows(values_only=True, max_row=MAX_SHEET_ROWS)
    header = [normalize_header(v) for v in next(lines, ())]
    positions = {}
    for key, label, _ in columns:
        wanted = normalize_header(label)
        if wanted not in header:
            errors.at(f"la colonne « {label} » manque.", sheet=title, row=1, column=label)
        else:
            positions[key] = header.index(wanted)
    result = []
    for number, values in enumerate(lines, start=2):
        if not values or all(v in (None, "") for v in values):
            continue
        row = {key: (values[i] if i < len(values) else None) for key, i in positions.items()}
        result.append((number, row))
    return result


def _parse_date(value, at):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value).strip(), "%d/%m/%Y").date()
    except ValueError:
        at(f"« {value} » n'est pas une date au format JJ/MM/AAAA.")
        return None


def _archived(value, at):
    text = _text(value).casefold()
    if text in ("", "non"):
        return False
    if text == YES:
        return True
    at(f"« {value} » : écrivez « oui » ou laissez vide.")
    return False


def read_plan(workbook, *, contract, errors) -> dict[str, list[PlanRow]] | None:
    """Les lignes des trois feuilles, lues et vérifiées ; None si une feuille ou une colonne manque."""
    sheets = {title: _rows(workbook, title, columns, errors) for title, columns in SHEETS}
    if errors:
        return None
    lookups = {
        "qpvs_of_contract": {q.code: q for q in contract.qpvs.only("id", "code", "name")},
        "known_qpv_codes": set(qpv_queryset().values_list("code", flat=True)),
        "partners": {
            p.name.casefold(): p for p in Partner.objects.taking_part_in(contract).only("id", "name")
        },
    }
    return {
        ENJEUX: [_enjeu(number, row, errors) for number, row in sheets[ENJEUX]],
        OBJECTIVES: [_objective(number, row, errors) for number, row in sheets[OBJECTIVES]],
        ACTIONS: [_action(number, row, errors, **lookups) for number, row in sheets[ACTIONS]],
    }


def _enjeu(row_number, row, errors) -> PlanRow:
    at_column, _ = locator(errors, ENJEUX, ENJEU_COLUMNS, row_number)
    result = PlanRow(sheet=ENJEUX, row=row_number)
    raw = _text(row.get("number"))
    if not raw.isdigit() or int(raw) < 1:
        at_column("number", f"« {raw} » n'est pas un numéro d'enjeu (1, 2, 3…)")
        result.failed = True
        return result
    result.number = int(raw)
    result.values = {k: _text(row.get(k)) for k in ("title", "summary_plain", "description")}
    return result


CODE_ERRORS = {
    OBJECTIVES: "« {code} » n'est pas un code d'objectif (numéro d'enjeu, point, numéro : 1.2)",
    ACTIONS: "« {code} » n'est pas un code d'action (par exemple 1.2.3)",
}


def _coded(sheet, columns, pattern, row_number, row, errors):
    """(erreur sur une colonne, ligne lue, code reconnu ou None) d'une ligne repérée par son code."""
    at_column, _ = locator(errors, sheet, columns, row_number)
    result = PlanRow(sheet=sheet, row=row_number)
    code = _text(row.get("code"))
    match = pattern.match(code)
    if not match:
        at_column("code", CODE_ERRORS[sheet].format(code=code))
        result.failed = True
    return at_column, result, match


def _objective(row_number, row, errors) -> PlanRow:
    at_column, result, match = _coded(OBJECTIVES, OBJECTIVE_COLUMNS, OBJECTIVE_CODE, row_number, row, errors)
    if not match:
        return result
    result.parent, result.number = int(match[1]), int(match[2])
    result.archived = _archived(row.get("archived"), partial(at_column, "archived"))
    result.values = {"title": _text(row.get("title")), "description": _text(row.get("description"))}
    return result


def _action(row_number, row, errors, *, qpvs_of_contract, known_qpv_codes, partners) -> PlanRow:
    at_column, result, match = _coded(ACTIONS, ACTION_COLUMNS, ACTION_CODE, row_number, row, errors)
    if not match:
        return result
    result.code = ".".join(str(int(p)) for p in match.groups())
    result.parent = f"{int(match[1])}.{int(match[2])}"
    failed = errors.total
    qpv_text = _text(row.get("qpvs"))
    all_qpvs = qpv_text.casefold() == ALL_QPVS.casefold()
    if not all_qpvs:
        for qpv_code in filter(None, (c.strip() for c in qpv_text.split(LIST_SEPARATOR))):
            if qpv_code in qpvs_of_contract:
                result.qpvs.append(qpvs_of_contract[qpv_code])
            elif qpv_code in known_qpv_codes:
                at_column("qpvs", f"le quartier « {qpv_code} » ne relève pas du contrat")
            else:
                at_column("qpvs", f"le code QPV « {qpv_code} » est inconnu")
    pilot = None
    pilot_name = _text(row.get("pilot_partner"))
    if pilot_name:
        pilot = partners.get(pilot_name.casefold())
        if pilot is None:
            at_column("pilot_partner", f"« {pilot_name} » ne prend pas part au contrat (ou n'existe pas)")
    for name in filter(None, (n.strip() for n in _text(row.get("contributors")).split(LIST_SEPARATOR))):
        partner = partners.get(name.casefold())
        if partner is None:
            at_column("contributors", f"« {name} » ne prend pas part au contrat (ou n'existe pas)")
        else:
            result.contributors.append(partner)
    status_text = _text(row.get("status"))
    status = STATUS_BY_LABEL.get(status_text.casefold()) if status_text else ActionStatus.PLANNED
    if status is None:
        choices = ", ".join(label for _, label in ActionStatus.choices)
        at_column("status", f"« {status_text} » n'est pas un état ({choices})")
    start_on = _parse_date(row.get("start_on"), partial(at_column, "start_on"))
    end_on = _parse_date(row.get("end_on"), partial(at_column, "end_on"))
    result.archived = _archived(row.get("archived"), partial(at_column, "archived"))
    result.failed = errors.total > failed
    result.values = {
        "title": _text(row.get("title")),
        "summary_plain": _text(row.get("summary_plain")),
        "description": _text(row.get("description")),
        "scope": ActionScope.METROPOLITAN if all_qpvs else ActionScope.QPV,
        "pilot_partner": pilot,
        "status": status,
        "start_on": start_on,
        "end_on": end_on,
    }
    return result
