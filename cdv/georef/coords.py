"""Lecture, contrôle et conversion des coordonnées, par lots (numpy, pyarrow).

Les cellules arrivent comme des chaînes (telles que lues dans le fichier) ; chacune devient un
nombre ou une raison d'être refusée :

- vide → « manquante » ; texte qui n'est pas un nombre décimal → « non numérique » ; la virgule
  décimale française est acceptée (« 47,21 »), les espaces autour aussi ;
- WGS84 : longitude dans [-180, 180], latitude dans [-90, 90] ; un point (0, 0) est refusé ;
- longitude et latitude **inversées** : le point tel quel n'est pas en France (métropole ou
  outre-mer) mais l'est une fois les deux valeurs échangées. La ligne est refusée, pas corrigée :
  c'est presque toujours une erreur de colonnes, que la personne doit voir ;
- Lambert-93 (EPSG:2154, métropole seulement) : x et y dans l'emprise de la projection, inversion
  x/y détectée, valeurs en degrés signalées ; conversion en WGS84 par pyproj (transformation mise
  en cache, ordre x/y imposé par ``always_xy``).

Un point valide mais hors de France n'est pas refusé : il est hors QPV, avec une raison qui le dit.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Emprises (ouest, sud, est, nord) des territoires français, en degrés WGS84 ; des QPV existent en
# métropole, en Guadeloupe, à Saint-Martin, en Martinique, en Guyane, à La Réunion, à Mayotte et en
# Polynésie française (vérifié sur les contours 2024).
FRANCE_REGIONS = {
    "France métropolitaine": (-5.6, 41.2, 9.8, 51.3),
    "Guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "Saint-Martin et Saint-Barthélemy": (-63.2, 17.8, -62.7, 18.2),
    "Martinique": (-61.3, 14.35, -60.75, 14.95),
    "Guyane": (-54.7, 2.0, -51.5, 5.9),
    "La Réunion": (55.15, -21.45, 55.9, -20.8),
    "Mayotte": (44.9, -13.1, 45.35, -12.55),
    "Polynésie française": (-155.0, -28.0, -134.0, -7.0),
    "Nouvelle-Calédonie": (163.5, -22.8, 168.2, -19.5),
    "Saint-Pierre-et-Miquelon": (-56.5, 46.7, -56.1, 47.2),
    "Wallis-et-Futuna": (-178.3, -14.4, -176.1, -13.2),
}
# Contour large de la France métropolitaine et de la Corse (longitude, latitude), tracé à la main le
# long des frontières et au large des côtes, puis élargi de METROPOLE_MARGIN degrés (10 à 15 km) : il
# contient tout le territoire (îles comprises). Un point de l'emprise métropolitaine qu'il laisse dehors
# (Bruxelles, Berne, Barcelone…) est « hors de France » ; un point juste de l'autre côté d'une frontière
# peut y être compté (il est alors hors QPV, sans raison). Pas une frontière officielle.
METROPOLE_OUTLINE = [
    (2.55, 51.12), (2.63, 50.95), (2.86, 50.70), (3.15, 50.80), (3.30, 50.55), (3.60, 50.48),
    (3.75, 50.38), (4.10, 50.33), (4.20, 50.10), (4.82, 50.17), (4.87, 49.93), (5.05, 49.80),
    (5.40, 49.62), (5.82, 49.55), (6.37, 49.47), (6.60, 49.35), (6.73, 49.17), (7.00, 49.20),
    (7.43, 49.18), (7.95, 49.06), (8.23, 48.97), (7.80, 48.57), (7.57, 48.12), (7.59, 47.59),
    (7.40, 47.45), (7.00, 47.51), (6.90, 47.37), (6.45, 46.95), (6.10, 46.45), (6.30, 46.32),
    (6.80, 46.38), (6.95, 46.05), (6.86, 45.83), (7.10, 45.43), (6.93, 45.25), (6.72, 44.93),
    (6.90, 44.42), (7.00, 44.23), (7.70, 44.15), (7.53, 43.79), (7.60, 43.60), (6.60, 42.90),
    (5.00, 43.00), (3.40, 43.10), (3.30, 42.40), (2.67, 42.34), (1.93, 42.43), (1.44, 42.60),
    (1.00, 42.70), (0.70, 42.86), (0.30, 42.68), (0.00, 42.73), (-0.30, 42.84), (-0.75, 42.92),
    (-1.40, 43.03), (-1.47, 43.27), (-1.79, 43.36), (-1.90, 43.45), (-1.60, 44.60), (-2.00, 45.80),
    (-2.70, 46.60), (-3.40, 47.20), (-4.90, 47.70), (-5.30, 48.45), (-5.30, 48.60), (-3.00, 49.00),
    (-2.05, 48.80), (-1.98, 49.75), (-1.20, 49.80), (0.10, 49.75), (1.30, 50.15), (1.50, 50.75),
    (1.75, 51.00),
]  # fmt: skip
CORSICA_OUTLINE = [(8.50, 41.35), (9.35, 41.30), (9.60, 41.90), (9.60, 43.05), (9.30, 43.05), (8.50, 42.40)]
METROPOLE_MARGIN = 0.15


@functools.cache
def metropole_shape():
    """Le contour large de la métropole et de la Corse (shapely, préparé pour les tests de position)."""
    import shapely

    shape = shapely.union(
        shapely.Polygon(METROPOLE_OUTLINE).buffer(METROPOLE_MARGIN),
        shapely.Polygon(CORSICA_OUTLINE).buffer(METROPOLE_MARGIN),
    )
    shapely.prepare(shape)
    return shape


# Emprise de validité du Lambert-93 (mètres), avec une marge autour de la métropole et de la Corse.
LAMBERT93_X = (0.0, 1_300_000.0)
LAMBERT93_Y = (6_000_000.0, 7_200_000.0)

# Raisons : un code entier stable par raison (0 = aucune). Les messages sont en français.
OK = 0
MISSING_BOTH = 1
MISSING_FIRST = 2
MISSING_SECOND = 3
NOT_NUMBER_FIRST = 4
NOT_NUMBER_SECOND = 5
NOT_NUMBER_BOTH = 6
LON_RANGE = 7
LAT_RANGE = 8
SWAPPED = 9
ZERO = 10
METRES_IN_DEGREES = 11
OUTSIDE_FRANCE = 12
XY_SWAPPED = 13
DEGREES_IN_METRES = 14
XY_RANGE = 15

_LONLAT_MESSAGES = {
    MISSING_BOTH: "longitude et latitude manquantes",
    MISSING_FIRST: "longitude manquante",
    MISSING_SECOND: "latitude manquante",
    NOT_NUMBER_FIRST: "longitude non numérique (degrés décimaux attendus, par exemple -1,5536)",
    NOT_NUMBER_SECOND: "latitude non numérique (degrés décimaux attendus, par exemple 47,2184)",
    NOT_NUMBER_BOTH: "longitude et latitude non numériques (degrés décimaux attendus)",
}
_XY_MESSAGES = {
    MISSING_BOTH: "x et y manquants",
    MISSING_FIRST: "x manquant",
    MISSING_SECOND: "y manquant",
    NOT_NUMBER_FIRST: "x non numérique (mètres Lambert-93 attendus)",
    NOT_NUMBER_SECOND: "y non numérique (mètres Lambert-93 attendus)",
    NOT_NUMBER_BOTH: "x et y non numériques (mètres Lambert-93 attendus)",
}
_COMMON_MESSAGES = {
    OK: "",
    LON_RANGE: "longitude hors limites (entre -180 et 180 degrés)",
    LAT_RANGE: "latitude hors limites (entre -90 et 90 degrés)",
    SWAPPED: "longitude et latitude semblent inversées (le point n'est en France qu'une fois les deux "
    "valeurs échangées) : vérifiez l'ordre des colonnes",
    ZERO: "coordonnées nulles (0, 0)",
    METRES_IN_DEGREES: "valeurs en mètres dans des colonnes de degrés : coordonnées Lambert-93 ? "
    "choisissez alors le mode x/y",
    OUTSIDE_FRANCE: "point hors de France (métropole et outre-mer)",
    XY_SWAPPED: "x et y semblent inversés : vérifiez l'ordre des colonnes",
    DEGREES_IN_METRES: "valeurs en degrés dans des colonnes Lambert-93 : longitude et latitude ? "
    "choisissez alors le mode longitude/latitude",
    XY_RANGE: "x ou y hors de l'emprise du Lambert-93 (métropole : x de 0 à 1 300 000 m, "
    "y de 6 000 000 à 7 200 000 m)",
}
LONLAT_MESSAGES = {**_COMMON_MESSAGES, **_LONLAT_MESSAGES}
XY_MESSAGES = {**_COMMON_MESSAGES, **_XY_MESSAGES}
# Raisons qui ne refusent pas la ligne (le point est valide).
NOT_INVALID = {OK, OUTSIDE_FRANCE}

_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class Points:
    """Résultat du contrôle d'un lot : coordonnées WGS84 (NaN si refusées) et raison par ligne."""

    lon: np.ndarray
    lat: np.ndarray
    reason: np.ndarray  # int8, codes ci-dessus
    messages: dict[int, str]

    @property
    def invalid(self) -> np.ndarray:
        return (self.reason != OK) & (self.reason != OUTSIDE_FRANCE)

    def message(self, i: int) -> str:
        return self.messages[int(self.reason[i])]


# --- passerelles numpy ↔ arrow sans pandas -------------------------------------------------------
#
# ``pa.array()``, ``pa.scalar()``, ``Array.to_numpy()`` et toute fonction de ``pyarrow.compute``
# qui reçoit un scalaire Python importent pandas au premier appel (0,2 s, plus que tout le calcul
# d'un million de points). Le géoréférencement n'en a pas besoin : ces fonctions construisent les
# tableaux arrow à partir des tampons, et les scalaires sont des éléments de tableaux.


def arrow_from_numpy(values: np.ndarray) -> pa.Array:
    """Tableau numpy numérique (int32, int64, float64…) → tableau arrow, sans copie ni valeur nulle."""
    values = np.ascontiguousarray(values)
    kind = {"i": {4: pa.int32(), 8: pa.int64()}, "f": {8: pa.float64()}}[values.dtype.kind]
    return pa.Array.from_buffers(kind[values.dtype.itemsize], len(values), [None, pa.py_buffer(values)])


def arrow_strings(values) -> pa.Array:
    """Suite de chaînes Python (ou None, valeur nulle) → tableau arrow de chaînes."""
    encoded = [b"" if v is None else str(v).encode("utf-8", "replace") for v in values]
    n = len(encoded)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, n), out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError("plus de 2 Gio de texte dans un même tableau")
    valid = np.fromiter((v is not None for v in values), bool, n)
    nulls = n - int(valid.sum())
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(encoded)), bitmap, nulls
    )


def numpy_from_arrow(array: pa.Array) -> np.ndarray:
    """Tableau arrow numérique ou booléen, sans valeur nulle → tableau numpy (copie pour un booléen)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        raise ValueError("valeurs nulles : les remplacer d'abord (pc.fill_null)")
    if array.type == pa.bool_():
        array = pc.cast(array, pa.uint8())
        return numpy_from_arrow(array).astype(bool)
    dtype = np.dtype(array.type.to_pandas_dtype())
    return np.frombuffer(array.buffers()[1], dtype, count=len(array), offset=array.offset * dtype.itemsize)


EMPTY_TEXT = arrow_strings([""])[0]
NULL_TEXT = arrow_strings([None])[0]
TRUE = pc.equal(EMPTY_TEXT, EMPTY_TEXT)
FALSE = pc.invert(TRUE)
NAN = arrow_from_numpy(np.array([np.nan]))[0]


def as_string_array(values) -> pa.Array:
    """Une colonne de cellules (pyarrow, liste de chaînes, de nombres ou de None) en chaînes arrow."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return arrow_from_numpy(values.astype(np.float64)).cast(pa.string())
    return arrow_strings(values)


def parse_decimal(values) -> tuple[np.ndarray, np.ndarray]:
    """Nombres décimaux d'une colonne de texte : (valeurs float64, état).

    État : 0 nombre lu, 1 cellule vide, 2 texte qui n'est pas un nombre (NaN et infini compris).
    Chemin rapide : conversion directe par arrow ; sinon espaces retirés, virgule décimale acceptée,
    et tout ce qui ne ressemble pas à un nombre décimal est refusé, sans exception.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        numbers = values.astype(np.float64, copy=False)
        state = np.where(np.isnan(numbers), 1, np.where(np.isfinite(numbers), 0, 2)).astype(np.int8)
        return numbers, state
    array = as_string_array(values)
    numbers = None
    if array.null_count == 0:
        try:
            numbers = numpy_from_arrow(pc.cast(array, pa.float64()))
        except pa.ArrowInvalid:
            numbers = None
    if numbers is not None:
        state = np.zeros(len(numbers), np.int8)
        if not np.isfinite(numbers).all():
            bad = ~np.isfinite(numbers)
            state[bad] = 2
            numbers = np.where(bad, np.nan, numbers)
        return numbers, state
    text = pc.utf8_trim_whitespace(array)
    empty = numpy_from_arrow(pc.fill_null(pc.equal(text, EMPTY_TEXT), TRUE))
    text = pc.replace_substring(text, ",", ".")
    looks_numeric = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), FALSE)
    numbers = pc.cast(pc.if_else(looks_numeric, text, NULL_TEXT), pa.float64())
    numbers = numpy_from_arrow(pc.fill_null(numbers, NAN)).astype(np.float64)
    state = np.where(empty, 1, np.where(np.isfinite(numbers), 0, 2)).astype(np.int8)
    numbers[state != 0] = np.nan
    return numbers, state


def in_france(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Vrai pour les points dans l'emprise d'un territoire français (métropole ou outre-mer)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    regions = iter(FRANCE_REGIONS.values())
    west, south, east, north = next(regions)  # la métropole d'abord : le cas courant
    with np.errstate(invalid="ignore"):
        result = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        inside_box = np.flatnonzero(result)
        if inside_box.size:  # l'emprise contient aussi des pays voisins : le contour tranche
            import shapely

            result[inside_box] = shapely.contains_xy(metropole_shape(), lon[inside_box], lat[inside_box])
        rest = np.flatnonzero(~result)
        if rest.size:
            lon, lat = lon[rest], lat[rest]
            found = np.zeros(rest.size, bool)
            for west, south, east, north in regions:
                found |= (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
            result[rest] = found
    return result


def _missing_reasons(state_a: np.ndarray, state_b: np.ndarray) -> np.ndarray:
    reason = np.zeros(len(state_a), np.int8)
    reason[(state_a == 2) & (state_b == 2)] = NOT_NUMBER_BOTH
    reason[(state_a == 2) & (state_b != 2)] = NOT_NUMBER_FIRST
    reason[(state_a != 2) & (state_b == 2)] = NOT_NUMBER_SECOND
    reason[(state_a == 1) & (state_b != 1)] = MISSING_FIRST
    reason[(state_a != 1) & (state_b == 1)] = MISSING_SECOND
    reason[(state_a == 1) & (state_b == 1)] = MISSING_BOTH
    return reason


def check_lonlat(lon_values, lat_values) -> Points:
    """Contrôle des colonnes longitude et latitude (degrés décimaux WGS84)."""
    lon, state_lon = parse_decimal(lon_values)
    lat, state_lat = parse_decimal(lat_values)
    reason = _missing_reasons(state_lon, state_lat)
    numeric = reason == OK
    return _check_degrees(lon, lat, reason, numeric, LONLAT_MESSAGES)


def _check_degrees(lon, lat, reason, numeric, messages) -> Points:
    """Raisons des points lus mais pas en France : hors limites, en mètres, (0, 0), inversés."""
    odd = np.flatnonzero(numeric & ~in_france(lon, lat))
    if odd.size:
        lo, la = lon[odd], lat[odd]
        sub = np.full(odd.size, OUTSIDE_FRANCE, np.int8)
        sub[~((la >= -90) & (la <= 90))] = LAT_RANGE
        sub[~((lo >= -180) & (lo <= 180))] = LON_RANGE
        sub[(np.abs(lo) > 1000) | (np.abs(la) > 1000)] = METRES_IN_DEGREES
        sub[(lo == 0) & (la == 0)] = ZERO
        sub[in_france(la, lo)] = SWAPPED
        reason[odd] = sub
        bad = odd[(sub != OUTSIDE_FRANCE)]
        if bad.size:
            lon, lat = lon.copy(), lat.copy()
            lon[bad] = lat[bad] = np.nan
    return Points(lon=lon, lat=lat, reason=reason, messages=messages)


_local = threading.local()


def lambert93_transformer():
    """Transformation Lambert-93 → WGS84 (x, y → longitude, latitude), une par fil, gardée en cache."""
    transformer = getattr(_local, "transformer", None)
    if transformer is None:
        from pyproj import Transformer

        transformer = _local.transformer = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    return transformer


def lambert93_to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 (mètres) → longitude, latitude WGS84 (degrés) ; NaN reste NaN."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lon, lat = lambert93_transformer().transform(x, y)
    return np.asarray(lon, np.float64), np.asarray(lat, np.float64)


def check_xy(x_values, y_values) -> Points:
    """Contrôle des colonnes x et y (Lambert-93, mètres) et conversion en WGS84."""
    x, state_x = parse_decimal(x_values)
    y, state_y = parse_decimal(y_values)
    reason = _missing_reasons(state_x, state_y)
    numeric = reason == OK
    (x_min, x_max), (y_min, y_max) = LAMBERT93_X, LAMBERT93_Y
    with np.errstate(invalid="ignore"):
        x_ok = (x >= x_min) & (x <= x_max)
        y_ok = (y >= y_min) & (y <= y_max)
        swapped = numeric & ~(x_ok & y_ok) & (y >= x_min) & (y <= x_max) & (x >= y_min) & (x <= y_max)
        degrees = numeric & (np.abs(x) <= 180) & (np.abs(y) <= 180)
    reason[numeric & ~(x_ok & y_ok)] = XY_RANGE
    reason[degrees] = DEGREES_IN_METRES
    reason[swapped] = XY_SWAPPED
    good = reason == OK
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    if good.any():
        lon[good], lat[good] = lambert93_to_wgs84(x[good], y[good])
    with np.errstate(invalid="ignore"):
        reason[good & ~in_france(lon, lat)] = OUTSIDE_FRANCE
    return Points(lon=lon, lat=lat, reason=reason, messages=XY_MESSAGES)
