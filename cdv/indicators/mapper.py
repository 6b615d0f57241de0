"""Valeurs d'indicateurs : des lignes d'un fichier aux valeurs validées, sans rien écrire.

``RowMapper`` lit l'en-tête (disposition longue ou large, colonnes reconnues ou désignées à la
main), puis chaque ligne : indicateur du contrat, territoire, période, nombre (virgule décimale,
secret statistique, rapport numérateur / dénominateur), provenance (source, millésime, statut).
Chaque erreur est rangée dans l'``ErrorCollector`` de l'import, avec sa ligne et sa colonne ; les
valeurs lues (``ValueRecord``) vont au ``writer``. Les territoires et les indicateurs sont résolus par
quelques requêtes groupées. Le format des fichiers est décrit dans ``cdv.indicators.importer``.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from cdv.core import validators
from cdv.core.uploads import ErrorCollector
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.models import Territory

from .enums import Aggregation, ValueStatus
from .models import Indicator, IndicatorValue

MAX_ROWS = 1_000_000  # lignes de données
MAX_VALUES = 1_000_000  # valeurs lues (un fichier large en porte plusieurs par ligne)
RATIO_TOLERANCE = Decimal("0.05")
YEAR_MIN, YEAR_MAX = 1990, 2100
PERIOD_KEY = "_periode"  # clé réservée de ``mapping`` : la période d'un fichier sans colonne période
# Colonnes qu'on peut désigner à la main (paramètre ``columns``), quel que soit leur intitulé.
CHOOSABLE_COLUMNS = ("indicator", "territory", "period", "value", "source", "vintage", "status")

FOUR_PLACES = Decimal("0.0001")
VALUE_LIMIT = Decimal(10) ** 12  # DecimalField(max_digits=16, decimal_places=4)
VINTAGE_MAX = IndicatorValue._meta.get_field("vintage").max_length
SOURCE_MAX = IndicatorValue._meta.get_field("source").max_length
CONTRACT_CODES = {"QPV_CONTRAT", "ENSEMBLE_QPV", "QPV_DU_CONTRAT"}
SECRET_MARKS = {"s", "nd", "n.d.", "n.d", "secret"}
TRUE_WORDS = {"oui", "o", "yes", "y", "1", "vrai", "true", "x", "s", "secret"}
FALSE_WORDS = {"non", "n", "no", "0", "faux", "false"}
STATUS_WORDS = {
    "provisoire": ValueStatus.PROVISIONAL,
    "provisoires": ValueStatus.PROVISIONAL,
    "prov": ValueStatus.PROVISIONAL,
    "p": ValueStatus.PROVISIONAL,
    "provisional": ValueStatus.PROVISIONAL,
    "definitive": ValueStatus.FINAL,
    "definitif": ValueStatus.FINAL,
    "definitives": ValueStatus.FINAL,
    "def": ValueStatus.FINAL,
    "d": ValueStatus.FINAL,
    "final": ValueStatus.FINAL,
    "finale": ValueStatus.FINAL,
}

# Colonnes : clé → (intitulé français, intitulés reconnus une fois normalisés).
COLUMNS = {
    "indicator": ("indicateur", {"indicateur", "indicator", "code_indicateur", "indicator_code"}),
    "territory": (
        "territoire",
        {"territoire", "territory", "code_territoire", "territory_code", "codgeo", "code_geo", "codegeo"},
    ),
    "period": ("periode", {"periode", "period", "annee", "year"}),
    "value": ("valeur", {"valeur", "value"}),
    "numerator": ("numerateur", {"numerateur", "numerator"}),
    "denominator": ("denominateur", {"denominateur", "denominator"}),
    "secret": ("secret", {"secret", "secret_statistique", "is_secret"}),
    "status": ("statut", {"statut", "status"}),
    "source": ("source", {"source", "source_libelle"}),
    "vintage": ("millesime", {"millesime", "vintage"}),
    "comment": ("commentaire", {"commentaire", "commentaires", "comment", "comments"}),
    "label": ("libellé", {"libgeo", "libelle", "libelle_territoire", "nom", "nom_territoire", "name"}),
}
# « territoire » seul peut porter le nom quand une colonne de code existe aussi.
GENERIC_TERRITORY = {"territoire", "territory"}
COLUMNS_BY_ALIAS = {alias: key for key, (_, names) in COLUMNS.items() for alias in names}
LONG_REQUIRED = ["indicator", "territory", "period", "value"]
WIDE_STRUCTURE = {"territory", "label", "period", "source", "vintage", "status"}

_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\u2007")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_PERIOD_RE = re.compile(r"^(\d{4})(?:\s*[-_/ ]?\s*[TQ]\s*(\d+))?$", re.IGNORECASE)
_DIGITS_RE = re.compile(r"^\d+$")

LONG, WIDE = "long", "large"
# Champs d'une valeur que l'import écrit (dans cet ordre : ``ValueRecord.written``).
VALUE_FIELDS = ("value", "numerator", "denominator", "is_secret", "status", "source", "vintage", "comment")


# ---------------------------------------------------------------------------------------------
# Lecture des cellules


def cell_text(value) -> str:
    """Une cellule de classeur en texte, comme elle se lirait dans un CSV."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def header_key(text) -> str:
    """Intitulé normalisé : sans accents ni casse, mots reliés par « _ »."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _fr(number: Decimal) -> str:
    text = f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}".rstrip("0")
    return text.replace(".", ",")


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 40 else text[:39] + "…"


def _parse_number(text: str) -> tuple[Decimal | None, str]:
    """Un nombre (virgule décimale, espaces de milliers) arrondi à 4 décimales, ou un message."""
    compact = text.translate(_SPACES).replace("\u2212", "-")
    if "," in compact:
        if "." in compact or compact.count(",") > 1:
            return None, f"« {clip(text)} » n'est pas un nombre."
        compact = compact.replace(",", ".")
    if not _NUMBER_RE.match(compact):
        return None, f"« {clip(text)} » n'est pas un nombre."
    number = Decimal(compact)
    if abs(number) >= VALUE_LIMIT:
        return None, f"« {clip(text)} » est trop grand (au plus 12 chiffres avant la virgule)."
    return number.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP), ""


def _parse_period(text: str) -> tuple[int, int, str]:
    """(année, trimestre ou 0, message d'erreur vide si la période est lue)."""
    cleaned = text.strip()
    match = _PERIOD_RE.match(cleaned)
    if not match:
        return (
            0,
            0,
            f"« {clip(text)} » n'est pas une période reconnue : attendu une année (2024) "
            "ou un trimestre (2024-T3, 2024T3, 2024-Q3).",
        )
    year = int(match.group(1))
    quarter = int(match.group(2)) if match.group(2) is not None else 0
    if match.group(2) is not None and not 1 <= quarter <= 4:
        return 0, 0, f"trimestre {match.group(2)} impossible dans « {cleaned} » : attendu 1, 2, 3 ou 4."
    if not YEAR_MIN <= year <= YEAR_MAX:
        return 0, 0, f"l'année {year} sort de la plage acceptée ({YEAR_MIN} à {YEAR_MAX})."
    return year, quarter, ""


def _resolve_headers(header: list[str]) -> tuple[dict[str, int], dict[int, str], list[tuple[int, str]]]:
    """Colonnes reconnues (clé → index), intitulés du fichier (index → texte), colonnes inconnues."""
    aliases = COLUMNS_BY_ALIAS
    found: dict[str, list[tuple[int, str]]] = {}
    labels: dict[int, str] = {}
    unknown: list[tuple[int, str]] = []
    for index, raw in enumerate(header):
        text = str(raw or "").strip()
        labels[index] = text
        normalized = header_key(text)
        if not normalized:
            continue
        key = aliases.get(normalized)
        if key is None:
            unknown.append((index, text))
        else:
            found.setdefault(key, []).append((index, normalized))
    territory = found.get("territory", [])
    specific = [item for item in territory if item[1] not in GENERIC_TERRITORY]
    if specific and len(specific) < len(territory):  # « territoire » porte alors le nom
        found["territory"] = specific
        found.setdefault("label", []).extend(item for item in territory if item[1] in GENERIC_TERRITORY)
    return {key: [i for i, _ in items] for key, items in found.items()}, labels, unknown


# ---------------------------------------------------------------------------------------------
# Validation


class ValueRecord:
    __slots__ = ("number", "indicator", "territory_id", "year", "quarter", *VALUE_FIELDS)

    def __init__(
        self, number, indicator, territory_id, year, quarter, value, numerator, denominator, is_secret
    ):
        self.number = number
        self.indicator = indicator
        self.territory_id = territory_id
        self.year = year
        self.quarter = quarter
        self.value = value
        self.numerator = numerator
        self.denominator = denominator
        self.is_secret = is_secret
        self.status = self.source = self.vintage = None  # toujours donnés (ligne ou fichier)
        self.comment = None  # None : colonne absente, la valeur enregistrée garde le sien

    @property
    def key(self):
        return (self.indicator.pk, self.territory_id, self.year, self.quarter)

    def written(self, comment: str) -> tuple:
        """Les champs ``VALUE_FIELDS`` à enregistrer, avec ``comment`` pour commentaire."""
        return (
            self.value,
            self.numerator,
            self.denominator,
            self.is_secret,
            self.status,
            self.source,
            self.vintage,
            comment,
        )


_UNREADABLE = object()  # nombre présent mais illisible (erreur déjà relevée)


class NullBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


class RowMapper:
    def __init__(
        self,
        *,
        contract,
        errors: ErrorCollector,
        mapping: dict | None,
        progress,
        source: str = "",
        vintage: str = "",
        final: bool = False,
        columns: dict | None = None,
    ):
        self.contract = contract
        self.chosen = {str(k): str(v or "").strip() for k, v in (columns or {}).items()}
        self.chosen_indexes: set[int] = set()
        self.errors = errors
        self.progress = progress
        # Provenance de tout le fichier : chaque ligne peut la remplacer par ses colonnes.
        self.default_source = (source or "").strip()
        self.default_vintage = str(vintage or "").strip()
        self.default_status = ValueStatus.FINAL if final else ValueStatus.PROVISIONAL
        if len(self.default_source) > SOURCE_MAX:
            self.errors.file(f"la source donnée pour tout le fichier dépasse {SOURCE_MAX} caractères.")
        if len(self.default_vintage) > VINTAGE_MAX:
            self.errors.file(f"le millésime donné pour tout le fichier dépasse {VINTAGE_MAX} caractères.")
        self.indicators = {i.code.lower(): i for i in Indicator.objects.filter(contract=contract)}
        self.territories = {
            (kind, code, geography): pk
            for pk, kind, code, geography in Territory.objects.values_list("pk", "kind", "code", "geography")
        }
        self.territory_cache: dict[str, tuple[int | None, str]] = {}
        self.period_cache: dict[str, tuple[int, int, str]] = {}
        self.pending_indicators: dict[str, list[tuple[int, str, int]]] = {}
        self.records: list[ValueRecord] = []
        self.seen: dict[tuple, int] = {}
        self.values_read = 0
        self.ignored: list[str] = []
        self.layout = ""
        self.columns: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self.mapping: dict[str, str] = {}
        self.period_text: str | None = None
        self.wide_columns: list[tuple[int, str, Indicator]] = []  # (index, intitulé, indicateur)
        for key, code in (mapping or {}).items():
            key = str(key).strip()
            if key == PERIOD_KEY:
                self.period_text = cell_text(code).strip()
            elif key.startswith("_"):
                self.errors.file(
                    f"clé « {key} » inconnue dans la correspondance : "
                    f"la seule clé réservée est « {PERIOD_KEY} »."
                )
            else:
                self.mapping[key] = str(code or "").strip()
        self.fixed_period: tuple[int, int] | None = None
        if self.period_text is not None:
            year, quarter, message = _parse_period(self.period_text)
            if message:
                self.errors.file(
                    f"période donnée pour tout le fichier ({PERIOD_KEY} ou --period) : {message}"
                )
            else:
                self.fixed_period = (year, quarter)

    def _at(self, row, column, message, column_index=0) -> None:
        self.errors.at(message, row=row, column=column, column_index=column_index)

    # -- en-tête ---------------------------------------------------------------------------

    def _apply_choices(self, columns, labels, unknown) -> list[tuple[int, str]]:
        """Les colonnes désignées à la main (``columns``) remplacent celles reconnues à leur intitulé."""
        for key, wanted in self.chosen.items():
            if key not in CHOOSABLE_COLUMNS:
                self.errors.file(f"« {key} » n'est pas une colonne qu'on peut désigner.")
                continue
            if not wanted:
                continue
            matches = [i for i, text in labels.items() if text == wanted] or [
                i for i, text in labels.items() if header_key(text) == header_key(wanted)
            ]
            if not matches:
                self.errors.file(
                    f"la colonne « {clip(wanted)} » choisie pour « {COLUMNS[key][0]} » "
                    "n'existe pas dans le fichier."
                )
                continue
            index = matches[0]
            for indexes in columns.values():
                if index in indexes:
                    indexes.remove(index)
            columns[key] = [index]
            self.chosen_indexes.add(index)
        for key in [key for key, indexes in columns.items() if not indexes]:
            del columns[key]
        return [(i, text) for i, text in unknown if i not in self.chosen_indexes]

    def read_header(self, table) -> bool:
        columns, labels, unknown = _resolve_headers(table.header)
        self.labels = labels
        row = table.header_row
        if self.chosen:
            unknown = self._apply_choices(columns, labels, unknown)
        ok = not self.errors
        if "indicator" in columns:
            self.layout = LONG
        elif "territory" in columns:
            self.layout = WIDE
        else:
            self.layout = WIDE if self.mapping else LONG
        for key, indexes in columns.items():
            if len(indexes) > 1 and key != "label":
                ok = False
                for index in indexes[1:]:
                    self._at(
                        row,
                        labels[index],
                        f"deux colonnes désignent « {COLUMNS[key][0]} » "
                        f"(« {labels[indexes[0]]} » et « {labels[index]} ») : gardez-en une seule.",
                        index + 1,
                    )
        self.columns = {key: indexes[0] for key, indexes in columns.items()}
        has_period = "period" in self.columns
        if has_period and self.period_text is not None:
            ok = False
            self.errors.file(
                f"le fichier a sa propre colonne « {labels[self.columns['period']]} » : "
                f"ne donnez pas en plus de période ({PERIOD_KEY} ou --period)."
            )
        if "source" not in self.columns and not self.default_source:
            ok = False
            self.errors.file(
                "source des valeurs absente : ajoutez une colonne « source » ou donnez la source de tout "
                "le fichier (--source « INSEE, Filosofi 2021 » pour la commande)."
            )
        if "vintage" not in self.columns and not self.default_vintage:
            ok = False
            self.errors.file(
                "millésime des valeurs absent : ajoutez une colonne « millesime » ou donnez le millésime de "
                "tout le fichier (--millesime 2021 pour la commande)."
            )
        if self.layout == LONG:
            ok = self._long_header(row, unknown, has_period) and ok
        else:
            ok = self._wide_header(row, columns, labels, has_period) and ok
        return ok

    def _missing(self, row, key, hint=""):
        self._at(row, COLUMNS[key][0], f"colonne obligatoire absente{hint}.", 10_000)

    def _long_header(self, row, unknown, has_period) -> bool:
        ok = True
        if self.mapping:
            ok = False
            pairs = ", ".join(f"{k}={v}" for k, v in self.mapping.items())
            self.errors.file(
                f"la correspondance de colonnes ({pairs}) ne vaut que pour un fichier large "
                "(CODGEO, LIBGEO puis une colonne par indicateur) ; ce fichier a une colonne « indicateur »."
            )
        for key in LONG_REQUIRED:
            if key == "period" and (has_period or self.period_text is not None):
                continue
            if key not in self.columns:
                ok = False
                hint = ""
                if key == "indicator":
                    hint = (
                        " (fichier long : indicateur, territoire, periode, valeur ; "
                        "fichier large : CODGEO puis une colonne par indicateur, avec une correspondance)"
                    )
                elif key == "period":
                    hint = f" (ou donnez la période de tout le fichier : {PERIOD_KEY} ou --period)"
                self._missing(row, key, hint)
        self.ignored = [text for _, text in unknown]
        return ok

    def _wide_header(self, row, columns, labels, has_period) -> bool:
        ok = True
        if "territory" not in self.columns:
            self._missing(row, "territory", " (CODGEO ou code_territoire)")
            return False
        if not has_period and self.period_text is None:
            ok = False
            self.errors.file(
                "un fichier large (une colonne par indicateur) doit recevoir sa période : "
                f"--period 2024 (commande) ou la clé « {PERIOD_KEY} » de la correspondance."
            )
        # Toute colonne hors structure (territoire, libellé, période) peut porter un indicateur.
        candidates: dict[str, tuple[int, str]] = {}
        for index, text in labels.items():
            normalized = header_key(text)
            if not normalized:
                continue
            key = COLUMNS_BY_ALIAS.get(normalized)
            if key in WIDE_STRUCTURE and index in columns.get(key, []):
                continue
            if index in self.chosen_indexes:
                continue
            candidates.setdefault(normalized, (index, text))
        used: dict[int, int] = {}  # index de colonne → indicateur
        if not self.mapping:
            ok = False
            self.errors.file(
                "un fichier large se lit avec une correspondance colonne → indicateur "
                "(--mapping COLONNE=code-indicateur) : aucune n'a été donnée."
            )
        for column, code in self.mapping.items():
            target = candidates.get(header_key(column))
            if target is None:
                ok = False
                names = ", ".join(f"« {text} »" for _, text in candidates.values()) or "aucune"
                self.errors.file(
                    f"la correspondance nomme la colonne « {column} », absente du fichier "
                    f"(colonnes disponibles : {names})."
                )
                continue
            index, text = target
            if index in used:
                ok = False
                self._at(row, text, "la correspondance nomme deux fois cette colonne.", index + 1)
                continue
            if not code:
                ok = False
                self._at(row, text, "la correspondance n'indique pas de code d'indicateur.", index + 1)
                continue
            indicator = self.indicators.get(code.lower())
            if indicator is None:
                ok = False
                self.pending_indicators.setdefault(code, []).append((row, text, index + 1))
                continue
            if indicator.pk in used.values():
                ok = False
                first = next(labels[i] for i, pk in used.items() if pk == indicator.pk)
                self._at(
                    row,
                    text,
                    f"l'indicateur « {indicator.code} » est déjà associé à la colonne « {first} ».",
                    index + 1,
                )
                continue
            used[index] = indicator.pk
            self.wide_columns.append((index, text, indicator))
        self.ignored = [text for index, text in candidates.values() if index not in used]
        return ok

    # -- lignes ----------------------------------------------------------------------------

    def _indicator(self, number, text, index) -> Indicator | None:
        code = text.strip()
        if not code:
            self._at(number, self.labels[index], "code d'indicateur manquant.", index + 1)
            return None
        indicator = self.indicators.get(code.lower())
        if indicator is None:
            self.pending_indicators.setdefault(code, []).append((number, self.labels[index], index + 1))
        return indicator

    def _territory(self, text: str) -> tuple[int | None, str]:
        """(identifiant, "") ; (None, "") pour l'ensemble des QPV du contrat ; (None, message)."""
        cached = self.territory_cache.get(text)
        if cached is not None:
            return cached
        result = self._resolve_territory(text)
        self.territory_cache[text] = result
        return result

    def _resolve_territory(self, text: str) -> tuple[int | None, str]:
        code = text.strip().upper()
        if not code:
            return None, "code du territoire manquant."
        if re.sub(r"[\s-]+", "_", code) in CONTRACT_CODES:
            return None, ""
        if code.startswith(("QN", "QP")):
            geography = Geography.QPV_2024 if code.startswith("QN") else Geography.QPV_2015
            try:
                validators.validate_qpv_code(code, geography)
            except ValidationError as error:
                return None, error.messages[0]
            found = self.territories.get((TerritoryKind.QPV, code, geography))
            return (
                (found, "")
                if found
                else (None, f"aucun QPV de la géographie {geography} n'a le code « {code} ».")
            )
        if code == "FR":
            kind, what = TerritoryKind.FRANCE, "le territoire France"
        elif len(code) == 9 and _DIGITS_RE.match(code):
            kind, what = TerritoryKind.EPCI, "aucun EPCI n'a le SIREN"
        elif validators.INSEE_COMMUNE_RE.match(code):
            kind, what = TerritoryKind.COMMUNE, "aucune commune n'a le code INSEE"
        elif len(code) == 4 and _DIGITS_RE.match(code):
            kind, what = TerritoryKind.EMPLOYMENT_ZONE, "aucune zone d'emploi n'a le code"
        elif validators.DEPARTMENT_RE.match(code):
            kind, what = TerritoryKind.DEPARTMENT, "aucun département n'a le code"
        else:
            return None, (
                f"« {clip(text)} » n'est pas un code de territoire reconnu : attendu un code QPV "
                "(QN04413M, ou QP044013 en géographie 2015), une commune (code INSEE, 44109), un EPCI "
                "(SIREN, 244400404), une zone d'emploi (5216), un département (44), FR, ou QPV_CONTRAT "
                "pour l'ensemble des QPV du contrat."
            )
        found = self.territories.get((kind, code, ""))
        if found:
            return found, ""
        if kind == TerritoryKind.FRANCE:
            return None, "le territoire France (FR) n'est pas chargé sur la plateforme."
        return None, f"{what} « {code} » parmi les territoires chargés sur la plateforme."

    def _period(self, text: str) -> tuple[int, int, str]:
        cached = self.period_cache.get(text)
        if cached is None:
            cached = self.period_cache[text] = _parse_period(text)
        return cached

    def _add(self, record: ValueRecord, territory_index: int) -> None:
        key = record.key
        first = self.seen.get(key)
        if first is not None:
            self._at(
                record.number,
                self.labels[territory_index],
                f"doublon de la ligne {first} : même indicateur (« {record.indicator.code} »), "
                "même territoire, même période.",
                territory_index + 1,
            )
            return
        self.seen[key] = record.number
        self.records.append(record)

    def _provenance(self, cell, error) -> tuple[str, str, str] | None:
        """(source, millésime, statut) d'une ligne : ses colonnes, sinon ceux de tout le fichier."""
        ok = True
        source = (cell("source").strip() if "source" in self.columns else "") or self.default_source
        if not source:
            ok = False
            error("source", "source manquante : indiquez-la sur la ligne ou pour tout le fichier (--source).")
        elif len(source) > SOURCE_MAX:
            ok = False
            error("source", f"la source dépasse {SOURCE_MAX} caractères.")
        vintage = (cell("vintage").strip() if "vintage" in self.columns else "") or self.default_vintage
        if not vintage:
            ok = False
            error(
                "vintage",
                "millésime manquant : indiquez-le sur la ligne ou pour tout le fichier (--millesime).",
            )
        elif len(vintage) > VINTAGE_MAX:
            ok = False
            error("vintage", f"le millésime dépasse {VINTAGE_MAX} caractères.")
        status = self.default_status
        text = cell("status").strip() if "status" in self.columns else ""
        if text:
            status = STATUS_WORDS.get(header_key(text))
            if status is None:
                ok = False
                error("status", f"« {clip(text)} » : attendu « provisoire » ou « définitive » (ou vide).")
        return (source, vintage, str(status)) if ok else None

    def read_rows(self, table) -> None:
        bar = (
            self.progress(total=table.total_rows, desc="Lecture", unit="ligne")
            if self.progress
            else NullBar()
        )
        data_rows = 0
        try:
            for number, cells, failed in table.rows:
                if not any(cell.strip() for cell in cells if cell):
                    continue
                data_rows += 1
                if data_rows % 1000 == 0:
                    bar.update(1000)
                if data_rows > MAX_ROWS or self.values_read > MAX_VALUES:
                    self._at(
                        number,
                        None,
                        f"le fichier dépasse {_thousands(MAX_ROWS)} lignes ou {_thousands(MAX_VALUES)} "
                        "valeurs : découpez-le en plusieurs fichiers.",
                    )
                    return
                if failed:
                    continue
                if self.layout == LONG:
                    self._long_row(number, cells)
                else:
                    self._wide_row(number, cells)
        finally:
            bar.close()
        if data_rows == 0:
            self.errors.file("le fichier ne contient aucune ligne de données sous l'en-tête.")

    def _cells(self, number: int, cells: list[str]):
        """(texte de la colonne reconnue ``key``, erreur sur cette colonne) pour la ligne ``number``."""
        columns, labels, width = self.columns, self.labels, len(cells)

        def cell(key):
            index = columns.get(key)
            return cells[index] if index is not None and index < width else ""

        def error(key, message):
            index = columns.get(key, 0)
            self._at(number, labels.get(index), message, index + 1)

        return cell, error

    def _long_row(self, number: int, cells: list[str]) -> None:
        columns = self.columns
        cell, error = self._cells(number, cells)

        self.values_read += 1
        indicator = self._indicator(number, cell("indicator"), columns["indicator"])
        failed = indicator is None
        territory_id, message = self._territory(cell("territory"))
        if message:
            failed = True
            error("territory", message)
        if self.fixed_period is not None:
            year, quarter = self.fixed_period
        elif "period" in columns:
            year, quarter, message = self._period(cell("period"))
            if message:
                failed = True
                error("period", message)
        else:
            return  # période absente : erreur d'en-tête déjà relevée

        # Secret et nombre.
        secret_text = cell("secret").strip().lower() if "secret" in columns else ""
        secret_flag = None
        if secret_text:
            if secret_text in TRUE_WORDS:
                secret_flag = True
            elif secret_text in FALSE_WORDS:
                secret_flag = False
            else:
                failed = True
                error("secret", f"« {clip(secret_text)} » : attendu oui ou non (ou vide).")
        value_text = cell("value").strip()
        value = None
        is_secret = bool(secret_flag)
        if value_text.lower() in SECRET_MARKS:
            if secret_flag is False:
                failed = True
                error(
                    "value",
                    f"« {value_text} » signale un secret statistique, mais la colonne secret dit non.",
                )
            is_secret = True
        elif not value_text:
            if not is_secret:
                failed = True
                error(
                    "value",
                    "valeur manquante : indiquez un nombre, "
                    "ou « s » pour une valeur sous secret statistique.",
                )
        else:
            value, message = _parse_number(value_text)
            if message:
                failed = True
                error("value", message)
            elif is_secret:
                failed = True
                error(
                    "value",
                    f"« {clip(value_text)} » alors que la valeur est sous secret statistique : "
                    "une valeur secrète n'a pas de nombre (videz la valeur ou la colonne secret).",
                )
        numbers = {}
        for key in ("numerator", "denominator"):
            text = cell(key).strip() if key in columns else ""
            numbers[key] = None
            if text:
                numbers[key], message = _parse_number(text)
                if message:
                    failed = True
                    error(key, message)
                    numbers[key] = _UNREADABLE
        numerator, denominator = numbers["numerator"], numbers["denominator"]
        readable = numerator is not _UNREADABLE and denominator is not _UNREADABLE
        if is_secret and numerator is not None:
            if numerator is not _UNREADABLE:
                failed = True
                error("numerator", "une valeur sous secret statistique n'a pas de numérateur.")
        elif readable and (numerator is None) != (denominator is None) and not is_secret:
            failed = True
            error(
                "numerator" if numerator is None else "denominator",
                "numérateur et dénominateur vont ensemble : indiquez les deux, ou aucun.",
            )
        if denominator is not None and denominator is not _UNREADABLE and denominator <= 0:
            failed = True
            error("denominator", f"le dénominateur doit être strictement positif (« {_fr(denominator)} »).")
        if (
            indicator is not None
            and (indicator.aggregation == Aggregation.RATIO or indicator.rate_scale)
            and value is not None
            and readable
            and numerator is not None
            and denominator is not None
            and denominator > 0
        ):
            # L'échelle du taux se lit sur l'indicateur (100, 1 000…), jamais dans l'écriture de son unité.
            unit = indicator.unit.strip()
            factor = indicator.rate_scale or 1
            expected = numerator * factor / denominator
            if abs(value - expected) > RATIO_TOLERANCE:
                failed = True
                shown_unit = f" {unit}" if factor != 1 else ""
                times = f" × {_fr(Decimal(factor))}" if factor != 1 else ""
                error(
                    "value",
                    f"{_fr(value)} ne correspond pas au rapport numérateur / dénominateur "
                    f"({_fr(numerator)} / {_fr(denominator)}{times} "
                    f"= {_fr(expected.quantize(Decimal('0.01')))}{shown_unit}, à "
                    f"{_fr(RATIO_TOLERANCE)} près).",
                )

        provenance = self._provenance(cell, error)
        comment = None
        if "comment" in columns:
            comment = cell("comment").strip()
        if failed or provenance is None:
            return
        record = ValueRecord(
            number,
            indicator,
            territory_id,
            year,
            quarter,
            value,
            numerator,
            denominator,
            is_secret,
        )
        record.source, record.vintage, record.status = provenance
        record.comment = comment
        self._add(record, columns["territory"])

    def _wide_row(self, number: int, cells: list[str]) -> None:
        columns = self.columns
        labels = self.labels
        width = len(cells)
        territory_index = columns["territory"]
        territory_id, message = self._territory(cells[territory_index] if territory_index < width else "")
        failed = False
        if message:
            failed = True
            self._at(number, labels[territory_index], message, territory_index + 1)
        if self.fixed_period is not None:
            year, quarter = self.fixed_period
        elif "period" in columns:
            index = columns["period"]
            year, quarter, message = self._period(cells[index] if index < width else "")
            if message:
                failed = True
                self._at(number, labels[index], message, index + 1)
        else:
            return
        cell, error = self._cells(number, cells)
        provenance = self._provenance(cell, error)
        failed = failed or provenance is None
        for index, label, indicator in self.wide_columns:
            text = cells[index].strip() if index < width else ""
            if not text:
                continue
            self.values_read += 1
            if text.lower() in SECRET_MARKS:
                value, is_secret = None, True
            else:
                value, message = _parse_number(text)
                is_secret = False
                if message:
                    self._at(number, label, message, index + 1)
                    continue
            if not failed:
                record = ValueRecord(
                    number, indicator, territory_id, year, quarter, value, None, None, is_secret
                )
                record.source, record.vintage, record.status = provenance
                self._add(record, territory_index)

    # -- codes d'indicateurs inconnus : une seule requête pour tout le fichier -------------

    def report_unknown_indicators(self) -> None:
        if not self.pending_indicators:
            return
        lowered = {code.lower() for code in self.pending_indicators}
        elsewhere = {}
        for code, title in (
            Indicator.objects.exclude(contract=self.contract)
            .filter(code__in=lowered | set(self.pending_indicators))
            .values_list("code", "contract__title")
        ):
            elsewhere.setdefault(code.lower(), title)
        known = ", ".join(sorted(i.code for i in self.indicators.values())[:12]) or "aucun"
        for code, places in self.pending_indicators.items():
            other = elsewhere.get(code.lower())
            if other:
                message = (
                    f"l'indicateur « {clip(code)} » appartient à un autre contrat (« {other} ») : "
                    f"seuls les indicateurs du contrat « {self.contract.title} » sont acceptés."
                )
            else:
                message = (
                    f"l'indicateur « {clip(code)} » n'existe pas dans le contrat « {self.contract.title} » "
                    f"(codes connus : {known})."
                )
            for number, label, column_index in places:
                self._at(number, label, message, column_index)
