"""Le tableau des données d'un graphique, lu sur petit écran : chaque case porte l'intitulé de sa
colonne (``data-label``), écrit une fois par case, même pour un grand tableau (15 quartiers × 56
trimestres sur la page d'un indicateur)."""

import re
from decimal import Decimal as D

from django.template.loader import render_to_string

from cdv.indicators.charts import LineChart, Series, SmallMultiples
from cdv.www.templatetags.cdv import labelled


def cells(html):
    return re.findall(r'<td data-label="([^"]*)">([^<]*)</td>', html)


def test_each_cell_carries_its_column_header():
    chart = LineChart(
        title="Taux",
        unit="%",
        series=[
            Series("QPV <Nord>", [("2022", D(40)), ("2024", D(38))]),
            Series("Métropole", [("2022", D(12))]),
        ],
    )
    html = render_to_string("partials/chart.html", {"chart": chart})
    assert cells(html) == [
        ("QPV &lt;Nord&gt;", "40"),
        ("Métropole", "12"),
        ("QPV &lt;Nord&gt;", "38"),
        ("Métropole", "—"),
    ]


def test_a_large_table_is_labelled_cell_by_cell():
    periods = [f"{year}-T{quarter}" for year in range(2012, 2026) for quarter in range(1, 5)]
    panels = [(f"Quartier {n:02d}", [(p, D(n)) for p in periods]) for n in range(15)]
    chart = SmallMultiples(title="Taux", unit="%", panels=panels, reference_label="EPCI", reference=[])
    found = cells(render_to_string("partials/chart.html", {"chart": chart}))
    headers = chart.table()["headers"]
    assert len(found) == 15 * 56
    assert [label for label, _ in found[:56]] == headers


def test_labelled_keeps_every_cell():
    assert labelled(["a", "b", "c"], ["x", "y"]) == [("x", "a"), ("y", "b"), ("", "c")]
