import factory
from django.utils.text import slugify

from cdv.contracts.enums import ContractStatus
from cdv.contracts.models import Contract, Milestone, Signatory
from cdv.core.validators import luhn_ok
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope
from cdv.plan.models import Action, Enjeu, Objective
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.models import Territory
from cdv.users.models import Membership, User

SQUARE = {
    "type": "MultiPolygon",
    "coordinates": [[[[0.0, 45.0], [0.01, 45.0], [0.01, 45.01], [0.0, 45.01], [0.0, 45.0]]]],
}


def siren_for(n: int) -> str:
    """Un SIREN fictif mais bien formé (clé de Luhn correcte), préfixe 29 inutilisé ici."""
    stem = f"29{n:06d}"
    for check in range(10):
        candidate = f"{stem}{check}"
        if luhn_ok(candidate):
            return candidate
    raise AssertionError("unreachable")


class EpciFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    kind = TerritoryKind.EPCI
    code = factory.Sequence(siren_for)
    name = factory.Sequence(lambda n: f"EPCI de test {n}")


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    kind = TerritoryKind.COMMUNE
    code = factory.Sequence(lambda n: f"{99000 + n:05d}")
    name = factory.Sequence(lambda n: f"Commune de test {n}")


class QpvFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    kind = TerritoryKind.QPV
    geography = Geography.QPV_2024
    code = factory.Sequence(lambda n: f"QN099{n % 100:02d}M")
    name = factory.Sequence(lambda n: f"Quartier de test {n}")
    geometry = SQUARE


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partenaire de test {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    kind = PartnerKind.ASSOCIATION


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    slug = factory.Sequence(lambda n: f"contrat-test-{n}")
    title = factory.Sequence(lambda n: f"Contrat de test {n}")
    epci = factory.SubFactory(EpciFactory)
    start_year = 2024
    end_year = 2030
    status = ContractStatus.ACTIVE


class SignatoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signatory

    contract = factory.SubFactory(ContractFactory)
    partner = factory.SubFactory(PartnerFactory)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    contract = factory.SubFactory(ContractFactory)
    kind = "AUTRE"
    title = "Étape de test"
    year = 2026


class EnjeuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enjeu

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Enjeu {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    enjeu = factory.SubFactory(EnjeuFactory)
    number = factory.Sequence(lambda n: n + 100)
    title = factory.Sequence(lambda n: f"Objectif {n}")


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    objective = factory.SubFactory(ObjectiveFactory)
    code = factory.Sequence(lambda n: f"9.9.{n}")
    title = factory.Sequence(lambda n: f"Action {n}")
    summary_plain = "Une action de test, résumée simplement."
    scope = ActionScope.METROPOLITAN


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@example.org")
    password = factory.django.Password("motdepasse-de-test")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    contract = factory.SubFactory(ContractFactory)
    role = "PILOTE"
