import datetime

import factory
from django.utils.text import slugify

from cdv.contracts.enums import ContractStatus, MilestoneKind, SignatoryKind
from cdv.contracts.models import Contract, KeyFigure, Milestone, Signatory

from .base import ModelFactory
from .partners import PartnerFactory
from .territories import EpciFactory, QpvFactory

__all__ = ["ContractFactory", "KeyFigureFactory", "MilestoneFactory", "SignatoryFactory"]


class ContractFactory(ModelFactory):
    class Meta:
        model = Contract

    slug = factory.Sequence(lambda n: f"contrat-test-{n}")
    title = factory.Sequence(lambda n: f"Contrat de test {n}")
    epci = factory.SubFactory(EpciFactory)
    start_year = 2024
    end_year = 2030
    status = ContractStatus.ACTIVE

    class Params:
        preparing = factory.Trait(status=ContractStatus.PREPARING)
        ended = factory.Trait(status=ContractStatus.ENDED)
        # Un contrat qui couvre un quartier.
        with_qpv = factory.Trait(qpvs=factory.LazyFunction(lambda: [QpvFactory()]))


class SignatoryFactory(ModelFactory):
    class Meta:
        model = Signatory

    contract = factory.SubFactory(ContractFactory)
    partner = factory.SubFactory(PartnerFactory)

    class Params:
        participant = factory.Trait(kind=SignatoryKind.PARTICIPANT)


class MilestoneFactory(ModelFactory):
    class Meta:
        model = Milestone

    contract = factory.SubFactory(ContractFactory)
    kind = "AUTRE"
    title = "Étape de test"
    year = 2026

    class Params:
        done = factory.Trait(done_on=factory.LazyAttribute(lambda o: datetime.date(o.year, 6, 30)))
        signature = factory.Trait(kind=MilestoneKind.SIGNATURE, title="Signature du contrat")


class KeyFigureFactory(ModelFactory):
    class Meta:
        model = KeyFigure

    contract = factory.SubFactory(ContractFactory)
    label = factory.Sequence(lambda n: f"Chiffre clé de test {n}")
    code = factory.LazyAttribute(lambda o: slugify(o.label))
    perimeter = "Ensemble des QPV du contrat"
    value = 1234
    unit = "habitants"
    source_label = "INSEE, recensement de la population"
    source_url = "https://www.insee.fr/fr/statistiques"

    class Params:
        headline = factory.Trait(
            is_headline=True, comparison_value=1000, comparison_perimeter="EPCI porteur", unit="%", value=42
        )
