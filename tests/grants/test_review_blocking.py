"""Un compte-rendu manquant ou refusé après son échéance bloque un nouveau dossier de la même
association (message clair, qui nomme le compte-rendu), jusqu'à ce que le pilote lève le blocage
avec une raison."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from cdv.grants.blocking import missing_reports, report_due_date
from cdv.grants.enums import EventKind, ReportStatus
from cdv.grants.errors import GrantsError
from cdv.grants.models import Application, ApplicationEvent, ReportBlockLift
from cdv.grants.services.applications import create_application, submit_application
from cdv.grants.services.report_review import lift_block
from cdv.users.enums import Role
from tests.factories.grants import (
    ApplicationFactory,
    CallFactory,
    CallFunderFactory,
    FinalReportFactory,
    FunderLineFactory,
    ReportBlockLiftFactory,
)
from tests.factories.users import MembershipFactory, UserFactory

from .applying_helpers import association, complete_application, referent_of

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


@pytest.fixture
def setup():
    """Une association financée l'an dernier (action finie il y a plus de six mois, compte-rendu
    jamais commencé) et l'appel de cette année, ouvert."""
    call = CallFactory()
    contract = call.contract
    old_call = CallFactory(contract=contract, voted=True)
    partner = association()
    old = ApplicationFactory(
        call=old_call,
        partner=partner,
        decided=True,
        number="2025-0012",
        title="Jardin partagé",
        end_date=_today() - datetime.timedelta(days=200),
    )
    FunderLineFactory(application=old, funder=CallFunderFactory(call=old_call), voted=True)
    referent = referent_of(partner, contract)
    pilot = UserFactory()
    MembershipFactory(user=pilot, contract=contract, role=Role.PILOT)
    return {"call": call, "old": old, "partner": partner, "referent": referent, "pilot": pilot}


def test_due_date_is_six_months_after_the_end_of_the_action():
    application = ApplicationFactory(call=CallFactory(year=2031), end_date=datetime.date(2031, 8, 31))
    assert report_due_date(application) == datetime.date(2032, 2, 29)
    application.end_date = None  # sans date de fin : le 31 décembre de l'année de l'appel
    assert report_due_date(application) == datetime.date(2032, 6, 30)


def test_missing_report_past_due_blocks_creation_with_a_message_naming_it(setup):
    with pytest.raises(GrantsError) as error:
        create_application(user=setup["referent"], call=setup["call"], partner=setup["partner"])
    message = error.value.messages[0]
    assert "Le compte-rendu du projet « Jardin partagé » (dossier 2025-0012" in message
    assert "n'a pas été reçu" in message and "dû le " in message
    assert not Application.objects.filter(call=setup["call"]).exists()


def test_which_reports_block(setup):
    old, partner, call = setup["old"], setup["partner"], setup["call"]
    assert [m.application for m in missing_reports(partner, call)] == [old]
    report = FinalReportFactory(application=old, due_date=_today() - datetime.timedelta(days=1))
    assert missing_reports(partner, call)  # en cours de saisie, échéance passée
    report.status = ReportStatus.SUBMITTED
    report.save()
    assert missing_reports(partner, call) == []  # transmis : reçu, même s'il n'est pas encore examiné
    report.status = ReportStatus.CHANGES_REQUESTED
    report.save()
    [item] = missing_reports(partner, call)
    assert item.refused and "renvoyé pour modifications" in item.message
    report.due_date = _today() + datetime.timedelta(days=10)
    report.save()
    assert missing_reports(partner, call) == []  # pas encore dû
    # Un projet de l'appel lui-même ne bloque pas son propre appel, ni le dossier d'une autre association.
    assert missing_reports(association(), call) == []


def test_blocked_then_lifted_by_the_pilot(setup):
    call, partner, referent = setup["call"], setup["partner"], setup["referent"]
    with pytest.raises(GrantsError):
        create_application(user=referent, call=call, partner=partner)
    lift_block(user=setup["pilot"], call=call, partner=partner, reason="Compte-rendu remis sur papier.")
    application = create_application(user=referent, call=call, partner=partner)
    assert application.pk
    event = ApplicationEvent.objects.get(application=setup["old"], kind=EventKind.BLOCK_LIFTED)
    assert "Compte-rendu remis sur papier." in event.message and event.actor == setup["pilot"]


def test_a_draft_created_before_the_block_cannot_be_submitted(setup):
    call, partner, referent = setup["call"], setup["partner"], setup["referent"]
    draft = complete_application(call=call, partner=partner)
    with pytest.raises(GrantsError) as error:
        submit_application(
            user=referent,
            application=draft,
            sworn_name="Camille",
            sworn_statement=True,
            republican_contract=True,
        )
    assert "Jardin partagé" in error.value.messages[0]
    draft.refresh_from_db()
    assert draft.status == "BROUILLON" and not draft.number
    ReportBlockLiftFactory(call=call, partner=partner)
    submit_application(
        user=referent, application=draft, sworn_name="Camille", sworn_statement=True, republican_contract=True
    )
    draft.refresh_from_db()
    assert draft.status == "DEPOSE"


def test_lift_needs_the_pilot_a_reason_and_a_blocked_association(setup):
    call, partner = setup["call"], setup["partner"]
    with pytest.raises(PermissionDenied):
        lift_block(user=setup["referent"], call=call, partner=partner, reason="Parce que.")
    with pytest.raises(GrantsError) as error:
        lift_block(user=setup["pilot"], call=call, partner=partner, reason="  ")
    assert "Raison" in error.value.message_dict["reason"][0]
    with pytest.raises(GrantsError):
        lift_block(user=setup["pilot"], call=call, partner=association(), reason="Rien à lever.")
    assert not ReportBlockLift.objects.filter(call=call).exists()


# ---------------------------------------------------------------------------------------------
# Pages


def test_the_association_space_and_the_call_page_say_which_report_is_missing(client, setup):
    call, partner = setup["call"], setup["partner"]
    client.force_login(setup["referent"])
    space = client.get(
        reverse("www:partner_applications", args=[call.contract.slug, partner.slug])
    ).content.decode()
    assert "Jardin partagé" in space and "2025-0012" in space
    assert reverse("www:application_create", args=[call.contract.slug, call.year, partner.slug]) not in space
    page = client.get(reverse("www:call", args=[call.contract.slug, call.year])).content.decode()
    assert "ne peut pas déposer" in page and "Jardin partagé" in page
    create = reverse("www:application_create", args=[call.contract.slug, call.year, partner.slug])
    response = client.post(create, {"title": "Nouveau"})
    assert response.status_code == 200 and "Jardin partagé" in response.content.decode()
    ReportBlockLiftFactory(call=call, partner=partner)
    space = client.get(
        reverse("www:partner_applications", args=[call.contract.slug, partner.slug])
    ).content.decode()
    assert create in space


def blocks_url(call):
    return reverse("www:call_blocks", args=[call.contract.slug, call.year])


def lift_url(call, partner):
    return reverse("www:call_block_lift", args=[call.contract.slug, call.year, partner.slug])


def test_pilot_lists_blocked_associations_and_lifts_through_a_confirmation_page(client, setup):
    call, partner = setup["call"], setup["partner"]
    client.force_login(setup["pilot"])
    page = client.get(blocks_url(call)).content.decode()
    assert partner.name in page and "Jardin partagé" in page and lift_url(call, partner) in page
    confirm = client.get(lift_url(call, partner))
    assert confirm.status_code == 200 and "Jardin partagé" in confirm.content.decode()
    refused = client.post(lift_url(call, partner), {"reason": "", "confirm": "on"})
    assert refused.status_code == 200 and "Raison" in refused.content.decode()
    unchecked = client.post(lift_url(call, partner), {"reason": "Remis sur papier."})
    assert unchecked.status_code == 200 and "Je confirme" in unchecked.content.decode()
    assert not ReportBlockLift.objects.filter(call=call).exists()
    done = client.post(lift_url(call, partner), {"reason": "Remis sur papier.", "confirm": "on"})
    assert done.status_code == 302
    lift = ReportBlockLift.objects.get(call=call, partner=partner)
    assert (lift.lifted_by, lift.reason) == (setup["pilot"], "Remis sur papier.")
    page = client.get(blocks_url(call)).content.decode()
    assert "Remis sur papier." in page and "Aucune association n'est bloquée" in page
    assert client.get(lift_url(call, partner)).status_code == 404  # plus bloquée


def test_blocks_pages_are_for_the_pilot_only(client, setup):
    call, partner = setup["call"], setup["partner"]
    funder = CallFunderFactory(call=call)
    instructor = UserFactory()
    MembershipFactory(user=instructor, contract=call.contract, role=Role.INSTRUCTOR, partner=funder.partner)
    assert client.get(blocks_url(call)).status_code == 302
    for user in (setup["referent"], instructor):
        client.force_login(user)
        assert client.get(blocks_url(call)).status_code == 403
        assert client.post(lift_url(call, partner), {"reason": "x", "confirm": "on"}).status_code == 403
    assert not ReportBlockLift.objects.filter(call=call).exists()


def test_blocks_page_keeps_a_bounded_number_of_queries(client, setup, django_assert_max_num_queries):
    old_call = setup["old"].call
    for _ in range(30):
        application = ApplicationFactory(
            call=old_call, decided=True, end_date=_today() - datetime.timedelta(days=300)
        )
        FunderLineFactory(
            application=application, funder=old_call.funders.first(), voted=True, voted_amount=Decimal("10")
        )
    client.force_login(setup["pilot"])
    with django_assert_max_num_queries(12):
        page = client.get(blocks_url(setup["call"]))
    assert page.content.decode().count("Lever le blocage<span") == 31
