from decimal import Decimal

import pytest

from cdv.indicators.enums import Aggregation
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.territories.models import Territory

pytestmark = [pytest.mark.django_db, pytest.mark.reference]
BASE = "/api/v1/contracts/nantes-metropole-2024-2030/indicators"


def test_catalogue(client):
    page = client.get(BASE).json()  # paginée comme toutes les listes : count, limit, offset, items
    items = page["items"]
    assert page["count"] == len(items) == Indicator.objects.filter(contract__slug=BASE.split("/")[4]).count()
    poverty = next(i for i in items if i["code"] == "taux-pauvrete")
    assert poverty["unit"] == "%" and poverty["aggregation"] == "RATIO" and poverty["direction"] == "BAISSE"
    assert client.get("/api/v1/contracts/inconnu/indicators").status_code == 404


def test_published_headline_gap(client):
    data = client.get(f"{BASE}/taux-pauvrete/values").json()
    summary = data["summary"][0]
    assert summary["period"] == "2023"
    assert (Decimal(summary["qpv_value"]), summary["qpv_origin"]) == (Decimal(44), "publiée")
    assert Decimal(summary["reference_value"]) == 12 and summary["reference"] == "Nantes Métropole"
    assert (Decimal(summary["gap_points"]), Decimal(summary["gap_ratio"])) == (Decimal(32), Decimal("3.7"))


def test_quarterly_values_filtered_by_territory_and_period(client):
    data = client.get(
        f"{BASE}/taux-chomage-localise/values", {"territory": "5216", "period": "2025-T4"}
    ).json()
    assert [v["period"] for v in data["values"]] == ["2025-T4"]
    assert data["values"][0]["territory_kind"] == "ZONE_EMPLOI"
    bad = client.get(f"{BASE}/taux-chomage-localise/values", {"period": "fin 2025"})
    assert bad.status_code == 422 and "fin 2025" in bad.json()["detail"]
    assert client.get(f"{BASE}/inconnu/values").status_code == 404


def test_the_qpv_aggregate_is_computed_as_a_ratio_of_sums_and_secrecy_blocks_it(client, nantes):
    indicator = Indicator.objects.create(
        contract=nantes,
        code="taux-test",
        name="Taux de test",
        unit="%",
        rate_scale=100,
        aggregation=Aggregation.RATIO,
    )
    qpvs = list(nantes.qpvs.order_by("code"))
    for index, qpv in enumerate(qpvs):
        numerator, denominator = Decimal(10 + index), Decimal(100)
        IndicatorValue.objects.create(
            indicator=indicator,
            territory=qpv,
            year=2024,
            value=numerator,
            numerator=numerator,
            denominator=denominator,
        )
    IndicatorValue.objects.create(indicator=indicator, territory=nantes.epci, year=2024, value=Decimal(10))
    summary = client.get(f"{BASE}/taux-test/values").json()["summary"][0]
    # Σ numérateurs = 10+…+24 = 255 ; Σ dénominateurs = 1 500 → 17 %.
    assert (Decimal(summary["qpv_value"]), summary["qpv_origin"]) == (Decimal(17), "calculée")
    assert Decimal(summary["gap_points"]) == 7
    secret = IndicatorValue.objects.get(indicator=indicator, territory=qpvs[0])
    secret.value = secret.numerator = None
    secret.is_secret = True
    secret.save()
    summary = client.get(f"{BASE}/taux-test/values").json()["summary"][0]
    assert summary["qpv_value"] is None and "secret statistique" in summary["qpv_reason"]
    assert summary["gap_points"] is None
    values = client.get(f"{BASE}/taux-test/values", {"territory": qpvs[0].code}).json()["values"]
    assert values[0]["display"] == "s" and values[0]["value"] is None


def test_missing_qpv_values_are_said_not_guessed(client, nantes):
    indicator = Indicator.objects.create(contract=nantes, code="somme-test", name="Somme", unit="personnes")
    IndicatorValue.objects.create(
        indicator=indicator, territory=Territory.objects.get(code="QN04413M"), year=2024, value=5
    )
    summary = client.get(f"{BASE}/somme-test/values").json()["summary"][0]
    assert summary["qpv_value"] is None and "1 QPV sur 15" in summary["qpv_reason"]


def test_values_give_change_since_baseline_and_distance_to_target_with_their_years(client, nantes):
    """Même calcul que les pages : 2026 est la dernière année où l'ensemble des QPV est calculable
    (41,3 %) ; depuis 2022 (44 %) : −2,7 points ; cible 2030 (30 %) : reste 11,3 points."""
    from tests.indicators.test_indicator_pages import _rate_with_gaps

    _rate_with_gaps(nantes)
    progress = client.get(f"{BASE}/taux-trous/values").json()["progress"]
    assert (progress["period"], Decimal(progress["qpv_value"])) == ("2026", Decimal("41.3"))
    assert (progress["baseline_period"], Decimal(progress["baseline_value"])) == ("2022", Decimal(44))
    assert Decimal(progress["change"]) == Decimal("-2.7")
    assert (progress["target_year"], Decimal(progress["target_value"])) == (2030, Decimal(30))
    assert Decimal(progress["distance_to_target"]) == Decimal("11.3") and progress["target_reached"] is False
    assert progress["difference_unit"] == "points"
