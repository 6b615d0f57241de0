"""Le dessin des graphiques : les libellés longs (« Bout des landes - Bout des pavés - Chêne des
Anglais ») tiennent dans le graphique, coupés entre les mots, jamais rognés au bord ; le SVG porte
lui-même tailles et couleurs, parce que WeasyPrint n'applique pas la feuille du document dans un
SVG et qu'une page et un PDF doivent montrer le même graphique."""

import itertools
import xml.etree.ElementTree as ET
from decimal import Decimal as D

import pytest

from cdv.indicators.charts import (
    LEGEND_SIZE,
    TICK_SIZE,
    GapChart,
    LineChart,
    Series,
    SmallMultiples,
    text_width,
    wrap_label,
)

SVG = "{http://www.w3.org/2000/svg}"
LONG_QPV = "Bout des landes - Bout des pavés - Chêne des Anglais"
LABEL_AREA = 230 - 8  # de la marge gauche des barres à l'ancre (fin) du libellé


def texts(svg: str):
    return list(ET.fromstring(svg).iter(f"{SVG}text"))


def lines_of(element) -> list[str]:
    spans = element.findall(f"{SVG}tspan")
    return [span.text for span in spans] if spans else [element.text]


def view_box(svg: str) -> tuple[float, float]:
    _, _, width, height = ET.fromstring(svg).get("viewBox").split()
    return float(width), float(height)


def test_a_long_label_is_cut_between_words_on_two_lines():
    rows = wrap_label(LONG_QPV, width=LABEL_AREA - 4, size=TICK_SIZE)
    assert rows == ["Bout des landes - Bout des", "pavés - Chêne des Anglais"]
    assert all(text_width(row, TICK_SIZE) <= LABEL_AREA - 4 for row in rows)


def test_what_does_not_fit_ends_with_an_ellipsis_after_a_whole_word():
    assert wrap_label(LONG_QPV, width=200, size=LEGEND_SIZE, lines=1) == ["Bout des landes - Bout…"]
    assert wrap_label("Bellevue", width=200, size=LEGEND_SIZE, lines=1) == ["Bellevue"]
    (row,) = wrap_label("Anticonstitutionnellement", width=100, size=TICK_SIZE, lines=1)
    assert row.endswith("…") and text_width(row, TICK_SIZE) <= 100


def test_bar_labels_stay_inside_the_chart():
    chart = GapChart(
        title="Taux de réalisation par quartier",
        unit="%",
        bars=[
            ("Bellevue", D(100)),
            (LONG_QPV, D(0)),
            ("Association Les Petits Débrouillards du quartier", None),
        ],
        reference_label="Ensemble des engagements liés",
        reference_value=D("36.4"),
    )
    svg = chart.svg()
    width, _ = view_box(svg)
    labels = [t for t in texts(svg) if t.get("text-anchor") == "end"]
    assert [lines_of(t) for t in labels] == [
        ["Bellevue"],
        ["Bout des landes - Bout des", "pavés - Chêne des Anglais"],
        ["Association Les Petits", "Débrouillards du quartier"],
    ]
    for label in labels:
        for span in label.findall(f"{SVG}tspan"):
            assert float(span.get("x")) - text_width(span.text, TICK_SIZE) >= 0, span.text
    # Les deux lignes d'un libellé encadrent le milieu de sa barre.
    first, second = (float(s.get("y")) for s in labels[1].findall(f"{SVG}tspan"))
    bar_middle = 10 + 36 + 26 / 2
    assert first < bar_middle < second
    (reference,) = [t for t in texts(svg) if t.text and t.text.startswith("Ensemble")]
    start = float(reference.get("x"))
    assert 0 <= start and start + text_width(reference.text, LEGEND_SIZE) <= width


@pytest.mark.parametrize("value", [D(0), D(100)])
def test_the_reference_label_stays_inside_at_either_end(value):
    chart = GapChart(
        title="T", unit="%", bars=[("A", D(100))], reference_label="Nantes Métropole", reference_value=value
    )
    svg = chart.svg()
    width, _ = view_box(svg)
    (reference,) = [t for t in texts(svg) if t.text and t.text.startswith("Nantes")]
    start = float(reference.get("x"))
    assert 0 <= start and start + text_width(reference.text, LEGEND_SIZE) <= width


def test_a_long_value_at_the_end_of_the_longest_bar_stays_inside_the_chart():
    chart = GapChart(
        title="Montants engagés par quartier",
        unit="€",
        bars=[("Bellevue", D(1234567)), ("Malakoff", D(250000)), ("Dervallières", D(50000))],
        reference_label="Moyenne des quartiers",
        reference_value=D(494857),
    )
    svg = chart.svg()
    width, _ = view_box(svg)
    shown = [
        t
        for t in texts(svg)
        if t.get("text-anchor") is None
        and t.text
        and t.text.endswith("€")
        and not t.text.startswith("Moyenne")
    ]
    assert [t.text.replace("\u202f", " ").replace("\u00a0", " ") for t in shown] == [
        "1 234 567 €",
        "250 000 €",
        "50 000 €",
    ]
    for value in shown:
        assert float(value.get("x")) + text_width(value.text, TICK_SIZE) <= width, value.text
    # Les barres gardent leurs proportions : la plus longue reste la plus longue.
    bars = [float(r.get("width")) for r in ET.fromstring(svg).iter(f"{SVG}rect")]
    assert bars[0] > bars[1] > bars[2] > 0


def test_panel_titles_keep_whole_words():
    periods = ["2022", "2023", "2024"]
    chart = SmallMultiples(
        title="Taux",
        unit="%",
        panels=[
            (LONG_QPV, [(p, D(n)) for n, p in enumerate(periods)]),
            ("Malakoff", [(p, D(2)) for p in periods]),
        ],
        reference_label="Nantes Métropole",
        reference=[(p, D(1)) for p in periods],
    )
    svg = chart.svg()
    titles = [lines_of(t) for t in texts(svg)]
    assert titles == [["Bout des landes - Bout des", "pavés - Chêne des Anglais"], ["Malakoff"]]
    _, height = view_box(svg)
    assert height == 110 + 13  # une ligne de titre en plus, pour tous les petits graphiques


def test_legend_entries_never_overlap_and_wrap_to_a_new_line():
    periods = [("2022", D(1)), ("2024", D(2))]
    labels = [LONG_QPV, "Nantes Métropole", "France métropolitaine, hors Mayotte"]
    chart = LineChart(title="Taux", unit="%", series=[Series(label, periods) for label in labels])
    svg = chart.svg()
    width, height = view_box(svg)
    legend = [t for t in texts(svg) if t.get("class") == "legend"]
    assert [t.text for t in legend] == labels
    placed = [(float(t.get("x")), float(t.get("y")), text_width(t.text, LEGEND_SIZE)) for t in legend]
    for x, _y, w in placed:
        assert 0 <= x - 30 and x + w <= width
    for (x1, y1, w1), (x2, y2, _) in itertools.pairwise(placed):
        assert y2 > y1 or x2 - 30 >= x1 + w1, "deux entrées de la légende se chevauchent"
    assert height > 280  # la légende a pris une ligne de plus


def test_short_legends_keep_one_line():
    chart = LineChart(
        title="T", unit="%", series=[Series("QPV", [("2022", D(1))]), Series("EPCI", [("2022", D(2))])]
    )
    svg = chart.svg()
    assert view_box(svg) == (640, 280)
    assert [float(t.get("x")) for t in texts(svg) if t.get("class") == "legend"] == [86, 286]


@pytest.mark.parametrize(
    "chart",
    [
        LineChart(title="T", unit="%", series=[Series("QPV", [("2022", D(1)), ("2023", D(3))])]),
        GapChart(
            title="T", unit="%", bars=[("A", D(2)), ("B", None)], reference_label="R", reference_value=D(1)
        ),
        SmallMultiples(
            title="T",
            unit="%",
            panels=[("A", [("2022", D(1)), ("2023", D(2))])],
            reference_label="R",
            reference=[],
        ),
    ],
    ids=["courbes", "barres", "petits-graphiques"],
)
def test_the_svg_carries_its_own_sizes_and_colours(chart):
    root = ET.fromstring(chart.svg())
    for text in root.iter(f"{SVG}text"):
        assert text.get("font-size") and text.get("fill"), ET.tostring(text)
    for line in root.iter(f"{SVG}line"):
        assert line.get("stroke"), ET.tostring(line)
