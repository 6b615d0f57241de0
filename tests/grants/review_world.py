"""Un petit monde pour l'examen des comptes-rendus : un appel voté, un dossier financé par deux
financeurs (A et B), refusé par un troisième (C), son compte-rendu transmis, et une personne par
rôle (dont l'instructeur d'un quatrième financeur étranger au dossier)."""

from dataclasses import dataclass
from decimal import Decimal

from cdv.grants.enums import Account
from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests.factories.base import qpv_of
from tests.factories.grants import (
    ApplicationFactory,
    CallFactory,
    CallFunderFactory,
    FinalReportFactory,
    FunderLineFactory,
    ReportBudgetLineFactory,
)
from tests.factories.partners import PartnerFactory
from tests.factories.users import MembershipFactory, UserFactory


@dataclass
class World:
    call: object
    funder_a: object
    funder_b: object
    funder_c: object
    funder_d: object
    application: object
    report: object
    instructor_a: object
    instructor_b: object
    instructor_c: object
    instructor_d: object
    pilot: object
    committee: object
    correspondent: object
    referent: object
    other_referent: object

    @property
    def contract(self):
        return self.call.contract


def member(contract, role, **kwargs):
    user = UserFactory()
    MembershipFactory(user=user, contract=contract, role=role, **kwargs)
    return user


def build_world() -> World:
    call = CallFactory(voted=True)
    contract = call.contract
    qpv = qpv_of(contract)
    funder_a, funder_b, funder_c, funder_d = (CallFunderFactory(call=call) for _ in range(4))
    application = ApplicationFactory(call=call, decided=True, qpvs=[qpv])
    FunderLineFactory(application=application, funder=funder_a, voted=True, voted_amount=Decimal("3000"))
    FunderLineFactory(application=application, funder=funder_b, voted=True, voted_amount=Decimal("2000"))
    FunderLineFactory(application=application, funder=funder_c, rejected=True)
    report = FinalReportFactory(application=application, submitted=True, qpv_share=Decimal("75"))
    ReportBudgetLineFactory(
        report=report, account=Account.A64, planned_amount=Decimal("3000"), actual_amount=Decimal("2900")
    )
    ReportBudgetLineFactory(
        report=report,
        account=Account.A60,
        label="Matériel",
        planned_amount=Decimal("1000"),
        actual_amount=Decimal("1500"),
        explanation="Achat de tables pliantes.",
    )
    other = PartnerFactory(kind=PartnerKind.ASSOCIATION)
    return World(
        call=call,
        funder_a=funder_a,
        funder_b=funder_b,
        funder_c=funder_c,
        funder_d=funder_d,
        application=application,
        report=report,
        instructor_a=member(contract, Role.INSTRUCTOR, partner=funder_a.partner),
        instructor_b=member(contract, Role.INSTRUCTOR, partner=funder_b.partner),
        instructor_c=member(contract, Role.INSTRUCTOR, partner=funder_c.partner),
        instructor_d=member(contract, Role.INSTRUCTOR, partner=funder_d.partner),
        pilot=member(contract, Role.PILOT),
        committee=member(contract, Role.COMMITTEE_MEMBER),
        correspondent=member(contract, Role.CORRESPONDENT, qpv=qpv),
        referent=member(contract, Role.APPLICANT, partner=application.partner),
        other_referent=member(contract, Role.APPLICANT, partner=other),
    )
