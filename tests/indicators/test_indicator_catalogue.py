from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cdv.indicators.enums import Scope
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.territories.models import Territory

pytestmark = pytest.mark.django_db


def value(code, *, territory=None, year, quarter=0):
    scope = Scope.TERRITORY if territory else Scope.CONTRACT_QPVS
    return IndicatorValue.objects.get(
        indicator__code=code, scope=scope, territory__code=territory, year=year, quarter=quarter
    )


def test_the_nantes_catalogue_holds_the_published_values_with_their_sources(nantes):
    codes = set(Indicator.objects.filter(contract=nantes).values_list("code", flat=True))
    assert {"taux-pauvrete", "part-familles-monoparentales", "population", "taux-chomage-localise"} <= codes
    poverty_qpv, poverty_epci = (
        value("taux-pauvrete", year=2023),
        value("taux-pauvrete", territory="244400404", year=2023),
    )
    assert (poverty_qpv.value, poverty_epci.value) == (Decimal(44), Decimal(12))
    assert poverty_qpv.source_url.startswith("https://www.actu44.fr/")
    assert "ne sont pas précisées" in poverty_qpv.comment and poverty_qpv.vintage == "non précisé"
    assert value("part-familles-monoparentales", year=2023).value == 50
    assert value("population", year=2023).value == 54800
    assert value("population", territory="44109", year=2023).value == 325070
    assert value("taux-chomage-localise", territory="5216", year=2025, quarter=4).value is not None
    assert (
        IndicatorValue.objects.filter(indicator__code="taux-chomage-localise", territory__code="FR").count()
        == 20
    )
    # Les valeurs réelles ne sont jamais marquées comme démonstration.
    assert not IndicatorValue.objects.filter(
        indicator__contract=nantes, is_demo=True, indicator__is_demo=False
    ).exists()


def test_the_employment_zone_of_nantes_is_loaded_and_contains_the_communes():
    zone = Territory.objects.get(kind="ZONE_EMPLOI", code="5216")
    assert zone.children.filter(kind="COMMUNE").count() == 24


def test_a_secret_value_has_no_number_and_shows_s(nantes):
    indicator = Indicator.objects.get(contract=nantes, code="population")
    breil = Territory.objects.get(code="QN04407I")
    secret = IndicatorValue(indicator=indicator, territory=breil, year=2021, is_secret=True, value=Decimal(0))
    with pytest.raises(ValidationError) as error:
        secret.full_clean()
    assert "secret" in error.value.message_dict["value"][0]
    secret.value = None
    secret.full_clean()
    secret.save()
    assert secret.display == "s"
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorValue.objects.filter(pk=secret.pk).update(value=Decimal(0))


def test_one_value_per_territory_and_period(nantes):
    indicator = Indicator.objects.get(contract=nantes, code="population")
    nantes_commune = Territory.objects.get(code="44109")
    duplicate = IndicatorValue(indicator=indicator, territory=nantes_commune, year=2023, value=1)
    with pytest.raises(ValidationError):
        duplicate.full_clean()


def test_a_percent_unit_needs_the_rate_scale_100_and_existing_percent_indicators_get_it(nantes):
    import importlib

    from django.apps import apps

    with pytest.raises(ValidationError) as error:
        Indicator(contract=nantes, code="x", name="X", unit="% des ménages").clean()
    assert "pour 100 (%)" in error.value.message_dict["rate_scale"][0]
    Indicator(contract=nantes, code="x", name="X", unit="% des ménages", rate_scale=100).clean()
    Indicator(contract=nantes, code="y", name="Y", unit="pour 1 000 habitants", rate_scale=1000).clean()

    percent = Indicator.objects.create(contract=nantes, code="pc", name="Pc", unit="%")
    households = Indicator.objects.create(contract=nantes, code="pm", name="Pm", unit="% des ménages")
    people = Indicator.objects.create(contract=nantes, code="pe", name="Pe", unit="personnes")
    migration = importlib.import_module("cdv.indicators.migrations.0005_indicator_rate_scale")
    migration.set_scale_of_existing_rates(apps, None)
    for indicator, scale in ((percent, 100), (households, None), (people, None)):
        indicator.refresh_from_db()
        assert indicator.rate_scale == scale
