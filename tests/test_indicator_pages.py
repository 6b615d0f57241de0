import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.indicators.charts import GapChart, LineChart, Series
from cdv.indicators.models import Indicator, IndicatorValue
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/contrats/nantes-metropole-2024-2030/indicateurs/"


def test_indicators_page_shows_the_gap_charts_with_tables_and_text(client):
    html = client.get(URL).content.decode()
    assert "<script" not in html
    assert html.count("<svg") >= 3
    assert 'role="img"' in html and "<figcaption>" in html
    assert "+32 points" in html and "×3,7" in html
    assert "Zone d&#x27;emploi de Nantes : 6,8 % en 2021-T1" in html
    for figure in re.findall(r"<figure.*?</figure>", html, flags=re.S):
        assert "<table>" in figure and 'scope="col"' in figure
    assert reverse("www:indicators", args=["nantes-metropole-2024-2030"]) in client.get("/").content.decode()


def test_chart_definition_gives_svg_table_and_text_alternative():
    from decimal import Decimal as D

    chart = LineChart(
        title="Taux de test",
        unit="%",
        series=[
            Series("QPV", [("2022", D(40)), ("2023", None), ("2024", D(38))]),
            Series("Métropole", [("2022", D(12))]),
        ],
    )
    svg = chart.svg()
    assert svg.startswith("<svg") and "<title>Taux de test</title>" in svg
    table = chart.table()
    assert table["rows"] == [("2022", ["40", "12"]), ("2023", ["—", "—"]), ("2024", ["38", "—"])]
    assert (
        chart.text_alternative()
        == "Taux de test. QPV : 40 % en 2022, 38 % en 2024 ; Métropole : 12 % en 2022."
    )
    gap = GapChart(
        title="Écart",
        unit="%",
        bars=[("<b>QPV</b>", D(44))],
        reference_label="Métropole",
        reference_value=D(12),
    )
    assert "&lt;b&gt;" in gap.svg() and "<b>" not in gap.svg()


def test_page_queries_do_not_grow_with_indicators(client, nantes):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(5):
        indicator = Indicator.objects.create(contract=nantes, code=f"extra-{n}", name=f"Extra {n}", unit="%")
        for qpv in nantes.qpvs.all()[:3]:
            IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=2024, value=n)
    assert count() == before


def test_a_contract_in_preparation_hides_its_indicators(client):
    factories.ContractFactory(slug="brouillon-ind", status="PREPARATION")
    assert client.get("/contrats/brouillon-ind/indicateurs/").status_code == 404


def test_demo_indicator_shows_computed_aggregate_change_target_and_small_multiples(client):
    import html as htmllib

    page = htmllib.unescape(client.get(URL).content.decode())
    section = page[page.index("Taux d'emploi des 15-64 ans (démonstration)") :]
    assert "Données de démonstration" in section
    assert "(calculée)" in section
    assert "Évolution de l'ensemble des QPV depuis 2022" in section
    assert "Cible 2030 : 55 %" in section
    assert "un graphique par quartier" in section and "Malakoff" in section
    assert "Ensemble des QPV (calculé)" in section
    assert "par quartier en 2025 (%)" in section  # les QPV côte à côte avec la ligne de référence
