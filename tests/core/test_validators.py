import pytest
from django.core.exceptions import ValidationError

from cdv.core import validators


@pytest.mark.parametrize("code", ["QN04413M", "QN04407I", "QN02A01M", "QN97101N", "QN97601C"])
def test_valid_qpv_2024_codes(code):
    validators.validate_qpv_code(code, "2024")


@pytest.mark.parametrize("code", ["QP044013", "qn04413m", "QN4413M", "QN04413X", "QN044130M", ""])
def test_invalid_qpv_2024_codes_are_refused_with_the_code_in_the_message(code):
    with pytest.raises(ValidationError) as error:
        validators.validate_qpv_code(code, "2024")
    assert f"« {code} »" in error.value.messages[0]
    assert "QN04413M" in error.value.messages[0]


def test_qpv_2015_codes():
    validators.validate_qpv_code("QP044013", "2015")
    with pytest.raises(ValidationError):
        validators.validate_qpv_code("QN04413M", "2015")


@pytest.mark.parametrize("code", ["44109", "2A004", "97411"])
def test_valid_insee(code):
    validators.validate_insee_commune(code)


@pytest.mark.parametrize("code", ["4410", "441090", "2C004", "ABCDE"])
def test_invalid_insee(code):
    with pytest.raises(ValidationError):
        validators.validate_insee_commune(code)


def test_siren_luhn():
    validators.validate_siren("244400404")  # Nantes Métropole
    for bad in ["244400405", "24440040", "24440040A"]:
        with pytest.raises(ValidationError, match="SIREN"):
            validators.validate_siren(bad)


def test_siret_luhn_and_la_poste_exception():
    validators.validate_siret("24440040400012")  # SIREN Nantes Métropole + NIC valide
    validators.validate_siret("35600000000010")  # La Poste : somme des chiffres multiple de 5
    with pytest.raises(ValidationError, match="clé de contrôle"):
        validators.validate_siret("24440040400013")
    with pytest.raises(ValidationError, match="14 chiffres"):
        validators.validate_siret("2444004040001")


def test_rna():
    validators.validate_rna("W442001234")
    validators.validate_rna("W2A1001234")
    for bad in ["W44200123", "X442001234", "w442001234"]:
        with pytest.raises(ValidationError, match="RNA"):
            validators.validate_rna(bad)
