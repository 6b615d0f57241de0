"""Un petit monde pour les tests des versements : un appel voté, deux financeurs (A et B), un
dossier avec une ligne votée pour chacun (1 500 € chez A), l'acte de A signé ou non, et les
personnes de chaque rôle (dont le référent d'une autre association, avec son propre dossier)."""

from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse

from cdv.users.enums import Role
from tests.factories.base import qpv_of
from tests.factories.grants import (
    ApplicationFactory,
    CallFactory,
    CallFunderFactory,
    FunderLineFactory,
    GrantActFactory,
    voted_line,
)
from tests.factories.users import MembershipFactory, UserFactory


@dataclass
class World:
    call: object
    funder_a: object
    funder_b: object
    application: object
    line: object  # la ligne de A (1 500 €)
    line_b: object
    other_line: object  # la ligne de A d'une autre association
    instructor_a: object
    instructor_b: object
    referent: object
    other_referent: object
    pilot: object
    committee: object
    correspondent: object

    @property
    def contract(self):
        return self.call.contract

    def url(self, name, line=None, *extra):
        line = line or self.line
        return reverse(
            f"www:{name}",
            args=[self.contract.slug, self.call.year, line.application_id, line.pk, *extra],
        )

    def board_url(self, xlsx=False):
        name = "call_payments_xlsx" if xlsx else "call_payments"
        return reverse(f"www:{name}", args=[self.contract.slug, self.call.year])


def member(contract, role, **kwargs):
    user = UserFactory()
    MembershipFactory(user=user, contract=contract, role=role, **kwargs)
    return user


def build_world(*, signed=True) -> World:
    call = CallFactory(voted=True)
    contract = call.contract
    funder_a = CallFunderFactory(call=call)
    funder_b = CallFunderFactory(call=call)
    application = ApplicationFactory(call=call, decided=True)
    line = FunderLineFactory(application=application, funder=funder_a, voted=True)
    line_b = FunderLineFactory(
        application=application, funder=funder_b, voted=True, voted_amount=Decimal("800.00")
    )
    if signed is not None:
        GrantActFactory(line=line, signed=signed)
    other_line = voted_line(call=call, funder=funder_a)
    return World(
        call=call,
        funder_a=funder_a,
        funder_b=funder_b,
        application=application,
        line=line,
        line_b=line_b,
        other_line=other_line,
        instructor_a=member(contract, Role.INSTRUCTOR, partner=funder_a.partner),
        instructor_b=member(contract, Role.INSTRUCTOR, partner=funder_b.partner),
        referent=member(contract, Role.APPLICANT, partner=application.partner),
        other_referent=member(contract, Role.APPLICANT, partner=other_line.application.partner),
        pilot=member(contract, Role.PILOT),
        committee=member(contract, Role.COMMITTEE_MEMBER),
        correspondent=member(contract, Role.CORRESPONDENT, qpv=qpv_of(contract)),
    )
