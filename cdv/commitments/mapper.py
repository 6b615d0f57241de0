"""Cahier d'engagements : des lignes du modèle XLSX rempli aux engagements vérifiés, sans rien écrire.

Chaque erreur nomme sa feuille, sa ligne et sa colonne ; les lignes lues vont au ``writer``.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from openpyxl.utils import get_column_letter

from cdv.core.numbers import NumberFormatError, parse_french_decimal
from cdv.core.spreadsheets import norm_text, normalize_header, unsafe_text
from cdv.plan.models import PLAIN_SUMMARY_MAX

from .enums import CommitmentScope, CommitmentStatus, FundingKind
from .models import Commitment
from .xlsx_export import SHEET, qpv_queryset
from .xlsx_template import (
    COLUMNS,
    FUNDING_WORDS,
    LABELS,
    MEANS_PARTS,
    SEPARATOR,
    parse_means_header,
    plan_lists,
)

MAX_DATA_ROWS = 10_000
MAX_SHEET_ROWS = 20000
TITLE_MAX = Commitment._meta.get_field("title").max_length
TARGET_MAX = Commitment._meta.get_field("target").max_length
FTE_MAX = Decimal("99999.99")
AMOUNT_MAX = Decimal("999999999999.99")
CENT = Decimal("0.01")


@dataclass
class CommitmentRow:
    """Une ligne du modèle, lue et vérifiée : ce que le ``writer`` créera ou modifiera."""

    number: int
    id: int | None = None
    version: int | None = None
    data: dict = field(default_factory=dict)
    qpvs: list | None = None
    means: dict | None = None  # (année, nature) → {"fte", "amount_eur"} ; None : colonnes absentes
    status: str | None = None
    reason: str = ""
    failed: bool = False


def cell_text(value) -> str:
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


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_formula(cell) -> bool:
    """Une formule : une cellule de type formule. Un texte « =… » écrit comme texte (nos exports,
    ``set_text``) n'en est pas une ; sans type connu, un texte qui commence par « = » en est une."""
    data_type = getattr(cell, "data_type", None)
    if data_type is not None:
        return data_type == "f"
    value = getattr(cell, "value", None)
    return isinstance(value, str) and value.startswith("=")


class SheetMapper:
    """Lit la feuille « Engagements » du modèle : chaque ligne devient un ``CommitmentRow`` (objectif,
    action, textes, portée, QPV, échéance, moyens), chaque erreur va dans ``errors`` avec sa ligne
    et sa colonne. Rien n'est écrit ; ``columns["pairs"]`` dit quels moyens le fichier porte."""

    def __init__(self, *, contract, partner, errors):
        self.contract = contract
        self.partner = partner
        self.errors = errors
        self.columns = {"keys": {}, "means": {}, "labels": {}, "pairs": set()}
        self.years = set(range(contract.start_year, contract.end_year + 1))
        objectives, actions, qpvs = plan_lists(contract)
        self.objectives = {o.code: o for o in objectives}
        self.actions = {}
        for action in actions:
            self.actions.setdefault(action.code, []).append(action)
        self.contract_qpvs = {q.code: q for q in qpvs}
        self.scopes = {}
        for scope in CommitmentScope:
            self.scopes[normalize_header(scope.label)] = scope.value
            self.scopes[normalize_header(scope.value)] = scope.value
        self.statuses = {}
        for status in CommitmentStatus:
            self.statuses[normalize_header(status.label)] = status.value
            self.statuses[normalize_header(status.value)] = status.value

    # -- lecture de la feuille ---------------------------------------------------------------

    def read(self, workbook) -> list[CommitmentRow] | None:
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
                    if is_formula(cell):
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
                if is_formula(cell):
                    formula = True
                    self._formula_error(cell, number, index, columns["labels"].get(index))
            values = {index: cell.value for index, cell in enumerate(cells, start=1)}
            if all(is_blank(v) for i, v in values.items() if i in columns["labels"]):
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
                if is_formula(cell):
                    self._formula_error(cell, number, index, None, ws.title, sheet_index)

    def _read_header(self, header):
        known = {normalize_header(label): key for key, label, _, _ in COLUMNS}
        found, labels, means = {}, {}, {}
        ok = True
        for index, cell in enumerate(header, start=1):
            if is_formula(cell):
                ok = False
                self._formula_error(cell, 1, index, None)
                continue
            raw = cell_text(cell.value).strip()
            normalized = normalize_header(raw)
            if not normalized:
                continue
            key = known.get(normalized)
            means_key = None if key else parse_means_header(normalized)
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
        row = CommitmentRow(number=number)
        columns = self.columns
        keys = columns["keys"]

        def text(key):
            return cell_text(values.get(keys[key])) if key in keys else None

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
            value = norm_text(text(key))
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
        scope = self.scopes.get(normalize_header(scope_text))
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
                status = self.statuses.get(normalize_header(status_text))
                if status is None:
                    self._error(row, "status", f"« {status_text} » n'est pas un état connu.")
                row.status = status
        if "amendment_reason" in keys:
            row.reason = norm_text(text("amendment_reason"))

        if columns["means"]:
            row.means = {}
            for year, funding in sorted(columns["pairs"]):
                cells = {part: columns["means"][(year, funding, part)] for part, _ in MEANS_PARTS}
                if all(is_blank(values.get(i)) for i in cells.values()):
                    continue
                amounts = {}
                for part, index in cells.items():
                    amounts[part] = self._number(
                        row, part, values.get(index), columns["labels"][index], index
                    )
                row.means[(year, funding)] = amounts
        return row

    def _integer(self, row, key, value):
        if is_blank(value):
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
                f"« {cell_text(value)} » n'est pas un nombre entier valide : "
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
                for q in qpv_queryset().filter(code__in=unknown).exclude(pk__in=[q.pk for q in qpvs])
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
        if is_blank(value):
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
            self._error(row, "deadline", f"« {cell_text(value)} » n'est pas une date valide (JJ/MM/AAAA).")
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
        if is_blank(value):
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
            self._error(row, label, f"« {cell_text(value)} » n'est pas un nombre (ex. : {example}).", index)
            return None
        if number < 0:
            self._error(row, label, f"{cell_text(value)} : un montant ne peut pas être négatif.", index)
            return None
        if number != number.quantize(CENT):
            self._error(row, label, f"{cell_text(value)} : deux décimales au plus.", index)
            return None
        if number > (FTE_MAX if part == "fte" else AMOUNT_MAX):
            self._error(row, label, f"{cell_text(value)} : valeur trop grande.", index)
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
                key = normalize_header(row.data["title"])
                if key in titles:
                    self._error(
                        row,
                        "title",
                        f"un autre nouvel engagement porte déjà cet intitulé (ligne {titles[key]}).",
                    )
                else:
                    titles[key] = row.number
