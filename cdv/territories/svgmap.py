"""Carte statique en SVG, calculée côté serveur : la page d'accueil montre les QPV sans JavaScript.

Projection équirectangulaire centrée sur la zone (longitudes multipliées par le cosinus de la
latitude moyenne) : à l'échelle d'une métropole, la déformation est invisible.
"""

import math
from dataclasses import dataclass, field

WIDTH = 640
MARGIN = 6


@dataclass
class Shape:
    code: str
    name: str
    path: str


@dataclass
class SvgMap:
    width: int
    height: int
    background: list[Shape] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)


def _rings(geometry):
    kind = (geometry or {}).get("type")
    if kind == "Polygon":
        yield from geometry["coordinates"]
    elif kind == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon


def _bounds(territories):
    xs, ys = [], []
    for t in territories:
        for ring in _rings(t.geometry):
            xs.extend(p[0] for p in ring)
            ys.extend(p[1] for p in ring)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def build_map(shapes, background=(), width: int = WIDTH) -> SvgMap | None:
    """``shapes`` (QPV) par-dessus ``background`` (communes) ; None sans aucune géométrie."""
    shapes, background = list(shapes), list(background)
    bounds = _bounds(background + shapes)
    if bounds is None:
        return None
    min_x, min_y, max_x, max_y = bounds
    cos = math.cos(math.radians((min_y + max_y) / 2))
    span_x = max((max_x - min_x) * cos, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    scale = (width - 2 * MARGIN) / span_x
    height = round(span_y * scale + 2 * MARGIN)

    def path(geometry):
        parts = []
        for ring in _rings(geometry):
            points = [
                f"{MARGIN + (x - min_x) * cos * scale:.1f} {MARGIN + (max_y - y) * scale:.1f}"
                for x, y in ring
            ]
            if len(points) > 2:
                parts.append("M" + " L".join(points) + " Z")
        return " ".join(parts)

    return SvgMap(
        width=width,
        height=height,
        background=[Shape(t.code, t.name, path(t.geometry)) for t in background if t.geometry],
        shapes=[Shape(t.code, t.name, path(t.geometry)) for t in shapes if t.geometry],
    )
