"""L'API des dossiers après le vote : montant voté, acte, échéancier, versements, état de suivi et
compte-rendu, selon follow_up_abilities / report_abilities (association : les siens ;
instruction : comme l'instruction ; anonyme : l'état de suivi et l'acte signé, sans versements)."""

import datetime
from decimal import Decimal

import pytest

from cdv.grants.enums import InstalmentKind, ReportStatus
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1/contracts"
SIGNED_ON = datetime.date(2030, 3, 2)


@pytest.fixture
def world():
    contract = factories.ContractFactory()
    call = factories.CallFactory(contract=contract, voted=True, year=2030)
    state = factories.CallFunderFactory(call=call, state=True)
    metropole = factories.CallFunderFactory(call=call)
    association = factories.PartnerFactory(name="Association suivie (API)")
    application = factories.ApplicationFactory(call=call, partner=association, decided=True)
    state_line = factories.FunderLineFactory(
        application=application, funder=state, voted=True, voted_amount=Decimal("4000")
    )
    metropole_line = factories.FunderLineFactory(
        application=application, funder=metropole, voted=True, voted_amount=Decimal("1000")
    )
    factories.GrantActFactory(line=state_line, signed=True, reference="ETAT-2030-0001", signed_on=SIGNED_ON)
    factories.GrantActFactory(line=metropole_line, reference="NM-2030-0001")  # préparé, pas signé
    factories.PaymentInstalmentFactory(
        line=state_line,
        kind=InstalmentKind.ADVANCE,
        order=1,
        amount=2000,
        due_date=datetime.date(2030, 3, 15),
    )
    factories.PaymentInstalmentFactory(
        line=state_line,
        kind=InstalmentKind.BALANCE,
        order=2,
        amount=2000,
        due_date=datetime.date(2030, 12, 1),
    )
    factories.PaymentFactory(line=state_line, amount=2000, paid_on=datetime.date(2030, 3, 20))
    factories.FinalReportFactory(application=application, submitted=True, due_date=datetime.date(2031, 6, 30))

    def member(role, partner=None):
        return factories.MembershipFactory(contract=contract, role=role, partner=partner).user

    users = {
        "anonymous": None,
        "association": member(Role.APPLICANT, association),
        "instructor_state": member(Role.INSTRUCTOR, state.partner),
        "pilot": member(Role.PILOT),
        "other_association": member(Role.APPLICANT, factories.PartnerFactory()),
    }
    return {"contract": contract, "call": call, "application": application, "users": users}


def get(client, world, role, path=""):
    user = world["users"][role]
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = "Bearer " + create_api_token(user=user, name="test")[1]
    return client.get(f"{API}/{world['contract'].slug}/calls/2030/applications{path}", **headers)


def detail(client, world, role):
    return get(client, world, role, f"/{world['application'].number}")


def lines(data):
    return {line["funder"]: line for line in data["funder_lines"]}


@pytest.mark.parametrize("role", ["association", "instructor_state", "pilot"])
def test_the_association_and_the_instruction_read_acts_schedule_payments_and_report(client, world, role):
    response = detail(client, world, role)
    assert response.status_code == 200, response.content
    data = response.json()
    state = next(line for line in data["funder_lines"] if line["act"] and line["act"]["signed_on"])
    assert state["voted_amount"] == "4000.00"
    assert state["act"] == {
        "kind": "ARRETE",
        "kind_label": "Décision attributive (arrêté)",
        "reference": "ETAT-2030-0001",
        "signed_on": "2030-03-02",
        "amount": "4000.00",
        "payment_terms": "UNIQUE",
    }
    assert state["stage"] == "JUSTIFICATION_EN_COURS"  # avance versée, compte-rendu transmis
    assert state["paid_amount"] == "2000.00"
    assert [(i["kind"], i["due_date"]) for i in state["instalments"]] == [
        ("AVANCE", "2030-03-15"),
        ("SOLDE", "2030-12-01"),
    ]
    assert state["payments"] == [{"paid_on": "2030-03-20", "amount": "2000.00"}]
    unsigned = next(line for line in data["funder_lines"] if line is not state)
    assert unsigned["act"]["reference"] == "NM-2030-0001" and unsigned["act"]["signed_on"] is None
    assert unsigned["payments"] == [] and unsigned["instalments"] == []
    assert data["final_report"] == {
        "status": ReportStatus.SUBMITTED,
        "status_label": "Transmis aux financeurs",
        "path": "REALISEE",
        "path_label": "L'action a été réalisée : compte-rendu financier",
        "due_date": "2031-06-30",
        "submitted_at": data["final_report"]["submitted_at"],
    }
    # La liste porte les mêmes informations.
    listed = get(client, world, role).json()["items"]
    assert [item["final_report"]["status"] for item in listed] == [ReportStatus.SUBMITTED]


def test_the_public_sees_the_stage_and_signed_act_but_no_payment_nor_report(client, world):
    response = detail(client, world, "anonymous")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["complete"] is False and data["final_report"] is None
    by_ref = {(line["act"] or {}).get("reference"): line for line in data["funder_lines"]}
    signed = by_ref["ETAT-2030-0001"]
    assert signed["act"] == {
        "kind": "ARRETE",
        "kind_label": "Décision attributive (arrêté)",
        "reference": "ETAT-2030-0001",
        "signed_on": "2030-03-02",
        "amount": None,
        "payment_terms": None,
    }
    # Le compte-rendu transmis ne se publie pas : l'état public est « Conventionné » (acte signé).
    assert (signed["stage"], signed["stage_label"]) == ("ACTE_SIGNE", "Conventionné")
    assert signed["voted_amount"] == "4000.00"
    assert signed["paid_amount"] is None and signed["payments"] is None and signed["instalments"] is None
    unsigned = by_ref[None]  # l'acte préparé mais pas signé n'est pas public
    assert (unsigned["stage"], unsigned["stage_label"]) == ("VOTE", "Voté") and unsigned["act"] is None


def test_another_association_gets_only_the_public_view(client, world):
    data = detail(client, world, "other_association").json()
    assert data["complete"] is False and data["final_report"] is None
    assert all(line["payments"] is None and line["instalments"] is None for line in data["funder_lines"])


def test_the_list_keeps_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    call = world["call"]
    funders = list(call.funders.all())
    for i in range(15):
        application = factories.ApplicationFactory(call=call, decided=True)
        for funder in funders:
            line = factories.FunderLineFactory(application=application, funder=funder, voted=True)
            factories.GrantActFactory(line=line, signed=True)
            factories.PaymentInstalmentFactory(line=line, order=1, amount=line.voted_amount)
            factories.PaymentFactory(line=line, amount=100)
        if i % 2:
            factories.FinalReportFactory(application=application, submitted=True)
    for role in ("pilot", "anonymous", "instructor_state"):
        with django_assert_max_num_queries(20):
            response = get(client, world, role)
        assert response.status_code == 200 and response.json()["count"] == 16
        assert all(line["stage"] for item in response.json()["items"] for line in item["funder_lines"])
