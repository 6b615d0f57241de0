"""Index des contours des QPV et recherche « point → QPV », vectorisée.

Règles
------
- Un point situé sur le contour d'un QPV est **dans** ce QPV (prédicat « covers » : intérieur ou
  bord ; ``shapely.intersects_xy``). Un point dans un trou (enclave) d'un QPV est dehors.
- Un point qui appartient à plusieurs QPV (frontière commune de deux quartiers, contours qui se
  chevauchent) est attribué au QPV de **plus petit code** (ordre des chaînes) : la réponse ne dépend
  ni de l'ordre de chargement, ni du découpage du fichier.
- Les contours sont ceux de la base (``Territory.geometry``, MultiPolygon WGS84 valide : les
  contours invalides de la source ont été réparés au chargement par ``make_valid``).

Méthode
-------
Une grille à deux niveaux, calculée une fois par processus : des cases grossières de 0,1° et,
dans chacune de celles qui touchent un QPV, 32 × 32 cases fines de 0,003125° (environ 350 m × 240 m
en métropole). Chaque case fine est classée une fois pour toutes, à partir d'une case légèrement
agrandie (1e-9°, pour absorber les arrondis du calcul de la case d'un point) :

- vide : aucun QPV ne la touche → tout point qui y tombe est hors QPV ;
- pleine : un seul QPV la touche et la recouvre entièrement → tout point est dans ce QPV ;
- frontière : la liste des QPV qui la touchent, triée par code.

La recherche d'un lot de points est alors un calcul d'indices et deux lectures de tableaux numpy ;
seuls les points des cases frontière (une petite fraction) sont testés exactement contre les
contours préparés de leurs candidats (``shapely.intersects_xy``), en un seul appel vectorisé.
Le résultat est identique à un test « covers » de chaque point contre chaque contour (voir les
tests, qui le vérifient sur 100 000 points tirés au hasard).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np
import shapely

COARSE_STEP = 0.1  # degrés
FINE_PER_COARSE = 32  # cases fines par côté de case grossière (puissance de 2)
CELL_EPSILON = 1e-9  # agrandissement des cases fines au classement, en degrés
GEOGRAPHIES = ("2024", "2015")
DEFAULT_GEOGRAPHY = "2024"


class GeorefError(Exception):
    """Erreur que l'on montre telle quelle à la personne : un message français, clair et complet."""


class QpvIndex:
    """Contours d'une géographie prioritaire, prêts pour la recherche vectorisée.

    ``codes``, ``names`` (tableaux numpy de chaînes) et ``geometries`` sont triés par code : l'indice
    renvoyé par :meth:`locate` désigne ``codes[i]`` et ``names[i]`` ; -1 signifie « hors QPV ».
    """

    def __init__(
        self,
        codes: Sequence[str],
        names: Sequence[str],
        geometries: Sequence,
        *,
        geography: str = "",
        ids: Sequence[int] | None = None,
        repaired: Sequence[bool] | None = None,
        coarse_step: float = COARSE_STEP,
        fine_per_coarse: int = FINE_PER_COARSE,
    ):
        if len(codes) != len(names) or len(codes) != len(geometries):
            raise ValueError("codes, names et geometries doivent avoir la même longueur")
        if fine_per_coarse & (fine_per_coarse - 1):
            raise ValueError("fine_per_coarse doit être une puissance de 2")
        order = np.argsort(np.asarray(codes, dtype=object).astype(str), kind="stable")
        self.geography = geography
        self.codes = np.asarray(codes, dtype=object)[order].astype(str)
        self.names = np.asarray(names, dtype=object)[order].astype(str)
        geoms = np.empty(len(order), dtype=object)
        geoms[:] = [geometries[i] for i in order]
        self.geometries = geoms
        self.ids = np.asarray(ids if ids is not None else np.arange(len(order)))[order]
        self.repaired = (
            np.asarray(repaired, dtype=bool)[order] if repaired is not None else np.zeros(len(order), bool)
        )
        self.signature: tuple = ()
        self._geos_lock = threading.Lock()
        shapely.prepare(self.geometries)
        self._build_grid(coarse_step, fine_per_coarse)

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return f"<QpvIndex {self.geography or '?'} : {len(self)} QPV>"

    # --- construction -------------------------------------------------------------------------

    def _build_grid(self, coarse_step: float, k: int) -> None:
        self.k = k
        self.shift = k.bit_length() - 1
        self.fine_step = fine = coarse_step / k
        self.inv_fine = 1.0 / fine
        n = len(self.geometries)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.nx_coarse = self.ny_coarse = 1
            self.nx_fine = self.ny_fine = 0
            self.coarse = np.full(1, -1, np.int32)
            self.blocks = np.full(k * k, -1, np.int32)
            self.cand_ptr = np.zeros(1, np.int64)
            self.cand_idx = np.zeros(0, np.int32)
            return
        bounds = shapely.bounds(self.geometries)
        # Origine alignée sur la grille grossière, une case de marge de chaque côté.
        self.x0 = x0 = (math.floor(bounds[:, 0].min() / coarse_step) - 1) * coarse_step
        self.y0 = y0 = (math.floor(bounds[:, 1].min() / coarse_step) - 1) * coarse_step
        self.nx_coarse = math.ceil((bounds[:, 2].max() - x0) / coarse_step) + 2
        self.ny_coarse = math.ceil((bounds[:, 3].max() - y0) / coarse_step) + 2
        self.nx_fine, self.ny_fine = self.nx_coarse * k, self.ny_coarse * k

        # Toutes les cases fines de l'emprise de chaque QPV, testées en deux appels vectorisés.
        eps = CELL_EPSILON
        gx0 = np.floor((bounds[:, 0] - x0 - eps) / fine).astype(np.int64)
        gx1 = np.floor((bounds[:, 2] - x0 + eps) / fine).astype(np.int64)
        gy0 = np.floor((bounds[:, 1] - y0 - eps) / fine).astype(np.int64)
        gy1 = np.floor((bounds[:, 3] - y0 + eps) / fine).astype(np.int64)
        width = gx1 - gx0 + 1
        counts = width * (gy1 - gy0 + 1)
        owners = np.repeat(np.arange(n, dtype=np.int32), counts)
        local = _ranges(counts)
        mx = gx0[owners] + local % width[owners]
        my = gy0[owners] + local // width[owners]
        boxes = shapely.box(
            x0 + mx * fine - eps, y0 + my * fine - eps, x0 + (mx + 1) * fine + eps, y0 + (my + 1) * fine + eps
        )
        touching = shapely.intersects(self.geometries[owners], boxes)
        owners, mx, my, boxes = owners[touching], mx[touching], my[touching], boxes[touching]
        covered = shapely.covers(self.geometries[owners], boxes)
        cells = my * self.nx_fine + mx
        order = np.lexsort((owners, cells))  # par case, puis par QPV (donc par code)
        cells, owners, covered = cells[order], owners[order], covered[order]
        unique_cells, first, counts = np.unique(cells, return_index=True, return_counts=True)

        values = np.empty(len(unique_cells), np.int32)
        solid = (counts == 1) & covered[first]
        values[solid] = owners[first[solid]]
        boundary = np.flatnonzero(~solid)
        # Listes de candidats (format CSR) des cases frontière, numérotées 0, 1, 2…
        lengths = counts[boundary]
        self.cand_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        take = np.repeat(first[boundary], lengths) + _ranges(lengths)
        self.cand_idx = owners[take].astype(np.int32)
        values[boundary] = -2 - np.arange(len(boundary), dtype=np.int32)

        # Répartition des cases fines dans des blocs k × k, un par case grossière non vide.
        fy, fx = np.divmod(unique_cells, self.nx_fine)
        coarse_ids = (fy >> self.shift) * self.nx_coarse + (fx >> self.shift)
        used, block_of = np.unique(coarse_ids, return_inverse=True)
        if len(used) * k * k >= 2**31 or self.nx_fine >= 2**31 or self.ny_fine >= 2**31:
            raise ValueError("grille trop grande pour des indices sur 32 bits")
        self.coarse = np.full(self.nx_coarse * self.ny_coarse, -1, np.int32)
        self.coarse[used] = np.arange(len(used), dtype=np.int32)
        self.blocks = np.full(len(used) * k * k, -1, np.int32)
        mask = k - 1
        self.blocks[block_of.astype(np.int64) * k * k + (fy & mask) * k + (fx & mask)] = values
        self.stats = {
            "qpv": n,
            "blocs": len(used),
            "cases_pleines": int(solid.sum()),
            "cases_frontiere": len(boundary),
        }

    # --- recherche ----------------------------------------------------------------------------

    def locate(self, lon, lat) -> np.ndarray:
        """Indice du QPV (dans ``codes``/``names``) de chaque point, -1 s'il est hors QPV.

        ``lon`` et ``lat`` : tableaux de degrés WGS84 de même longueur ; NaN donne -1.
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        if lon.shape != lat.shape:
            raise ValueError("lon et lat doivent avoir la même forme")
        lon, lat = lon.ravel(), lat.ravel()
        out = np.full(lon.shape[0], -1, np.int32)
        if self.nx_fine == 0 or lon.size == 0:
            return out
        fx = (lon - self.x0) * self.inv_fine
        fy = (lat - self.y0) * self.inv_fine
        inside = (fx >= 0) & (fx < self.nx_fine) & (fy >= 0) & (fy < self.ny_fine)  # NaN → faux
        everywhere = bool(inside.all())
        if not everywhere:
            fx[~inside] = 0
            fy[~inside] = 0
        gx, gy = fx.astype(np.int32), fy.astype(np.int32)  # indices de case fine (≥ 0 : troncature)
        block = self.coarse[(gy >> self.shift) * self.nx_coarse + (gx >> self.shift)]
        if not everywhere:
            block[~inside] = -1
        rows = np.flatnonzero(block >= 0)
        if rows.size == 0:
            return out
        gx, gy, block = gx[rows], gy[rows], block[rows]
        mask = self.k - 1
        values = self.blocks[block * (self.k * self.k) + (gy & mask) * self.k + (gx & mask)]
        solid = values >= 0
        out[rows[solid]] = values[solid]
        todo = values <= -2
        if todo.any():
            self._resolve_boundary(out, lon, lat, rows[todo], -2 - values[todo])
        return out

    def _resolve_boundary(self, out, lon, lat, rows, lists) -> None:
        starts = self.cand_ptr[lists]
        lengths = self.cand_ptr[lists + 1] - starts
        pair_row = np.repeat(rows, lengths)
        pair_qpv = self.cand_idx[np.repeat(starts, lengths) + _ranges(lengths)]
        with self._geos_lock:  # contours préparés partagés entre fils : un appel à la fois
            hit = shapely.intersects_xy(self.geometries[pair_qpv], lon[pair_row], lat[pair_row])
        hit_row, hit_qpv = pair_row[hit], pair_qpv[hit]
        if hit_row.size:
            # Les paires sont rangées par ligne croissante puis par code croissant : la première
            # paire retenue d'une ligne est le plus petit code.
            first_rows, first = np.unique(hit_row, return_index=True)
            out[first_rows] = hit_qpv[first]

    def locate_one(self, lon: float, lat: float) -> int:
        return int(self.locate(np.array([lon], np.float64), np.array([lat], np.float64))[0])


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """[0, 1, …, l0-1, 0, 1, …, l1-1, …] pour des longueurs données."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)


# --- index par géographie, en cache dans le processus ---------------------------------------------

_cache: dict[str, QpvIndex] = {}
_lock = threading.Lock()


def check_geography(geography: str) -> str:
    geography = str(geography or DEFAULT_GEOGRAPHY).strip()
    if geography not in GEOGRAPHIES:
        raise GeorefError(
            f"Géographie prioritaire inconnue « {geography} » : choisissez 2024 (par défaut) ou 2015."
        )
    return geography


def _signature(geography: str) -> tuple:
    from cdv.territories.models import Territory

    ids = tuple(
        Territory.objects.qpvs(geography)
        .filter(geometry__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return (len(ids), hash(ids))


def get_index(geography: str = DEFAULT_GEOGRAPHY) -> QpvIndex:
    """L'index des QPV de la géographie demandée, construit une fois par processus.

    Il est reconstruit si l'ensemble des QPV à contour change (nombre ou identifiants), ou après
    :func:`clear_cache` (à appeler si des contours sont modifiés sans changer les identifiants).
    Lève :class:`GeorefError` si la géographie est inconnue ou si ses contours ne sont pas chargés.
    """
    geography = check_geography(geography)
    signature = _signature(geography)
    index = _cache.get(geography)
    if index is not None and index.signature == signature:
        return index
    with _lock:
        index = _cache.get(geography)
        if index is not None and index.signature == signature:
            return index
        index = _build_from_database(geography)
        index.signature = signature
        _cache[geography] = index
        return index


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _build_from_database(geography: str) -> QpvIndex:
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from cdv.territories.models import Territory

    # Le GeoJSON est lu comme texte et analysé par GEOS : dix fois plus rapide que json + shape().
    rows = list(
        Territory.objects.qpvs(geography)
        .filter(geometry__isnull=False)
        .annotate(geometry_text=Cast("geometry", TextField()))
        .order_by("code")
        .values_list("pk", "code", "name", "geometry_text", "geometry_repaired")
    )
    if not rows:
        total = Territory.objects.qpvs(geography).count()
        if total:
            raise GeorefError(
                f"Les contours des QPV de la géographie {geography} ne sont pas chargés "
                f"({total} QPV connus, sans contour) : impossible de situer des points dans cette géographie."
            )
        raise GeorefError(
            f"Aucun QPV de la géographie {geography} n'est chargé : lancez « manage.py load_reference_data »."
        )
    geometries = shapely.from_geojson([r[3] for r in rows])
    return QpvIndex(
        [r[1] for r in rows],
        [r[2] for r in rows],
        list(geometries),
        geography=geography,
        ids=[r[0] for r in rows],
        repaired=[r[4] for r in rows],
    )


def locate_one(lon: float, lat: float, geography: str = DEFAULT_GEOGRAPHY) -> tuple[str, str] | None:
    """(code, nom) du QPV qui contient le point WGS84 (lon, lat), ou None s'il est hors QPV.

    Ne contrôle pas les coordonnées : voir ``pipeline.locate_points`` pour le statut et la raison.
    """
    index = get_index(geography)
    i = index.locate_one(lon, lat)
    return (str(index.codes[i]), str(index.names[i])) if i >= 0 else None
