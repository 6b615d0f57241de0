"""Un petit monde pour le compte-rendu financier : un appel voté, trois financeurs (A et l'État
ont voté un montant, B a refusé), un dossier décidé avec son budget, et les personnes de chaque
rôle (dont le référent d'une autre association)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse

from cdv.grants.enums import Account
from cdv.users.enums import Role
from tests.factories.grants import (
    ApplicationFactory,
    BudgetLineFactory,
    CallFactory,
    CallFunderFactory,
    FunderLineFactory,
)
from tests.factories.users import MembershipFactory, UserFactory


@dataclass
class World:
    call: object
    funder_a: object
    funder_b: object
    state: object
    application: object
    line_a: object
    line_state: object
    referent: object
    other_referent: object
    instructor_a: object
    instructor_b: object
    instructor_state: object
    pilot: object

    def url(self, name, application=None):
        application = application or self.application
        call = application.call
        return reverse(f"www:{name}", args=[call.contract.slug, call.year, application.pk])


def member(contract, role, **kwargs):
    user = UserFactory()
    MembershipFactory(user=user, contract=contract, role=role, **kwargs)
    return user


def build_world(*, end_date=None) -> World:
    call = CallFactory(voted=True)
    contract = call.contract
    funder_a = CallFunderFactory(call=call)
    funder_b = CallFunderFactory(call=call)
    state = CallFunderFactory(call=call, state=True)
    application = ApplicationFactory(
        call=call,
        decided=True,
        start_date=datetime.date(call.year, 1, 15),
        end_date=end_date if end_date is not None else datetime.date(call.year, 8, 31),
    )
    BudgetLineFactory(
        application=application, account=Account.A60, label="Fournitures", amount=Decimal("1000")
    )
    BudgetLineFactory(application=application, account=Account.A64, label="Animateur", amount=Decimal("3000"))
    BudgetLineFactory(
        application=application, account=Account.A70, label="Participation", amount=Decimal("500")
    )
    line_a = FunderLineFactory(
        application=application, funder=funder_a, voted=True, voted_amount=Decimal("2000")
    )
    FunderLineFactory(application=application, funder=funder_b, rejected=True)
    line_state = FunderLineFactory(
        application=application, funder=state, voted=True, voted_amount=Decimal("1500")
    )
    other = ApplicationFactory(call=call, decided=True)
    return World(
        call=call,
        funder_a=funder_a,
        funder_b=funder_b,
        state=state,
        application=application,
        line_a=line_a,
        line_state=line_state,
        referent=member(contract, Role.APPLICANT, partner=application.partner),
        other_referent=member(contract, Role.APPLICANT, partner=other.partner),
        instructor_a=member(contract, Role.INSTRUCTOR, partner=funder_a.partner),
        instructor_b=member(contract, Role.INSTRUCTOR, partner=funder_b.partner),
        instructor_state=member(contract, Role.INSTRUCTOR, partner=state.partner),
        pilot=member(contract, Role.PILOT),
    )


# Le budget prévu, dans l'ordre des lignes (voir ``planned_rows``) : charges 60 à 68 et 86 (0 à 9),
# produits 70 (10), 73 (11), 74 financeur A (12), 74 État (13), 74 autres (14), 75 (15), 87 (16).
ROWS = 17
A60, A64, A70, A74_A, A74_STATE = 0, 4, 10, 12, 13


def budget_post(version, actual=None, explanations=None):
    """Le formulaire du budget réalisé : le prévu partout, sauf ``actual`` {ligne: montant}."""
    planned = {A60: "1000", A64: "3000", A70: "500", A74_A: "2000", A74_STATE: "1500"}
    planned.update(actual or {})
    data = {"version": "" if version is None else str(version)}
    for order in range(ROWS):
        data[f"actual_{order}"] = planned.get(order, "")
        data[f"explanation_{order}"] = (explanations or {}).get(order, "")
    return data


def carried_out_post(version=None, **overrides):
    data = {
        "version": "" if version is None else str(version),
        "path": "REALISEE",
        "achievements": "Douze ateliers au centre social.",
        "beneficiaries_reached": "40",
        "qpv_beneficiaries": "30",
        "indicators_results": "Assiduité : 80 %.",
        "difficulties": "",
        "not_carried_reason": "",
        "amount_to_return": "",
        "new_start_date": "",
        "new_end_date": "",
        "new_dates_reason": "",
    }
    data.update(overrides)
    return data
