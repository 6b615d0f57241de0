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
Une grille à deux niveaux, calculée une fois (puis gardée dans le processus et sur disque, voir
``get_index``) : des cases grossières de 0,1° et, dans chacune de celles qui touchent un QPV,
32 × 32 cases fines de 0,003125° (environ 350 m × 240 m en métropole). Chaque case fine est
classée une fois pour toutes, à partir d'une case légèrement agrandie (1e-9°, pour absorber les
arrondis du calcul de la case d'un point) :

- vide : aucun QPV ne la touche → tout point qui y tombe est hors QPV ;
- pleine : un seul QPV la touche et la recouvre entièrement → tout point est dans ce QPV ;
- frontière : la liste des QPV qui la touchent, triée par code.

Ce classement ne demande un test GEOS que pour les cases que le contour approche sans y avoir de
sommet (environ une case touchée sur huit) : les autres se déduisent des segments et des sommets du
contour, et du centre de la case (même résultat que GEOS, voir ``QpvIndex._classify_cells``).

La recherche d'un lot de points est alors un calcul d'indices et deux lectures de tableaux numpy ;
seuls les points des cases frontière (une petite fraction) sont testés exactement contre les
contours préparés de leurs candidats (``shapely.intersects_xy``), en un seul appel vectorisé.
Le résultat est identique à un test « covers » de chaque point contre chaque contour (voir les
tests, qui le vérifient sur 100 000 points tirés au hasard).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely

COARSE_STEP = 0.1  # degrés
FINE_PER_COARSE = 32  # cases fines par côté de case grossière (puissance de 2)
CELL_EPSILON = 1e-9  # agrandissement des cases fines au classement, en degrés
GEOGRAPHIES = ("2024", "2015")
DEFAULT_GEOGRAPHY = "2024"

logger = logging.getLogger(__name__)


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
        grid: dict | None = None,
    ):
        """``grid`` : la grille déjà calculée (:meth:`grid_arrays`, lue du cache sur disque), qui
        dispense de la construire ; elle est contrôlée (tailles, bornes des indices) et ``ValueError``
        est levée si elle ne convient pas à ces contours."""
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
        self.fingerprint = ""  # empreinte des contours (cache sur disque), voir _fingerprint
        self._geos_lock = threading.Lock()
        # Ce que d'autres modules déduisent de l'index seul (cellules de sortie du writer…), gardé ici.
        self.derived: dict = {}
        shapely.prepare(self.geometries)
        if grid is not None:
            self._set_grid(grid, fine_per_coarse)
        else:
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

        # Toutes les cases fines de l'emprise de chaque QPV : touchées par le QPV ? recouvertes ?
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
        touching, covered = self._classify_cells(owners, mx, my, (gx0, gx1, gy0, gy1, width, counts))
        owners, mx, my, covered = owners[touching], mx[touching], my[touching], covered[touching]
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
        self.used = used.astype(np.int64)
        self.stats = {
            "qpv": n,
            "blocs": len(used),
            "cases_pleines": int(solid.sum()),
            "cases_frontiere": len(boundary),
        }

    def _classify_cells(self, owners, mx, my, frames) -> tuple[np.ndarray, np.ndarray]:
        """Pour chaque case ``(mx[i], my[i])`` de l'emprise du QPV ``owners[i]`` : le QPV touche-t-il
        la case agrandie de CELL_EPSILON (``intersects``), la recouvre-t-il (``covers``) ?

        Même réponse qu'un test GEOS de chaque case, avec bien moins d'appels :

        - une case qu'aucun segment du contour n'approche (emprise du segment, agrandie, disjointe de
          la case agrandie) est entièrement dedans ou entièrement dehors : son centre le dit ;
        - une case dont un sommet du contour est nettement à l'intérieur est touchée, et pas
          recouverte (le bord du QPV la traverse) ;
        - les autres cases approchées par le contour (un segment passe près d'un coin, le long d'un
          bord…) sont testées par GEOS, comme avant.
        """
        geometries, fine, x0, y0, eps = self.geometries, self.fine_step, self.x0, self.y0, CELL_EPSILON
        gx0, gx1, gy0, gy1, width, counts = frames
        start = np.cumsum(counts) - counts  # première case de chaque QPV dans owners/mx/my

        def slot(owner, cx, cy):
            return start[owner] + (cy - gy0[owner]) * width[owner] + (cx - gx0[owner])

        near = np.ones(len(owners), bool)
        crossed = np.zeros(len(owners), bool)
        types = shapely.get_type_id(geometries)
        if len(geometries) and np.isin(types, (3, 6)).all():  # Polygon, MultiPolygon
            # Sommets de tous les anneaux, d'un bloc (sans créer de géométrie par partie ou anneau).
            # Que des Polygon : deux tableaux de bornes (anneaux, polygones) ; sinon trois (et les parties).
            _, xy, ends = shapely.to_ragged_array(geometries)
            vertex_owner = np.arange(len(geometries))
            for bounds_of in reversed(ends):  # des géométries vers les parties, anneaux, sommets
                vertex_owner = np.repeat(vertex_owner, np.diff(bounds_of))
            vertex_ring = np.repeat(np.arange(len(ends[0]) - 1), np.diff(ends[0]))
            # Cases approchées par un segment (marge double de CELL_EPSILON : par excès).
            first = np.flatnonzero(vertex_ring[1:] == vertex_ring[:-1])
            so = vertex_owner[first]
            ax, ay, bx, by = xy[first, 0], xy[first, 1], xy[first + 1, 0], xy[first + 1, 1]
            margin = 2 * eps
            sx0 = np.maximum(np.floor((np.minimum(ax, bx) - x0 - margin) / fine).astype(np.int64), gx0[so])
            sx1 = np.minimum(np.floor((np.maximum(ax, bx) - x0 + margin) / fine).astype(np.int64), gx1[so])
            sy0 = np.maximum(np.floor((np.minimum(ay, by) - y0 - margin) / fine).astype(np.int64), gy0[so])
            sy1 = np.minimum(np.floor((np.maximum(ay, by) - y0 + margin) / fine).astype(np.int64), gy1[so])
            sw = sx1 - sx0 + 1
            sc = sw * (sy1 - sy0 + 1)
            near[:] = False
            one = sc == 1  # le plus souvent : un segment court, dans une seule case
            near[slot(so[one], sx0[one], sy0[one])] = True
            many = np.flatnonzero(sc > 1)
            repeat = sc[many]
            mo, ml, mw = np.repeat(so[many], repeat), _ranges(repeat), np.repeat(sw[many], repeat)
            mcx = np.repeat(sx0[many], repeat) + ml % mw
            near[slot(mo, mcx, np.repeat(sy0[many], repeat) + ml // mw)] = True
            # Sommets nettement à l'intérieur d'une case (1e-6 case de marge : loin des arrondis).
            fx, fy = (xy[:, 0] - x0) / fine, (xy[:, 1] - y0) / fine
            cx, cy = np.floor(fx), np.floor(fy)
            tol = 1e-6
            inner = (fx - cx > tol) & (cx + 1 - fx > tol) & (fy - cy > tol) & (cy + 1 - fy > tol)
            cx, cy = cx.astype(np.int64), cy.astype(np.int64)
            vo = vertex_owner
            inner &= (cx >= gx0[vo]) & (cx <= gx1[vo]) & (cy >= gy0[vo]) & (cy <= gy1[vo])
            v = np.flatnonzero(inner)
            crossed[slot(vo[v], cx[v], cy[v])] = True
        touching = crossed.copy()
        covered = np.zeros(len(owners), bool)
        far = np.flatnonzero(~near)
        inside = shapely.intersects_xy(
            geometries[owners[far]], x0 + (mx[far] + 0.5) * fine, y0 + (my[far] + 0.5) * fine
        )
        touching[far[inside]] = covered[far[inside]] = True
        rest = np.flatnonzero(near & ~crossed)
        boxes = shapely.box(
            x0 + mx[rest] * fine - eps,
            y0 + my[rest] * fine - eps,
            x0 + (mx[rest] + 1) * fine + eps,
            y0 + (my[rest] + 1) * fine + eps,
        )
        hit = shapely.intersects(geometries[owners[rest]], boxes)
        touching[rest[hit]] = True
        covered[rest[hit]] = shapely.covers(geometries[owners[rest[hit]]], boxes[hit])
        return touching, covered

    # --- grille en tableaux (cache sur disque) ------------------------------------------------

    def grid_arrays(self) -> dict[str, np.ndarray]:
        """La grille en tableaux numpy simples (aucun objet Python) : de quoi la recréer sans calcul."""
        scalars = [self.x0, self.y0, self.fine_step]
        sizes = [self.k, self.nx_coarse, self.ny_coarse, len(self.geometries)]
        sizes += [self.stats.get(key, 0) for key in ("cases_pleines", "cases_frontiere")]
        return {
            "grid_scalars": np.array(scalars, np.float64),
            "grid_sizes": np.array(sizes, np.int64),
            "used": np.asarray(getattr(self, "used", np.zeros(0, np.int64)), np.int64),
            "blocks": self.blocks,
            "cand_ptr": self.cand_ptr,
            "cand_idx": self.cand_idx,
        }

    def _set_grid(self, grid: dict, k: int) -> None:
        """Grille reprise de :meth:`grid_arrays`, contrôlée : un fichier abîmé lève ValueError."""
        n = len(self.geometries)
        x0, y0, fine = (float(v) for v in np.asarray(grid["grid_scalars"], np.float64))
        k_saved, nx, ny, n_saved, solid, boundary = (int(v) for v in np.asarray(grid["grid_sizes"]))
        used = np.asarray(grid["used"], np.int64)
        blocks = np.ascontiguousarray(grid["blocks"], np.int32)
        cand_ptr = np.ascontiguousarray(grid["cand_ptr"], np.int64)
        cand_idx = np.ascontiguousarray(grid["cand_idx"], np.int32)
        if k_saved != k or n_saved != n or n == 0 or not (nx > 0 and ny > 0 and fine > 0):
            raise ValueError("grille : paramètres différents")
        if not (math.isfinite(x0) and math.isfinite(y0)) or nx * k >= 2**31 or ny * k >= 2**31:
            raise ValueError("grille : origine ou taille invalide")
        if used.ndim != 1 or blocks.shape != (len(used) * k * k,) or len(used) * k * k >= 2**31:
            raise ValueError("grille : blocs incohérents")
        if used.size and (used.min() < 0 or used.max() >= nx * ny or (np.diff(used) <= 0).any()):
            raise ValueError("grille : cases grossières hors limites")
        lists = len(cand_ptr) - 1
        if lists < 0 or cand_ptr[0] != 0 or cand_ptr[-1] != len(cand_idx) or (np.diff(cand_ptr) <= 0).any():
            raise ValueError("grille : listes de candidats incohérentes")
        if cand_idx.size and (cand_idx.min() < 0 or cand_idx.max() >= n):
            raise ValueError("grille : candidat hors limites")
        if blocks.size and (blocks.min() < -1 - lists or blocks.max() >= n):
            raise ValueError("grille : case hors limites")
        self.k, self.shift = k, k.bit_length() - 1
        self.fine_step, self.inv_fine = fine, 1.0 / fine
        self.x0, self.y0 = x0, y0
        self.nx_coarse, self.ny_coarse = nx, ny
        self.nx_fine, self.ny_fine = nx * k, ny * k
        self.coarse = np.full(nx * ny, -1, np.int32)
        self.coarse[used] = np.arange(len(used), dtype=np.int32)
        self.used, self.blocks, self.cand_ptr, self.cand_idx = used, blocks, cand_ptr, cand_idx
        self.stats = {"qpv": n, "blocs": len(used), "cases_pleines": solid, "cases_frontiere": boundary}

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


# --- index par géographie : en cache dans le processus, et sur disque entre deux processus ------------
#
# Construire l'index demande 0,13 s (analyse des 1 584 contours GeoJSON, classement des cases) ;
# le relire du disque, quelques millisecondes. Le fichier (``GEOREF_CACHE_DIR``, un par géographie
# et par état des contours) porte dans son nom une empreinte de tout ce qui fait l'index : code,
# nom, identifiant, drapeau « réparé » et MD5 du texte GeoJSON de chaque QPV (calculé par la base :
# le contour lui-même n'est lu que pour construire), réglages de la grille, version de GEOS et du
# format. Un contour modifié change l'empreinte : l'ancien fichier n'est plus
# lu. Le fichier est écrit à côté puis renommé (jamais lu à moitié écrit) ; illisible ou
# incohérent, il est ignoré, effacé et l'index reconstruit. Aucun objet Python n'y est lu
# (``allow_pickle=False``) : un fichier altéré ne peut pas exécuter de code.

CACHE_FORMAT = "cdv-georef-index-1"
CACHE_KEEP = 4  # fichiers gardés par géographie (plusieurs bases sur une machine : tests, banc…)

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
    Un nouveau processus relit l'index du cache sur disque (``GEOREF_CACHE_DIR``) si les contours
    n'ont pas changé depuis qu'il a été écrit, sinon le construit et l'y écrit.
    Lève :class:`GeorefError` si la géographie est inconnue ou si ses contours ne sont pas chargés.
    """
    geography = check_geography(geography)
    index = _cache.get(geography)
    if index is not None and index.signature == _signature(geography):
        return index
    with _lock:
        index = _cache.get(geography)
        if index is not None and index.signature == _signature(geography):
            return index
        index = _build_from_database(geography)
        _cache[geography] = index
        return index


def clear_cache() -> None:
    """Oublie les index gardés dans le processus (le cache sur disque, lui, se vérifie seul)."""
    with _lock:
        _cache.clear()


def _qpv_rows(geography: str, *, geometry: bool) -> list[tuple]:
    """(pk, code, nom, contour, réparé) des QPV à contour, triés par code.

    ``contour`` : le texte GeoJSON (``geometry=True``), ou son empreinte MD5 calculée par la base
    (``geometry=False`` : 50 Ko au lieu de 4 Mo, de quoi reconnaître le cache sur disque).
    """
    from django.db.models import TextField
    from django.db.models.functions import MD5, Cast

    from cdv.territories.models import Territory

    text = Cast("geometry", TextField())
    rows = list(
        Territory.objects.qpvs(geography)
        .filter(geometry__isnull=False)
        .annotate(contour=text if geometry else MD5(text))
        .order_by("code", "pk")
        .values_list("pk", "code", "name", "contour", "geometry_repaired")
    )
    rows.sort(key=lambda row: str(row[1]))  # l'ordre de QpvIndex, quel que soit le classement SQL
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
    return rows


def _with_md5(rows: list[tuple]) -> list[tuple]:
    """Les lignes (pk, code, nom, texte GeoJSON, réparé) avec l'empreinte MD5 du texte à sa place,
    calculée comme la base (UTF-8), pour l'empreinte de l'index."""
    return [
        (pk, code, name, hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(), rep)
        for pk, code, name, text, rep in rows
    ]


def _fingerprint(geography: str, rows: list[tuple]) -> str:
    """Empreinte de tout ce dont dépend l'index : contours (leur MD5), codes, noms, identifiants,
    drapeaux « réparé », réglages de la grille, version de GEOS et du format du fichier."""
    digest = hashlib.blake2b(digest_size=16)
    settings = (CACHE_FORMAT, geography, COARSE_STEP, FINE_PER_COARSE, CELL_EPSILON, shapely.geos_version)
    digest.update(repr(settings).encode())
    for pk, code, name, md5, repaired in rows:
        digest.update(f"\x1e{pk}\x1f{code}\x1f{name}\x1f{int(bool(repaired))}\x1f{md5}".encode())
    return digest.hexdigest()


def cache_directory() -> Path | None:
    """Le dossier du cache sur disque (réglage ``GEOREF_CACHE_DIR``), ou None s'il est désactivé.

    Ce cache reste sur le disque local de chaque serveur, hors du stockage partagé : chacun le
    reconstruit seul depuis la base, aucun autre serveur n'en a besoin."""
    from django.conf import settings

    if not settings.configured:
        return None
    directory = getattr(settings, "GEOREF_CACHE_DIR", None)
    return Path(directory) if directory else None


def cache_path(directory: Path, geography: str, fingerprint: str) -> Path:
    return directory / f"qpv-{geography}-{fingerprint}.npz"


def _build_from_database(geography: str) -> QpvIndex:
    directory = cache_directory()
    index = None
    if directory:
        keys = _qpv_rows(geography, geometry=False)
        fingerprint = _fingerprint(geography, keys)
        index = _read_cache(cache_path(directory, geography, fingerprint), geography, fingerprint, keys)
    if index is None:
        rows = _qpv_rows(geography, geometry=True)
        keys = _with_md5(rows)  # l'empreinte de ce qui est construit, même si la base a changé entre-temps
        fingerprint = _fingerprint(geography, keys)
        # GEOS analyse le GeoJSON : quatre fois plus rapide que json + shape().
        geometries = shapely.from_geojson([r[3] for r in rows])
        index = _new_index(geography, rows, list(geometries))
        if directory:
            _write_cache(cache_path(directory, geography, fingerprint), index, fingerprint)
    index.fingerprint = fingerprint
    ids = tuple(sorted(r[0] for r in keys))
    index.signature = (len(ids), hash(ids))
    return index


def _new_index(geography: str, rows: list[tuple], geometries, grid: dict | None = None) -> QpvIndex:
    return QpvIndex(
        [r[1] for r in rows],
        [r[2] for r in rows],
        geometries,
        geography=geography,
        ids=[r[0] for r in rows],
        repaired=[r[4] for r in rows],
        grid=grid,
    )


def _read_cache(path: Path, geography: str, fingerprint: str, rows: list[tuple]) -> QpvIndex | None:
    """L'index relu du disque ; None si le fichier manque, ou s'il est abîmé (il est alors effacé)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        return None
    except Exception as error:  # noqa: BLE001 - un fichier abîmé fait échouer zipfile/numpy de bien des façons
        return _drop_cache(path, error)
    try:
        meta = [str(v) for v in arrays["meta"]]
        if meta != [CACHE_FORMAT, geography, fingerprint]:
            raise ValueError(f"en-tête inattendu {meta[:3]}")
        data, offsets = arrays["wkb"], np.asarray(arrays["wkb_offsets"], np.int64)
        if (
            data.dtype != np.uint8
            or offsets.shape != (len(rows) + 1,)
            or offsets[0] != 0
            or offsets[-1] != data.size
            or (np.diff(offsets) <= 0).any()
        ):
            raise ValueError("contours incohérents")
        raw = data.tobytes()
        wkb = np.empty(len(rows), dtype=object)
        wkb[:] = [raw[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
        geometries = shapely.from_wkb(wkb)
        if shapely.is_missing(geometries).any():
            raise ValueError("contour manquant")
        return _new_index(geography, rows, list(geometries), grid=arrays)
    except Exception as error:  # noqa: BLE001 - idem : toute incohérence fait reconstruire l'index
        return _drop_cache(path, error)


def _drop_cache(path: Path, error: Exception) -> None:
    logger.warning("Cache de l'index des QPV illisible (%s : %s) : reconstruit.", path, error)
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
    return None


def _write_cache(path: Path, index: QpvIndex, fingerprint: str) -> None:
    """Écrit l'index (contours en WKB, grille) à côté, puis renomme ; un échec n'arrête rien."""
    wkb = shapely.to_wkb(index.geometries)
    lengths = np.fromiter((len(w) for w in wkb), np.int64, len(wkb))
    payload = {
        "meta": np.array([CACHE_FORMAT, index.geography, fingerprint]),
        "wkb": np.frombuffer(b"".join(wkb), np.uint8),
        "wkb_offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        **index.grid_arrays(),
    }
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".qpv-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    except OSError as error:
        logger.warning("Cache de l'index des QPV non écrit (%s : %s).", path, error)
        return
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    _prune_cache(path)


def _prune_cache(path: Path) -> None:
    """Garde les CACHE_KEEP fichiers les plus récents de la géographie ; efface les écritures interrompues."""
    prefix = path.name.rsplit("-", 1)[0] + "-"
    now = time.time()
    try:
        entries = [(e.stat().st_mtime, Path(e.path)) for e in os.scandir(path.parent) if e.is_file()]
    except OSError:
        return
    ours = sorted(
        (e for e in entries if e[1].name.startswith(prefix) and e[1].suffix == ".npz"), reverse=True
    )
    stale = [p for m, p in entries if p.name.startswith(".qpv-") and p.suffix == ".tmp" and now - m > 3600]
    for old in [p for _, p in ours[CACHE_KEEP:] if p != path] + stale:
        try:
            old.unlink(missing_ok=True)
        except OSError:
            pass


def locate_one(lon: float, lat: float, geography: str = DEFAULT_GEOGRAPHY) -> tuple[str, str] | None:
    """(code, nom) du QPV qui contient le point WGS84 (lon, lat), ou None s'il est hors QPV.

    Ne contrôle pas les coordonnées : voir ``pipeline.locate_points`` pour le statut et la raison.
    """
    index = get_index(geography)
    i = index.locate_one(lon, lat)
    return (str(index.codes[i]), str(index.names[i])) if i >= 0 else None
