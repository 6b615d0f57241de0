"""Import des valeurs d'indicateurs d'un contrat depuis un fichier CSV ou XLSX.

``import_indicator_values(contract=…, fileobj=…, filename=…, source=…, vintage=…, final=False,
mapping=None, dry_run=False)`` lit le fichier, vérifie tout en mémoire (territoires et indicateurs
résolus par quelques requêtes groupées), puis écrit en masse, par lots, dans une transaction. Tout ou
rien : à la moindre erreur rien n'est écrit, et chaque erreur nomme sa ligne et sa colonne (« Ligne 12,
colonne « valeur » : « 12,a » n'est pas un nombre. »).
Idempotent : seules les valeurs qui diffèrent de la base sont écrites ; un second import du
même fichier ne change rien.

La commande ``import_indicator_values`` et l'écran d'import des pilotes (``cdv/www/views/
indicator_import.py``) appellent cette même fonction ; l'écran lit d'abord l'en-tête
(``inspect_file`` : disposition et colonnes reconnues), laisse le pilote désigner les colonnes
(paramètre ``columns``) et montre la simulation (``dry_run`` : ``preview``, ``error_details``).

Formats acceptés, reconnus à leur contenu (jamais à leur nom) :

- CSV en UTF-8 (avec ou sans BOM), UTF-16 avec BOM, ou Windows-1252 / Latin-1 ; séparateur
  « , », « ; » ou tabulation, deviné sur la ligne d'en-tête ; virgule décimale (« 12,5 ») et
  espaces de milliers (espace, espace insécable, espace fine insécable) acceptés ;
- XLSX (première feuille dont l'en-tête est reconnu dans ses 20 premières lignes) : formules,
  macros, anciens .xls et archives anormales (bombes ZIP) refusés.

Deux dispositions :

- **longue** (une valeur par ligne) : colonnes ``indicateur``, ``territoire`` (ou
  ``code_territoire``, ``codgeo``), ``periode``, ``valeur`` ; facultatives ``numerateur``,
  ``denominateur``, ``secret``, ``statut`` (provisoire / définitive), ``source``, ``millesime``,
  ``commentaire``. Les intitulés anglais (``indicator``, ``territory``, ``period``, ``value``…)
  sont reconnus ; ni la casse ni les accents ne comptent.
- **large** (fichiers de l'INSEE) : ``CODGEO``, ``LIBGEO`` puis une colonne par indicateur. Le
  paramètre ``mapping`` associe chaque colonne du fichier à un code d'indicateur du contrat
  (``{"P21_POP": "population"}``) ; les colonnes non associées sont ignorées et listées dans le
  rapport. La période de toutes les valeurs se donne dans ce même dictionnaire, sous la clé
  réservée ``"_periode"`` (``{"P21_POP": "population", "_periode": "2021"}``), sauf si le fichier
  a lui-même une colonne ``periode``. Un fichier long sans colonne ``periode`` peut aussi
  recevoir ``"_periode"``.

Codes de territoire : QPV (``QN…`` géographie 2024, ``QP…`` géographie 2015), commune (code
INSEE), EPCI (SIREN), zone d'emploi (4 chiffres), département, ``FR`` ; ``QPV_CONTRAT`` (ou
``ENSEMBLE_QPV``) désigne la valeur publiée pour l'ensemble des QPV du contrat (portée
QPV_DU_CONTRAT, sans territoire). Une cellule « s » (ou « nd ») signale une valeur sous secret
statistique : elle est enregistrée sans nombre.

Chaque valeur dit d'où elle vient : une source (« INSEE, Filosofi 2021 ») et un millésime (« 2021 »)
sont obligatoires, donnés pour tout le fichier (paramètres ``source`` et ``vintage`` ; options
``--source`` et ``--millesime`` de la commande) ou ligne par ligne (colonnes ``source`` et
``millesime``, qui l'emportent sur ceux du fichier ; un fichier large peut aussi les avoir). Une ligne
sans source ni millésime est refusée, avec son numéro. Une valeur importée est **provisoire**, sauf si
l'import la déclare définitive (``final=True``, ``--definitif``, ou la colonne ``statut``).

Ce qui n'est pas dans le fichier n'est pas touché : sans colonne ``commentaire``, une valeur
existante garde le sien. Le nombre (valeur, numérateur,
dénominateur, secret) est en revanche toujours réécrit ensemble : une ligne sans numérateur
efface le numérateur enregistré.

Un indicateur en rapport des sommes avec numérateur et dénominateur : la valeur doit valoir
numérateur / dénominateur × l'échelle du taux de l'indicateur (100, 1 000…, ou 1 s'il n'en a pas),
à 0,05 près, quelle que soit l'écriture de son unité (« % des ménages », « pour 1 000 habitants »).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction

from cdv.core import validators
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.models import Territory

from .enums import Aggregation, Scope, ValueStatus
from .models import Indicator, IndicatorValue

logger = logging.getLogger(__name__)

# Limites. 100 000 valeurs au format long tiennent en 5 à 7 Mo de CSV ; un fichier large de
# l'INSEE (35 000 communes, quelques dizaines de colonnes) en quelques dizaines de Mo.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024  # XLSX : volume décompressé total
MAX_COMPRESSION_RATIO = 100  # XLSX : au-delà, pour un membre de plus de 1 Mo, bombe ZIP présumée
MAX_ZIP_MEMBERS = 1_000
MAX_ROWS = 1_000_000  # lignes de données
MAX_VALUES = 1_000_000  # valeurs lues (un fichier large en porte plusieurs par ligne)
MAX_ERRORS = 500  # erreurs détaillées dans le rapport (les suivantes sont comptées)
MAX_PREVIEW_ROWS = 200  # valeurs détaillées dans l'aperçu (les suivantes sont comptées)
HEADER_SEARCH_ROWS = 20  # XLSX : l'en-tête est cherché dans ces premières lignes
BATCH_SIZE = 2_000
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
BINARY_SIGNATURES = [
    (b"%PDF", "un PDF"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"\x1f\x8b", "une archive gzip"),
    (b"Rar!", "une archive RAR"),
    (b"7z\xbc\xaf", "une archive 7-Zip"),
]

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


# ---------------------------------------------------------------------------------------------
# Rapport


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count < 2 else plural}"


@dataclass
class PreviewRow:
    """Une valeur lue, telle que l'import la traiterait (``action`` : créée, modifiée, inchangée)."""

    number: int
    indicator: str
    territory: str
    period: str
    value: str
    status: str
    action: str = ""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    # Les mêmes erreurs, détaillées : (numéro de ligne ou None pour le fichier, colonne, raison).
    error_details: list[tuple[int | None, str, str]] = field(default_factory=list)
    refused_rows: int = 0  # lignes de données qui ont au moins une erreur
    ignored_columns: list[str] = field(default_factory=list)
    layout: str = ""  # "long" ou "large"
    dry_run: bool = False
    preview: list[PreviewRow] = field(default_factory=list)  # les premières valeurs, dans l'ordre

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
        if self.dry_run:
            text = (
                "Simulation, rien n'a été enregistré : "
                f"{_plural(self.created, 'valeur serait créée', 'valeurs seraient créées')}, "
                f"{_plural(self.updated, 'modifiée', 'modifiées')}, "
                f"{_plural(self.unchanged, 'inchangée', 'inchangées')}."
            )
        else:
            text = (
                f"Import terminé : {_plural(self.created, 'valeur créée', 'valeurs créées')}, "
                f"{_plural(self.updated, 'modifiée', 'modifiées')}, "
                f"{_plural(self.unchanged, 'inchangée', 'inchangées')}."
            )
        if self.ignored_columns:
            names = ", ".join(f"« {name} »" for name in self.ignored_columns)
            text += f" Colonnes ignorées : {names}."
        return text


class _Errors:
    """Erreurs triées par ligne puis colonne ; au-delà de ``MAX_ERRORS``, seulement comptées."""

    def __init__(self, filename: str):
        self.filename = filename
        self.sheet = ""
        self.items: list[tuple[tuple, str, tuple]] = []
        self.total = 0
        self.rows: set[int] = set()
        self.header_row = 0

    def _add(self, key, text, detail):
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(((*key, self.total), text, detail))

    def file(self, message: str) -> None:
        where = f"Fichier « {self.filename} »" if self.filename else "Fichier"
        self._add((0, 0), f"{where} : {message}", (None, "", message))

    def at(self, row: int, column: str | None, message: str, column_index: int = 0) -> None:
        parts = [f"Feuille « {self.sheet} »"] if self.sheet else []
        parts.append(f"ligne {row}")
        if column:
            parts.append(f"colonne « {column} »")
        where = ", ".join(parts)
        if row > self.header_row:
            self.rows.add(row)
        self._add(
            (row, column_index), f"{where[0].upper()}{where[1:]} : {message}", (row, column or "", message)
        )

    def __bool__(self) -> bool:
        return self.total > 0

    def sorted(self) -> list[str]:
        texts = [text for _, text, _ in sorted(self.items, key=lambda item: item[0])]
        if self.total > len(self.items):
            texts.append(self.hidden())
        return texts

    def hidden(self) -> str:
        hidden = self.total - len(self.items)
        return f"… et {_plural(hidden, 'autre erreur non affichée', 'autres erreurs non affichées')}."

    def details(self) -> list[tuple[int | None, str, str]]:
        return [detail for _, _, detail in sorted(self.items, key=lambda item: item[0])]


# ---------------------------------------------------------------------------------------------
# Outils de lecture


def _norm(text) -> str:
    """Intitulé normalisé : sans accents ni casse, mots reliés par « _ »."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _fr(number: Decimal) -> str:
    text = f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}".rstrip("0")
    return text.replace(".", ",")


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} Mo"
    return f"{size // 1024} Ko" if size >= 1024 else f"{size} octets"


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 40 else text[:39] + "…"


def _parse_number(text: str) -> tuple[Decimal | None, str]:
    """Un nombre (virgule décimale, espaces de milliers) arrondi à 4 décimales, ou un message."""
    compact = text.translate(_SPACES).replace("\u2212", "-")
    if "," in compact:
        if "." in compact or compact.count(",") > 1:
            return None, f"« {_shown(text)} » n'est pas un nombre."
        compact = compact.replace(",", ".")
    if not _NUMBER_RE.match(compact):
        return None, f"« {_shown(text)} » n'est pas un nombre."
    number = Decimal(compact)
    if abs(number) >= VALUE_LIMIT:
        return None, f"« {_shown(text)} » est trop grand (au plus 12 chiffres avant la virgule)."
    return number.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP), ""


def _parse_period(text: str) -> tuple[int, int, str]:
    """(année, trimestre ou 0, message d'erreur vide si la période est lue)."""
    cleaned = text.strip()
    match = _PERIOD_RE.match(cleaned)
    if not match:
        return (
            0,
            0,
            f"« {_shown(text)} » n'est pas une période reconnue : attendu une année (2024) "
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
        normalized = _norm(text)
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
# Lecture des octets et des tableaux


class _Refused(Exception):
    """Le fichier est refusé d'emblée ; le message est déjà dans les erreurs."""


@dataclass
class _Table:
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str], bool]]  # (numéro de ligne, cellules en texte, formule ?)
    total_rows: int | None
    sheet: str = ""
    close: Callable[[], None] = lambda: None


def _read_bytes(fileobj, errors: _Errors) -> bytes:
    if isinstance(fileobj, bytes | bytearray):
        data = bytes(fileobj)
    else:
        size = getattr(fileobj, "size", None)  # fichier téléversé : taille connue sans le lire
        if isinstance(size, int) and size > MAX_UPLOAD_BYTES:
            data = None
        else:
            if getattr(fileobj, "seekable", lambda: False)():
                fileobj.seek(0)
            data = fileobj.read(MAX_UPLOAD_BYTES + 1)
            if isinstance(data, str):
                data = data.encode("utf-8")
    if data is None or len(data) > MAX_UPLOAD_BYTES:
        limit = _size(MAX_UPLOAD_BYTES)
        errors.file(f"le fichier dépasse la taille maximale de {limit} : découpez-le en plusieurs fichiers.")
        raise _Refused
    if not data.strip():
        errors.file("le fichier est vide.")
        raise _Refused
    return data


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    return any(ord(char) < 32 and char not in "\t\n\r\f" for char in sample)


def _sniff_separator(line: str) -> str:
    counts = {sep: 0 for sep in (";", "\t", ",")}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda sep: counts[sep])  # à égalité : « ; » puis tabulation
    return best if counts[best] else ","


def _csv_table(data: bytes, errors: _Errors) -> _Table:
    if b"\0" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        errors.file("ce fichier n'est ni un CSV (texte) ni un classeur XLSX : contenu binaire refusé.")
        raise _Refused
    text = _decode(data)
    if _looks_binary(text):
        errors.file("ce fichier n'est ni un CSV (texte) ni un classeur XLSX : contenu binaire refusé.")
        raise _Refused
    first_line = text.split("\n", 1)[0]
    separator = _sniff_separator(first_line)
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        header = next(reader, None)
    except csv.Error as error:
        errors.file(f"en-tête illisible ({error}).")
        raise _Refused from error
    if header is None or not any(cell.strip() for cell in header):
        errors.file("le fichier est vide (pas de ligne d'en-tête).")
        raise _Refused

    def rows():
        number = 1
        try:
            for number, cells in enumerate(reader, start=2):
                yield number, cells, False
        except csv.Error as error:
            errors.at(number + 1, None, f"ligne CSV illisible ({error}).")

    return _Table(header=header, header_row=1, rows=rows(), total_rows=text.count("\n"))


def _check_container(data: bytes, errors: _Errors) -> None:
    """Archive ZIP d'un vrai classeur XLSX, sans macros ni volume décompressé anormal."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        errors.file("ce fichier n'est pas un classeur XLSX lisible (archive endommagée).")
        raise _Refused from error
    if len(members) > MAX_ZIP_MEMBERS:
        errors.file("ce classeur contient un nombre anormal d'éléments : il est refusé par sécurité.")
        raise _Refused
    total = sum(member.file_size for member in members)
    suspicious = any(
        member.file_size > 1024 * 1024
        and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if total > MAX_UNCOMPRESSED_BYTES or suspicious:
        errors.file(
            "ce classeur se décompresse en un volume anormalement grand "
            f"(plus de {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} Mo ou taux de compression suspect) : "
            "il est refusé par sécurité."
        )
        raise _Refused
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        errors.file("ce fichier est une archive ZIP mais pas un classeur XLSX.")
        raise _Refused
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        errors.file("les classeurs avec macros ne sont pas acceptés : enregistrez-le au format .xlsx.")
        raise _Refused


def _xlsx_text(value) -> str:
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


def _is_header(texts: list[str], hints: frozenset = frozenset()) -> bool:
    normalized = {_norm(text) for text in texts}
    keys = {COLUMNS_BY_ALIAS.get(text) for text in normalized}
    return "territory" in keys or "indicator" in keys or bool(hints & normalized)


def _xlsx_table(data: bytes, errors: _Errors, hints: frozenset = frozenset()) -> _Table:
    from openpyxl import load_workbook

    _check_container(data, errors)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # fichier hostile : toute erreur de lecture devient un refus (et une trace).
        logger.warning("Classeur XLSX illisible à l'import de valeurs d'indicateurs", exc_info=True)
        errors.file(
            "ce classeur XLSX n'a pas pu être lu (fichier endommagé ou produit par un outil incompatible)."
        )
        raise _Refused from error

    def check_formulas(values, number, labels) -> bool:
        """Relève les formules d'une ligne ; en lecture seule, openpyxl les rend en texte « =… »."""
        found = False
        for index, value in enumerate(values):
            if value.__class__ is str and value.startswith("="):
                found = True
                errors.at(
                    number,
                    labels.get(index) or _column_letter(index),
                    f"les formules ne sont pas acceptées ({_shown(value)}) : collez des valeurs.",
                    index + 1,
                )
        return found

    fallback = None
    try:
        for ws in workbook.worksheets:
            if not hasattr(ws, "iter_rows"):
                continue
            ws.reset_dimensions()  # n'en croit pas les dimensions déclarées par le fichier
            iterator = ws.iter_rows(values_only=True)
            for number, values in enumerate(iterator, start=1):
                if number > HEADER_SEARCH_ROWS:
                    break
                texts = [_xlsx_text(value) for value in values]
                if not any(text.strip() for text in texts):
                    continue
                if fallback is None:
                    fallback = (ws.title, number, texts)
                if not _is_header(texts, hints):
                    continue
                errors.sheet = ws.title
                check_formulas(values, number, {})
                labels = {i: t.strip() for i, t in enumerate(texts)}

                def rows(iterator=iterator, start=number + 1, labels=labels):
                    try:
                        for row_number, values in enumerate(iterator, start=start):
                            texts = [v if v.__class__ is str else _xlsx_text(v) for v in values]
                            yield row_number, texts, check_formulas(values, row_number, labels)
                    except Exception:  # contenu XML hostile ou incohérent : refus, trace au journal.
                        logger.warning("Lecture du classeur XLSX interrompue", exc_info=True)
                        errors.file("ce classeur XLSX n'a pas pu être lu jusqu'au bout (contenu endommagé).")

                return _Table(
                    header=texts,
                    header_row=number,
                    rows=rows(),
                    total_rows=None,  # inconnu sans tout lire : barre sans total
                    sheet=ws.title,
                    close=workbook.close,
                )
    except Exception as error:
        workbook.close()
        logger.warning("Lecture du classeur XLSX interrompue", exc_info=True)
        errors.file("ce classeur XLSX n'a pas pu être lu (contenu endommagé).")
        raise _Refused from error
    workbook.close()
    if fallback is None:
        errors.file("le classeur est vide.")
        raise _Refused
    title, number, texts = fallback
    errors.sheet = title
    return _Table(header=texts, header_row=number, rows=iter(()), total_rows=0, sheet=title)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _open_table(data: bytes, filename: str, errors: _Errors, hints: frozenset = frozenset()) -> _Table:
    """``hints`` : intitulés normalisés de colonnes désignées à la main, qui signalent aussi la ligne
    d'en-tête d'une feuille XLSX."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        errors.file(
            "ce fichier est au format Excel 97-2003 (.xls) ou protégé par mot de passe : "
            "enregistrez-le au format .xlsx (sans mot de passe) ou CSV."
        )
        raise _Refused
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_table(data, errors, hints)
    for signature, what in BINARY_SIGNATURES:
        if data.startswith(signature):
            errors.file(f"ce fichier est {what}, ni un CSV ni un classeur XLSX.")
            raise _Refused
    found = validators.foreign_content(data[:512])
    if found:
        errors.file(
            f"ce fichier n'est ni un CSV ni un classeur XLSX (quel que soit son nom) : c'est {found}."
        )
        raise _Refused
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        errors.file("ce fichier n'est pas un classeur XLSX (quel que soit son nom) : contenu refusé.")
        raise _Refused
    return _csv_table(data, errors)


# ---------------------------------------------------------------------------------------------
# Validation


class _Record:
    __slots__ = (
        "number",
        "indicator",
        "territory_id",
        "year",
        "quarter",
        "value",
        "numerator",
        "denominator",
        "is_secret",
        "status",
        "source",
        "vintage",
        "comment",
    )

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


_UNREADABLE = object()  # nombre présent mais illisible (erreur déjà relevée)


class _NullBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


class _Validator:
    def __init__(
        self,
        *,
        contract,
        errors: _Errors,
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
        self.records: list[_Record] = []
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
                self.period_text = _xlsx_text(code).strip()
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
                i for i, text in labels.items() if _norm(text) == _norm(wanted)
            ]
            if not matches:
                self.errors.file(
                    f"la colonne « {_shown(wanted)} » choisie pour « {COLUMNS[key][0]} » "
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

    def read_header(self, table: _Table) -> bool:
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
                    self.errors.at(
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
        self.errors.at(row, COLUMNS[key][0], f"colonne obligatoire absente{hint}.", 10_000)

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
            normalized = _norm(text)
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
            target = candidates.get(_norm(column))
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
                self.errors.at(row, text, "la correspondance nomme deux fois cette colonne.", index + 1)
                continue
            if not code:
                ok = False
                self.errors.at(row, text, "la correspondance n'indique pas de code d'indicateur.", index + 1)
                continue
            indicator = self.indicators.get(code.lower())
            if indicator is None:
                ok = False
                self.pending_indicators.setdefault(code, []).append((row, text, index + 1))
                continue
            if indicator.pk in used.values():
                ok = False
                first = next(labels[i] for i, pk in used.items() if pk == indicator.pk)
                self.errors.at(
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
            self.errors.at(number, self.labels[index], "code d'indicateur manquant.", index + 1)
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
                f"« {_shown(text)} » n'est pas un code de territoire reconnu : attendu un code QPV "
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

    def _add(self, record: _Record, territory_index: int) -> None:
        key = record.key
        first = self.seen.get(key)
        if first is not None:
            self.errors.at(
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
            status = STATUS_WORDS.get(_norm(text))
            if status is None:
                ok = False
                error("status", f"« {_shown(text)} » : attendu « provisoire » ou « définitive » (ou vide).")
        return (source, vintage, str(status)) if ok else None

    def read_rows(self, table: _Table) -> None:
        bar = (
            self.progress(total=table.total_rows, desc="Lecture", unit="ligne")
            if self.progress
            else _NullBar()
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
                    self.errors.at(
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

    def _long_row(self, number: int, cells: list[str]) -> None:
        columns = self.columns
        labels = self.labels
        width = len(cells)

        def cell(key):
            index = columns.get(key)
            return cells[index] if index is not None and index < width else ""

        def error(key, message):
            index = columns.get(key, 0)
            self.errors.at(number, labels.get(index), message, index + 1)

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
                error("secret", f"« {_shown(secret_text)} » : attendu oui ou non (ou vide).")
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
                    f"« {_shown(value_text)} » alors que la valeur est sous secret statistique : "
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
        record = _Record(
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
            self.errors.at(number, labels[territory_index], message, territory_index + 1)
        if self.fixed_period is not None:
            year, quarter = self.fixed_period
        elif "period" in columns:
            index = columns["period"]
            year, quarter, message = self._period(cells[index] if index < width else "")
            if message:
                failed = True
                self.errors.at(number, labels[index], message, index + 1)
        else:
            return

        def cell(key):
            index = columns.get(key)
            return cells[index] if index is not None and index < width else ""

        def error(key, message):
            index = columns.get(key, 0)
            self.errors.at(number, labels.get(index), message, index + 1)

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
                    self.errors.at(number, label, message, index + 1)
                    continue
            if not failed:
                record = _Record(number, indicator, territory_id, year, quarter, value, None, None, is_secret)
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
                    f"l'indicateur « {_shown(code)} » appartient à un autre contrat (« {other} ») : "
                    f"seuls les indicateurs du contrat « {self.contract.title} » sont acceptés."
                )
            else:
                message = (
                    f"l'indicateur « {_shown(code)} » n'existe pas dans le contrat « {self.contract.title} » "
                    f"(codes connus : {known})."
                )
            for number, label, column_index in places:
                self.errors.at(number, label, message, column_index)


# ---------------------------------------------------------------------------------------------
# Écriture


# Écriture en masse. ``bulk_create`` et ``bulk_update`` compilent leur SQL champ par champ et ligne par
# ligne : pour 100 000 valeurs, 7 s de création et 16 s de modification sur la machine de
# développement, pour 1 s passée dans la base. Une requête préparée exécutée par lots
# (``executemany``) fait le même travail en une fraction de ce temps, sur SQLite comme sur
# PostgreSQL. IndicatorValue n'a ni historique, ni signal, ni champ calculé à l'enregistrement :
# rien n'est contourné. Les champs que l'import ne renseigne pas reçoivent leur valeur par défaut.
KEY_FIELDS = ("indicator_id", "scope", "territory_id", "year", "quarter")
WRITTEN_FIELDS = (
    "value",
    "numerator",
    "denominator",
    "is_secret",
    "status",
    "source",
    "vintage",
    "comment",
)
DECIMAL_FIELDS = {"value", "numerator", "denominator"}


class _Sql:
    def __init__(self):
        self.alias = router.db_for_write(IndicatorValue)
        self.connection = connections[self.alias]
        meta = IndicatorValue._meta
        quote = self.connection.ops.quote_name
        table = quote(meta.db_table)
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        provided = KEY_FIELDS + WRITTEN_FIELDS
        # Chaque colonne de l'INSERT : l'indice de la valeur fournie, ou une constante (le défaut).
        self.insert_slots = [
            (provided.index(f.attname), None)
            if f.attname in provided
            else (None, f.get_db_prep_save(f.get_default(), self.connection))
            for f in fields
        ]
        columns = ", ".join(quote(f.column) for f in fields)
        self.insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in WRITTEN_FIELDS)
        self.update = f"UPDATE {table} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
        adapt = self.connection.ops.adapt_decimalfield_value
        self.decimal_slots = [i for i, name in enumerate(WRITTEN_FIELDS) if name in DECIMAL_FIELDS]
        self.adapt = lambda number: None if number is None else adapt(number, 16, 4)

    def written(self, values: tuple) -> list:
        values = list(values)
        for index in self.decimal_slots:
            values[index] = self.adapt(values[index])
        return values

    def insert_params(self, key: tuple, values: tuple) -> tuple:
        provided = (*key, *self.written(values))
        return tuple(
            provided[index] if index is not None else default for index, default in self.insert_slots
        )

    def run(self, statement: str, params: list, bar) -> None:
        with self.connection.cursor() as cursor:
            for start in range(0, len(params), BATCH_SIZE):
                batch = params[start : start + BATCH_SIZE]
                cursor.executemany(statement, batch)
                bar.update(len(batch))


def _preview_rows(shown: list[tuple[_Record, str]]) -> list[PreviewRow]:
    """Les premières valeurs lues, avec leur territoire nommé (une requête)."""
    ids = {record.territory_id for record, _ in shown if record.territory_id}
    names = {
        pk: f"{name} ({code})"
        for pk, code, name in Territory.objects.filter(pk__in=ids).values_list("pk", "code", "name")
    }
    statuses = dict(ValueStatus.choices)
    rows = []
    for record, action in shown:
        period = f"{record.year}-T{record.quarter}" if record.quarter else str(record.year)
        value = "secret statistique" if record.is_secret else _fr(record.value)
        territory = (
            names.get(record.territory_id, "") if record.territory_id else "Ensemble des QPV du contrat"
        )
        rows.append(
            PreviewRow(
                number=record.number,
                indicator=record.indicator.name,
                territory=territory,
                period=period,
                value=value,
                status=statuses.get(record.status, record.status),
                action=action,
            )
        )
    return rows


def _write(records: list[_Record], report: ImportReport, *, dry_run: bool, progress) -> None:
    if not records:
        return
    sql = _Sql()
    indicator_ids = {record.indicator.pk for record in records}
    years = [record.year for record in records]
    with transaction.atomic(using=sql.alias):
        existing = {}
        rows = (
            IndicatorValue.objects.using(sql.alias)
            .filter(indicator_id__in=indicator_ids, year__gte=min(years), year__lte=max(years))
            .values_list("pk", "indicator_id", "territory_id", "year", "quarter", *WRITTEN_FIELDS)
            .iterator(chunk_size=10_000)
        )
        for row in rows:
            existing[(row[1], row[2], row[3], row[4])] = (row[0], row[5:])
        inserts: list[tuple] = []
        updates: list[list] = []
        shown: list[tuple[_Record, str]] = []
        for record in records:
            found = existing.get(record.key)
            if found is None:
                if len(shown) < MAX_PREVIEW_ROWS:
                    shown.append((record, "créée"))
                key = (
                    record.indicator.pk,
                    Scope.TERRITORY.value if record.territory_id else Scope.CONTRACT_QPVS.value,
                    record.territory_id,
                    record.year,
                    record.quarter,
                )
                values = (
                    record.value,
                    record.numerator,
                    record.denominator,
                    record.is_secret,
                    record.status,
                    record.source,
                    record.vintage,
                    record.comment or "",
                )
                inserts.append(sql.insert_params(key, values))
                continue
            pk, current = found
            comment = current[-1]
            wanted = (
                record.value,
                record.numerator,
                record.denominator,
                record.is_secret,
                record.status,
                record.source,
                record.vintage,
                comment if record.comment is None else record.comment,
            )
            if wanted == current:  # Decimal("12.5000") == Decimal("12.5") : l'échelle ne compte pas
                report.unchanged += 1
                action = "inchangée"
            else:
                updates.append([*sql.written(wanted), pk])
                action = "modifiée"
            if len(shown) < MAX_PREVIEW_ROWS:
                shown.append((record, action))
        report.created = len(inserts)
        report.updated = len(updates)
        report.preview = _preview_rows(shown)
        if dry_run or not (inserts or updates):
            return
        bar = (
            progress(total=len(inserts) + len(updates), desc="Écriture", unit="valeur")
            if progress
            else _NullBar()
        )
        try:
            sql.run(sql.insert, inserts, bar)
            sql.run(sql.update, updates, bar)
        finally:
            bar.close()


# ---------------------------------------------------------------------------------------------
# Point d'entrée


def import_indicator_values(
    *,
    contract,
    fileobj,
    filename,
    source=None,
    vintage=None,
    final=False,
    mapping=None,
    columns=None,
    dry_run=False,
    progress=None,
) -> ImportReport:
    """Importe un fichier de valeurs d'indicateurs dans ``contract`` : tout ou rien.

    - ``fileobj`` : octets, fichier binaire ouvert ou fichier téléversé (Django) ;
      ``filename`` ne sert qu'aux messages (le format est reconnu au contenu).
    - ``source``, ``vintage`` : source (« INSEE, Filosofi 2021 ») et millésime (« 2021 ») de toutes les
      valeurs, sauf celles dont la ligne a les siens (colonnes ``source``, ``millesime``) ; sans l'un
      ni l'autre, l'import est refusé.
    - ``final`` : les valeurs sont définitives (sinon provisoires), sauf colonne ``statut``.
    - ``mapping`` : pour un fichier large, ``{"colonne du fichier": "code-indicateur", …}`` ; la
      clé réservée ``"_periode"`` donne la période de tout le fichier (« 2024 », « 2024-T3 »).
    - ``columns`` : facultatif, colonnes désignées à la main quel que soit leur intitulé,
      ``{"territory": "CODE_QP", "value": "Nb", …}`` (clés de ``CHOOSABLE_COLUMNS``) ; les autres
      sont reconnues à leur intitulé (voir ``inspect_file``).
    - ``dry_run`` : tout vérifier et compter (créées, modifiées, inchangées) sans rien écrire ;
      le rapport détaille alors les premières valeurs (``preview``) et les erreurs (``error_details``).
    - ``progress`` : facultatif, fabrique de barres de progression à la manière de ``tqdm``
      (appelée avec ``total=``, ``desc=``, ``unit=`` ; méthodes ``update(n)`` et ``close()``).

    Ne vérifie pas les droits de l'appelant : la vue ou la commande s'en charge.
    """
    report = ImportReport(dry_run=dry_run)
    errors = _Errors(filename or "")
    table = None
    try:
        data = _read_bytes(fileobj, errors)
        hints = frozenset(_norm(label) for label in (columns or {}).values() if _norm(label))
        table = _open_table(data, filename or "", errors, hints)
        errors.header_row = table.header_row
        validator = _Validator(
            contract=contract,
            errors=errors,
            mapping=mapping,
            progress=progress,
            source=source,
            vintage=vintage,
            final=final,
            columns=columns,
        )
        if validator.read_header(table):
            validator.read_rows(table)
        validator.report_unknown_indicators()
        report.layout = validator.layout
        report.ignored_columns = validator.ignored
    except _Refused:
        pass
    finally:
        if table is not None:
            table.close()
    if errors:
        report.errors = errors.sorted()
        report.error_details = errors.details()
        if errors.total > len(errors.items):
            report.error_details.append((None, "", errors.hidden()))
        report.refused_rows = len(errors.rows)
        return report
    try:
        _write(validator.records, report, dry_run=dry_run, progress=progress)
    except IntegrityError:
        logger.warning("Import de valeurs d'indicateurs en conflit", exc_info=True)
        report.created = report.updated = report.unchanged = 0
        report.errors = [
            "Des valeurs ont été enregistrées par un autre import pendant celui-ci : "
            "rien n'a été écrit, recommencez l'import."
        ]
    return report


# ---------------------------------------------------------------------------------------------
# Lecture de l'en-tête seul : la disposition reconnue et les colonnes qu'on peut choisir


@dataclass
class FileLayout:
    layout: str = ""  # "long" ou "large"
    headers: list[str] = field(default_factory=list)  # intitulés non vides, dans l'ordre du fichier
    columns: dict[str, str] = field(default_factory=dict)  # clé reconnue → intitulé du fichier
    candidates: list[str] = field(default_factory=list)  # large : colonnes qui peuvent porter un indicateur
    errors: list[str] = field(default_factory=list)  # fichier refusé d'emblée


def inspect_file(*, fileobj, filename) -> FileLayout:
    """La disposition d'un fichier (longue ou large de l'INSEE) et ses colonnes reconnues, sans
    lire ses lignes ni toucher la base : ce que l'écran d'import propose avant l'aperçu."""
    result = FileLayout()
    errors = _Errors(filename or "")
    table = None
    try:
        data = _read_bytes(fileobj, errors)
        table = _open_table(data, filename or "", errors)
        columns, labels, _ = _resolve_headers(table.header)
    except _Refused:
        result.errors = errors.sorted()
        return result
    finally:
        if table is not None:
            table.close()
    result.headers = [text for text in labels.values() if text]
    result.columns = {key: labels[indexes[0]] for key, indexes in columns.items() if indexes}
    result.layout = LONG if "indicator" in columns else WIDE if "territory" in columns else LONG
    structure = {index for key in WIDE_STRUCTURE for index in columns.get(key, [])}
    result.candidates = [text for index, text in labels.items() if text and index not in structure]
    return result
