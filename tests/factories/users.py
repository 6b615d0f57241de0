import datetime
import hashlib

import factory
from django.utils import timezone

from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from cdv.users.models import ApiToken, CrossContractReader, Invitation, Membership, User

from .base import ModelFactory
from .contracts import ContractFactory
from .partners import PartnerFactory

__all__ = [
    "ApiTokenFactory",
    "CrossContractReaderFactory",
    "InvitationFactory",
    "MembershipFactory",
    "UserFactory",
    "users_by_role",
]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class UserFactory(ModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@example.org")
    password = factory.django.Password("motdepasse-de-test")

    class Params:
        staff = factory.Trait(is_staff=True)
        superuser = factory.Trait(is_staff=True, is_superuser=True)
        inactive = factory.Trait(is_active=False)


class MembershipFactory(ModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    contract = factory.SubFactory(ContractFactory)
    role = "PILOTE"

    class Params:
        # Rôles exercés au nom d'un partenaire : un partenaire est créé s'il n'est pas donné.
        editor = factory.Trait(role=Role.EDITOR, partner=factory.SubFactory(PartnerFactory))
        reader = factory.Trait(role=Role.READER, partner=factory.SubFactory(PartnerFactory))
        council_member = factory.Trait(
            role=Role.COUNCIL_MEMBER,
            partner=factory.SubFactory(PartnerFactory, kind=PartnerKind.CITIZEN_COUNCIL),
        )
        evaluator = factory.Trait(role=Role.EVALUATOR)


def users_by_role(specs: dict) -> dict:
    """Un compte par rôle nommé, dans l'ordre donné : ``{nom: (contrat, partenaire ou None, rôle)}``
    → ``{nom: compte}``, précédé de ``"anonymous": None`` (le visiteur sans compte). Pour les mondes
    des tests de droits, qui essaient chaque rôle."""
    users = {"anonymous": None}
    for name, (contract, partner, role) in specs.items():
        users[name] = MembershipFactory(contract=contract, partner=partner, role=role).user
    return users


class InvitationFactory(ModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    contract = factory.SubFactory(ContractFactory)
    role = Role.PILOT
    token_hash = factory.Sequence(lambda n: digest(f"invitation-{n}"))
    invited_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))

    class Params:
        editor = factory.Trait(role=Role.EDITOR, partner=factory.SubFactory(PartnerFactory))
        accepted = factory.Trait(
            accepted_at=factory.LazyFunction(timezone.now), accepted_by=factory.SubFactory(UserFactory)
        )
        withdrawn = factory.Trait(revoked=True)
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
        )


class ApiTokenFactory(ModelFactory):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "jeton de test"
    key_hash = factory.Sequence(lambda n: digest(f"jeton-{n}"))
    prefix = factory.LazyAttribute(lambda o: o.key_hash[:8])

    class Params:
        withdrawn = factory.Trait(revoked=True)
        used = factory.Trait(last_used_at=factory.LazyFunction(timezone.now))


class CrossContractReaderFactory(ModelFactory):
    """La lecture inter-contrats (vue de l'État) d'une personne, au nom d'une préfecture."""

    class Meta:
        model = CrossContractReader

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory, kind=PartnerKind.STATE)
    granted_by = factory.SubFactory(UserFactory, is_superuser=True)
