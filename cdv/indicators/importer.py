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

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError

from cdv.core import uploads, validators
from cdv.core.uploads import ErrorCollector, UploadError

from .mapper import (
    COLUMNS_BY_ALIAS,
    LONG,
    WIDE,
    WIDE_STRUCTURE,
    RowMapper,
    _resolve_headers,
    cell_text,
    clip,
    header_key,
)
from .writer import PreviewRow, write_values

logger = logging.getLogger(__name__)

# Limites du fichier (celles des lignes et des valeurs : ``mapper``). 100 000 valeurs au format long
# tiennent en 5 à 7 Mo de CSV ; un fichier large de l'INSEE (35 000 communes, quelques dizaines de
# colonnes) en quelques dizaines de Mo.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
XLSX_LIMITS = uploads.XlsxLimits(
    max_members=1_000,
    max_uncompressed=300 * 1024 * 1024,  # volume décompressé total
    max_ratio=100,  # au-delà, pour un membre de plus de 1 Mo, bombe ZIP présumée
)
MAX_ERRORS = 500  # erreurs détaillées dans le rapport (les suivantes sont comptées)
HEADER_SEARCH_ROWS = 20  # XLSX : l'en-tête est cherché dans ces premières lignes
BINARY_SIGNATURES = [
    (b"%PDF", "un PDF"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"\x1f\x8b", "une archive gzip"),
    (b"Rar!", "une archive RAR"),
    (b"7z\xbc\xaf", "une archive 7-Zip"),
]


# ---------------------------------------------------------------------------------------------
# Rapport


@dataclass
class ImportReport(uploads.ImportReport):
    WORDS = {
        "created": ("valeur créée", "valeurs créées"),
        "would_create": ("valeur serait créée", "valeurs seraient créées"),
        "updated": ("modifiée", "modifiées"),
        "unchanged": ("inchangée", "inchangées"),
    }

    # Les erreurs détaillées : (numéro de ligne ou None pour le fichier, colonne, raison).
    error_details: list[tuple[int | None, str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    layout: str = ""  # "long" ou "large"
    preview: list[PreviewRow] = field(default_factory=list)  # les premières valeurs, dans l'ordre

    @property
    def summary(self) -> str:
        text = super().summary
        if self.ok and self.ignored_columns:
            names = ", ".join(f"« {name} »" for name in self.ignored_columns)
            text += f" Colonnes ignorées : {names}."
        return text


# ---------------------------------------------------------------------------------------------
# Lecture des octets et des tableaux


class TableRefused(Exception):
    """Le fichier est refusé d'emblée ; le message est déjà dans les erreurs."""


@dataclass
class _Table:
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str], bool]]  # (numéro de ligne, cellules en texte, formule ?)
    total_rows: int | None
    sheet: str = ""
    close: Callable[[], None] = lambda: None


def read_bytes(fileobj, errors: ErrorCollector) -> bytes:
    try:
        return uploads.read_upload(
            fileobj, max_bytes=MAX_UPLOAD_BYTES, too_large=" : découpez-le en plusieurs fichiers."
        )
    except UploadError as error:
        errors.file(error.message)
        raise TableRefused from error


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    return any(ord(char) < 32 and char not in "\t\n\r\f" for char in sample)


def _csv_table(data: bytes, errors: ErrorCollector) -> _Table:
    if b"\0" in data and not data.startswith(uploads.UTF16_BOMS):
        errors.file("ce fichier n'est ni un CSV (texte) ni un classeur XLSX : contenu binaire refusé.")
        raise TableRefused
    text = uploads.decode_text(data)
    if _looks_binary(text):
        errors.file("ce fichier n'est ni un CSV (texte) ni un classeur XLSX : contenu binaire refusé.")
        raise TableRefused
    first_line = text.split("\n", 1)[0]
    separator = uploads.detect_separator(first_line, candidates=(";", "\t", ","), default=",")
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        header = next(reader, None)
    except csv.Error as error:
        errors.file(f"en-tête illisible ({error}).")
        raise TableRefused from error
    if header is None or not any(cell.strip() for cell in header):
        errors.file("le fichier est vide (pas de ligne d'en-tête).")
        raise TableRefused

    def rows():
        number = 1
        try:
            for number, cells in enumerate(reader, start=2):
                yield number, cells, False
        except csv.Error as error:
            errors.at(f"ligne CSV illisible ({error}).", row=number + 1)

    return _Table(header=header, header_row=1, rows=rows(), total_rows=text.count("\n"))


def _is_header(texts: list[str], hints: frozenset = frozenset()) -> bool:
    normalized = {header_key(text) for text in texts}
    keys = {COLUMNS_BY_ALIAS.get(text) for text in normalized}
    return "territory" in keys or "indicator" in keys or bool(hints & normalized)


def _xlsx_table(data: bytes, errors: ErrorCollector, hints: frozenset = frozenset()) -> _Table:
    try:
        uploads.check_xlsx(data, limits=XLSX_LIMITS)
        workbook = uploads.open_workbook(data)
    except UploadError as error:
        errors.file(error.message)
        raise TableRefused from error

    def check_formulas(values, number, labels) -> bool:
        """Relève les formules d'une ligne ; en lecture seule, openpyxl les rend en texte « =… »."""
        found = False
        for index, value in enumerate(values):
            if value.__class__ is str and value.startswith("="):
                found = True
                errors.at(
                    f"les formules ne sont pas acceptées ({clip(value)}) : collez des valeurs.",
                    row=number,
                    column=labels.get(index) or _column_letter(index),
                    column_index=index + 1,
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
                texts = [cell_text(value) for value in values]
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
                            texts = [v if v.__class__ is str else cell_text(v) for v in values]
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
        raise TableRefused from error
    workbook.close()
    if fallback is None:
        errors.file("le classeur est vide.")
        raise TableRefused
    title, number, texts = fallback
    errors.sheet = title
    return _Table(header=texts, header_row=number, rows=iter(()), total_rows=0, sheet=title)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def open_table(data: bytes, filename: str, errors: ErrorCollector, hints: frozenset = frozenset()) -> _Table:
    """``hints`` : intitulés normalisés de colonnes désignées à la main, qui signalent aussi la ligne
    d'en-tête d'une feuille XLSX."""
    if data.startswith(uploads.OLE_SIGNATURE):
        errors.file(
            "ce fichier est au format Excel 97-2003 (.xls) ou protégé par mot de passe : "
            "enregistrez-le au format .xlsx (sans mot de passe) ou CSV."
        )
        raise TableRefused
    if data.startswith(uploads.ZIP_SIGNATURE):
        return _xlsx_table(data, errors, hints)
    for signature, what in BINARY_SIGNATURES:
        if data.startswith(signature):
            errors.file(f"ce fichier est {what}, ni un CSV ni un classeur XLSX.")
            raise TableRefused
    found = validators.foreign_content(data[:512])
    if found:
        errors.file(
            f"ce fichier n'est ni un CSV ni un classeur XLSX (quel que soit son nom) : c'est {found}."
        )
        raise TableRefused
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        errors.file("ce fichier n'est pas un classeur XLSX (quel que soit son nom) : contenu refusé.")
        raise TableRefused
    return _csv_table(data, errors)


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
    errors = ErrorCollector(filename or "", limit=MAX_ERRORS)
    table = None
    try:
        data = read_bytes(fileobj, errors)
        hints = frozenset(header_key(label) for label in (columns or {}).values() if header_key(label))
        table = open_table(data, filename or "", errors, hints)
        errors.header_row = table.header_row
        validator = RowMapper(
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
    except TableRefused:
        pass
    finally:
        if table is not None:
            table.close()
    if errors:
        report.refuse(errors)
        report.error_details = errors.details()
        return report
    try:
        write_values(records=validator.records, report=report, dry_run=dry_run, progress=progress)
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
    errors = ErrorCollector(filename or "", limit=MAX_ERRORS)
    table = None
    try:
        data = read_bytes(fileobj, errors)
        table = open_table(data, filename or "", errors)
        columns, labels, _ = _resolve_headers(table.header)
    except TableRefused:
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
