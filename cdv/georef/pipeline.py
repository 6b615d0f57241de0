"""Géoréférencement d'un fichier, par morceaux : chaque ligne reçoit son QPV, son statut et sa raison.

Entrée : un CSV (encodage UTF-8 avec ou sans BOM, Windows-1252/Latin-1 ou UTF-16 ; séparateur
``,`` ``;`` tabulation ou ``|``, reconnus automatiquement ; guillemets à la mode CSV) ou un XLSX
(première feuille). La première ligne donne les noms de colonnes.

Sortie : un CSV UTF-8 (avec BOM, pour qu'Excel lise les accents), au **même séparateur** que
l'entrée (``;`` pour un XLSX ou un fichier à une seule colonne), fin de ligne ``\\n``. Chaque ligne
de l'entrée y est, dans le même ordre, avec toutes ses cellules inchangées, suivies de ``code_qp``,
``lib_qp``, ``statut_qpv`` et ``raison`` (et, pour des adresses, ``score_geocodage``,
``adresse_trouvee``, ``longitude``, ``latitude``). Si l'entrée contient déjà ces colonnes (fichier
produit par un passage précédent), elles sont remplacées : relancer sur la sortie redonne les
mêmes lignes et les mêmes cellules.

Ou un XLSX (``output_format="xlsx"``, ou une sortie dont le nom finit par ``.xlsx``) : une feuille,
les mêmes lignes et colonnes, chaque cellule en texte ; un texte qu'un tableur prendrait pour une
formule reçoit une apostrophe en tête (voir :class:`XlsxWriter`). Écrit au fil de l'eau (openpyxl,
``write_only``), mais bien plus lentement qu'un CSV.

Aucune ligne n'est perdue : une ligne vide, une ligne qui n'a pas le nombre de cellules de
l'en-tête, des coordonnées illisibles reçoivent le statut ``ENTREE_INVALIDE`` et une raison. Seul un
fichier illisible (ou une colonne absente) lève :class:`GeorefError`, au message français.

Mémoire bornée : le fichier est lu par blocs d'environ ``chunk_size`` lignes. Chemin rapide (CSV
sans guillemet sur plusieurs lignes, lignes régulières) : les lignes brutes du bloc sont gardées
telles quelles (octet pour octet) et les colonnes ajoutées leur sont concaténées par pyarrow ;
seules les colonnes utiles (coordonnées, adresse) sont analysées. Un bloc irrégulier passe par le
module ``csv`` de Python, plus lent mais qui accepte tout.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import logging
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from cdv.core import uploads
from cdv.core.figures import french_number
from cdv.core.validators import check_zip_archive, foreign_content

from . import coords
from .engine import DEFAULT_GEOGRAPHY, GeorefError, check_geography, get_index
from .mapper import (
    ADDRESS_OUTPUT_COLUMNS,
    EMPTY_LINE,
    GEOCODER_MISSING,
    INVALID,
    NOT_GEOCODED,
    OUTPUT_COLUMNS,
    STATUS_LABELS,
    STATUSES,
    Block,
    BlockResult,
    _points_result,
    compute_block,
)
from .mapper import thousands as _int
from .writer import CsvWriter, XlsxWriter

logger = logging.getLogger(__name__)

__all__ = [
    "ADDRESS_OUTPUT_COLUMNS",
    "OUTPUT_COLUMNS",
    "STATUSES",
    "STATUS_LABELS",
    "GeocodeResult",
    "GeorefError",
    "GeorefOptions",
    "Summary",
    "guess_options",
    "locate_points",
    "read_header",
    "run",
]

SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "virgule", ";": "point-virgule", "\t": "tabulation", "|": "barre verticale"}

ADDRESS_CHUNK_SIZE = 5_000  # mode adresse : un appel au géocodeur (et un point d'avancement) par morceau
SAMPLE_BYTES = 64 * 1024
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024
MIN_BLOCK_BYTES = 64 * 1024


@dataclass
class GeorefOptions:
    """Ce qu'il faut lire dans le fichier.

    ``mode`` : ``"lonlat"`` (colonnes ``lon`` et ``lat``, degrés WGS84), ``"xy"`` (colonnes ``x`` et
    ``y``, Lambert-93) ou ``"address"`` (``address_columns`` réunies dans l'ordre, et facultativement
    ``postcode`` et ``city``). Les noms de colonnes sont cherchés tels quels, puis sans tenir compte
    de la casse, des accents et des espaces.
    """

    mode: Literal["lonlat", "xy", "address"]
    lon: str | None = None
    lat: str | None = None
    x: str | None = None
    y: str | None = None
    address_columns: list[str] = field(default_factory=list)
    postcode: str | None = None
    city: str | None = None
    geography: str = DEFAULT_GEOGRAPHY
    min_score: float = 0.5
    chunk_size: int = 100_000


@dataclass
class GeocodeResult:
    """Réponse du géocodeur pour une adresse : point WGS84, score (0 à 1) et adresse reconnue."""

    lon: float
    lat: float
    score: float
    label: str


@dataclass
class Summary:
    rows: int = 0
    in_qpv: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    by_qpv: dict[str, tuple[str, int]] = field(default_factory=dict)  # code → (nom, nombre de lignes)
    geography: str = DEFAULT_GEOGRAPHY
    encoding: str = ""
    separator: str = ""
    columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def share_in_qpv(self) -> float:
        """Part des lignes (toutes, refusées comprises) situées dans un QPV, entre 0 et 1."""
        return self.in_qpv / self.rows if self.rows else 0.0

    def lines(self) -> list[str]:
        """Le résumé en français, ligne à ligne."""
        out = [
            f"{_int(self.rows)} ligne(s) traitée(s) en {french_number(self.seconds, 's', places=1)} "
            f"(géographie prioritaire {self.geography}).",
        ]
        if self.encoding:
            separator = f", séparateur {SEPARATOR_NAMES.get(self.separator, self.separator)}"
            out.append(f"Fichier lu : {self.encoding}{separator if self.encoding != 'XLSX' else ''}.")
        for status in STATUSES:
            count = self.by_status.get(status, 0)
            if count or status in ("DANS_QPV", "HORS_QPV"):
                out.append(
                    f"  {STATUS_LABELS[status]} ({status}) : {_int(count)} ({_percent(count, self.rows)})"
                )
        if self.by_qpv:
            out.append(f"{len(self.by_qpv)} QPV concerné(s) :")
            for code, (name, count) in list(self.by_qpv.items())[:30]:
                out.append(f"  {code} {name} : {_int(count)}")
            if len(self.by_qpv) > 30:
                out.append(f"  … et {len(self.by_qpv) - 30} autre(s).")
        out += [f"Attention : {warning}" for warning in self.warnings]
        return out


def _percent(part: int, total: int) -> str:
    return french_number(100 * part / total if total else 0, "%", places=1)


# --- lecture des en-têtes et des colonnes ---------------------------------------------------------


def _normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def resolve_column(header: Sequence[str], wanted: str, role: str) -> int:
    """Position de la colonne ``wanted`` : nom exact, sinon nom sans casse, accents ni espaces."""
    if wanted in header:
        return list(header).index(wanted)
    key = _normalise(wanted)
    matches = [i for i, name in enumerate(header) if _normalise(name) == key]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(f"« {name} »" for name in list(header)[:40])
    if len(header) > 40:
        listed += ", …"
    if matches:
        raise GeorefError(
            f"Colonne {role} « {wanted} » ambiguë : plusieurs colonnes portent ce nom ({listed})."
        )
    raise GeorefError(
        f"Colonne {role} « {wanted} » introuvable dans le fichier. Colonnes présentes : {listed}."
    )


_GUESSES = {
    "lon": ("longitude", "lon", "lng", "long", "x_wgs84", "lon_wgs84", "longitude_wgs84"),
    "lat": ("latitude", "lat", "y_wgs84", "lat_wgs84", "latitude_wgs84"),
    "x": ("x", "x_l93", "x_lambert93", "coord_x", "coordonnee_x", "xl93"),
    "y": ("y", "y_l93", "y_lambert93", "coord_y", "coordonnee_y", "yl93"),
    "address": ("adresse", "address", "adresse_complete", "adresse_postale", "voie", "rue", "libelle_voie"),
    "postcode": ("code_postal", "codepostal", "cp", "postcode", "code postal"),
    "city": ("commune", "ville", "city", "nom_commune", "libelle_commune"),
}


def guess_options(header: Sequence[str], **overrides) -> GeorefOptions | None:
    """Options devinées d'après les noms de colonnes (longitude/latitude, x/y, adresse), ou None."""
    found = {}
    for role, names in _GUESSES.items():
        keys = {_normalise(n) for n in names}
        for name in header:
            if _normalise(name) in keys:
                found[role] = name
                break
    if "lon" in found and "lat" in found:
        options = GeorefOptions(mode="lonlat", lon=found["lon"], lat=found["lat"])
    elif "x" in found and "y" in found:
        options = GeorefOptions(mode="xy", x=found["x"], y=found["y"])
    elif "address" in found:
        options = GeorefOptions(
            mode="address",
            address_columns=[found["address"]],
            postcode=found.get("postcode"),
            city=found.get("city"),
        )
    else:
        return None
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


def _needed_columns(options: GeorefOptions, header: Sequence[str]) -> dict[str, int | list[int]]:
    if options.mode == "lonlat":
        if not options.lon or not options.lat:
            raise GeorefError("Indiquez la colonne de longitude et la colonne de latitude.")
        return {
            "a": resolve_column(header, options.lon, "de longitude"),
            "b": resolve_column(header, options.lat, "de latitude"),
        }
    if options.mode == "xy":
        if not options.x or not options.y:
            raise GeorefError("Indiquez la colonne x et la colonne y (Lambert-93).")
        return {"a": resolve_column(header, options.x, "x"), "b": resolve_column(header, options.y, "y")}
    if options.mode == "address":
        if not options.address_columns:
            raise GeorefError("Indiquez au moins une colonne d'adresse.")
        needed: dict[str, int | list[int]] = {
            "address": [resolve_column(header, c, "d'adresse") for c in options.address_columns]
        }
        if options.postcode:
            needed["postcode"] = resolve_column(header, options.postcode, "de code postal")
        if options.city:
            needed["city"] = resolve_column(header, options.city, "de commune")
        return needed
    raise GeorefError(f"Mode inconnu « {options.mode} » : lonlat, xy ou address.")


def _check_options(options: GeorefOptions) -> None:
    if options.chunk_size < 1:
        raise GeorefError("La taille des morceaux (chunk_size) doit être un entier positif.")
    if not 0 <= options.min_score <= 1:
        raise GeorefError("Le score minimal de géocodage doit être compris entre 0 et 1.")
    options.geography = check_geography(options.geography)


# --- détection du format --------------------------------------------------------------------------

_ENCODING_LABELS = {**uploads.ENCODING_LABELS, "xlsx": "XLSX"}


def _detect_encoding(sample: bytes) -> tuple[str, int]:
    """(encodage, longueur du BOM) d'après le début du fichier ; GeorefError si ce n'est pas du texte."""
    try:
        encoding, bom = uploads.detect_encoding(sample, complete=False)
    except uploads.UploadError as error:
        raise GeorefError(_unreadable(error.message)) from error
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample[bom:], final=False)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r")
    if controls > max(2, len(text) // 1000):
        raise GeorefError(_unreadable("il contient des données binaires"))
    return encoding, bom


def _unreadable(why: str) -> str:
    return (
        f"Fichier illisible : {why}. Déposez un tableau CSV (séparateur virgule, point-virgule, "
        "tabulation ou barre verticale) ou XLSX, avec les noms de colonnes sur la première ligne."
    )


# --- sources : blocs de lignes ----------------------------------------------------------------------


class CsvSource:
    """CSV lu par blocs d'octets UTF-8 coupés entre deux lignes (jamais dans des guillemets)."""

    def __init__(self, path: Path, sample: bytes, options: GeorefOptions):
        self.path = path
        self.options = options
        self.size = path.stat().st_size
        self.encoding, self.bom = _detect_encoding(sample)
        codec = self._codec()
        text = codecs.getincrementaldecoder(codec)(errors="replace").decode(sample[self.bom :], final=False)
        end = text.find("\n")
        lone_cr = text.find("\r")  # vieux fichiers Mac : lignes terminées par \r seul
        if lone_cr >= 0 and (end < 0 or lone_cr < end - 1):
            end = lone_cr
        if end < 0 and len(sample) >= SAMPLE_BYTES:
            raise GeorefError(_unreadable("la première ligne dépasse 64 Kio"))
        header_text = (text if end < 0 else text[:end]).rstrip("\r")
        if not header_text.strip():
            raise GeorefError(
                _unreadable("la première ligne, qui doit donner les noms de colonnes, est vide")
            )
        self.separator = uploads.detect_separator(text, candidates=SEPARATORS, default=";")
        try:
            self.header = next(csv.reader([header_text], delimiter=self.separator))
        except csv.Error as error:
            raise GeorefError(_unreadable(f"la première ligne ne se lit pas ({error})")) from error
        self.header_line = header_text
        self.body_start = self.bom + len((text if end < 0 else text[: end + 1]).encode(codec))
        self.needed: dict = {}
        self.force_general = False

    def close(self) -> None:
        pass

    def _codec(self) -> str:
        return "utf-8" if self.encoding == "utf-8-sig" else self.encoding

    def prepare(self, needed: dict, force_general: bool) -> None:
        self.needed, self.force_general = needed, force_general
        self.wanted = sorted({i for v in needed.values() for i in (v if isinstance(v, list) else [v])})

    def _utf8_stream(self, handle, block_bytes: list[int]) -> Iterator[bytes]:
        """Le corps du fichier (après l'en-tête), en morceaux d'octets UTF-8 valides.

        ``block_bytes[0]`` : taille de la prochaine lecture (``raw_blocks`` l'ajuste en route)."""
        codec = self._codec()
        if codec.startswith("utf-16"):
            decoder = codecs.getincrementaldecoder(codec)(errors="replace")
            while raw := handle.read(block_bytes[0]):
                yield decoder.decode(raw).encode("utf-8")
            yield decoder.decode(b"", final=True).encode("utf-8")
            return
        carry = b""
        while raw := handle.read(block_bytes[0]):
            data = carry + raw if carry else raw
            carry = b""
            if codec == "utf-8":  # ne pas couper un caractère multi-octets en deux
                cut = _utf8_boundary(data)
                data, carry = data[:cut], data[cut:]
            yield _to_utf8(data, codec)
        if carry:
            yield _to_utf8(carry, codec)

    def raw_blocks(self) -> Iterator[tuple[bytes, float]]:
        """(octets UTF-8 d'un bloc de lignes complètes, part du fichier lue)."""
        size = [max(MIN_BLOCK_BYTES, self.options.chunk_size * max(8, len(self.header_line) // 2))]
        with open(self.path, "rb") as handle:
            handle.seek(self.body_start)
            pending = b""
            sized = False
            for data in self._utf8_stream(handle, size):
                if not sized and (lines := data.count(b"\n")):
                    sized = True  # taille moyenne d'une ligne : blocs d'environ chunk_size lignes
                    size[0] = max(MIN_BLOCK_BYTES, self.options.chunk_size * max(8, len(data) // lines))
                buffer = pending + data if pending else data
                cut = _safe_cut(buffer)
                if cut <= 0 and len(buffer) > max(64 * size[0], 16 << 20):  # guillemet isolé
                    cut = buffer.rfind(b"\n") + 1
                # Les lignes vides d'une fin de bloc attendent la suite : à la fin du fichier, on les ignore.
                cut = _after_content(buffer, cut)
                if cut <= 0:
                    pending = buffer
                    continue
                pending = buffer[cut:]
                yield buffer[:cut], (min(1.0, handle.tell() / self.size) if self.size else 1.0)
            if pending.strip(b"\r\n"):
                yield pending.rstrip(b"\r\n") + b"\n", 1.0

    def parse(self, raw: tuple[bytes, float]) -> Block:
        body, fraction = raw
        if b"\r" in body:
            body = body.replace(b"\r\n", b"\n")
        block = None if self.force_general else self._fast_block(body)
        if block is None:
            rows, problems = _parse_general(body.decode("utf-8"), self.separator, self.header)
            block = _rows_block(rows, problems, self.needed)
        block.fraction = fraction
        return block

    def _fast_block(self, body: bytes) -> Block | None:
        """Lignes brutes et colonnes utiles lues par pyarrow ; None si le bloc n'est pas régulier."""
        if len(body) >= 2**31:
            return None
        data = np.frombuffer(body, np.uint8)
        newlines = np.flatnonzero(data == 10)
        n = len(newlines)
        if n == 0:
            return None
        if b'"' in body and (np.searchsorted(np.flatnonzero(data == 34), newlines) & 1).any():
            return None  # une cellule entre guillemets s'étend sur plusieurs lignes
        names = [f"c{i}" for i in range(len(self.header))]
        irregular = []

        def on_invalid(row):
            irregular.append(row)
            return "skip"

        try:
            table = pacsv.read_csv(
                pa.py_buffer(body),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 30),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.separator, newlines_in_values=False, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    include_columns=[names[i] for i in self.wanted],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowException:
            return None
        if irregular or table.num_rows != n:
            return None  # ligne vide, ou nombre de cellules différent de l'en-tête
        by_index = {i: table.column(names[i]).combine_chunks() for i in self.wanted}
        columns = {
            role: [by_index[i] for i in spec] if isinstance(spec, list) else by_index[spec]
            for role, spec in self.needed.items()
        }
        offsets = np.empty(n + 1, np.int32)
        offsets[0] = 0
        offsets[1:] = newlines
        lines = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(body))
        return Block(n=n, columns=columns, lines=lines)


def _to_utf8(data: bytes, codec: str) -> bytes:
    if codec == "utf-8":
        if data.isascii():
            return data
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            codec = "cp1252"  # accents Windows plus loin dans un fichier commencé en ASCII
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8")


def _utf8_boundary(data: bytes) -> int:
    """Longueur du plus long préfixe qui ne coupe pas un caractère UTF-8."""
    end = len(data)
    for back in range(1, min(4, end) + 1):
        byte = data[end - back]
        if byte < 0x80:
            return end
        if byte >= 0xC0:  # premier octet d'un caractère
            width = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return end if width <= back else end - back
    return end


def _safe_cut(buffer: bytes) -> int:
    """Position juste après le dernier saut de ligne qui n'est pas entre guillemets (0 : aucun)."""
    last = buffer.rfind(b"\n")
    if last < 0 or b'"' not in buffer:
        return last + 1
    data = np.frombuffer(buffer, np.uint8)
    newlines = np.flatnonzero(data == 10)
    even = (np.searchsorted(np.flatnonzero(data == 34), newlines) & 1) == 0
    positions = newlines[even]
    return int(positions[-1]) + 1 if positions.size else 0


def _after_content(buffer: bytes, cut: int) -> int:
    """Fin de la dernière ligne non vide avant ``cut`` (avec son saut de ligne) ; 0 s'il n'y en a pas."""
    end = cut
    while end > 0 and buffer[end - 1] in (10, 13):
        end -= 1
    if end == 0:
        return 0
    return end + (2 if buffer[end : end + 2] == b"\r\n" else 1)


def _parse_general(text: str, sep: str, header: Sequence[str]) -> tuple[list[list[str]], dict[int, str]]:
    """Le module csv de Python, qui accepte tout ; une ligne qu'il refuse devient une ligne invalide."""
    try:
        return _regularise(list(csv.reader(io.StringIO(text, newline=""), delimiter=sep)), header)
    except csv.Error:  # cellule démesurée (plus de 128 Kio)… : ligne à ligne, sans perdre les autres
        pass
    records, refused = [], {}
    for i, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")):
        try:
            records.append(next(csv.reader([line], delimiter=sep), []))
        except csv.Error as error:
            records.append([line] + [""] * (len(header) - 1))
            refused[i] = f"ligne illisible ({error})"
    rows, problems = _regularise(records, header)
    problems.update(refused)
    return rows, problems


def _regularise(records, header: Sequence[str]) -> tuple[list[list[str]], dict[int, str]]:
    """Lignes ramenées au nombre de colonnes de l'en-tête ; les écarts deviennent des raisons."""
    width = len(header)
    named = width  # colonnes jusqu'au dernier nom non vide : « a;b;c; » accepte « 1;2;3 »
    while named > 1 and not header[named - 1].strip():
        named -= 1
    rows, problems = [], {}
    for i, record in enumerate(records):
        if len(record) == width:
            rows.append(record)
        elif not record:
            problems[i] = EMPTY_LINE
            rows.append([""] * width)
        elif named <= len(record) < width:
            rows.append(record + [""] * (width - len(record)))
        elif len(record) > width and not any(record[width:]):  # séparateurs en trop en fin de ligne
            rows.append(record[:width])
        elif len(record) < width:
            problems[i] = f"la ligne compte {len(record)} cellule(s) au lieu de {width}"
            rows.append(record + [""] * (width - len(record)))
        else:
            extra = " ; ".join(f"« {cell} »" for cell in record[width:])
            problems[i] = f"la ligne compte {len(record)} cellules au lieu de {width} ; en trop : {extra}"
            rows.append(record[:width])
    return rows, problems


def _rows_block(rows: list[list[str]], problems: dict[int, str], needed) -> Block:
    columns = {}
    for role, spec in needed.items():
        if isinstance(spec, list):
            columns[role] = [[row[i] for row in rows] for i in spec]
        else:
            columns[role] = [row[spec] for row in rows]
    return Block(n=len(rows), columns=columns, rows=rows, problems=problems)


XLSX_BROKEN = "contenu interne endommagé ou non conforme : enregistrez-le de nouveau depuis votre tableur"


class XlsxSource:
    """Première feuille d'un classeur XLSX, lue ligne à ligne (openpyxl en lecture seule)."""

    encoding = "xlsx"
    separator = ";"
    header_line = None

    def __init__(self, path: Path, options: GeorefOptions):
        from openpyxl import load_workbook

        self.options = options
        try:
            self.workbook = load_workbook(path, read_only=True, data_only=True)
            sheet = self.workbook.active or self.workbook.worksheets[0]
            self.total = max(0, (sheet.max_row or 0) - 1) or None
            self.records = sheet.iter_rows(values_only=True)
            header = next(self.records, None)
        except Exception as error:
            # Le message d'openpyxl peut citer le chemin du fichier sur le serveur : jamais montré.
            logger.info("Classeur XLSX illisible : %r", error)
            raise GeorefError(_unreadable(f"le classeur XLSX ne s'ouvre pas ({XLSX_BROKEN})")) from error
        header = [_cell_text(v) for v in header or ()]
        while header and header[-1] == "":
            header.pop()
        if not header:
            self.workbook.close()
            raise GeorefError(
                _unreadable("la première ligne, qui doit donner les noms de colonnes, est vide")
            )
        self.header = header

    def prepare(self, needed: dict, force_general: bool) -> None:
        self.needed = needed

    def close(self) -> None:
        self.workbook.close()

    def raw_blocks(self) -> Iterator[Block]:
        width = len(self.header)
        chunk, empties, done = [], [], 0
        try:
            for values in self.records:
                cells = [_cell_text(v) for v in values]
                if not any(cells):
                    empties.append([""] * width)  # gardées seulement si une ligne non vide suit
                    continue
                while len(cells) > width and cells[-1] == "":
                    cells.pop()
                if len(cells) < width:  # cellules vides en fin de ligne, omises par le classeur
                    cells += [""] * (width - len(cells))
                chunk += empties
                empties = []
                chunk.append(cells)
                if len(chunk) >= self.options.chunk_size:
                    done += len(chunk)
                    yield self._block(chunk, done)
                    chunk = []
            if chunk:
                done += len(chunk)
                yield self._block(chunk, done)
        except GeorefError:
            raise
        except Exception as error:
            logger.info("Classeur XLSX abîmé : %r", error)
            raise GeorefError(_unreadable(f"le classeur XLSX est abîmé ({XLSX_BROKEN})")) from error
        finally:
            self.workbook.close()

    def _block(self, records: list[list[str]], done: int) -> Block:
        rows, problems = _regularise(records, self.header)
        for i, record in enumerate(records):
            if not any(record):
                problems[i] = EMPTY_LINE
        block = _rows_block(rows, problems, self.needed)
        block.fraction = min(1.0, done / self.total) if self.total else None
        return block

    def parse(self, block: Block) -> Block:
        return block


# Apostrophe qu'ajoutaient nos sorties XLSX d'avant la règle actuelle (un texte y est désormais une
# cellule texte, inchangée) devant un texte pris pour une formule : retirée à la lecture, comme
# ``unsafe_text`` (cdv.core.spreadsheets), pour qu'un ancien classeur relu redonne ses cellules.
_QUOTED_FORMULA_RE = re.compile(r"^'+[=+\-@\t\r]")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value[1:] if _QUOTED_FORMULA_RE.match(value) else value
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        if hasattr(value, "hour") and hasattr(value, "date"):
            return value.isoformat(sep=" ")
        return value.isoformat()
    return str(value)


def open_source(path, options: GeorefOptions) -> CsvSource | XlsxSource:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    # Le nom seul, jamais le chemin : ces messages peuvent atteindre la page d'un traitement.
    except FileNotFoundError as error:
        raise GeorefError(f"Fichier introuvable : {path.name}.") from error
    except IsADirectoryError as error:
        raise GeorefError(f"« {path.name} » est un dossier, pas un fichier.") from error
    except OSError as error:
        raise GeorefError(
            f"Impossible de lire le fichier {path.name} : {error.strerror or 'erreur'}."
        ) from error
    if not sample.strip():
        raise GeorefError(_unreadable("le fichier est vide"))
    if sample.startswith(b"PK\x03\x04"):
        check_xlsx_container(path)
        return XlsxSource(path, options)
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise GeorefError(
            "Format XLS (Excel 97-2003) non pris en charge : enregistrez le classeur au format XLSX ou CSV."
        )
    foreign = foreign_content(sample)
    if foreign is not None:  # une page web, un programme… nommé .csv : refusé sur son contenu
        binary = "" if foreign.startswith("une page web") else "il contient des données binaires : "
        raise GeorefError(_unreadable(f"{binary}c'est {foreign}, quel que soit son nom"))
    return CsvSource(path, sample, options)


def xlsx_limits() -> dict[str, int]:
    """Bornes d'un classeur déposé : 10 fois la taille maximale d'un dépôt une fois décompressé
    (200 Mo au moins), 128 Mo de textes partagés (qu'openpyxl charge en mémoire d'un bloc)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        upload_mb = int(getattr(settings, "GEOREF_MAX_UPLOAD_MB", 50))
    except ImproperlyConfigured:  # pipeline appelé hors de Django
        upload_mb = 50
    return {
        "max_members": XLSX_MAX_MEMBERS,
        "max_uncompressed": max(200, 10 * upload_mb) * 1024 * 1024,
        "max_shared_strings": XLSX_MAX_SHARED_STRINGS_BYTES,
    }


def check_xlsx_container(path) -> None:
    """Bombe ZIP, archive chiffrée ou trop d'éléments : GeorefError avant qu'openpyxl ne l'ouvre."""
    from django.core.exceptions import ValidationError

    limits = xlsx_limits()
    try:
        members = check_zip_archive(
            path, max_members=limits["max_members"], max_uncompressed=limits["max_uncompressed"]
        )
    except ValidationError as error:
        if error.code == "zip_unreadable":
            raise GeorefError(_unreadable("le classeur XLSX ne s'ouvre pas (archive endommagée)")) from error
        raise GeorefError(" ".join(error.messages)) from error
    if any(
        m.filename.lower().endswith("sharedstrings.xml") and m.file_size > limits["max_shared_strings"]
        for m in members
    ):
        raise GeorefError(
            "Ce classeur contient un volume de textes anormalement grand (plus de "
            f"{limits['max_shared_strings'] // (1024 * 1024)} Mo) : il est refusé par sécurité. "
            "Enregistrez-le au format CSV."
        )


def read_header(path) -> tuple[list[str], str, str]:
    """(noms de colonnes, encodage, séparateur) d'un fichier, pour proposer les colonnes à choisir."""
    source = open_source(path, GeorefOptions(mode="lonlat"))
    source.close()
    return list(source.header), _ENCODING_LABELS.get(source.encoding, source.encoding), source.separator


# --- point d'entrée -----------------------------------------------------------------------------------


def _previous_output_columns(header: Sequence[str], address: bool) -> list[int]:
    """Colonnes d'un passage précédent (code_qp et statut_qpv présents) : elles seront remplacées."""
    ours = OUTPUT_COLUMNS + (ADDRESS_OUTPUT_COLUMNS if address else [])
    if not {"code_qp", "statut_qpv"} <= set(header):
        return []
    return [i for i, name in enumerate(header) if name in ours]


@dataclass
class _Tally:
    status: np.ndarray
    qpv: np.ndarray
    refusals: dict[str, int] = field(default_factory=dict)

    def add(self, result: BlockResult) -> None:
        self.status += np.bincount(result.status, minlength=len(STATUSES))
        inside = result.qpv[result.qpv >= 0]
        if inside.size:
            self.qpv += np.bincount(inside, minlength=len(self.qpv))
        refused = (result.status == INVALID) | (result.status == NOT_GEOCODED)
        counts = np.bincount(result.reason[refused], minlength=len(result.messages))
        for code in np.flatnonzero(counts):
            text = result.messages[code]
            self.refusals[text] = self.refusals.get(text, 0) + int(counts[code])


def run(
    input_path,
    output_path,
    options: GeorefOptions,
    *,
    geocoder=None,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int | None = None,
    output_format: str | None = None,
) -> Summary:
    """Géoréférence ``input_path`` (CSV ou XLSX) dans ``output_path`` (CSV ou XLSX) ; renvoie le résumé.

    ``output_format`` : ``"csv"`` ou ``"xlsx"`` ; par défaut, d'après l'extension de
    ``output_path`` (``.xlsx`` : XLSX, sinon CSV).

    ``progress(lignes_faites, total)`` est appelé après chaque morceau, toujours dans le fil
    appelant (il peut écrire en base) ; ``total`` est estimé
    d'après la part du fichier lue (None si on ne sait pas) et vaut le nombre exact de lignes au
    dernier appel. ``geocoder`` ne sert qu'en mode adresse : un objet dont ``geocode(batch)`` reçoit
    une liste de dictionnaires ``{"address", "postcode", "city"}`` (chaînes, éventuellement vides)
    et renvoie, dans le même ordre, un ``GeocodeResult`` ou None par adresse. ``workers`` : nombre
    de fils de calcul (par défaut 2 pour des coordonnées, 0 — tout dans le fil appelant — pour des
    adresses). Lève :class:`GeorefError` (message français) si le fichier est illisible ou une
    colonne absente ; jamais à cause d'une ligne. La sortie est écrite dans un fichier temporaire
    voisin, renommé à la fin : on ne trouve jamais de sortie à moitié écrite.
    """
    started = time.perf_counter()
    _check_options(options)
    output_path = Path(output_path)
    output_format = _output_format(output_path, output_format)
    if options.mode == "address" and options.chunk_size > ADDRESS_CHUNK_SIZE:
        options = dataclasses.replace(options, chunk_size=ADDRESS_CHUNK_SIZE)
    index = get_index(options.geography)
    source = open_source(input_path, options)
    header = list(source.header)
    try:
        needed = _needed_columns(options, header)
    except GeorefError:
        source.close()
        raise
    address = options.mode == "address"
    drop = _previous_output_columns(header, address)
    if {i for v in needed.values() for i in (v if isinstance(v, list) else [v])} & set(drop):
        drop = []  # une colonne de sortie sert d'entrée : on la garde
    xlsx = output_format == "xlsx"
    source.prepare(needed, force_general=bool(drop) or xlsx)  # XLSX : il faut les cellules
    if workers is None:
        workers = 0 if address else min(2, os.cpu_count() or 1)
    summary = Summary(
        geography=options.geography,
        encoding=_ENCODING_LABELS.get(source.encoding, source.encoding),
        separator=source.separator,
        columns=header,
    )
    tally = _Tally(np.zeros(len(STATUSES), np.int64), np.zeros(len(index), np.int64))
    try:
        writer = (
            XlsxWriter(index, address, drop) if xlsx else CsvWriter(source.separator, index, address, drop)
        )
    except BaseException:
        source.close()
        raise

    def process(raw):
        block = source.parse(raw)
        result = compute_block(block, options, index, geocoder)
        return block.n, block.fraction, result, writer.render(block, result)

    partial = output_path.with_name(output_path.name + ".partiel")
    try:
        sink = writer.open(partial, header, source.header_line)  # fermé par le « with » ci-dessous
    except OSError as error:
        source.close()
        partial.unlink(missing_ok=True)
        raise GeorefError(
            f"Impossible d'écrire le fichier de sortie {output_path} : {error.strerror or error}."
        ) from error
    except BaseException:
        source.close()
        partial.unlink(missing_ok=True)
        raise
    try:
        with sink:
            for n, fraction, result, rendered in _ordered_map(process, source.raw_blocks(), workers):
                sink.write(rendered)
                tally.add(result)
                summary.rows += n
                if progress is not None:
                    estimate = round(summary.rows / fraction) if fraction else None
                    progress(summary.rows, max(estimate, summary.rows) if estimate else None)
            sink.finish()
        os.replace(partial, output_path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise GeorefError(f"Lecture ou écriture impossible : {error.strerror or error}.") from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    if progress is not None:
        progress(summary.rows, summary.rows)
    summary.by_status = {status: int(count) for status, count in zip(STATUSES, tally.status, strict=True)}
    summary.in_qpv = summary.by_status["DANS_QPV"]
    order = sorted(np.flatnonzero(tally.qpv), key=lambda i: (-tally.qpv[i], index.codes[i]))
    summary.by_qpv = {str(index.codes[i]): (str(index.names[i]), int(tally.qpv[i])) for i in order}
    summary.warnings = _warnings(summary, tally.refusals)
    summary.seconds = time.perf_counter() - started
    return summary


OUTPUT_FORMATS = ("csv", "xlsx")


def _output_format(path: Path, wanted: str | None) -> str:
    if wanted is None:
        return "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    wanted = str(wanted).strip().lower()
    if wanted not in OUTPUT_FORMATS:
        raise GeorefError(f"Format de sortie inconnu « {wanted} » : choisissez csv ou xlsx.")
    return wanted


def _ordered_map(function, items, workers: int):
    """``map`` qui garde l'ordre, avec au plus ``workers + 1`` morceaux en cours (mémoire bornée) ;
    un seul morceau se traite dans le fil appelant."""
    if workers <= 0:
        yield from map(function, items)
        return
    items = iter(items)
    head = list(itertools.islice(items, 2))
    if len(head) < 2:  # un seul morceau (petit fichier, dépôt sur la page) : pas de fils à lancer
        yield from map(function, head)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="georef") as pool:
        pending = deque()
        try:
            for item in itertools.chain(head, items):
                pending.append(pool.submit(function, item))
                while len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _warnings(summary: Summary, reasons: dict[str, int]) -> list[str]:
    if not summary.rows:
        return ["le fichier ne contient aucune ligne de données."]
    out = []
    frequent = {text: count for text, count in reasons.items() if count >= 0.5 * summary.rows}
    for message in (coords.LONLAT_MESSAGES[coords.SWAPPED], coords.XY_MESSAGES[coords.XY_SWAPPED]):
        if message in frequent:
            out.append(
                f"{_int(frequent[message])} ligne(s) sur {_int(summary.rows)} : {message.split(' (')[0]} ; "
                "les colonnes ont-elles été choisies dans le bon ordre ?"
            )
    for message in (
        coords.LONLAT_MESSAGES[coords.METRES_IN_DEGREES],
        coords.XY_MESSAGES[coords.DEGREES_IN_METRES],
    ):
        if message in frequent:
            out.append(f"{_int(frequent[message])} ligne(s) sur {_int(summary.rows)} : {message}.")
    if reasons.get(GEOCODER_MISSING):
        out.append("aucun géocodeur n'est disponible : les adresses n'ont pas été géocodées.")
    return out


def locate_points(points: Sequence[tuple[float, float]], geography: str = DEFAULT_GEOGRAPHY) -> list[dict]:
    """Pour l'API : le QPV de chaque point WGS84 (longitude, latitude), avec statut et raison.

    Renvoie, dans l'ordre, ``{"code_qp", "lib_qp", "statut_qpv", "raison"}`` par point ; un point
    illisible (None, texte, hors limites, inversé…) reçoit ``ENTREE_INVALIDE`` et sa raison.
    Lève :class:`GeorefError` si la géographie est inconnue ou ses contours absents.
    """
    index = get_index(geography)
    if not points:
        return []
    lons, lats = [], []
    for point in points:
        try:
            lon, lat = point
        except (TypeError, ValueError):
            lon = lat = None
        lons.append(lon)
        lats.append(lat)
    result = _points_result(coords.check_lonlat(lons, lats), index)
    out = []
    for i in range(len(points)):
        k = int(result.qpv[i])
        out.append(
            {
                "code_qp": str(index.codes[k]) if k >= 0 else "",
                "lib_qp": str(index.names[k]) if k >= 0 else "",
                "statut_qpv": STATUSES[result.status[i]],
                "raison": result.messages[result.reason[i]],
            }
        )
    return out
