"""Géoréférencement : d'un bloc de lignes lues à leur QPV, leur statut et leur raison.

``compute_block`` reçoit un ``Block`` (colonnes utiles d'un morceau du fichier, lu par
``pipeline``) et rend un ``BlockResult`` : coordonnées vérifiées (``coords``) puis situées dans
l'index des QPV, ou adresses envoyées au géocodeur (le client de la Base adresse nationale, ``ban``)
puis situées. Rien n'est écrit ici : le ``writer`` met les résultats en forme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from . import coords
from .engine import QpvIndex

if TYPE_CHECKING:
    from .pipeline import GeorefOptions

IN_QPV, OUTSIDE_QPV, NOT_GEOCODED, LOW_SCORE, INVALID = range(5)
STATUSES = ("DANS_QPV", "HORS_QPV", "NON_GEOCODE", "SCORE_FAIBLE", "ENTREE_INVALIDE")
STATUS_LABELS = {
    "DANS_QPV": "dans un QPV",
    "HORS_QPV": "hors QPV",
    "NON_GEOCODE": "adresse non géocodée",
    "SCORE_FAIBLE": "score de géocodage trop faible",
    "ENTREE_INVALIDE": "entrée invalide",
}
OUTPUT_COLUMNS = ["code_qp", "lib_qp", "statut_qpv", "raison"]
ADDRESS_OUTPUT_COLUMNS = ["score_geocodage", "adresse_trouvee", "longitude", "latitude"]

EMPTY_LINE = "ligne vide"
GEOCODER_MISSING = "géocodeur indisponible"
ADDRESS_EMPTY = "adresse vide"
ADDRESS_NOT_FOUND = "adresse introuvable dans la Base adresse nationale"


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


@dataclass
class Block:
    """Un morceau du fichier : soit ses lignes brutes (chemin rapide), soit ses lignes découpées."""

    n: int
    columns: dict[str, pa.Array | list]  # colonnes utiles, en chaînes
    lines: pa.Array | None = None  # chemin rapide : ligne i (précédée de \n, sauf la première)
    rows: list[list[str]] | None = None  # chemin général : cellules de chaque ligne
    problems: dict[int, str] = field(default_factory=dict)  # ligne du bloc → raison du refus
    fraction: float | None = None  # part du fichier lue à la fin de ce bloc


@dataclass
class BlockResult:
    qpv: np.ndarray  # int32, -1 hors QPV
    status: np.ndarray  # int8, indice dans STATUSES
    reason: np.ndarray  # int32, indice dans messages
    messages: list[str]
    extra: list[list[str]] | None = None  # mode adresse : score, adresse trouvée, longitude, latitude


class _Messages:
    """Les raisons d'un bloc : un code par texte, 0 pour « aucune »."""

    def __init__(self, base: dict[int, str] | list[str]):
        base = dict(enumerate(base)) if isinstance(base, list) else base
        self.texts = [base.get(i, "") for i in range(max(base) + 1)]
        self._codes = {text: i for i, text in reversed(list(enumerate(self.texts)))}

    def code(self, text: str) -> int:
        if text not in self._codes:
            self._codes[text] = len(self.texts)
            self.texts.append(text)
        return self._codes[text]


def _points_result(points: coords.Points, index: QpvIndex) -> BlockResult:
    qpv = index.locate(points.lon, points.lat)
    status = np.where(qpv >= 0, IN_QPV, OUTSIDE_QPV).astype(np.int8)
    status[points.invalid] = INVALID
    texts = _Messages(points.messages).texts
    return BlockResult(qpv=qpv, status=status, reason=points.reason.astype(np.int32), messages=texts)


def _apply_problems(result: BlockResult, problems: dict[int, str]) -> None:
    if not problems:
        return
    messages = _Messages(result.messages)
    for i, text in problems.items():
        result.qpv[i] = -1
        result.status[i] = INVALID
        result.reason[i] = messages.code(text)
        if result.extra is not None:
            result.extra[i] = ["", "", "", ""]
    result.messages = messages.texts


def _clean(value) -> str:
    return " ".join(str(value).split())


def _address_queries(block: Block) -> tuple[dict[tuple[str, str, str], int], list[int]]:
    """Adresses distinctes du bloc (adresse, code postal, commune) et, par ligne, le numéro de la sienne."""
    n = block.n
    parts = [_as_list(p) for p in block.columns["address"]]
    postcodes = _as_list(block.columns["postcode"]) if "postcode" in block.columns else [""] * n
    cities = _as_list(block.columns["city"]) if "city" in block.columns else [""] * n
    queries: dict[tuple[str, str, str], int] = {}
    query_of = [-1] * n
    for i in range(n):
        address = " ".join(_clean(p[i]) for p in parts if _clean(p[i]))
        if address and i not in block.problems:
            key = (address, _clean(postcodes[i]), _clean(cities[i]))
            query_of[i] = queries.setdefault(key, len(queries))
    return queries, query_of


def _geocode(geocoder, queries) -> tuple[list, str]:
    """(résultats, raison d'échec) ; une panne du géocodeur ne lève jamais."""
    if not queries:
        return [], ""
    if geocoder is None:
        return [], GEOCODER_MISSING
    batch = [{"address": a, "postcode": p, "city": c} for a, p, c in queries]
    try:
        results = list(geocoder.geocode(batch))
    except Exception as error:  # noqa: BLE001 - une panne du géocodeur ne perd aucune ligne
        return [], f"erreur du géocodeur : {str(error)[:200] or type(error).__name__}"
    if len(results) != len(batch):
        return [], f"réponse incohérente du géocodeur ({len(results)} résultats pour {len(batch)} adresses)"
    return results, ""


def _address_result(block: Block, options: GeorefOptions, index: QpvIndex, geocoder) -> BlockResult:
    n = block.n
    queries, query_of = _address_queries(block)
    messages = _Messages({0: ""})
    qpv = np.full(n, -1, np.int32)
    status = np.full(n, INVALID, np.int8)
    reason = np.full(n, messages.code(ADDRESS_EMPTY), np.int32)
    extra = [["", "", "", ""] for _ in range(n)]
    asked = [i for i in range(n) if query_of[i] >= 0]
    results, failure = _geocode(geocoder, queries)
    if failure:
        status[asked] = NOT_GEOCODED
        reason[asked] = messages.code(failure)
        return BlockResult(qpv=qpv, status=status, reason=reason, messages=messages.texts, extra=extra)
    q_lon, q_lat, q_score = (np.full(len(results), np.nan) for _ in range(3))
    labels = [""] * len(results)
    for j, res in enumerate(results):
        try:
            q_lon[j], q_lat[j] = float(res.lon), float(res.lat)
            q_score[j] = float(res.score) if res.score is not None else np.nan
            labels[j] = str(res.label or "")
        except (TypeError, ValueError, AttributeError):  # None (introuvable) ou réponse mal formée
            q_lon[j] = q_lat[j] = np.nan
    points = coords.check_lonlat(q_lon, q_lat)
    q_qpv = index.locate(points.lon, points.lat)
    for i in asked:
        j = query_of[i]
        if np.isnan(q_lon[j]) or points.invalid[j]:
            status[i] = NOT_GEOCODED
            text = (
                ADDRESS_NOT_FOUND
                if np.isnan(q_lon[j])
                else f"point du géocodeur refusé : {points.message(j)}"
            )
            reason[i] = messages.code(text)
            continue
        score = q_score[j]
        extra[i] = [
            "" if np.isnan(score) else f"{score:.2f}",
            labels[j],
            f"{q_lon[j]:.6f}",
            f"{q_lat[j]:.6f}",
        ]
        if not np.isnan(score) and score < options.min_score:
            where = f"dans le QPV {index.codes[q_qpv[j]]}" if q_qpv[j] >= 0 else "hors QPV"
            status[i] = LOW_SCORE
            reason[i] = messages.code(
                f"score de géocodage {score:.2f} inférieur au seuil {options.min_score:.2f} : "
                f"adresse à vérifier (le point trouvé est {where})"
            )
            continue
        qpv[i] = q_qpv[j]
        status[i] = IN_QPV if q_qpv[j] >= 0 else OUTSIDE_QPV
        reason[i] = messages.code(points.message(j))
    return BlockResult(qpv=qpv, status=status, reason=reason, messages=messages.texts, extra=extra)


def _as_list(values) -> list:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.to_pylist()
    return list(values)


def compute_block(block: Block, options: GeorefOptions, index: QpvIndex, geocoder=None) -> BlockResult:
    if options.mode == "address":
        result = _address_result(block, options, index, geocoder)
    else:
        check = coords.check_lonlat if options.mode == "lonlat" else coords.check_xy
        result = _points_result(check(block.columns["a"], block.columns["b"]), index)
    _apply_problems(result, block.problems)
    return result
