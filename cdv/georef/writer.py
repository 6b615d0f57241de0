"""Géoréférencement : le fichier de sortie, CSV (``CsvWriter``) ou XLSX (``XlsxWriter``).

Chaque ligne lue y est, dans le même ordre et avec ses cellules, suivie des colonnes ajoutées
(``OUTPUT_COLUMNS``, et ``ADDRESS_OUTPUT_COLUMNS`` pour des adresses) que ``mapper.compute_block``
a calculées. Les deux formats neutralisent ce qu'un tableur prendrait pour une formule.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import coords
from .engine import GeorefError, QpvIndex
from .mapper import ADDRESS_OUTPUT_COLUMNS, OUTPUT_COLUMNS, STATUSES, Block, BlockResult, thousands


def _quote(text: str, sep: str) -> str:
    if sep in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


# Chemin rapide de la sortie CSV : premiers octets d'une cellule à examiner (formule possible, ou
# guillemet ouvrant) ; une cellule signée qui est un simple nombre (« -1.55 », longitude) n'est pas
# une formule.
_FORMULA_START = np.zeros(256, bool)
_FORMULA_START[[ord(c) for c in "=+-@\t\r'\""]] = True
_SIGNED_NUMBER = r"[+-](?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"


def _qpv_cells(index: QpvIndex, sep: str) -> tuple[pa.Array, list[str], list[str]]:
    """Les cellules « code et nom du QPV » de la sortie CSV (la première : hors QPV), et les codes et
    noms en chaînes : ce qui ne dépend que de l'index et du séparateur, calculé une fois par index
    (1 584 QPV : 2 ms, le tiers du traitement d'un petit fichier). Index et valeurs ne changent pas."""
    found = index.derived.get(("csv", sep))
    if found is None:
        cells = [sep + sep] + [
            sep + _quote(str(c), sep) + sep + _quote(str(n), sep)
            for c, n in zip(index.codes, index.names, strict=True)
        ]
        codes = [""] + [str(c) for c in index.codes]
        names = [""] + [str(n) for n in index.names]
        found = index.derived[("csv", sep)] = (coords.arrow_strings(cells), codes, names)
    return found


class CsvWriter:
    """Met en forme les lignes de sortie d'un bloc (sans état : utilisable depuis plusieurs fils).

    La règle CSV de tous les exports de la plateforme (``cdv.core.formulas.csv_text``) : une cellule
    qu'un tableur prendrait pour une formule (=, +, -, @, tabulation ou retour chariot en tête) reçoit
    une apostrophe en tête, sauf un simple nombre (« -1.55 »). Le chemin rapide recopie les lignes lues :
    il ajoute l'apostrophe par expressions régulières (pyarrow) dans les lignes sans guillemets, et
    repasse par le module csv pour un bloc dont une ligne à protéger contient des guillemets.
    """

    def __init__(self, sep: str, index: QpvIndex, address: bool, drop: Sequence[int]):
        from cdv.core.formulas import csv_text

        self._csv_text = csv_text
        self.sep, self.address, self.drop = sep, address, set(drop)
        sep_re = "\\|" if sep == "|" else sep  # « ; », « , » ou tabulation : littéraux
        self._formula_start = _FORMULA_START.copy()
        self._formula_start[ord(sep)] = False  # tabulation séparateur : une cellule vide, pas une formule
        self._number_re = f"^{_SIGNED_NUMBER}(?:{sep_re}|\n|$)"
        self._quote_re = "^'+[=+\\-@\t\r]"  # NEEDS_QUOTE_RE, après des apostrophes
        self._signs = np.frombuffer(b"+-", np.uint8)
        self._always = np.frombuffer(b"=@\r" + (b"" if sep == "\t" else b"\t"), np.uint8)
        self.added = OUTPUT_COLUMNS + (ADDRESS_OUTPUT_COLUMNS if address else [])
        self.qpv_cells, self.codes, self.names = _qpv_cells(index, sep)

    def cell(self, text: str) -> str:
        return self._csv_text(text) if text else text

    def header(self, header: Sequence[str], raw_line: str | None) -> bytes:
        if raw_line is not None and not self.drop and all(self.cell(c) == c for c in header):
            return (raw_line + "".join(self.sep + _quote(c, self.sep) for c in self.added) + "\n").encode(
                "utf-8"
            )
        return self._rows([[self.cell(c) for c in self._kept(list(header))] + self.added])

    def _kept(self, row: list[str]) -> list[str]:
        return [cell for i, cell in enumerate(row) if i not in self.drop] if self.drop else row

    def _rows(self, rows) -> bytes:
        text = io.StringIO()
        csv.writer(text, delimiter=self.sep, lineterminator="\n").writerows(rows)
        return text.getvalue().encode("utf-8")

    def open(self, path: Path, header: Sequence[str], raw_line: str | None) -> _CsvSink:
        """Le fichier de sortie, ouvert, avec le BOM et la ligne d'en-tête."""
        handle = open(path, "wb")
        try:
            handle.write(codecs.BOM_UTF8)
            handle.write(self.header(header, raw_line))
        except BaseException:
            handle.close()
            raise
        return _CsvSink(handle)

    def render(self, block: Block, result: BlockResult) -> list:
        """Les octets à écrire pour ce bloc (liste de tampons)."""
        if block.lines is not None:
            return self._render_fast(block.lines, result)
        return [self._render_rows(block.rows, result)]

    def _safe_lines(self, lines: pa.Array) -> pa.Array | None:
        """Les lignes avec une apostrophe devant chaque formule (règle de ``cell``) ; None s'il faut
        les relire avec le module csv (des guillemets : les séparateurs ne se voient pas sans lire).

        Par octets (numpy) : débuts de cellule après un séparateur ou un saut de ligne ; seuls ceux
        qui commencent par un caractère de formule sont examinés, par deux expressions ancrées."""
        offsets = np.frombuffer(lines.buffers()[1], np.int32, count=len(lines) + 1, offset=4 * lines.offset)
        begin, end = int(offsets[0]), int(offsets[-1])
        data = np.frombuffer(lines.buffers()[2], np.uint8)[begin:end]
        if not len(data):
            return lines
        starts = np.flatnonzero(self._formula_start[data])  # peu nombreux : filtrés d'abord
        before = data[np.maximum(starts - 1, 0)]
        starts = starts[(starts == 0) | (before == ord(self.sep)) | (before == 10)]
        if not len(starts):
            return lines
        head = data[starts]
        needs = np.isin(head, self._always)  # =, @, tabulation, retour chariot
        # Les autres jusqu'au candidat suivant : les expressions ancrées n'en lisent que le début.
        for kind, pattern, negate in (
            (np.isin(head, self._signs), self._number_re, True),
            (head == ord("'"), self._quote_re, False),
        ):
            if kind.any():
                chosen = starts[kind]
                cut = np.append(chosen, len(data)).astype(np.int32)
                rest = pa.StringArray.from_buffers(len(chosen), pa.py_buffer(cut), pa.py_buffer(data))
                found = coords.numpy_from_arrow(pc.match_substring_regex(rest, pattern))  # sans pandas
                needs[kind] = ~found if negate else found
        quoted = head == ord('"')
        if quoted.any():
            after = data[np.minimum(starts[quoted] + 1, len(data) - 1)]
            needs[quoted] = _FORMULA_START[after] & (after != ord('"'))
        positions = starts[needs]
        if not len(positions):
            return lines
        if (data == ord('"')).any():
            return None
        fixed = np.insert(data, positions, ord("'"))
        relative = offsets - begin
        moved = relative + np.searchsorted(positions, relative, side="left").astype(np.int32)
        return pa.StringArray.from_buffers(len(lines), pa.py_buffer(moved), pa.py_buffer(fixed))

    def _render_fast(self, lines: pa.Array, result: BlockResult) -> list:
        sep = self.sep
        safe = self._safe_lines(lines)
        if safe is None:
            rows = list(csv.reader((line.lstrip("\n") for line in lines.to_pylist()), delimiter=sep))
            return [self._render_rows(rows, result)]
        lines = safe
        quoted = [_quote(self.cell(text), sep) for text in result.messages]
        status_table = coords.arrow_strings([sep + s + sep + q for s in STATUSES for q in quoted])
        combo = result.status.astype(np.int32) * len(quoted) + result.reason
        parts = [
            lines,
            self.qpv_cells.take(coords.arrow_from_numpy(result.qpv + 1)),
            status_table.take(coords.arrow_from_numpy(combo)),
        ]
        if self.address:
            extra = ["".join(sep + _quote(self.cell(c), sep) for c in cells) for cells in result.extra]
            parts.append(coords.arrow_strings(extra))
        joined = pc.binary_join_element_wise(*parts, coords.EMPTY_TEXT)
        offsets = np.frombuffer(
            joined.buffers()[1], np.int32, count=len(joined) + 1, offset=4 * joined.offset
        )
        data = memoryview(joined.buffers()[2])[offsets[0] : offsets[-1]]
        return [data, b"\n"]

    def _render_rows(self, rows: list[list[str]], result: BlockResult) -> bytes:
        codes, names, messages = self.codes, self.names, result.messages
        qpv, status, reason = (result.qpv + 1).tolist(), result.status.tolist(), result.reason.tolist()
        out = []
        cell = self.cell
        messages = [cell(m) for m in messages]
        for i, row in enumerate(rows):
            cells = [cell(c) for c in self._kept(row)]
            cells += [codes[qpv[i]], names[qpv[i]], STATUSES[status[i]], messages[reason[i]]]
            if self.address:
                cells += [cell(c) for c in result.extra[i]]
            out.append(cells)
        return self._rows(out)


class _CsvSink:
    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, chunks: list) -> None:
        for chunk in chunks:
            self.handle.write(chunk)

    def finish(self) -> None:
        self.handle.close()


XLSX_MAX_ROWS = 1_048_576  # lignes d'une feuille Excel, en-tête compris
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_CELL = 32_767  # caractères d'une cellule


class XlsxWriter:
    """Met en forme les lignes d'un bloc pour une sortie XLSX (sans état : utilisable depuis plusieurs fils).

    Toutes les cellules sont écrites en **texte**, comme elles ont été lues (« 047 » reste « 047 ») ;
    une cellule vide reste vide. Comme dans tous les exports XLSX de la plateforme
    (``cdv.core.spreadsheets``), un texte est une cellule de type texte, sa valeur inchangée :
    « =SOMME(A1) » se relit identique et n'est jamais une formule (``_XlsxSink.write``) ; seuls les
    caractères de contrôle, interdits dans un classeur, sont retirés. Le classeur est écrit au fil
    de l'eau par openpyxl (mode ``write_only``) : la mémoire ne dépend pas du nombre de lignes.
    """

    def __init__(self, index: QpvIndex, address: bool, drop: Sequence[int]):
        from cdv.core.spreadsheets import xlsx_text

        self._xlsx_text = xlsx_text
        self.address, self.drop = address, set(drop)
        self.added = OUTPUT_COLUMNS + (ADDRESS_OUTPUT_COLUMNS if address else [])
        self.codes = [None] + [self.cell(str(c)) for c in index.codes]
        self.names = [None] + [self.cell(str(n)) for n in index.names]

    def cell(self, text: str) -> str | None:
        if not text:
            return None
        if len(text) > XLSX_MAX_CELL:
            raise GeorefError(
                f"Une cellule compte {thousands(len(text))} caractères, plus que la limite d'Excel "
                f"({thousands(XLSX_MAX_CELL)}) : choisissez la sortie CSV, qui n'a pas de limite."
            )
        return self._xlsx_text(text)

    def _kept(self, row: list[str]) -> list[str]:
        return [cell for i, cell in enumerate(row) if i not in self.drop] if self.drop else row

    def open(self, path: Path, header: Sequence[str], raw_line: str | None) -> _XlsxSink:
        names = self._kept(list(header)) + self.added
        if len(names) > XLSX_MAX_COLUMNS:
            raise GeorefError(
                f"Le résultat compterait {thousands(len(names))} colonnes, plus que la limite d'Excel "
                f"({thousands(XLSX_MAX_COLUMNS)}) : choisissez la sortie CSV."
            )
        sink = _XlsxSink(path)
        sink.write([[self.cell(name) for name in names]])
        return sink

    def render(self, block: Block, result: BlockResult) -> list[list]:
        """Les lignes du bloc, cellule par cellule (le chemin général du lecteur : ``block.rows``)."""
        cell, messages = self.cell, [self.cell(m) for m in result.messages]
        statuses = [self.cell(s) for s in STATUSES]
        codes, names = self.codes, self.names
        qpv, status, reason = (result.qpv + 1).tolist(), result.status.tolist(), result.reason.tolist()
        out = []
        for i, row in enumerate(block.rows):
            k = qpv[i]
            cells = [cell(c) for c in self._kept(row)]
            cells += [codes[k], names[k], statuses[status[i]], messages[reason[i]]]
            if self.address:
                cells += [cell(c) for c in result.extra[i]]
            out.append(cells)
        return out


class _XlsxSink:
    """Le classeur en cours d'écriture (openpyxl, mode write_only : lignes gardées sur disque)."""

    def __init__(self, path: Path):
        from openpyxl import Workbook

        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("QPV")
        self.rows = 0
        self.saved = False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.saved:
            return
        # Abandon : le fichier temporaire d'openpyxl (des données personnelles) est fermé et effacé.
        rows, writer = getattr(self.sheet, "_rows", None), getattr(self.sheet, "_writer", None)
        for close in (getattr(rows, "close", None), getattr(writer, "cleanup", None)):
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - nettoyage au mieux, l'erreur d'origine compte
                    pass

    def write(self, rows: list[list]) -> None:
        """Écrit les lignes ; un texte qu'openpyxl prendrait pour une formule (« = » en tête) ou une
        erreur (« #N/A ») devient une cellule texte (``text_cell``), sa valeur inchangée."""
        from openpyxl.cell.cell import ERROR_CODES

        from cdv.core.spreadsheets import text_cell

        if self.rows + len(rows) > XLSX_MAX_ROWS:
            raise GeorefError(
                f"Le fichier compte plus de {thousands(XLSX_MAX_ROWS - 1)} lignes, la limite d'une feuille "
                "Excel : choisissez la sortie CSV, qui n'a pas de limite."
            )
        append = self.sheet.append
        sheet = self.sheet
        for row in rows:
            if any(value[0] in "=#" for value in row if value):  # sinon des formules ou des erreurs
                row = [text_cell(sheet, v) if v and (v[0] == "=" or v in ERROR_CODES) else v for v in row]
            append(row)
        self.rows += len(rows)

    def finish(self) -> None:
        self.workbook.save(self.path)
        self.saved = True
