import factory
from django.utils.text import slugify

from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner

from .base import ModelFactory

__all__ = ["PartnerFactory"]


class PartnerFactory(ModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partenaire de test {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = PartnerKind.ASSOCIATION

    class Params:
        citizen_council = factory.Trait(kind=PartnerKind.CITIZEN_COUNCIL)
        collective = factory.Trait(kind=PartnerKind.COLLECTIVE)
        state = factory.Trait(kind=PartnerKind.STATE)
