"""Un monde d'appel à projets partagé par les tests de droits (pages et API) : un contrat à deux
quartiers, un appel ouvert (2025), un appel voté (2024), un appel en préparation (2026), deux
associations, trois financeurs (l'État, X, Y) et une personne par rôle."""

from decimal import Decimal

from cdv.grants.enums import LineStatus
from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests import factories

ROLES = [
    "anonymous",
    "pilot_other",
    "pilot",
    "referent_a",
    "referent_b",
    "instructor_x",
    "instructor_y",
    "correspondent_1",
    "correspondent_2",
    "delegate",
    "committee",
    "editor",
    "evaluator",
]


def build_world() -> dict:
    q1, q2 = factories.QpvFactory(), factories.QpvFactory()
    contract = factories.ContractFactory(qpvs=[q1, q2])
    other = factories.ContractFactory(with_qpv=True)
    state = factories.PartnerFactory(kind=PartnerKind.STATE, name="Préfecture de test")
    funder_x = factories.PartnerFactory(kind=PartnerKind.EPCI, name="Financeur X")
    funder_y = factories.PartnerFactory(kind=PartnerKind.COMMUNE, name="Financeur Y")
    asso_a = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION, name="Association A")
    asso_b = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION, name="Association B")
    for partner in (state, funder_x, funder_y):
        factories.SignatoryFactory(contract=contract, partner=partner)

    call = factories.CallFactory(contract=contract, year=2025)
    cf = {
        "state": factories.CallFunderFactory(call=call, partner=state),
        "x": factories.CallFunderFactory(call=call, partner=funder_x),
        "y": factories.CallFunderFactory(call=call, partner=funder_y),
    }
    factories.ScoringCriterionFactory(call=call, label="Ancrage dans le quartier")
    draft_a = factories.ApplicationFactory(call=call, partner=asso_a, qpvs=[q1], funders=[cf["x"], cf["y"]])
    factories.BudgetLineFactory(application=draft_a, label="SECRET-BROUILLON")
    sub_a = factories.ApplicationFactory(
        call=call,
        partner=asso_a,
        submitted=True,
        number="2025-0001",
        qpvs=[q1],
        funders=[cf["state"], cf["x"]],
    )
    factories.BudgetLineFactory(application=sub_a, label="Animatrice A")
    sub_b = factories.ApplicationFactory(
        call=call, partner=asso_b, submitted=True, number="2025-0002", qpvs=[q2], funders=[cf["y"]]
    )
    # Rendu à l'association pour compléments (quartier 2, financeur Y).
    ret_a = factories.ApplicationFactory(
        call=call, partner=asso_a, returned=True, number="2025-0003", qpvs=[q2], funders=[cf["y"]]
    )
    for line in sub_a.funder_lines.all():
        line.proposed_amount = Decimal("1234.00")
        line.comment = f"AVIS-{line.funder.partner.name}"
        line.save()

    voted = factories.CallFactory(contract=contract, year=2024, voted=True)
    vx = factories.CallFunderFactory(call=voted, partner=funder_x)
    vy = factories.CallFunderFactory(call=voted, partner=funder_y)
    voted_a = factories.ApplicationFactory(
        call=voted, partner=asso_a, decided=True, number="2024-0001", qpvs=[q1]
    )
    factories.FunderLineFactory(application=voted_a, funder=vx, voted=True, comment="AVIS-VOTE")
    factories.FunderLineFactory(application=voted_a, funder=vy, rejected=True)
    factories.BudgetLineFactory(application=voted_a, label="SECRET-BUDGET-VOTE")
    refused_b = factories.ApplicationFactory(
        call=voted, partner=asso_b, decided=True, number="2024-0002", qpvs=[q2]
    )
    factories.FunderLineFactory(application=refused_b, funder=vy, rejected=True)
    # Le compte-rendu du projet voté de 2024 n'est pas rendu : sans levée, A ne déposerait plus en 2025.
    factories.ReportBlockLiftFactory(call=call, partner=asso_a)

    draft_call = factories.CallFactory(contract=contract, year=2026, draft=True)

    def member(role, **kwargs):
        return factories.MembershipFactory(contract=contract, role=role, **kwargs).user

    users = {
        "anonymous": None,
        "pilot_other": factories.MembershipFactory(contract=other, role=Role.PILOT).user,
        "pilot": member(Role.PILOT),
        "referent_a": member(Role.APPLICANT, partner=asso_a),
        "referent_b": member(Role.APPLICANT, partner=asso_b),
        "instructor_x": member(Role.INSTRUCTOR, partner=funder_x),
        "instructor_y": member(Role.INSTRUCTOR, partner=funder_y),
        "correspondent_1": member(Role.CORRESPONDENT, qpv=q1),
        "correspondent_2": member(Role.CORRESPONDENT, qpv=q2),
        "delegate": member(Role.PREFECT_DELEGATE, partner=state, qpv=q1),
        "committee": member(Role.COMMITTEE_MEMBER),
        "editor": member(Role.EDITOR, partner=funder_x),
        "evaluator": member(Role.EVALUATOR),
    }
    return {
        "contract": contract,
        "other": other,
        "q1": q1,
        "q2": q2,
        "state": state,
        "funder_x": funder_x,
        "funder_y": funder_y,
        "asso_a": asso_a,
        "asso_b": asso_b,
        "call": call,
        "call_funders": cf,
        "draft_a": draft_a,
        "sub_a": sub_a,
        "sub_b": sub_b,
        "ret_a": ret_a,
        "voted": voted,
        "voted_a": voted_a,
        "refused_b": refused_b,
        "draft_call": draft_call,
        "users": users,
        "line_status": LineStatus,
    }
