from decimal import Decimal as D

from cdv.indicators.computations import (
    Point,
    aggregate,
    at_period,
    change,
    distance_to_target,
    gap,
    period_key,
    period_name,
    period_sort_key,
)
from cdv.indicators.enums import Aggregation, Direction


def test_ratio_of_sums_not_mean_of_rates():
    # QPV A : 30 pauvres sur 100 (30 %) ; QPV B : 90 sur 150 (60 %).
    # Ratio des sommes : 120 / 250 = 48 % ; la moyenne des taux (45 %) serait fausse.
    points = [Point("A", D(30), D(30), D(100)), Point("B", D(60), D(90), D(150))]
    result = aggregate(points, Aggregation.RATIO, scale=100)
    assert result.value == D("48.00") and result.parts == 2


def test_ratio_refused_without_numerators_with_the_reason():
    points = [Point("A", D(30), D(30), D(100)), Point("Malakoff", D(60))]
    result = aggregate(points, Aggregation.RATIO, scale=100)
    assert result.value is None
    assert "Malakoff" in result.reason and "rapport de sommes" in result.reason


def test_secret_values_never_count_as_zero():
    points = [Point("A", D(10)), Point("Le Breil", is_secret=True)]
    result = aggregate(points, Aggregation.SUM)
    assert result.value is None and "secret statistique" in result.reason and "Le Breil" in result.reason


def test_sum_weighted_mean_and_not_aggregatable():
    assert aggregate([Point("A", D(1200)), Point("B", D(800))], Aggregation.SUM).value == D(2000)
    # Revenu médian 15 000 € (pop. 1 000) et 20 000 € (pop. 3 000) :
    # (15 000×1 000 + 20 000×3 000) / 4 000 = 18 750.
    points = [Point("A", D(15000), weight=D(1000)), Point("B", D(20000), weight=D(3000))]
    assert aggregate(points, Aggregation.WEIGHTED_MEAN).value == D("18750.00")
    refused = aggregate(points, Aggregation.NONE)
    assert refused.value is None and "ne s'agrège pas" in refused.reason
    assert aggregate([], Aggregation.SUM).reason == "aucune valeur à agréger"


def test_gap_change_and_target():
    result = gap(44, 12)
    assert (result.points, result.ratio) == (D(32), D("3.7"))
    evolution = change(40, 44)
    assert (evolution.points, evolution.percent) == (D(-4), D("-9.09"))
    assert change(5, 0).percent is None
    # Taux de pauvreté : la baisse est l'amélioration. 40 % pour une cible de 35 % : reste 5 points.
    assert distance_to_target(40, 35, Direction.DOWN_IS_GOOD).remaining == D(5)
    assert distance_to_target(34, 35, Direction.DOWN_IS_GOOD).reached
    # Nombre d'emplois : la hausse est l'amélioration. 80 pour une cible de 100 : reste 20.
    distance = distance_to_target(80, 100, Direction.UP_IS_GOOD)
    assert (distance.remaining, distance.reached) == (D(20), False)


def test_ratio_uses_the_rate_scale_of_the_indicator_whatever_its_unit():
    # 9 faits pour 1 200 habitants et 8 pour 800 : 17 / 2 000 × 1 000 = 8,5 pour 1 000 habitants.
    points = [Point("A", D("7.5"), D(9), D(1200)), Point("B", D(10), D(8), D(800))]
    assert aggregate(points, Aggregation.RATIO, scale=1000).value == D("8.50")
    # 45 ménages sur 100 : 45 « % des ménages », pas 0,45.
    assert aggregate([Point("A", D(45), D(45), D(100))], Aggregation.RATIO, scale=100).value == D("45.00")
    # Sans échelle (pas un taux) : le rapport brut.
    assert aggregate([Point("A", D(2), D(3), D(2))], Aggregation.RATIO).value == D("1.50")


def test_gaps_changes_and_distances_are_rounded_to_one_decimal():
    # 40,005 − 11,31 = 28,695 : arrondi à 28,7 points (jamais « +28,695 points »).
    # 40,005 / 11,31 = 3,537… → ×3,5.
    result = gap(D("40.005"), D("11.31"))
    assert (result.points, result.ratio) == (D("28.7"), D("3.5"))
    assert result.points_label() == "+28,7"
    assert change(D("40.005"), D("44.31")).points == D("-4.3")  # −4,305 → −4,3
    assert distance_to_target(D("41.27"), D("30"), Direction.DOWN_IS_GOOD).remaining == D("11.3")


def test_periods_sort_in_chronological_order_annual_value_before_its_quarters():
    labels = ["2026", "2024-T2", "2022", "2024-T1", "2024", "2023", "2e trimestre 2025", "1er trimestre 2025"]
    assert sorted(labels, key=period_sort_key) == [
        "2022",
        "2023",
        "2024",
        "2024-T1",
        "2024-T2",
        "1er trimestre 2025",
        "2e trimestre 2025",
        "2026",
    ]
    assert period_key(2024, 0) < period_key(2024, 1) < period_key(2024, 4) < period_key(2025, 0)


def test_periods_are_written_in_french():
    assert [period_name(p) for p in ("2024", "2024-T1", "2024-T3")] == [
        "2024",
        "1er trimestre 2024",
        "3e trimestre 2024",
    ]
    assert (at_period("2024"), at_period("2024-T2")) == ("en 2024", "au 2e trimestre 2024")
