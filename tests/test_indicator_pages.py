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
DEMO_CODE = "taux-emploi-demo"


def test_indicators_page_shows_the_gap_charts_with_tables_and_text(client):
    html = client.get(URL).content.decode()
    assert "<script" not in html
    assert html.count("<svg") >= 3
    assert 'role="img"' in html and "<figcaption>" in html
    assert "+32 points" in html and "×3,7" in html
    for figure in re.findall(r"<figure.*?</figure>", html, flags=re.S):
        assert "<table>" in figure and 'scope="col"' in figure
    assert reverse("www:indicators", args=["nantes-metropole-2024-2030"]) in client.get("/").content.decode()
    assert URL + "taux-chomage-localise/" in html  # chaque indicateur a sa page


def test_an_indicator_page_shows_its_whole_evolution_and_the_gap_period_by_period(client):
    html = client.get(URL + "taux-chomage-localise/").content.decode()
    assert "<script" not in html
    assert "Zone d&#x27;emploi de Nantes : 6,8\u00a0% en 2021-T1" in html  # la courbe et son texte
    assert "L'écart période par période" in html
    for figure in re.findall(r"<figure.*?</figure>", html, flags=re.S):
        assert "<table>" in figure and 'scope="col"' in figure
    assert client.get(URL + "inconnu/").status_code == 404


def test_the_list_reads_two_periods_per_indicator_whatever_the_history(client, nantes):
    """La liste ne montre que la dernière période et l'année de référence : ajouter dix ans
    d'historique ne change ni ses requêtes ni sa taille ; la page de l'indicateur, elle, les montre."""
    indicator = Indicator.objects.create(
        contract=nantes, code="historique", name="Historique", unit="%", baseline_year=2015
    )
    qpv = nantes.qpvs.order_by("code").first()
    IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=2015, value=10)
    IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=2025, value=20)
    size = len(client.get(URL).content)
    for year in range(2016, 2025):
        IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=year, value=year - 2000)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(URL).content
    assert len(page) == size
    assert len(ctx.captured_queries) <= 12
    detail = client.get(URL + "historique/").content.decode()
    assert all(f">{year}<" in detail for year in range(2015, 2026))


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
        == "Taux de test. QPV : 40\u00a0% en 2022, 38\u00a0% en 2024 ; Métropole : 12\u00a0% en 2022."
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
    detail = htmllib.unescape(client.get(URL + DEMO_CODE + "/").content.decode())
    assert "Données de démonstration" in section
    assert "(calculée)" in section
    assert "Évolution de l'ensemble des QPV depuis 2022" in section
    assert "Cible 2030 : 55\u00a0%" in section
    assert "par quartier en 2025 (%)" in section  # les QPV côte à côte avec la ligne de référence
    assert "Malakoff" in section
    assert "Données de démonstration" in detail and "Cible 2030 : 55\u00a0%" in detail
    assert "un graphique par quartier" in detail
    assert "Ensemble des QPV (calculé)" in detail  # la courbe de l'agrégat calculé
    assert "par quartier en 2025 (%)" in detail
