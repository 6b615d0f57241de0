"""Un petit monde pour les tests de l'instruction : un appel, deux financeurs (A et l'État),
un dossier déposé sur un quartier qui les sollicite tous deux, et les personnes de chaque rôle."""

from dataclasses import dataclass

from cdv.users.enums import Role
from tests.factories.base import new_qpv_of, qpv_of
from tests.factories.grants import ApplicationFactory, CallFactory, CallFunderFactory
from tests.factories.users import MembershipFactory, UserFactory


@dataclass
class World:
    call: object
    funder_a: object
    funder_b: object
    state: object
    qpv: object
    other_qpv: object
    application: object
    line_a: object
    line_state: object
    instructor_a: object
    instructor_b: object
    correspondent: object
    other_correspondent: object
    delegate: object
    referent: object
    pilot: object


def member(contract, role, **kwargs):
    user = UserFactory()
    MembershipFactory(user=user, contract=contract, role=role, **kwargs)
    return user


def build_world() -> World:
    call = CallFactory()
    contract = call.contract
    qpv = qpv_of(contract)
    other_qpv = new_qpv_of(contract)
    funder_a = CallFunderFactory(call=call)
    funder_b = CallFunderFactory(call=call)
    state = CallFunderFactory(call=call, state=True)
    application = ApplicationFactory(call=call, submitted=True, qpvs=[qpv], funders=[funder_a, state])
    lines = {line.funder_id: line for line in application.funder_lines.all()}
    return World(
        call=call,
        funder_a=funder_a,
        funder_b=funder_b,
        state=state,
        qpv=qpv,
        other_qpv=other_qpv,
        application=application,
        line_a=lines[funder_a.pk],
        line_state=lines[state.pk],
        instructor_a=member(contract, Role.INSTRUCTOR, partner=funder_a.partner),
        instructor_b=member(contract, Role.INSTRUCTOR, partner=funder_b.partner),
        correspondent=member(contract, Role.CORRESPONDENT, qpv=qpv),
        other_correspondent=member(contract, Role.CORRESPONDENT, qpv=other_qpv),
        delegate=member(contract, Role.PREFECT_DELEGATE, partner=state.partner, qpv=qpv),
        referent=member(contract, Role.APPLICANT, partner=application.partner),
        pilot=member(contract, Role.PILOT),
    )
