from decimal import Decimal

import factory

from cdv.indicators.enums import Aggregation, RateScale, Scope, ValueStatus
from cdv.indicators.models import Indicator, IndicatorValue, Target

from .base import ModelFactory, new_qpv_of, qpv_of
from .contracts import ContractFactory

__all__ = ["IndicatorFactory", "IndicatorValueFactory", "TargetFactory"]


class IndicatorFactory(ModelFactory):
    """Un indicateur du contrat ; ``series={année: valeur}`` lui donne une série annuelle sur un quartier
    du contrat."""

    class Meta:
        model = Indicator

    contract = factory.SubFactory(ContractFactory)
    code = factory.Sequence(lambda n: f"indicateur-de-test-{n}")
    name = factory.Sequence(lambda n: f"Indicateur de test {n}")
    unit = "personnes"

    class Params:
        rate = factory.Trait(unit="%", rate_scale=RateScale.PERCENT, aggregation=Aggregation.RATIO)
        with_enjeu = factory.Trait(
            enjeu=factory.SubFactory(
                "tests.factories.plan.EnjeuFactory", contract=factory.SelfAttribute("..contract")
            )
        )

    @factory.post_generation
    def series(obj, create, extracted, **kwargs):
        if not (create and extracted):
            return
        territory = kwargs.pop("territory", None) or qpv_of(obj.contract)
        for year, value in extracted.items():
            IndicatorValueFactory(indicator=obj, territory=territory, year=year, value=value, **kwargs)


class IndicatorValueFactory(ModelFactory):
    """Une valeur annuelle sur un nouveau quartier du contrat de l'indicateur (aucun doublon)."""

    class Meta:
        model = IndicatorValue

    indicator = factory.SubFactory(IndicatorFactory)
    territory = factory.LazyAttribute(lambda o: new_qpv_of(o.indicator.contract))
    year = 2024
    value = Decimal("12.5")

    class Params:
        secret = factory.Trait(is_secret=True, value=None)
        provisional = factory.Trait(status=ValueStatus.PROVISIONAL)
        contract_qpvs = factory.Trait(scope=Scope.CONTRACT_QPVS, territory=None)


class TargetFactory(ModelFactory):
    class Meta:
        model = Target

    indicator = factory.SubFactory(IndicatorFactory)
    year = factory.LazyAttribute(lambda o: o.indicator.contract.end_year)
    value = Decimal("20")

    class Params:
        on_qpv = factory.Trait(territory=factory.LazyAttribute(lambda o: qpv_of(o.indicator.contract)))
