"""Graphiques en SVG rendus côté serveur : une seule définition pour les pages et les PDF.

Chaque graphique fournit aussi son tableau de données et une phrase d'alternative textuelle : le
SVG est décoratif pour qui ne le voit pas, l'information est dans le tableau.

Les périodes se rangent dans l'ordre chronologique (``computations.period_sort_key``), quelles que
soient les valeurs manquantes. Un point sans nombre dit pourquoi : ``None`` (aucune valeur), ``SECRET``
(« s », secret statistique) ou ``Refused(motif)`` (un ensemble des QPV non calculable et son motif).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from django.utils.html import format_html

from cdv.core.figures import french_number

from .computations import at_period, period_name, period_sort_key

PALETTE = ["#0b5d7a", "#b04a00", "#3b7d23", "#6b3fa0", "#8a6d00"]  # contrastés sur fond blanc

# Le dessin porte ses attributs de présentation (taille et couleur du texte, trait du quadrillage) :
# WeasyPrint n'applique pas la feuille de style du document à l'intérieur d'un SVG, et une page et un
# PDF doivent montrer le même graphique.
TICK_SIZE, LEGEND_SIZE, LINE_HEIGHT, LEGEND_ROW = 12, 13, 13, 18
TICK = f'class="tick" font-size="{TICK_SIZE}" fill="#3d4750"'
LEGEND = f'class="legend" font-size="{LEGEND_SIZE}" fill="#1b1b1f"'
GRID = 'class="grid" stroke="#d5dde1" stroke-width="1"'
PANEL = f'class="legend" font-size="{TICK_SIZE}" fill="#1b1b1f"'  # titre d'un petit graphique
# Largeur moyenne d'un caractère, en fraction de la taille du texte : un peu plus que celle de DejaVu
# Sans (la police des PDF) et des polices sans empattement des navigateurs, pour ne jamais déborder.
CHAR_EM = 0.6


def text_width(text: str, size: int) -> float:
    """Largeur estimée d'un texte (unités du graphique)."""
    return len(text) * size * CHAR_EM


def wrap_label(label: str, *, width: float, size: int, lines: int = 2) -> list[str]:
    """Le libellé coupé entre les mots en au plus ``lines`` lignes d'une largeur estimée d'au plus
    ``width`` ; ce qui ne tient pas est remplacé par « … » à la fin de la dernière ligne. Le libellé
    entier reste dans le tableau des données et dans l'alternative textuelle."""
    most = max(2, int(width / (size * CHAR_EM)))  # caractères par ligne
    rows, current = [], ""
    for word in label.split():
        if len(word) > most:
            word = word[: most - 1] + "…"
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= most:
            current = candidate
        else:
            rows.append(current)
            current = word
    if current:
        rows.append(current)
    if len(rows) > lines:
        rows = rows[:lines]
        last = rows[-1]
        while len(last) + 1 > most and " " in last:
            last = last.rsplit(" ", 1)[0]
        rows[-1] = last[: most - 1] + "…"
    return rows


def _lines_svg(x: float, baselines: list[float], rows: list[str]) -> str:
    """Les lignes d'un libellé (``tspan``), une par ligne de base."""
    return "".join(
        f'<tspan x="{x:.1f}" y="{y:.1f}">{escape(row)}</tspan>'
        for y, row in zip(baselines, rows, strict=True)
    )


@dataclass(frozen=True)
class Refused:
    """Pas de nombre à montrer, et pourquoi (secret statistique, « 14 QPV sur 15 »…)."""

    reason: str
    secret: bool = False


SECRET = Refused("secret statistique", secret=True)
SECRET_CELL = format_html('<abbr title="{}">s</abbr>', "secret statistique")


def cell(value) -> str:
    """Une case de tableau : le nombre, « s » (secret statistique expliqué), le motif du refus, ou —."""
    if isinstance(value, Refused):
        return SECRET_CELL if value.secret else f"non calculé : {value.reason}"
    return "—" if value is None else french_number(value)


def said(value, unit: str) -> str:
    """Un point dit en toutes lettres, pour l'alternative textuelle."""
    if isinstance(value, Refused):
        return value.reason if value.secret else f"non calculé ({value.reason})"
    return "aucune valeur" if value is None else french_number(value, unit)


def is_number(value) -> bool:
    return value is not None and not isinstance(value, Refused)


def ordered(points):
    return sorted(points, key=lambda point: period_sort_key(point[0]))


def _all_periods(point_lists) -> list[str]:
    return sorted({period for points in point_lists for period, _ in points}, key=period_sort_key)


def describe(points, unit: str) -> str:
    """La première valeur connue et la dernière période : « 40 % en 2022, 38 % en 2024 ».

    Une dernière période sans nombre se dit comme telle (« secret statistique en 2024 ») : jamais la
    valeur précédente répétée.
    """
    points = ordered(points)
    known = [(p, v) for p, v in points if is_number(v)]
    if not known:
        told = [(p, v) for p, v in points if isinstance(v, Refused)]
        if told:
            return ", ".join(f"{said(v, unit)} {at_period(p)}" for p, v in told[-2:])
        return "aucune valeur"
    first = known[0]
    last = next((point for point in reversed(points) if point[1] is not None), first)
    if last[0] == first[0]:
        return f"{said(first[1], unit)} {at_period(first[0])}"
    return f"{said(first[1], unit)} {at_period(first[0])}, {said(last[1], unit)} {at_period(last[0])}"


@dataclass
class Series:
    label: str
    points: list[tuple[str, Decimal | Refused | None]]  # (période, valeur, SECRET, Refused ou None)


@dataclass
class LineChart:
    title: str
    unit: str
    series: list[Series] = field(default_factory=list)
    width: int = 640
    height: int = 280

    # -- données ---------------------------------------------------------------------------------
    def periods(self) -> list[str]:
        return _all_periods(s.points for s in self.series)

    def table(self) -> dict:
        periods = self.periods()
        rows = []
        for period in periods:
            rows.append((period_name(period), [cell(dict(s.points).get(period)) for s in self.series]))
        return {
            "headers": [s.label for s in self.series],
            "rows": rows,
            "unit": self.unit,
            "corner": "Période",
        }

    def text_alternative(self) -> str:
        parts = [f"{s.label} : {describe(s.points, self.unit)}" for s in self.series]
        return f"{self.title}. " + " ; ".join(parts) + "."

    # -- dessin ----------------------------------------------------------------------------------
    def svg(self) -> str:
        periods = self.periods()
        values = [v for s in self.series for _, v in s.points if is_number(v)]
        left, right, top, bottom = 48, 32, 16, 40
        plot_w, plot_h = self.width - left - right, self.height - top - bottom
        legend = self._legend(left)
        total_height = self.height + LEGEND_ROW * max(row for _, row, _ in legend) if legend else self.height
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {total_height}" '
            f'class="chart" role="img" aria-label="{escape(self.text_alternative())}">',
            f"<title>{escape(self.title)}</title>",
        ]
        if not values or not periods:
            out.append(f'<text x="{left}" y="{top + 20}">Aucune donnée</text></svg>')
            return "".join(out)
        low, high = min(values + [Decimal(0)]), max(values)
        if high == low:
            high = low + 1
        span = high - low

        def x(index):
            return left + (plot_w * index / max(len(periods) - 1, 1))

        def y(value):
            return top + plot_h - float((value - low) / span) * plot_h

        for step in range(5):  # quadrillage et graduations
            tick = low + span * step / 4
            ty = y(tick)
            out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{self.width - right}" y2="{ty:.1f}" {GRID}/>')
            out.append(
                f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" {TICK}>{french_number(round(tick, 1))}</text>'
            )
        every = max(1, -(-len(periods) // 6))  # au plus six étiquettes, lisibles jusque dans un PDF
        for index, period in enumerate(periods):
            if index % every == 0:
                out.append(
                    f'<text x="{x(index):.1f}" y="{self.height - bottom + 16}" text-anchor="middle" {TICK}>'
                    f"{escape(period_name(period, short=True))}</text>"
                )
        for number, s in enumerate(self.series):
            color = PALETTE[number % len(PALETTE)]
            index_of = {p: i for i, p in enumerate(periods)}
            path, pen_down = [], False
            for period, value in ordered(s.points):
                if not is_number(value):
                    pen_down = False
                    continue
                command = "L" if pen_down else "M"
                path.append(f"{command}{x(index_of[period]):.1f},{y(value):.1f}")
                pen_down = True
            dash = ' stroke-dasharray="6 4"' if number % 2 else ""
            out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2.5"{dash}/>')
            lx, row, text = legend[number]
            ly = self.height + LEGEND_ROW * row
            out.append(
                f'<line x1="{lx:.0f}" y1="{ly - 8}" x2="{lx + 24:.0f}" y2="{ly - 8}" stroke="{color}" stroke-width="3"{dash}/>'
            )
            out.append(f'<text x="{lx + 30:.0f}" y="{ly - 4}" {LEGEND}>{escape(text)}</text>')
        out.append("</svg>")
        return "".join(out)

    def _legend(self, left: int) -> list[tuple[float, int, str]]:
        """Les entrées de la légende (abscisse, rang de ligne, texte), à la suite, tous les 200 au
        moins ; une entrée qui ne tient plus sur la ligne passe à la suivante, et un libellé plus
        long que la largeur du graphique finit par « … »."""
        start, placed, x, row = left + 8, [], left + 8, 0
        for s in self.series:
            text = wrap_label(s.label, width=self.width - start - 30, size=LEGEND_SIZE, lines=1)[0]
            span = 30 + text_width(text, LEGEND_SIZE)
            if x > start and x + span > self.width:
                x, row = start, row + 1
            placed.append((x, row, text))
            x += max(span + 24, 200)
        return placed


@dataclass
class GapChart:
    """Barres : l'ensemble des QPV (ou chaque QPV) à côté de la référence, avec sa ligne."""

    title: str
    unit: str
    bars: list[tuple[str, Decimal | None]]
    reference_label: str
    reference_value: Decimal | None
    width: int = 640

    def table(self) -> dict:
        rows = [(label, [cell(v)]) for label, v in self.bars]
        if self.reference_value is not None:
            rows.append((self.reference_label, [french_number(self.reference_value)]))
        return {"headers": [self.unit], "rows": rows, "unit": self.unit, "corner": "Territoire"}

    def text_alternative(self) -> str:
        parts = [
            f"{label} : {'non disponible' if v is None else said(v, self.unit)}" for label, v in self.bars
        ]
        if self.reference_value is not None:
            parts.append(f"{self.reference_label} : {french_number(self.reference_value, self.unit)}")
        return f"{self.title}. " + " ; ".join(parts) + "."

    def svg(self) -> str:
        bar_h, gap, left = 26, 10, 230
        # À droite, la place de la plus longue valeur écrite au bout de sa barre (« 1 234 567 € »).
        right = max(
            [70.0]
            + [text_width(french_number(v, self.unit), TICK_SIZE) + 10 for _, v in self.bars if is_number(v)]
        )
        height = 20 + len(self.bars) * (bar_h + gap) + 30
        values = [v for _, v in self.bars if is_number(v)] + (
            [self.reference_value] if self.reference_value is not None else []
        )
        high = max(values) if values else Decimal(1)
        if not high or high <= 0:
            high = Decimal(1)  # tout à zéro : des barres vides, pas une division par zéro
        plot_w = self.width - left - right
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {height}" class="chart" '
            f'role="img" aria-label="{escape(self.text_alternative())}"><title>{escape(self.title)}</title>'
        ]
        for index, (label, value) in enumerate(self.bars):
            top = 10 + index * (bar_h + gap)
            rows = wrap_label(label, width=left - 12, size=TICK_SIZE)
            first = top + bar_h / 2 + 4 - LINE_HEIGHT * (len(rows) - 1) / 2
            baselines = [first + LINE_HEIGHT * n for n in range(len(rows))]
            out.append(f'<text text-anchor="end" {TICK}>{_lines_svg(left - 8, baselines, rows)}</text>')
            if not is_number(value):
                if value is None:
                    shown = "non disponible"
                elif value.secret:
                    shown = '<tspan font-weight="bold">s</tspan> (secret statistique)'
                else:
                    shown = escape(f"non calculé : {value.reason}")
                out.append(f'<text x="{left + 4}" y="{top + bar_h * 0.7:.1f}" {TICK}>{shown}</text>')
                continue
            w = plot_w * float(value / high) if high else 0
            out.append(f'<rect x="{left}" y="{top}" width="{w:.1f}" height="{bar_h}" fill="{PALETTE[0]}"/>')
            out.append(
                f'<text x="{left + w + 6:.1f}" y="{top + bar_h * 0.7:.1f}" {TICK}>{escape(french_number(value, self.unit))}</text>'
            )
        if self.reference_value is not None:
            rx = left + plot_w * float(self.reference_value / high)
            bottom = 10 + len(self.bars) * (bar_h + gap)
            out.append(
                f'<line x1="{rx:.1f}" y1="4" x2="{rx:.1f}" y2="{bottom}" stroke="{PALETTE[1]}" stroke-width="3" stroke-dasharray="6 4"/>'
            )
            said_value = french_number(self.reference_value, self.unit)
            room = self.width - 4 - text_width(f" : {said_value}", LEGEND_SIZE)
            name = wrap_label(self.reference_label, width=room, size=LEGEND_SIZE, lines=1)[0]
            text = f"{name} : {said_value}"
            # Centré sous la ligne de la référence, sans sortir du graphique d'un côté ni de l'autre.
            start = min(
                max(rx - text_width(text, LEGEND_SIZE) / 2, 2), self.width - 2 - text_width(text, LEGEND_SIZE)
            )
            out.append(f'<text x="{max(start, 2):.1f}" y="{bottom + 18}" {LEGEND}>{escape(text)}</text>')
        out.append("</svg>")
        return "".join(out)


@dataclass
class SmallMultiples:
    """Un petit graphique par QPV, chacun avec la ligne de la référence : qui décroche, qui rattrape."""

    title: str
    unit: str
    panels: list[tuple[str, list[tuple[str, Decimal | None]]]]
    reference_label: str
    reference: list[tuple[str, Decimal | None]]
    columns: int = 3
    panel_w: int = 210
    panel_h: int = 110

    def periods(self) -> list[str]:
        return _all_periods(points for _, points in self.panels)

    def table(self) -> dict:
        periods = self.periods()
        rows = []
        reference = [(self.reference_label, self.reference)] if self.reference else []
        for label, points in [*self.panels, *reference]:
            values = dict(points)
            rows.append((label, [cell(values.get(p)) for p in periods]))
        headers = [period_name(p) for p in periods]
        return {"headers": headers, "rows": rows, "unit": self.unit, "corner": "Territoire"}

    def text_alternative(self) -> str:
        parts = [f"{label} : {describe(points, self.unit)}" for label, points in self.panels]
        return f"{self.title}, un graphique par quartier. " + " ; ".join(parts) + "."

    def svg(self) -> str:
        periods = self.periods()
        values = [v for _, pts in self.panels for _, v in pts if is_number(v)] + [
            v for _, v in self.reference if is_number(v)
        ]
        rows = -(-len(self.panels) // self.columns)
        titles = [wrap_label(label, width=self.panel_w - 16, size=TICK_SIZE) for label, _ in self.panels]
        extra = LINE_HEIGHT * (max(map(len, titles), default=1) - 1)  # titres sur deux lignes
        panel_h = self.panel_h + extra
        width, height = self.columns * self.panel_w, rows * panel_h
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
            f'aria-label="{escape(self.text_alternative())}"><title>{escape(self.title)}</title>'
        ]
        if not values or len(periods) < 2:
            out.append('<text x="8" y="20">Aucune évolution à montrer</text></svg>')
            return "".join(out)
        low, high = min(values), max(values)
        if high == low:
            high = low + 1
        index = {p: i for i, p in enumerate(periods)}

        def path(points, ox, oy):
            pad, w, h = 10, self.panel_w - 20, self.panel_h - 42
            cmds, down = [], False
            for period, value in ordered(points):
                if not is_number(value) or period not in index:
                    down = False
                    continue
                x = ox + pad + w * index[period] / (len(periods) - 1)
                y = oy + 24 + extra + h - float((value - low) / (high - low)) * h
                cmds.append(f"{'L' if down else 'M'}{x:.1f},{y:.1f}")
                down = True
            return " ".join(cmds)

        for number, ((_, points), rows) in enumerate(zip(self.panels, titles, strict=True)):
            ox, oy = (number % self.columns) * self.panel_w, (number // self.columns) * panel_h
            baselines = [oy + 16 + LINE_HEIGHT * n for n in range(len(rows))]
            out.append(f"<text {PANEL}>{_lines_svg(ox + 10, baselines, rows)}</text>")
            out.append(
                f'<path d="{path(self.reference, ox, oy)}" fill="none" stroke="{PALETTE[1]}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
            out.append(
                f'<path d="{path(points, ox, oy)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>'
            )
        out.append("</svg>")
        return "".join(out)
