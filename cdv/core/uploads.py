"""Lecture des fichiers déposés, commune aux imports (valeurs d'indicateurs, cahier d'engagements,
plan d'action) et au géoréférencement : ce qui va chercher les octets avant qu'un import ne les lise.

- ``read_upload`` : les octets d'un dépôt (octets, fichier ouvert ou fichier téléversé Django), sans
  jamais en lire plus que la taille permise ;
- ``detect_encoding`` / ``decode_text`` et ``detect_separator`` : l'encodage d'un texte tabulé (UTF-8
  avec ou sans BOM, UTF-16, Windows-1252, Latin-1) et son séparateur de colonnes ;
- ``check_xlsx`` puis ``open_workbook`` : un classeur XLSX n'est ouvert qu'après le contrôle de son
  archive (``validators.check_zip_archive`` : bombes ZIP, trop d'éléments) et de son contenu (pas
  d'autre archive, pas de macros) ;
- ``ErrorCollector`` : les erreurs en français, chacune située (fichier, feuille, ligne, colonne),
  triées, et bornées en nombre ;
- ``ImportReport`` : ce que rend chaque import (créés, modifiés, inchangés, lignes refusées, erreurs).

Chaque refus lève ``UploadError``, au message français sans majuscule initiale ni lieu : l'import le
range dans son ``ErrorCollector`` (« Fichier « x.csv » : le fichier est vide. »).
"""

from __future__ import annotations

import codecs
import io
import logging
import warnings
from dataclasses import dataclass, field
from typing import ClassVar

from django.core.exceptions import ValidationError

from .validators import check_zip_archive, foreign_content

logger = logging.getLogger(__name__)

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls), ou classeur protégé par mot de passe
MAX_LISTED_ERRORS = 500  # erreurs détaillées ; les suivantes sont seulement comptées


class UploadError(Exception):
    """Fichier refusé : ``message`` dit pourquoi, en français."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def plural(count: int, singular: str, plural_form: str) -> str:
    return f"{count} {singular if count < 2 else plural_form}"


def format_size(size: int) -> str:
    """« 50 Mo », « 12 Ko », « 100 octets »."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} Mo"
    return f"{size // 1024} Ko" if size >= 1024 else f"{size} octets"


def sentence(message) -> str:
    """Un message d'erreur en fin de phrase : minuscule initiale (sauf sigle) et point final."""
    text = str(message).strip()
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text if text.endswith((".", "!", "?", "»")) else text + "."


# ---------------------------------------------------------------------------------------------
# Octets


def read_upload(fileobj, *, max_bytes: int, too_large: str = ".") -> bytes:
    """Les octets de ``fileobj`` (octets, fichier binaire ouvert, fichier téléversé), ``max_bytes`` au
    plus : un fichier téléversé plus gros est refusé sur sa taille déclarée, sans être lu.

    ``too_large`` termine le message de refus (« : découpez-le en plusieurs fichiers. »).
    Lève ``UploadError`` si le fichier est trop gros ou vide."""
    if isinstance(fileobj, bytes | bytearray | memoryview):
        data = bytes(fileobj)
    else:
        size = getattr(fileobj, "size", None)  # fichier téléversé : taille connue sans le lire
        if isinstance(size, int) and size > max_bytes:
            data = None
        else:
            if getattr(fileobj, "seekable", lambda: hasattr(fileobj, "seek"))():
                fileobj.seek(0)
            data = fileobj.read(max_bytes + 1)
            if isinstance(data, str):
                data = data.encode("utf-8")
    if data is None or len(data) > max_bytes:
        raise UploadError(f"le fichier dépasse la taille maximale de {format_size(max_bytes)}{too_large}")
    if not data.strip():
        raise UploadError("le fichier est vide.")
    return data


# ---------------------------------------------------------------------------------------------
# Texte tabulé (CSV)

ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (avec BOM)",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def detect_encoding(sample: bytes, *, complete: bool = True) -> tuple[str, int]:
    """(encodage, longueur du BOM) d'un texte : UTF-8 avec ou sans BOM, UTF-16 (avec BOM, ou sans BOM
    reconnu à ses octets nuls), sinon Windows-1252, sinon Latin-1 (qui lit tout).

    ``complete=False`` : ``sample`` n'est que le début du fichier (un caractère UTF-8 peut y être
    coupé). Lève ``UploadError`` pour des octets nuls qui ne sont pas de l'UTF-16 (données binaires)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3
    if sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if b"\x00" in sample:  # UTF-16 sans BOM : un octet nul sur deux pour les caractères latins
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le", 0
        if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be", 0
        raise UploadError("il contient des données binaires")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252", 0
    except UnicodeDecodeError:
        return "latin-1", 0


def decode_text(data: bytes) -> str:
    """Le texte d'un fichier entier, dans l'encodage reconnu par ``detect_encoding``."""
    encoding, bom = detect_encoding(data)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    return data[bom:].decode(codec)


def _count_outside_quotes(line: str, separator: str) -> int:
    inside, count = False, 0
    for char in line:
        if char == '"':
            inside = not inside
        elif char == separator and not inside:
            count += 1
    return count


def detect_separator(
    text: str, *, candidates: tuple[str, ...] = (",", ";", "\t", "|"), default: str = ";"
) -> str:
    """Le séparateur de colonnes : le plus fréquent dans l'en-tête (hors guillemets) parmi ceux qui
    reviennent autant de fois sur le plus de lignes suivantes (50 lignes lues) ; à égalité, l'ordre
    de ``candidates`` ; ``default`` si l'en-tête n'en contient aucun."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return default
    best, best_key = default, (0, 0)
    for separator in candidates:
        in_header = _count_outside_quotes(lines[0], separator)
        if not in_header:
            continue
        regular = sum(1 for line in lines[1:] if _count_outside_quotes(line, separator) == in_header)
        key = (regular, in_header)
        if key > best_key:
            best, best_key = separator, key
    return best


# ---------------------------------------------------------------------------------------------
# Classeurs XLSX


@dataclass(frozen=True)
class XlsxLimits:
    max_members: int = 1000
    max_uncompressed: int = 60 * 1024 * 1024
    max_ratio: int = 200


def check_xlsx(source, *, limits: XlsxLimits, advice: str = "") -> list:
    """Les éléments de l'archive d'un vrai classeur XLSX (octets, chemin ou fichier), sans macros ni
    volume décompressé anormal ; rien n'est décompressé. ``advice`` suit le refus d'une archive
    qui n'est pas un classeur (« Utilisez le modèle… »). Lève ``UploadError``."""
    try:
        members = check_zip_archive(
            source,
            max_members=limits.max_members,
            max_uncompressed=limits.max_uncompressed,
            max_ratio=limits.max_ratio,
        )
    except ValidationError as error:
        raise UploadError(_zip_refusal(error, limits)) from error
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UploadError(f"ce fichier est une archive ZIP mais pas un classeur XLSX.{advice}")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UploadError("les classeurs avec macros ne sont pas acceptés : enregistrez-le au format .xlsx.")
    return members


def _zip_refusal(error: ValidationError, limits: XlsxLimits) -> str:
    if error.code == "zip_unreadable":
        return "ce fichier n'est pas un classeur XLSX lisible (archive endommagée)."
    if error.code == "zip_members":
        return "ce classeur contient trop d'éléments : il est refusé par sécurité."
    if error.code == "zip_bomb":
        return (
            "ce classeur se décompresse en un volume anormalement grand "
            f"(plus de {limits.max_uncompressed // (1024 * 1024)} Mo ou taux de compression suspect) : "
            "il est refusé par sécurité."
        )
    return sentence(error.messages[0])


def open_workbook(data: bytes):
    """Le classeur en lecture seule (formules en texte, sans liens externes), à ``close()`` ; à
    n'appeler qu'après ``check_xlsx``. Lève ``UploadError`` pour un classeur illisible."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # fichier hostile : toute erreur de lecture devient un refus (et une trace).
        logger.warning("Classeur XLSX illisible à l'import", exc_info=True)
        raise UploadError(
            "ce classeur XLSX n'a pas pu être lu (fichier endommagé ou produit par un outil incompatible)."
        ) from error


def read_workbook(fileobj, *, max_bytes: int, limits: XlsxLimits, too_large: str = ".", advice: str = ""):
    """Le classeur XLSX déposé (``read_upload``, ``check_xlsx``, ``open_workbook``), à ``close()``.

    ``advice`` suit le refus d'un fichier qui n'est pas un classeur (« Utilisez le modèle… »).
    Lève ``UploadError``."""
    data = read_upload(fileobj, max_bytes=max_bytes, too_large=too_large)
    if data.startswith(OLE_SIGNATURE):
        raise UploadError(
            "ce fichier est au format Excel 97-2003 (.xls) ou protégé par mot de passe. "
            "Enregistrez-le au format .xlsx, sans mot de passe, puis recommencez."
        )
    if not data.startswith(ZIP_SIGNATURE):
        found = foreign_content(data[:512])
        what = f" : c'est {found}" if found else ""
        raise UploadError(f"ce fichier n'est pas un classeur XLSX (quel que soit son nom){what}.{advice}")
    check_xlsx(data, limits=limits, advice=advice)
    return open_workbook(data)


# ---------------------------------------------------------------------------------------------
# Erreurs et rapport


class ErrorCollector:
    """Les erreurs d'un import, chacune située : « Fichier « x.csv » : … » pour tout le fichier,
    « Feuille « Actions », ligne 3, colonne « État » : … » (ou « Ligne 3, … » sans feuille) sinon.

    Triées par feuille, ligne, colonne puis ordre d'arrivée ; au-delà de ``limit``, seulement
    comptées (« … et 3 autres erreurs non affichées. »). ``rows`` : les lignes de données (après
    ``header_row``) qui ont au moins une erreur."""

    def __init__(self, filename: str = "", *, limit: int = MAX_LISTED_ERRORS, sheet: str = ""):
        self.filename = filename
        self.limit = limit
        self.sheet = sheet  # feuille par défaut de ``at``
        self.header_row = 0
        self.items: list[tuple[tuple, str, tuple]] = []
        self.total = 0
        self.rows: set[int] = set()

    def _add(self, key: tuple, text: str, detail: tuple) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(((*key, self.total), text, detail))

    def file(self, message: str) -> None:
        where = f"Fichier « {self.filename} »" if self.filename else "Fichier"
        self._add((0, 0, 0), f"{where} : {message}", (None, "", message))

    def at(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        column_index: int = 0,
        sheet: str | None = None,
        sheet_index: int = 1,
    ) -> None:
        sheet = self.sheet if sheet is None else sheet
        parts = [f"Feuille « {sheet} »"] if sheet else []
        if row:
            parts.append(f"ligne {row}")
        if column:
            parts.append(f"colonne « {column} »")
        where = ", ".join(parts)
        if row and row > self.header_row:
            self.rows.add(row)
        self._add(
            (sheet_index, row or 0, column_index),
            f"{where[0].upper()}{where[1:]} : {message}",
            (row, column or "", message),
        )

    def __bool__(self) -> bool:
        return self.total > 0

    def _in_order(self) -> list:
        return sorted(self.items, key=lambda item: item[0])

    def hidden(self) -> str:
        count = self.total - len(self.items)
        return f"… et {plural(count, 'autre erreur non affichée', 'autres erreurs non affichées')}."

    def sorted(self) -> list[str]:
        texts = [text for _, text, _ in self._in_order()]
        if self.total > len(self.items):
            texts.append(self.hidden())
        return texts

    def details(self) -> list[tuple[int | None, str, str]]:
        """(ligne ou None pour le fichier, colonne, raison), dans l'ordre de ``sorted``."""
        details = [detail for _, _, detail in self._in_order()]
        if self.total > len(self.items):
            details.append((None, "", self.hidden()))
        return details


@dataclass
class ImportReport:
    """Ce que rend un import : tout ou rien, donc des nombres à zéro dès qu'il y a une erreur.

    ``WORDS`` (propre à chaque import) accorde le résumé : créés, modifiés, inchangés, et ce qui
    serait créé par une simulation (``dry_run``)."""

    WORDS: ClassVar[dict[str, tuple[str, str]]] = {
        "created": ("élément créé", "éléments créés"),
        "would_create": ("élément serait créé", "éléments seraient créés"),
        "updated": ("modifié", "modifiés"),
        "unchanged": ("inchangé", "inchangés"),
    }

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0  # lignes de données qui ont au moins une erreur
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def refuse(self, errors: ErrorCollector) -> None:
        """L'import est refusé : rien n'a été écrit."""
        self.created = self.updated = self.unchanged = 0
        self.errors = errors.sorted()
        self.refused = len(errors.rows)

    def counts(self) -> str:
        """« 2 éléments créés, 1 modifié, 0 inchangé »."""
        words = self.WORDS
        created = words["would_create"] if self.dry_run else words["created"]
        return (
            f"{plural(self.created, *created)}, {plural(self.updated, *words['updated'])}, "
            f"{plural(self.unchanged, *words['unchanged'])}"
        )

    @property
    def summary(self) -> str:
        if not self.ok:
            return (
                f"Import refusé : {plural(len(self.errors), 'erreur', 'erreurs')}. "
                "La base de données n'a pas été modifiée."
            )
        if self.dry_run:
            return f"Simulation, rien n'a été enregistré : {self.counts()}."
        return f"Import terminé : {self.counts()}."
