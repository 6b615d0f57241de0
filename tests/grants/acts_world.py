"""Un petit monde pour les tests des actes : un appel voté, deux financeurs (A, B), une association
complète (SIRET, RNA, représentant légal) dont le dossier a une ligne votée chez chacun, et les
personnes de chaque rôle."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests.factories.grants import ApplicationFactory, CallFactory, CallFunderFactory, FunderLineFactory
from tests.factories.partners import PartnerFactory

from .instruction_world import member


@dataclass
class ActsWorld:
    call: object
    funder_a: object
    funder_b: object
    association: object
    application: object
    line_a: object
    line_b: object
    instructor_a: object
    instructor_b: object
    referent: object
    other_referent: object
    pilot: object


def build_acts_world(*, amount_a=Decimal("12500.00"), amount_b=Decimal("3000.00"), years=1, later=None):
    call = CallFactory(voted=True)
    contract = call.contract
    funder_a = CallFunderFactory(
        call=call,
        partner=PartnerFactory(kind=PartnerKind.EPCI, short_name="Métropole Test", city="Nantes"),
        label="Politique de la ville",
    )
    # Un nom à lui : « Partenaire de test 1 » serait aussi le début de « Partenaire de test 12 »,
    # qu'un test crée après lui quand le monde est bâti une fois pour le fichier.
    funder_b = CallFunderFactory(
        call=call, partner=PartnerFactory(kind=PartnerKind.EPCI, name="Financeur B des actes")
    )
    association = PartnerFactory(
        kind=PartnerKind.ASSOCIATION,
        siret="73282932000074",
        rna="W442001234",
        address="3 rue des Lilas",
        postal_code="44000",
        city="Nantes",
        legal_representative="Camille Durand",
        legal_representative_title="Présidente",
    )
    today = timezone.localdate()
    application = ApplicationFactory(
        call=call,
        partner=association,
        decided=True,
        title="Ateliers de cuisine du quartier",
        summary="Des ateliers de cuisine pour les familles.",
        years=years,
        start_date=today - datetime.timedelta(days=30),
        end_date=today + datetime.timedelta(days=200),
    )
    decision = today - datetime.timedelta(days=10)
    line_a = FunderLineFactory(
        application=application,
        funder=funder_a,
        voted=True,
        voted_amount=amount_a,
        decision_date=decision,
        later_amounts=later or [],
    )
    line_b = FunderLineFactory(
        application=application, funder=funder_b, voted=True, voted_amount=amount_b, decision_date=decision
    )
    other = PartnerFactory(kind=PartnerKind.ASSOCIATION)
    return ActsWorld(
        call=call,
        funder_a=funder_a,
        funder_b=funder_b,
        association=association,
        application=application,
        line_a=line_a,
        line_b=line_b,
        instructor_a=member(contract, Role.INSTRUCTOR, partner=funder_a.partner),
        instructor_b=member(contract, Role.INSTRUCTOR, partner=funder_b.partner),
        referent=member(contract, Role.APPLICANT, partner=association),
        other_referent=member(contract, Role.APPLICANT, partner=other),
        pilot=member(contract, Role.PILOT),
    )
