"""Modèle de saisie du cahier d'engagements d'un partenaire : ``build_template_xlsx``.

Pré-rempli de ses engagements (identifiant technique et version cachés), avec listes déroulantes
(feuille cachée « Listes ») et une colonne par année et par nature de moyens. Ses colonnes
(``COLUMNS``, ``means_columns``) sont celles que relit l'import (``xlsx_import``).
"""

import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from cdv.core.spreadsheets import header_row, save_workbook, set_text, xlsx_text
from cdv.plan.models import Action, Objective

from .enums import CommitmentScope, CommitmentStatus, FundingKind
from .xlsx_export import DATE_FORMAT, EUR_FORMAT, FTE_FORMAT, SHEET, commitments_of, qpv_codes, sort_key

LISTS_SHEET = "Listes"
HELP_SHEET = "Mode d'emploi"
SEPARATOR = " — "

# Colonnes du modèle : (clé, intitulé, obligatoire, largeur)
COLUMNS = [
    ("id", "Identifiant", True, 10),
    ("version", "Version", True, 8),
    ("objective", "Objectif", True, 40),
    ("action", "Action", False, 40),
    ("title", "Intitulé", True, 50),
    ("summary_plain", "Résumé en langage clair", False, 50),
    ("description", "Description", False, 50),
    ("scope", "Portée", True, 22),
    ("qpvs", "QPV", True, 24),
    ("target", "Cible", False, 30),
    ("deadline", "Échéance", False, 12),
    ("status", "État", False, 24),
    ("amendment_reason", "Motif de l'avenant", False, 40),
]
LABELS = {key: label for key, label, _, _ in COLUMNS}
TEXT_FIELDS = ["title", "summary_plain", "description", "target"]
MEANS_PARTS = [("fte", "ETP"), ("amount_eur", "€")]
FUNDING_WORDS = {FundingKind.ORDINARY: "droit commun", FundingKind.SPECIFIC: "crédits spécifiques"}
TECH_FILL = PatternFill("solid", fgColor="D9D9D9")
TEMPLATE_EXTRA_ROWS = 200


def objective_label(objective) -> str:
    return f"{objective.code}{SEPARATOR}{objective.title}"


def action_label(action) -> str:
    return f"{action.code}{SEPARATOR}{action.title}"


def means_columns(contract) -> list[tuple[int, str, str, str]]:
    """Colonnes de moyens du modèle : (année, nature, partie, intitulé), année par année."""
    columns = []
    for year in range(contract.start_year, contract.end_year + 1):
        for funding in FundingKind:
            for part, word in MEANS_PARTS:
                columns.append((year, funding.value, part, f"{word} {FUNDING_WORDS[funding]} {year}"))
    return columns


MEANS_HEADER_RE = re.compile(r"^(etp|€|euros?)\s+(droit commun|crédits spécifiques)\s+(\d{4})$")


def parse_means_header(normalized: str):
    match = MEANS_HEADER_RE.match(normalized)
    if not match:
        return None
    part = "fte" if match.group(1) == "etp" else "amount_eur"
    funding = FundingKind.ORDINARY if match.group(2) == "droit commun" else FundingKind.SPECIFIC
    return int(match.group(3)), funding.value, part


def plan_lists(contract):
    objectives = list(
        Objective.objects.filter(enjeu__contract=contract)
        .select_related("enjeu")
        .order_by("enjeu__number", "number")
    )
    actions = list(
        Action.objects.for_contract(contract)
        .select_related("objective__enjeu")
        .order_by("objective__enjeu__number", "objective__number", "code")
    )
    qpvs = list(contract.qpvs.only("id", "kind", "code", "name").order_by("code"))
    return objectives, actions, qpvs


def build_template_xlsx(*, contract, partner) -> bytes:
    """Modèle d'import pré-rempli des engagements du partenaire : le renvoyer tel quel ne change rien."""
    objectives, actions, qpvs = plan_lists(contract)
    commitments = sorted(commitments_of(contract, partner), key=sort_key)
    # Les listes ne proposent pas l'archivé du plan, sauf ce que portent déjà ses engagements.
    used_objectives = {c.objective_id for c in commitments}
    used_actions = {c.action_id for c in commitments}
    objectives = [o for o in objectives if o.archived_at is None or o.pk in used_objectives]
    actions = [
        a
        for a in actions
        if (a.archived_at is None and a.objective.archived_at is None) or a.pk in used_actions
    ]
    means_cols = means_columns(contract)

    workbook = Workbook()
    ws = workbook.active
    ws.title = SHEET
    labels = [label for _, label, _, _ in COLUMNS] + [label for *_, label in means_cols]
    widths = [width for *_, width in COLUMNS] + [11] * len(means_cols)
    header_row(ws, labels, widths, technical={1, 2})
    ws.row_dimensions[1].height = 45
    col = {key: index for index, (key, *_) in enumerate(COLUMNS, start=1)}
    first_means_col = len(COLUMNS) + 1

    for row, c in enumerate(commitments, start=2):
        ws.cell(row=row, column=col["id"], value=c.pk).fill = TECH_FILL
        ws.cell(row=row, column=col["version"], value=c.version).fill = TECH_FILL
        set_text(ws.cell(row=row, column=col["objective"]), objective_label(c.objective))
        set_text(ws.cell(row=row, column=col["action"]), action_label(c.action) if c.action_id else "")
        for key in TEXT_FIELDS:
            set_text(ws.cell(row=row, column=col[key]), getattr(c, key))
        set_text(ws.cell(row=row, column=col["scope"]), c.get_scope_display())
        set_text(ws.cell(row=row, column=col["qpvs"]), qpv_codes(c))
        set_text(ws.cell(row=row, column=col["status"]), c.get_status_display())
        ws.cell(row=row, column=col["deadline"]).value = c.deadline
        means = {(m.year, m.funding): m for m in c.means.all()}
        for offset, (year, funding, part, _) in enumerate(means_cols):
            existing = means.get((year, funding))
            if existing is not None:
                ws.cell(row=row, column=first_means_col + offset, value=getattr(existing, part))
    last_row = len(commitments) + 1 + TEMPLATE_EXTRA_ROWS
    # Formats des dates et des moyens : ceux de la colonne entière (le tableur les donne à toute
    # cellule saisie dans la colonne), et de chaque cellule des lignes pré-remplies. Pas de cellules
    # vides formatées une à une sur les lignes libres : 6 000 cellules à écrire puis à relire.
    formats = [(col["deadline"], DATE_FORMAT)] + [
        (first_means_col + offset, FTE_FORMAT if part == "fte" else EUR_FORMAT)
        for offset, (_, _, part, _) in enumerate(means_cols)
    ]
    for column, number_format in formats:
        ws.column_dimensions[get_column_letter(column)].number_format = number_format
        for row in range(2, len(commitments) + 2):
            ws.cell(row=row, column=column).number_format = number_format

    lists = workbook.create_sheet(LISTS_SHEET)
    columns = [
        ("Objectifs", [objective_label(o) for o in objectives]),
        ("Actions", [action_label(a) for a in actions]),
        ("QPV du contrat", [q.code for q in qpvs]),
        ("Nom du QPV", [q.name for q in qpvs]),
        ("Portées", [s.label for s in CommitmentScope]),
        ("États", [s.label for s in CommitmentStatus]),
        ("Natures des moyens", [f.label for f in FundingKind]),
        ("Années du contrat", list(range(contract.start_year, contract.end_year + 1))),
    ]
    ranges = {}
    for index, (title, values) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        set_text(lists.cell(row=1, column=index), title)
        lists.cell(row=1, column=index).font = Font(bold=True)
        lists.column_dimensions[letter].width = 40 if index <= 2 else 18
        for row, value in enumerate(values, start=2):
            cell = lists.cell(row=row, column=index)
            if isinstance(value, int):
                cell.value = value
            else:
                set_text(cell, value)
        if values:
            ranges[title] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"
    lists.protection.sheet = True

    def dropdown(list_title, key, prompt, strict=True):
        if list_title not in ranges:
            return
        letter = get_column_letter(col[key])
        validation = DataValidation(
            type="list",
            formula1=ranges[list_title],
            allow_blank=True,
            showErrorMessage=strict,
            errorTitle="Valeur hors liste",
            error="Choisissez une valeur dans la liste.",
            promptTitle=LABELS[key],
            prompt=prompt,
            showInputMessage=True,
        )
        validation.add(f"{letter}2:{letter}{last_row}")
        ws.add_data_validation(validation)

    dropdown("Objectifs", "objective", "Choisissez l'objectif du plan d'action.")
    dropdown("Actions", "action", "Facultatif : une action de l'objectif choisi.")
    dropdown("Portées", "scope", "Tout le contrat, échelle métropolitaine ou quartiers choisis.")
    dropdown(
        "QPV du contrat",
        "qpvs",
        "Codes des QPV, séparés par des virgules (ex. : QN04405M, QN04419I). Vide si la portée est générale.",
        strict=False,
    )
    dropdown("États", "status", "Information : l'état se change sur la plateforme, pas ici.")
    letter = get_column_letter(col["deadline"])
    dates = DataValidation(
        type="date",
        operator="between",
        formula1=f"DATE({contract.start_year},1,1)",
        formula2=f"DATE({contract.end_year},12,31)",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Date hors du contrat",
        error=f"L'échéance doit tomber pendant le contrat ({contract.start_year}-{contract.end_year}).",
    )
    dates.add(f"{letter}2:{letter}{last_row}")
    ws.add_data_validation(dates)
    if means_cols:
        first = get_column_letter(first_means_col)
        last = get_column_letter(first_means_col + len(means_cols) - 1)
        numbers = DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Nombre attendu",
            error="Saisissez un nombre positif ou nul (ex. : 0,5 ETP ; 12000 €).",
        )
        numbers.add(f"{first}2:{last}{last_row}")
        ws.add_data_validation(numbers)

    help_ws = workbook.create_sheet(HELP_SHEET, index=1)
    help_ws.column_dimensions["A"].width = 110
    lines = [
        f"Cahier d'engagements — {partner.name}",
        f"Contrat : {contract.title} ({contract.start_year}-{contract.end_year})",
        "",
        "• Une ligne par engagement, dans la feuille « Engagements ».",
        "• Pour ajouter un engagement, remplissez une ligne vide en bas du tableau.",
        "• Ne modifiez pas les colonnes cachées « Identifiant » et « Version » : elles relient chaque "
        "ligne à l'engagement enregistré.",
        "• Supprimer une ligne ne supprime pas l'engagement : faites-le sur la plateforme.",
        "• Objectif, action, portée : choisissez dans les listes. QPV : codes séparés par des virgules.",
        "• L'état est donné pour information : il se change sur la plateforme.",
        "• Un engagement confirmé ou en cours ne change que par avenant : remplissez alors le "
        "« Motif de l'avenant ».",
        "• Moyens : pour chaque année, équivalents temps plein (ETP) et euros, en droit commun et en "
        "crédits spécifiques de la politique de la ville. Laissez vide s'il n'y a rien.",
        "• Pas de formule : saisissez des valeurs.",
        "• Le fichier est importé en entier ou pas du tout : la moindre erreur est signalée (feuille, "
        "ligne, colonne) et rien n'est enregistré.",
    ]
    for row, line in enumerate(lines, start=1):
        set_text(help_ws.cell(row=row, column=1), line)
        help_ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True)
    help_ws["A1"].font = Font(bold=True, size=14)

    workbook.active = 0
    workbook.properties.title = xlsx_text(f"Modèle de cahier d'engagements — {partner.name}")
    workbook.properties.creator = "Plateforme contrat de ville"
    return save_workbook(workbook)
