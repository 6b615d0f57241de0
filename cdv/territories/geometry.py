"""Géométries GeoJSON : réparation, validité, emprise (shapely 2)."""

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape


def _polygons(geom):
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    if hasattr(geom, "geoms"):  # GeometryCollection issue de make_valid
        return [p for part in geom.geoms for p in _polygons(part)]
    return []  # lignes et points résiduels : sans surface, ignorés


def repair(geojson: dict) -> tuple[dict, bool]:
    """Renvoie un MultiPolygon GeoJSON valide et l'indication qu'il a fallu le réparer.

    Les coordonnées arrondies du fichier source produisent des auto-intersections ;
    ``make_valid`` les corrige, puis on ne garde que les parties surfaciques. Les anneaux sortent
    orientés selon la RFC 7946 (``conform``), pour que chaque sortie GeoJSON soit conforme.
    """
    geom, repaired = repaired_shape(geojson)
    return mapping(geom), repaired


def repaired_shape(geojson: dict) -> tuple[MultiPolygon, bool]:
    """``repair``, en objet shapely (MultiPolygon conforme à la RFC 7946) plutôt qu'en GeoJSON."""
    geom = shape(geojson)
    repaired = not geom.is_valid
    if repaired:
        geom = shapely.make_valid(geom)
    polygons = _polygons(geom)
    if not polygons:
        raise ValueError("la géométrie ne contient aucune surface")
    result = MultiPolygon(polygons)
    if not result.is_valid:  # parties réparées qui se touchent : on les fusionne
        result = shapely.make_valid(result)
        polygons = _polygons(result)
        result = MultiPolygon(polygons)
        repaired = True
    return conform(result), repaired


def multipolygon_dict(geom: MultiPolygon) -> dict:
    """Le GeoJSON d'un MultiPolygon en dictionnaires et listes : ce que donne
    ``to_geojson_dict(mapping(geom))``, sans passer par des tuples puis par un texte JSON."""
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [shapely.get_coordinates(ring).tolist() for ring in (polygon.exterior, *polygon.interiors)]
            for polygon in geom.geoms
        ],
    }


def conform(geom):
    """Écrit les anneaux comme le veut la RFC 7946 : extérieur dans le sens antihoraire, trous dans
    le sens horaire (règle de la main droite), sans sommet répété deux fois de suite. La surface ne
    change pas : seuls l'ordre et les doublons des sommets changent."""
    return shapely.orient_polygons(shapely.remove_repeated_points(geom), exterior_cw=False)


def conform_geojson(geojson: dict) -> dict:
    """``conform`` sur un MultiPolygon GeoJSON déjà chargé (sans autre réparation)."""
    return to_geojson_dict(mapping(conform(shape(geojson))))


def to_geojson_dict(geojson: dict) -> dict:
    """Normalise en dictionnaires/listes (mapping() renvoie des tuples)."""
    import json

    return json.loads(json.dumps(geojson))


def bbox(geojson: dict) -> list[float]:
    return [round(v, 6) for v in shape(geojson).bounds]


def geometry_error(geojson) -> str:
    """Message d'erreur français, ou chaîne vide si le GeoJSON est une surface valide."""
    try:
        geom = shape(geojson)
    except Exception as error:  # noqa: BLE001 - toute erreur de lecture devient un message
        return f"GeoJSON illisible : {error}"
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        return f"Un contour doit être un Polygon ou un MultiPolygon (reçu : {geom.geom_type})."
    if not geom.is_valid:
        return f"Contour invalide : {shapely.is_valid_reason(geom)}."
    return ""
