"""Cahier d'engagements au format XLSX : export, modèle de saisie pré-rempli et import.

- ``export_cahier_xlsx`` : les engagements d'un partenaire (ou de tout le contrat) à lire ou à
  diffuser, feuilles « Engagements » et « Moyens ».
- ``build_template_xlsx`` : le modèle de saisie d'un partenaire, pré-rempli de ses engagements
  (identifiant technique et version cachés), avec listes déroulantes (feuille cachée « Listes »)
  et une colonne par année et par nature de moyens.
- ``import_commitments_xlsx`` : relit ce modèle ; crée et modifie les engagements par les seules
  fonctions de ``services`` (droits, verrou optimiste, avenants). Tout ou rien : la moindre erreur
  et rien n'est écrit ; chaque erreur nomme sa feuille, sa ligne et sa colonne.

Ces fonctions ne vérifient pas qui lit : l'appelant filtre (``user=`` de l'export) ou contrôle
l'accès ; l'import vérifie ``abilities.can_manage_cahier`` et lève ``PermissionDenied``.
"""

import datetime
import io
import logging
import re
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from cdv.core.formulas import NEEDS_QUOTE_RE
from cdv.core.numbers import NumberFormatError, parse_french_decimal
from cdv.core.validators import check_zip_archive, foreign_content
from cdv.plan.models import PLAIN_SUMMARY_MAX, Action, Objective
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import Territory

from . import abilities, services
from .enums import CommitmentScope, CommitmentStatus, FundingKind
from .models import Commitment

# Limites de l'import : un cahier tient en quelques dizaines de kilo-octets.
logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_MEMBERS = 500
MAX_DATA_ROWS = 10_000
MAX_SHEET_ROWS = 20000
TEMPLATE_EXTRA_ROWS = 200

SHEET = "Engagements"
MEANS_SHEET = "Moyens"
LISTS_SHEET = "Listes"
HELP_SHEET = "Mode d'emploi"

TITLE_MAX = Commitment._meta.get_field("title").max_length
TARGET_MAX = Commitment._meta.get_field("target").max_length
FTE_MAX = Decimal("99999.99")
AMOUNT_MAX = Decimal("999999999999.99")
CENT = Decimal("0.01")

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

# Champ d'une erreur de service → colonne du modèle.
FIELD_COLUMNS = {
    "objective": "Objectif",
    "action": "Action",
    "scope": "Portée",
    "qpvs": "QPV",
    "title": "Intitulé",
    "description": "Description",
    "summary_plain": "Résumé en langage clair",
    "target": "Cible",
    "deadline": "Échéance",
    "status": "État",
    "status_comment": "État",
    "amendment_reason": "Motif de l'avenant",
}

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
TECH_FILL = PatternFill("solid", fgColor="D9D9D9")
DATE_FORMAT = "DD/MM/YYYY"
FTE_FORMAT = "0.00"
EUR_FORMAT = "#,##0.00"


# ---------------------------------------------------------------------------------------------
# Outils communs


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


def _set_text(cell, value):
    cell.value = safe_text(value) if value not in (None, "") else None
    if cell.value is not None:
        cell.data_type = "s"


def _normalize_header(value) -> str:
    text = str(value or "").replace("’", "'").replace("\u00a0", " ").strip().rstrip("*").strip()
    return re.sub(r"\s+", " ", text).casefold()


def _norm_text(value) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value or ""))
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _qpv_queryset():
    return Territory.objects.filter(kind=TerritoryKind.QPV).only("id", "kind", "code", "name")


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count < 2 else plural}"


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_row(ws, labels, widths, technical=()):
    for index, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=index)
        _set_text(cell, label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(index)].width = width
        if index in technical:
            ws.column_dimensions[get_column_letter(index)].hidden = True
    ws.freeze_panes = "A2"


def _objective_label(objective) -> str:
    return f"{objective.code}{SEPARATOR}{objective.title}"


def _action_label(action) -> str:
    return f"{action.code}{SEPARATOR}{action.title}"


def _commitments(contract, partner=None):
    queryset = Commitment.objects.filter(contract=contract)
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset.select_related("partner", "objective__enjeu", "action").prefetch_related(
        Prefetch("qpvs", queryset=_qpv_queryset()), "means", "indicators"
    )


def _sort_key(commitment):
    return (
        commitment.objective.enjeu.number,
        commitment.objective.number,
        commitment.partner.name,
        commitment.action.code if commitment.action_id else "",
        commitment.title,
        commitment.pk,
    )


def _qpv_codes(commitment) -> str:
    return ", ".join(sorted(q.code for q in commitment.qpvs.all()))


def means_columns(contract) -> list[tuple[int, str, str, str]]:
    """Colonnes de moyens du modèle : (année, nature, partie, intitulé), année par année."""
    columns = []
    for year in range(contract.start_year, contract.end_year + 1):
        for funding in FundingKind:
            for part, word in MEANS_PARTS:
                columns.append((year, funding.value, part, f"{word} {FUNDING_WORDS[funding]} {year}"))
    return columns


MEANS_HEADER_RE = re.compile(r"^(etp|€|euros?)\s+(droit commun|crédits spécifiques)\s+(\d{4})$")


def _parse_means_header(normalized: str):
    match = MEANS_HEADER_RE.match(normalized)
    if not match:
        return None
    part = "fte" if match.group(1) == "etp" else "amount_eur"
    funding = FundingKind.ORDINARY if match.group(2) == "droit commun" else FundingKind.SPECIFIC
    return int(match.group(3)), funding.value, part


# ---------------------------------------------------------------------------------------------
# Export


def export_cahier_xlsx(*, contract, partner=None, user=None) -> bytes:
    """Engagements d'un partenaire, ou de tout le contrat si ``partner`` est None, par enjeu.

    Avec ``user``, seuls les engagements qu'il peut voir sont exportés (``visible_commitments``).
    """
    queryset = _commitments(contract, partner)
    if user is not None:
        queryset = abilities.visible_commitments(user, queryset, contract)
    commitments = sorted(queryset, key=_sort_key)

    workbook = Workbook()
    ws = workbook.active
    ws.title = SHEET
    headers = [
        ("Partenaire", 30),
        ("Enjeu", 30),
        ("Code objectif", 9),
        ("Objectif", 36),
        ("Code action", 9),
        ("Action", 36),
        ("Intitulé", 50),
        ("Résumé en langage clair", 50),
        ("Description", 40),
        ("Portée", 22),
        ("QPV", 24),
        ("État", 24),
        ("Cible", 30),
        ("Échéance", 12),
        ("Indicateurs de suivi", 40),
    ]
    _header_row(ws, [h for h, _ in headers], [w for _, w in headers])
    for row, c in enumerate(commitments, start=2):
        values = [
            c.partner.name,
            str(c.objective.enjeu),
            c.objective.code,
            c.objective.title,
            c.action.code if c.action_id else "",
            c.action.title if c.action_id else "",
            c.title,
            c.summary_plain,
            c.description,
            c.get_scope_display(),
            _qpv_codes(c),
            c.get_status_display(),
            c.target,
        ]
        for column, value in enumerate(values, start=1):
            _set_text(ws.cell(row=row, column=column), value)
        deadline = ws.cell(row=row, column=len(values) + 1, value=c.deadline)
        deadline.number_format = DATE_FORMAT
        _set_text(ws.cell(row=row, column=len(values) + 2), " ; ".join(i.name for i in c.indicators.all()))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(len(commitments) + 1, 1)}"

    means_ws = workbook.create_sheet(MEANS_SHEET)
    means_headers = [
        ("Partenaire", 30),
        ("Enjeu", 30),
        ("Code objectif", 9),
        ("Engagement", 50),
        ("Année", 8),
        ("ETP", 8),
        ("Montant (€)", 14),
        ("Nature des moyens", 40),
    ]
    _header_row(means_ws, [h for h, _ in means_headers], [w for _, w in means_headers])
    row = 2
    for c in commitments:
        for m in sorted(c.means.all(), key=lambda m: (m.year, m.funding)):
            for column, value in enumerate(
                [c.partner.name, str(c.objective.enjeu), c.objective.code, c.title], 1
            ):
                _set_text(means_ws.cell(row=row, column=column), value)
            means_ws.cell(row=row, column=5, value=m.year)
            means_ws.cell(row=row, column=6, value=m.fte).number_format = FTE_FORMAT
            means_ws.cell(row=row, column=7, value=m.amount_eur).number_format = EUR_FORMAT
            _set_text(means_ws.cell(row=row, column=8), m.get_funding_display())
            row += 1
    means_ws.auto_filter.ref = f"A1:H{max(row - 1, 1)}"

    scope = partner.name if partner is not None else "tous les partenaires"
    workbook.properties.title = safe_text(f"Cahier d'engagements — {scope} — {contract.title}")
    workbook.properties.creator = "Plateforme contrat de ville"
    return _save(workbook)


# ---------------------------------------------------------------------------------------------
# Modèle de saisie


def _lists(contract):
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
    objectives, actions, qpvs = _lists(contract)
    commitments = sorted(_commitments(contract, partner), key=_sort_key)
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
    _header_row(ws, labels, widths, technical={1, 2})
    ws.row_dimensions[1].height = 45
    col = {key: index for index, (key, *_) in enumerate(COLUMNS, start=1)}
    first_means_col = len(COLUMNS) + 1

    for row, c in enumerate(commitments, start=2):
        ws.cell(row=row, column=col["id"], value=c.pk).fill = TECH_FILL
        ws.cell(row=row, column=col["version"], value=c.version).fill = TECH_FILL
        _set_text(ws.cell(row=row, column=col["objective"]), _objective_label(c.objective))
        _set_text(ws.cell(row=row, column=col["action"]), _action_label(c.action) if c.action_id else "")
        for key in TEXT_FIELDS:
            _set_text(ws.cell(row=row, column=col[key]), getattr(c, key))
        _set_text(ws.cell(row=row, column=col["scope"]), c.get_scope_display())
        _set_text(ws.cell(row=row, column=col["qpvs"]), _qpv_codes(c))
        _set_text(ws.cell(row=row, column=col["status"]), c.get_status_display())
        ws.cell(row=row, column=col["deadline"]).value = c.deadline
        means = {(m.year, m.funding): m for m in c.means.all()}
        for offset, (year, funding, part, _) in enumerate(means_cols):
            existing = means.get((year, funding))
            if existing is not None:
                ws.cell(row=row, column=first_means_col + offset, value=getattr(existing, part))
    last_row = len(commitments) + 1 + TEMPLATE_EXTRA_ROWS
    for row in range(2, last_row + 1):
        ws.cell(row=row, column=col["deadline"]).number_format = DATE_FORMAT
        for offset, (_, _, part, _) in enumerate(means_cols):
            ws.cell(row=row, column=first_means_col + offset).number_format = (
                FTE_FORMAT if part == "fte" else EUR_FORMAT
            )

    lists = workbook.create_sheet(LISTS_SHEET)
    columns = [
        ("Objectifs", [_objective_label(o) for o in objectives]),
        ("Actions", [_action_label(a) for a in actions]),
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
        _set_text(lists.cell(row=1, column=index), title)
        lists.cell(row=1, column=index).font = Font(bold=True)
        lists.column_dimensions[letter].width = 40 if index <= 2 else 18
        for row, value in enumerate(values, start=2):
            cell = lists.cell(row=row, column=index)
            if isinstance(value, int):
                cell.value = value
            else:
                _set_text(cell, value)
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
        _set_text(help_ws.cell(row=row, column=1), line)
        help_ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True)
    help_ws["A1"].font = Font(bold=True, size=14)

    workbook.active = 0
    workbook.properties.title = safe_text(f"Modèle de cahier d'engagements — {partner.name}")
    workbook.properties.creator = "Plateforme contrat de ville"
    return _save(workbook)


# ---------------------------------------------------------------------------------------------
# Import


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        if not self.ok:
            return (
                f"Import refusé : {_plural(len(self.errors), 'erreur', 'erreurs')}. "
                "La base de données n'a pas été modifiée."
            )
        return (
            f"Import terminé : {_plural(self.created, 'engagement créé', 'engagements créés')}, "
            f"{_plural(self.updated, 'modifié', 'modifiés')}, "
            f"{_plural(self.unchanged, 'inchangé', 'inchangés')}."
        )


class _Rollback(Exception):
    """Annule la transaction d'import quand une erreur a été relevée."""


@dataclass
class _Row:
    number: int
    id: int | None = None
    version: int | None = None
    data: dict = field(default_factory=dict)
    qpvs: list | None = None
    means: dict | None = None  # (année, nature) → {"fte", "amount_eur"} ; None : colonnes absentes
    status: str | None = None
    reason: str = ""
    failed: bool = False


class _Errors:
    def __init__(self, filename=""):
        self.filename = filename
        self.items = []

    def file(self, message):
        where = f"Fichier « {self.filename} »" if self.filename else "Fichier"
        self.items.append(((0, 0, 0, len(self.items)), f"{where} : {message}"))

    def at(self, message, *, sheet=SHEET, row=None, column=None, column_index=0, sheet_index=1):
        parts = [f"Feuille {sheet}"]
        if row:
            parts.append(f"ligne {row}")
        if column:
            parts.append(f"colonne « {column} »")
        key = (sheet_index, row or 0, column_index, len(self.items))
        self.items.append((key, f"{', '.join(parts)} : {message}"))

    def __bool__(self):
        return bool(self.items)

    def sorted(self) -> list[str]:
        return [text for _, text in sorted(self.items, key=lambda item: item[0])]


def _sentence(message) -> str:
    text = str(message).strip()
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text if text.endswith((".", "!", "?", "»")) else text + "."


def _read_bytes(fileobj, errors) -> bytes | None:
    if isinstance(fileobj, bytes | bytearray):
        data = bytes(fileobj)
    else:
        size = getattr(fileobj, "size", None)
        if isinstance(size, int) and size > MAX_UPLOAD_BYTES:
            data = b"x" * (MAX_UPLOAD_BYTES + 1)
        else:
            if hasattr(fileobj, "seek"):
                fileobj.seek(0)
            data = fileobj.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        limit = (
            f"{MAX_UPLOAD_BYTES / (1024 * 1024):g} Mo"
            if MAX_UPLOAD_BYTES >= 1024 * 1024
            else f"{MAX_UPLOAD_BYTES / 1024:.0f} Ko"
        )
        errors.file(
            f"le fichier dépasse la taille maximale de {limit}. "
            "Un cahier d'engagements tient en quelques dizaines de kilo-octets : repartez du modèle."
        )
        return None
    if not data:
        errors.file("le fichier est vide.")
        return None
    return data


def _check_container(data, errors) -> bool:
    """Signature ZIP, contenu d'un classeur XLSX, tailles décompressées (bombes ZIP), macros."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        errors.file(
            "ce fichier est au format Excel 97-2003 (.xls) ou protégé par mot de passe. "
            "Enregistrez-le au format .xlsx, sans mot de passe, puis recommencez."
        )
        return False
    if not data.startswith(b"PK\x03\x04"):
        found = foreign_content(data[:512])
        errors.file(
            "ce fichier n'est pas un classeur XLSX (quel que soit son nom)"
            + (f" : c'est {found}" if found else "")
            + ". Utilisez le modèle téléchargé sur la plateforme, enregistré au format .xlsx."
        )
        return False
    try:
        members = check_zip_archive(
            data,
            max_members=MAX_ZIP_MEMBERS,
            max_uncompressed=MAX_UNCOMPRESSED_BYTES,
            max_ratio=MAX_COMPRESSION_RATIO,
        )
    except ValidationError as error:
        if error.code == "zip_unreadable":
            errors.file("ce fichier n'est pas un classeur XLSX lisible (archive endommagée).")
        elif error.code == "zip_members":
            errors.file("ce classeur contient trop d'éléments pour un cahier d'engagements.")
        elif error.code == "zip_bomb":
            errors.file(
                "ce classeur se décompresse en un volume anormalement grand "
                f"(plus de {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} Mo ou taux de compression suspect) : "
                "il est refusé par sécurité."
            )
        else:
            errors.file(_sentence(error.messages[0]))
        return False
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        errors.file(
            "ce fichier est une archive ZIP mais pas un classeur XLSX. "
            "Utilisez le modèle téléchargé sur la plateforme."
        )
        return False
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        errors.file("les classeurs avec macros ne sont pas acceptés : enregistrez-le au format .xlsx.")
        return False
    return True


def _open_workbook(data, errors):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # fichier hostile : toute erreur de lecture devient un refus (et une trace).
        logger.warning("Classeur XLSX illisible à l'import", exc_info=True)
        errors.file(
            "ce classeur XLSX n'a pas pu être lu (fichier endommagé ou produit par un outil incompatible)."
        )
        return None


def _cell_text(value) -> str:
    """Valeur d'une cellule en texte, apostrophe de neutralisation retirée."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return unsafe_text(str(value))


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_formula(cell) -> bool:
    value = getattr(cell, "value", None)
    return getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("="))


class _Importer:
    def __init__(self, *, user, contract, partner, errors):
        self.user = user
        self.contract = contract
        self.partner = partner
        self.errors = errors
        self.columns = {"keys": {}, "means": {}, "labels": {}, "pairs": set()}
        self.years = set(range(contract.start_year, contract.end_year + 1))
        objectives, actions, qpvs = _lists(contract)
        self.objectives = {o.code: o for o in objectives}
        self.actions = {}
        for action in actions:
            self.actions.setdefault(action.code, []).append(action)
        self.contract_qpvs = {q.code: q for q in qpvs}
        self.scopes = {}
        for scope in CommitmentScope:
            self.scopes[_normalize_header(scope.label)] = scope.value
            self.scopes[_normalize_header(scope.value)] = scope.value
        self.statuses = {}
        for status in CommitmentStatus:
            self.statuses[_normalize_header(status.label)] = status.value
            self.statuses[_normalize_header(status.value)] = status.value

    # -- lecture de la feuille ---------------------------------------------------------------

    def read(self, workbook) -> list[_Row] | None:
        sheetnames = workbook.sheetnames
        for index, name in enumerate(sheetnames, start=2):
            if name != SHEET and hasattr(workbook[name], "iter_rows"):  # pas les feuilles graphiques
                self._check_formulas(workbook[name], index)
        if SHEET not in sheetnames:
            found = ", ".join(f"« {n} »" for n in sheetnames)
            self.errors.at(
                f"feuille introuvable (feuilles du fichier : {found}). "
                "Repartez du modèle téléchargé sur la plateforme, sans renommer la feuille."
            )
            return None
        ws = workbook[SHEET]
        if not hasattr(ws, "iter_rows"):
            self.errors.at("cette feuille n'est pas un tableau (feuille graphique).")
            return None
        ws.reset_dimensions()  # n'en croit pas les dimensions déclarées par le fichier
        rows = ws.iter_rows()
        header = next(rows, ())
        columns = self._read_header(header)
        if columns is None:
            for number, cells in enumerate(rows, start=2):  # signale quand même les formules
                if number > MAX_SHEET_ROWS:
                    break
                for index, cell in enumerate(cells, start=1):
                    if _is_formula(cell):
                        self._formula_error(cell, number, index, None)
            return None
        self.columns = columns
        parsed = []
        data_rows = 0
        for number, cells in enumerate(rows, start=2):
            if number > MAX_SHEET_ROWS:
                self.errors.at(f"la feuille dépasse {MAX_SHEET_ROWS} lignes.", row=number)
                break
            formula = False
            for index, cell in enumerate(cells, start=1):
                if _is_formula(cell):
                    formula = True
                    self._formula_error(cell, number, index, columns["labels"].get(index))
            values = {index: cell.value for index, cell in enumerate(cells, start=1)}
            if all(_is_blank(v) for i, v in values.items() if i in columns["labels"]):
                continue
            data_rows += 1
            if data_rows > MAX_DATA_ROWS:
                self.errors.at(f"le modèle accepte au plus {MAX_DATA_ROWS} engagements.", row=number)
                break
            row = self._parse_row(number, values)
            row.failed = row.failed or formula
            parsed.append(row)
        self._check_ids(parsed)
        return parsed

    def _formula_error(self, cell, number, index, label, sheet=SHEET, sheet_index=1):
        shown = str(cell.value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        self.errors.at(
            f"les formules ne sont pas acceptées ({shown}) : saisissez une valeur.",
            sheet=sheet,
            row=number,
            column=label or get_column_letter(index),
            column_index=index,
            sheet_index=sheet_index,
        )

    def _check_formulas(self, ws, sheet_index):
        ws.reset_dimensions()
        for number, cells in enumerate(ws.iter_rows(), start=1):
            if number > MAX_SHEET_ROWS:
                break
            for index, cell in enumerate(cells, start=1):
                if _is_formula(cell):
                    self._formula_error(cell, number, index, None, ws.title, sheet_index)

    def _read_header(self, header):
        known = {_normalize_header(label): key for key, label, _, _ in COLUMNS}
        found, labels, means = {}, {}, {}
        ok = True
        for index, cell in enumerate(header, start=1):
            if _is_formula(cell):
                ok = False
                self._formula_error(cell, 1, index, None)
                continue
            raw = _cell_text(cell.value).strip()
            normalized = _normalize_header(raw)
            if not normalized:
                continue
            key = known.get(normalized)
            means_key = None if key else _parse_means_header(normalized)
            if key is None and means_key is None:
                continue  # colonne ajoutée par l'utilisateur : ignorée
            if means_key is not None and means_key[0] not in self.years:
                ok = False
                self.errors.at(
                    f"l'année {means_key[0]} sort de la période du contrat "
                    f"({self.contract.start_year}-{self.contract.end_year}).",
                    row=1,
                    column=raw,
                    column_index=index,
                )
                continue
            target = key or means_key
            if target in found or target in means:
                ok = False
                self.errors.at("cette colonne figure deux fois.", row=1, column=raw, column_index=index)
                continue
            labels[index] = LABELS.get(key, raw)
            if key:
                found[key] = index
            else:
                means[means_key] = index
        for key, label, required, _ in COLUMNS:
            if required and key not in found:
                ok = False
                self.errors.at(
                    "colonne obligatoire absente. Repartez du modèle téléchargé sur la plateforme.",
                    row=1,
                    column=label,
                    column_index=10_000,
                )
        pairs = {(year, funding) for year, funding, _ in means}
        for year, funding in sorted(pairs):
            for part, word in MEANS_PARTS:
                if (year, funding, part) not in means:
                    ok = False
                    self.errors.at(
                        "colonne absente alors que sa voisine de la même année est présente.",
                        row=1,
                        column=f"{word} {FUNDING_WORDS[FundingKind(funding)]} {year}",
                        column_index=10_000,
                    )
        if not ok:
            return None
        return {"keys": found, "means": means, "labels": labels, "pairs": pairs}

    # -- une ligne ---------------------------------------------------------------------------

    def _error(self, row, key_or_label, message, index=None):
        row.failed = True
        label = LABELS.get(key_or_label, key_or_label)
        if index is None:
            index = self.columns["keys"].get(key_or_label, 0)
        self.errors.at(message, row=row.number, column=label, column_index=index)

    def _parse_row(self, number, values):
        row = _Row(number=number)
        columns = self.columns
        keys = columns["keys"]

        def text(key):
            return _cell_text(values.get(keys[key])) if key in keys else None

        row.id = self._integer(row, "id", values.get(keys["id"]))
        if row.id is not None:
            row.version = self._integer(row, "version", values.get(keys["version"]))
            if row.version is None and not row.failed:
                self._error(
                    row,
                    "version",
                    "la version manque : ne modifiez pas les colonnes cachées du modèle.",
                )

        objective = self._objective(row, text("objective"))
        if objective is not None:
            row.data["objective"] = objective
        if "action" in keys:
            action = self._action(row, text("action"), objective)
            if action is not False:
                row.data["action"] = action

        for key, limit in [
            ("title", TITLE_MAX),
            ("summary_plain", PLAIN_SUMMARY_MAX),
            ("description", None),
            ("target", TARGET_MAX),
        ]:
            if key not in keys:
                continue
            value = _norm_text(text(key))
            if limit and len(value) > limit:
                self._error(
                    row,
                    key,
                    f"{len(value)} caractères, pour {limit} au plus : raccourcissez le texte.",
                )
            row.data[key] = value
        if not row.data.get("title"):
            self._error(row, "title", "l'intitulé de l'engagement est obligatoire.")

        scope_text = text("scope").strip()
        scope = self.scopes.get(_normalize_header(scope_text))
        if not scope_text:
            self._error(row, "scope", "choisissez une portée dans la liste.")
        elif scope is None:
            choices = ", ".join(f"« {s.label} »" for s in CommitmentScope)
            self._error(row, "scope", f"« {scope_text} » n'est pas une portée ({choices}).")
        else:
            row.data["scope"] = scope

        qpv_text = text("qpvs")
        row.qpvs = self._qpvs(row, qpv_text)
        if scope:
            if scope == CommitmentScope.QPV and not qpv_text.strip():
                self._error(row, "qpvs", "une portée « Quartiers choisis » demande au moins un code QPV.")
            elif scope != CommitmentScope.QPV and qpv_text.strip():
                self._error(
                    row,
                    "qpvs",
                    f"une portée « {CommitmentScope(scope).label} » ne cite pas de quartier : "
                    "videz la colonne ou choisissez « Quartiers choisis ».",
                )

        if "deadline" in keys:
            deadline = self._date(row, values.get(keys["deadline"]))
            if deadline is not False:
                row.data["deadline"] = deadline

        if "status" in keys:
            status_text = text("status").strip()
            if status_text:
                status = self.statuses.get(_normalize_header(status_text))
                if status is None:
                    self._error(row, "status", f"« {status_text} » n'est pas un état connu.")
                row.status = status
        if "amendment_reason" in keys:
            row.reason = _norm_text(text("amendment_reason"))

        if columns["means"]:
            row.means = {}
            for year, funding in sorted(columns["pairs"]):
                cells = {part: columns["means"][(year, funding, part)] for part, _ in MEANS_PARTS}
                if all(_is_blank(values.get(i)) for i in cells.values()):
                    continue
                amounts = {}
                for part, index in cells.items():
                    amounts[part] = self._number(
                        row, part, values.get(index), columns["labels"][index], index
                    )
                row.means[(year, funding)] = amounts
        return row

    def _integer(self, row, key, value):
        if _is_blank(value):
            return None
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or number <= 0:
            self._error(
                row,
                key,
                f"« {_cell_text(value)} » n'est pas un nombre entier valide : "
                "ne modifiez pas les colonnes cachées du modèle.",
            )
            return None
        return number

    def _code(self, value: str) -> str:
        text = value.strip()
        if SEPARATOR.strip() in text:
            text = text.split(SEPARATOR.strip(), 1)[0]
        return text.strip()

    def _objective(self, row, value):
        if not value or not value.strip():
            self._error(row, "objective", "choisissez un objectif dans la liste.")
            return None
        code = self._code(value)
        objective = self.objectives.get(code) or self.objectives.get(code.split(" ", 1)[0])
        if objective is None:
            self._error(row, "objective", f"l'objectif {code} n'existe pas dans le plan d'action du contrat.")
        return objective

    def _action(self, row, value, objective):
        """L'action de la ligne, None si la cellule est vide, False si elle est invalide."""
        if value is None or not value.strip():
            return None
        code = self._code(value)
        candidates = self.actions.get(code) or self.actions.get(code.split(" ", 1)[0])
        if not candidates:
            self._error(row, "action", f"l'action {code} n'existe pas dans le plan d'action du contrat.")
            return False
        if objective is None:
            return False
        for action in candidates:
            if action.objective_id == objective.pk:
                return action
        self._error(
            row,
            "action",
            f"l'action {code} ne relève pas de l'objectif {objective.code} "
            f"(elle relève de l'objectif {candidates[0].objective.code}).",
        )
        return False

    def _qpvs(self, row, value):
        codes = [c for c in re.split(r"[\s,;]+", (value or "").upper()) if c]
        qpvs, seen = [], set()
        unknown, elsewhere = [], []
        for code in codes:
            if code in seen:
                continue
            seen.add(code)
            qpv = self.contract_qpvs.get(code)
            if qpv is None:
                unknown.append(code)
            else:
                qpvs.append(qpv)
        if unknown:
            known = {
                q.code: q
                for q in _qpv_queryset().filter(code__in=unknown).exclude(pk__in=[q.pk for q in qpvs])
            }
            elsewhere = [known[c] for c in unknown if c in known]
            unknown = [c for c in unknown if c not in known]
        for code in unknown:
            self._error(row, "qpvs", f"le code {code} n'est pas un QPV du contrat.")
        for qpv in elsewhere:
            self._error(
                row,
                "qpvs",
                f"le QPV {qpv.name} ({qpv.code}) existe mais ne relève pas de ce contrat.",
            )
        return qpvs

    def _date(self, row, value):
        """La date de la cellule, None si vide, False si invalide."""
        if _is_blank(value):
            return None
        date = None
        if isinstance(value, datetime.datetime):
            date = value.date()
        elif isinstance(value, datetime.date):
            date = value
        elif isinstance(value, str):
            text = value.strip()
            for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
                try:
                    date = datetime.datetime.strptime(text, pattern).date()
                    break
                except ValueError:
                    continue
        if date is None:
            self._error(row, "deadline", f"« {_cell_text(value)} » n'est pas une date valide (JJ/MM/AAAA).")
            return False
        if date.year > self.contract.end_year:
            self._error(
                row,
                "deadline",
                f"l'échéance du {date:%d/%m/%Y} dépasse la fin du contrat ({self.contract.end_year}).",
            )
            return False
        return date

    def _number(self, row, part, value, label, index):
        if _is_blank(value):
            return Decimal("0")
        number = None
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = None
        elif isinstance(value, str):
            # Même lecture que les formulaires : « 0,5 », « 11 500 € » ; « 1.500 » ou « 1.234,5 » refusés.
            try:
                number = parse_french_decimal(value, unit="ETP" if part == "fte" else "€")
            except NumberFormatError as error:
                self._error(row, label, str(error), index)
                return None
        if number is None or not number.is_finite():
            example = "0,5" if part == "fte" else "12000"
            self._error(row, label, f"« {_cell_text(value)} » n'est pas un nombre (ex. : {example}).", index)
            return None
        if number < 0:
            self._error(row, label, f"{_cell_text(value)} : un montant ne peut pas être négatif.", index)
            return None
        if number != number.quantize(CENT):
            self._error(row, label, f"{_cell_text(value)} : deux décimales au plus.", index)
            return None
        if number > (FTE_MAX if part == "fte" else AMOUNT_MAX):
            self._error(row, label, f"{_cell_text(value)} : valeur trop grande.", index)
            return None
        return number

    # -- contrôles entre lignes ----------------------------------------------------------------

    def _check_ids(self, rows):
        first_line = {}
        for row in rows:
            if row.id is None:
                continue
            if row.id in first_line:
                self._error(
                    row,
                    "id",
                    f"l'engagement n° {row.id} figure déjà ligne {first_line[row.id]} : "
                    "une ligne par engagement (pour en créer un nouveau, laissez l'identifiant vide).",
                    1,
                )
                continue
            first_line[row.id] = row.number
        ids = [row.id for row in rows if row.id is not None]
        owners = {
            pk: (contract_id, partner_id, name)
            for pk, contract_id, partner_id, name in Commitment.objects.filter(pk__in=ids).values_list(
                "pk", "contract_id", "partner_id", "partner__name"
            )
        }
        for row in rows:
            if row.id is None:
                continue
            owner = owners.get(row.id)
            if owner is None or owner[0] != self.contract.pk:
                self._error(
                    row,
                    "id",
                    f"l'identifiant {row.id} ne désigne aucun engagement de ce contrat : "
                    "ne modifiez pas les colonnes cachées (laissez-les vides pour créer un engagement).",
                    1,
                )
            elif owner[1] != self.partner.pk:
                self._error(
                    row,
                    "id",
                    f"l'engagement n° {row.id} appartient à un autre partenaire ({owner[2]}) : "
                    f"ce modèle ne peut modifier que les engagements de {self.partner.name}.",
                    1,
                )
        titles = {}
        for row in rows:
            if row.id is None and row.data.get("title"):
                key = _normalize_header(row.data["title"])
                if key in titles:
                    self._error(
                        row,
                        "title",
                        f"un autre nouvel engagement porte déjà cet intitulé (ligne {titles[key]}).",
                    )
                else:
                    titles[key] = row.number

    # -- écriture ------------------------------------------------------------------------------

    def write(self, rows, report):
        existing = {c.pk: c for c in _commitments(self.contract, self.partner)}
        by_title = {}
        for commitment in existing.values():
            by_title.setdefault(_normalize_header(commitment.title), commitment)
        to_create = []
        for row in rows:
            if row.failed:
                continue
            current = existing.get(row.id) if row.id else by_title.get(_normalize_header(row.data["title"]))
            if row.id and current is None:  # supprimé depuis la lecture du fichier
                self.errors.at(
                    f"l'engagement n° {row.id} n'existe plus.", row=row.number, column=LABELS["id"]
                )
                continue
            if current is None:
                if self._can_create(row):
                    to_create.append(row)
                continue
            try:
                self._update(row, current, report)
            except services.ConflictError as error:
                self._conflict(row, error)
            except PermissionDenied as error:
                self.errors.at(_sentence(error), row=row.number)
            except ValidationError as error:
                self._service_error(row, error)
        self._create_all(to_create, report)

    def _can_create(self, row) -> bool:
        if row.status not in (None, CommitmentStatus.DRAFT):
            self.errors.at(
                "un nouvel engagement commence toujours à l'état « Brouillon » : "
                "l'état se change ensuite sur la plateforme.",
                row=row.number,
                column=LABELS["status"],
            )
            return False
        return True

    def _create_all(self, rows, report):
        """Nouveaux engagements : validés un par un, créés en lot (un import en compte des milliers)."""
        if not rows:
            return
        items = [
            {
                "data": row.data,
                "qpvs": row.qpvs or [],
                "means": [
                    {"year": year, "funding": funding, **amounts}
                    for (year, funding), amounts in (row.means or {}).items()
                ],
            }
            for row in rows
        ]
        try:
            created = services.create_commitments(
                user=self.user, contract=self.contract, partner=self.partner, items=items
            )
        except PermissionDenied as error:
            for row in rows:
                self.errors.at(_sentence(error), row=row.number)
        except services.BulkCommitmentError as error:
            for index, row_error in error.errors.items():
                self._service_error(rows[index], row_error)
        else:
            report.created += len(created)

    def _update(self, row, current, report):
        if row.id and row.status and row.status != current.status and row.version == current.version:
            self.errors.at(
                f"l'état ne se modifie pas par import (« {current.get_status_display()} » enregistré) : "
                "utilisez la plateforme pour proposer, valider ou clore un engagement.",
                row=row.number,
                column=LABELS["status"],
            )
            return
        data = dict(row.data)
        for key in TEXT_FIELDS:
            if key in data and _norm_text(data[key]) == _norm_text(getattr(current, key)):
                data[key] = getattr(current, key)
        current_means = [
            {"year": m.year, "funding": m.funding, "fte": m.fte, "amount_eur": m.amount_eur}
            for m in current.means.all()
        ]
        means = None
        if row.means is not None:
            # Moyens des (année, nature) sans colonne dans le fichier : conservés tels quels.
            pairs = self.columns["pairs"]
            means = [m for m in current_means if (m["year"], m["funding"]) not in pairs]
            means += [{"year": y, "funding": f, **amounts} for (y, f), amounts in row.means.items()]
        qpvs = row.qpvs if row.qpvs is not None else list(current.qpvs.all())

        proposed = Commitment(
            contract=self.contract, partner=self.partner, status=current.status, version=current.version
        )
        for name in services.EDITABLE_FIELDS:
            setattr(proposed, name, data[name] if name in data else getattr(current, name))
        before = services.snapshot_of_fields(current, list(current.qpvs.all()), current_means)
        after = services.snapshot_of_fields(proposed, qpvs, means if means is not None else current_means)
        if not services.diff(before, after):
            report.unchanged += 1
            return
        if not row.id:
            self.errors.at(
                f"un engagement de ce partenaire porte déjà cet intitulé (n° {current.pk}) : "
                "pour le modifier, téléchargez à nouveau le modèle et modifiez sa ligne.",
                row=row.number,
                column=LABELS["title"],
            )
            return
        version = current.version
        updated = services.update_commitment(
            user=self.user,
            commitment=current,
            expected_version=row.version,
            data=data,
            qpvs=qpvs,
            means=means,
            amendment_reason=row.reason,
        )
        if updated.version != version:
            report.updated += 1
        else:
            report.unchanged += 1

    def _conflict(self, row, error):
        changes = []
        for change in error.changes or []:
            label, value = change[0], change[-1]
            shown = "vide" if value in (None, "", []) else f"« {value} »"
            changes.append(f"{label} : {shown}")
        detail = f" Changements enregistrés entre-temps : {' ; '.join(changes)}." if changes else ""
        self.errors.at(
            "conflit : cet engagement a été modifié sur la plateforme depuis le téléchargement du modèle "
            f"(version {error.commitment.version} enregistrée, version {row.version} dans le fichier)."
            f"{detail} "
            "Téléchargez à nouveau le modèle et reportez-y vos modifications.",
            row=row.number,
        )

    def _service_error(self, row, error):
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                column = FIELD_COLUMNS.get(name)
                for message in messages:
                    self.errors.at(_sentence(message), row=row.number, column=column)
        else:
            for message in error.messages:
                self.errors.at(_sentence(message), row=row.number)


def import_commitments_xlsx(*, user, contract, partner, fileobj, filename="") -> ImportReport:
    """Importe le modèle rempli : tout ou rien, chaque erreur nommant feuille, ligne et colonne.

    Lève ``PermissionDenied`` si ``user`` ne gère pas le cahier de ce partenaire. Les lignes sans
    identifiant créent des engagements (sauf si un engagement du partenaire porte déjà le même
    intitulé et le même contenu : c'est un second envoi du même fichier) ; les autres modifient
    l'engagement désigné, qui doit appartenir à ce contrat et à ce partenaire.
    """
    if not abilities.can_manage_cahier(user, contract, partner):
        raise PermissionDenied("Vous ne pouvez pas importer le cahier d'engagements de ce partenaire.")
    report = ImportReport()
    errors = _Errors(filename)
    data = _read_bytes(fileobj, errors)
    if data is None or not _check_container(data, errors):
        report.errors = errors.sorted()
        return report
    workbook = _open_workbook(data, errors)
    if workbook is None:
        report.errors = errors.sorted()
        return report
    importer = _Importer(user=user, contract=contract, partner=partner, errors=errors)
    try:
        rows = importer.read(workbook)
    except Exception:  # contenu XML hostile ou incohérent : refus pour l'utilisateur, trace au journal.
        logger.warning("Lecture du classeur XLSX interrompue à l'import", exc_info=True)
        errors.file("ce classeur XLSX n'a pas pu être lu (contenu endommagé).")
        rows = None
    finally:
        workbook.close()
    if rows is None:
        report.errors = errors.sorted()
        return report
    try:
        with transaction.atomic():
            importer.write(rows, report)
            if errors:
                raise _Rollback
    except _Rollback:
        pass
    if errors:
        report.created = report.updated = report.unchanged = 0
        report.errors = errors.sorted()
    return report
