import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.indicators.charts import SECRET, GapChart, LineChart, Refused, Series, SmallMultiples
from cdv.indicators.models import Indicator, IndicatorValue
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
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
    assert "Zone d&#x27;emploi de Nantes : 6,8\u00a0% au 1er trimestre 2021" in html  # la courbe et son texte
    assert "2021-T1" not in html  # les trimestres s'écrivent en français
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


def test_charts_keep_periods_in_chronological_order_whatever_is_missing():
    """La courbe calculée n'a que 2022 et 2026 (2023-2025 non calculables) : le tableau et le texte
    restent dans l'ordre 2022, 2023, 2024, 2025, 2026 ; un trimestre se range après son année."""
    from decimal import Decimal as D

    chart = LineChart(
        title="Taux",
        unit="%",
        series=[
            Series("Ensemble des QPV (calculé)", [("2022", D(40)), ("2026", D(38))]),
            Series("Métropole", [("2022", D(12)), ("2023", D(12)), ("2024", D(11)), ("2025", D(11))]),
            Series("Zone", [("2024-T1", D(7)), ("2023", D(8))]),
        ],
    )
    assert chart.periods() == ["2022", "2023", "2024", "2024-T1", "2025", "2026"]
    assert [label for label, _ in chart.table()["rows"]] == [
        "2022",
        "2023",
        "2024",
        "1er trimestre 2024",
        "2025",
        "2026",
    ]
    assert "Zone : 8\u00a0% en 2023, 7\u00a0% au 1er trimestre 2024" in chart.text_alternative()
    multiples = SmallMultiples(
        title="T",
        unit="%",
        panels=[("A", [("2024-T1", D(1)), ("2023", D(2)), ("2024", D(3))])],
        reference_label="M",
        reference=[],
    )
    assert multiples.periods() == ["2023", "2024", "2024-T1"]


def test_a_secret_value_is_an_s_in_every_chart_never_a_dash_nor_the_previous_figure():
    from decimal import Decimal as D

    line = LineChart(
        title="Demandeurs", unit="personnes", series=[Series("QPV", [("2023", D(1674)), ("2024", SECRET)])]
    )
    assert line.table()["rows"][1] == ("2024", ['<abbr title="secret statistique">s</abbr>'])
    said = "QPV : 1\u202f674\u00a0personnes en 2023, secret statistique en 2024"
    assert line.text_alternative() == f"Demandeurs. {said}."
    multiples = SmallMultiples(
        title="Demandeurs par quartier",
        unit="personnes",
        panels=[("Bellevue", [("2023", D(1674)), ("2024", SECRET)])],
        reference_label="Métropole",
        reference=[("2023", D(50000)), ("2024", D(51000))],
    )
    assert "1 674 puis 1 674" not in multiples.text_alternative()
    said = "Bellevue : 1\u202f674\u00a0personnes en 2023, secret statistique en 2024"
    assert said in multiples.text_alternative()
    assert multiples.table()["rows"][0] == (
        "Bellevue",
        ["1\u202f674", '<abbr title="secret statistique">s</abbr>'],
    )
    bars = GapChart(
        title="T",
        unit="%",
        bars=[("Bellevue", SECRET), ("Breil", None)],
        reference_label="M",
        reference_value=D(12),
    )
    assert bars.table()["rows"][0] == ("Bellevue", ['<abbr title="secret statistique">s</abbr>'])
    assert "Bellevue : secret statistique" in bars.text_alternative()
    assert ">s<" in bars.svg() and "non disponible" not in bars.svg().split("Breil")[0]
    # Un agrégat refusé montre son motif là où serait le chiffre.
    refused = LineChart(
        title="T", unit="%", series=[Series("Ensemble", [("2023", Refused("14 QPV sur 15"))])]
    )
    assert refused.table()["rows"][0] == ("2023", ["non calculé : 14 QPV sur 15"])


def _rate_with_gaps(nantes, code="taux-trous"):
    """Un taux par QPV : 2022 et 2026 complets ; 2023-2025 et 2027 sans Malakoff (ou autre 15e QPV).

    Chaque QPV : 44 / 100 en 2022 (44 %), 413 / 1 000 en 2026 (41,3 %). Référence : 12 % chaque année.
    Cible 2030 de l'ensemble des QPV : 30 %, la baisse est l'amélioration.
    """
    from cdv.indicators.enums import Aggregation, Direction
    from cdv.indicators.models import Target

    indicator = Indicator.objects.create(
        contract=nantes,
        code=code,
        name="Taux à trous",
        unit="%",
        rate_scale=100,
        aggregation=Aggregation.RATIO,
        direction=Direction.DOWN_IS_GOOD,
        baseline_year=2022,
    )
    Target.objects.create(indicator=indicator, year=2030, value=30)
    qpvs = list(nantes.qpvs.order_by("code"))
    for year in range(2022, 2028):
        complete = year in (2022, 2026)
        numerator, denominator = (44, 100) if year == 2022 else (413, 1000)
        for qpv in qpvs if complete else qpvs[:-1]:
            IndicatorValue.objects.create(
                indicator=indicator,
                territory=qpv,
                year=year,
                value=D(numerator) * 100 / denominator,
                numerator=numerator,
                denominator=denominator,
            )
        IndicatorValue.objects.create(indicator=indicator, territory=nantes.reference, year=year, value=12)
    return indicator, len(qpvs)


def test_years_stay_in_order_and_the_distance_to_target_is_one_computation_stating_its_year(client, nantes):
    import html as htmllib

    indicator, n = _rate_with_gaps(nantes)
    detail = htmllib.unescape(client.get(URL + indicator.code + "/").content.decode())
    listing = htmllib.unescape(client.get(URL).content.decode())
    listing = listing[listing.index("Taux à trous") :]
    # 2026 est la dernière année calculable : 41,3 − 30 = 11,3 points, sur la liste comme sur la page.
    for page in (detail, listing):
        page = re.sub(r"<[^>]+>", "", page)
        assert "reste 11,3\u00a0points en 2026" in page
        assert "reste 14" not in page  # jamais depuis l'année de référence (44 − 30 = 14)
        # Évolution depuis 2022 : 41,3 − 44 = −2,7 points.
        assert "depuis 2022 : -2,7\u00a0points en 2026" in page
    # Le tableau de la courbe et le tableau des écarts : 2022 … 2027 dans l'ordre.
    evolution = detail[detail.index('id="evolution"') :]
    rows = re.findall(r'<th scope="row">(20\d\d)</th>', evolution)
    assert rows[:6] == ["2022", "2023", "2024", "2025", "2026", "2027"], rows
    ecarts = detail[detail.index('id="ecart-periodes"') :]
    assert re.findall(r'<th scope="row">(20\d\d)</th>', ecarts) == [str(y) for y in range(2022, 2028)]
    # Là où l'ensemble n'est pas calculable, le motif à la place du chiffre.
    assert f"valeurs connues pour {n - 1} QPV sur {n}" in ecarts


def test_a_secret_reference_is_an_s_in_the_period_table_and_the_chart_table(client, nantes):
    indicator, _ = _rate_with_gaps(nantes, code="reference-secrete")
    IndicatorValue.objects.filter(indicator=indicator, territory=nantes.reference, year=2025).update(
        value=None, is_secret=True
    )
    page = client.get(URL + indicator.code + "/").content.decode()
    ecarts = page[page.index('id="ecart-periodes"') :]
    row = re.search(r'<th scope="row">2025</th>(.*?)</tr>', ecarts).group(1)
    assert '<abbr title="secret statistique">s</abbr>' in row
    evolution = page[page.index('id="evolution"') : page.index('id="ecart-periodes"')]
    row = re.search(r'<th scope="row">2025</th>(.*?)</tr>', evolution).group(1)
    assert '<abbr title="secret statistique">s</abbr>' in row
