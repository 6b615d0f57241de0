"""Un petit monde pour les tests de l'appel : un contrat à un quartier, son pilote, un enjeu et un
objectif, deux financeurs signataires, une association et son référent."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests import factories


@dataclass
class World:
    contract: object
    qpv: object
    pilot: object
    enjeu: object
    objective: object
    state: object
    city: object
    association: object
    referent: object


def build_world() -> World:
    contract = factories.ContractFactory(with_qpv=True)
    qpv = contract.qpvs.get()
    pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
    enjeu = factories.EnjeuFactory(contract=contract)
    objective = factories.ObjectiveFactory(enjeu=enjeu)
    state = factories.SignatoryFactory(
        contract=contract, partner=factories.PartnerFactory(kind=PartnerKind.STATE)
    ).partner
    city = factories.SignatoryFactory(
        contract=contract, partner=factories.PartnerFactory(kind=PartnerKind.EPCI)
    ).partner
    association = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION)
    referent = factories.MembershipFactory(contract=contract, role=Role.APPLICANT, partner=association).user
    return World(contract, qpv, pilot, enjeu, objective, state, city, association, referent)


def calendar(year: int) -> dict:
    return {
        "title": f"Appel à projets {year}",
        "summary": "Des projets pour les habitants des quartiers.",
        "contacts": "Mission politique de la ville, 02 40 00 00 00",
        "publication_date": datetime.date(year - 1, 9, 15),
        "filing_opens": datetime.date(year - 1, 10, 15),
        "filing_closes": datetime.date(year - 1, 11, 15),
        "instruction_ends": datetime.date(year, 1, 10),
        "committee_date": datetime.date(year, 2, 5),
        "notification_date": datetime.date(year, 2, 15),
    }


def open_calendar() -> dict:
    """Un calendrier dont la fenêtre de dépôt contient aujourd'hui."""
    today = timezone.localdate()
    return {
        "title": "Appel ouvert",
        "summary": "Des projets pour les habitants.",
        "contacts": "Mission politique de la ville",
        "filing_opens": today - datetime.timedelta(days=5),
        "filing_closes": today + datetime.timedelta(days=20),
        "committee_date": today + datetime.timedelta(days=60),
    }


ENVELOPE = Decimal("150000.00")
