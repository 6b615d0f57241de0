from decimal import Decimal

from cdv.core.figures import french_number, gap


def test_gap_in_points_and_ratio_matches_the_published_headline():
    # 44 % dans les QPV contre 12 % dans la métropole : +32 points, ×3,7 (44 / 12 = 3,666…).
    result = gap(44, 12)
    assert result.points == Decimal("32")
    assert result.ratio == Decimal("3.7")
    assert result.points_label() == "+32"
    assert result.ratio_label() == "×3,7"


def test_gap_negative_and_zero_reference():
    result = gap(Decimal("8.5"), 10)
    assert result.points == Decimal("-1.5")
    assert result.points_label() == "−1,5"
    assert gap(5, 0).ratio is None
    assert gap(5, 0).ratio_label() == ""


def test_french_number():
    assert french_number(683981) == "683\u202f981"
    assert french_number(Decimal("54800.00")) == "54\u202f800"
    assert french_number(Decimal("3.70")) == "3,7"
    assert french_number(Decimal("12345.25")) == "12\u202f345,25"


def test_french_number_keeps_the_sign_of_small_negative_numbers():
    from cdv.core.figures import french_number

    assert french_number(-0.5) == "-0,5"
    assert french_number("-1234.25") == "-1\u202f234,25"


def test_french_number_writes_a_float_from_a_frozen_json_payload_by_its_short_form():
    from cdv.core.figures import french_number

    assert french_number(33.3) == "33,3"
    assert french_number(0.1) == "0,1"
