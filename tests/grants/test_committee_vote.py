"""Le vote du comité : chaque ligne décidée, une seule fois, par le pilote seul ; un courriel par
référent d'association avec la décision de chaque financeur."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from cdv.grants.enums import ApplicationStatus, EventKind, LineStatus, Simulation
from cdv.grants.errors import GrantsError
from cdv.grants.models import ApplicationEvent, FunderLine
from cdv.grants.services.committee import record_vote, simulate_line
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from cdv.users.enums import Role
from tests import factories

from .committee_world import build_world

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 2, 5)


def _simulate_all(w):
    simulate_line(user=w.pilot, line=w.line(w.a1, w.state), choice=Simulation.YES, amount=Decimal("3000"))
    simulate_line(user=w.pilot, line=w.line(w.a1, w.city), choice=Simulation.NO)
    simulate_line(user=w.pilot, line=w.line(w.a2, w.state), choice=Simulation.YES)
    simulate_line(user=w.pilot, line=w.line(w.a3, w.city), choice=Simulation.YES, amount=Decimal("800"))


def test_vote_records_every_line_and_cannot_run_twice(django_capture_on_commit_callbacks):
    w = build_world()
    _simulate_all(w)
    with django_capture_on_commit_callbacks(execute=True):
        count = record_vote(user=w.pilot, call=w.call, decision_date=DAY, reference_prefix="CF-NM")
    assert count == 4
    lines = {(line.application_id, line.funder_id): line for line in FunderLine.objects.for_call(w.call)}
    voted = lines[(w.a1.pk, w.state.pk)]
    assert (voted.status, voted.voted_amount, voted.decision_date) == (LineStatus.VOTED, Decimal("3000"), DAY)
    assert voted.decision_reference == f"CF-NM-{w.a1.number}-1"
    refused = lines[(w.a1.pk, w.city.pk)]
    assert (refused.status, refused.voted_amount) == (LineStatus.REJECTED, None)
    assert refused.decision_reference == f"CF-NM-{w.a1.number}-2"
    assert lines[(w.a2.pk, w.state.pk)].voted_amount == Decimal("6000")  # le proposé
    w.call.refresh_from_db()
    assert w.call.committee_held_at is not None
    for application in (w.a1, w.a2, w.a3):
        application.refresh_from_db()
        assert application.status == ApplicationStatus.DECIDED
    assert ApplicationEvent.objects.filter(application__call=w.call, kind=EventKind.DECIDED).count() == 3
    with pytest.raises(GrantsError, match="déjà enregistré"):
        record_vote(user=w.pilot, call=w.call, decision_date=DAY)


def test_vote_refused_while_a_line_has_no_decision_and_nothing_changes():
    w = build_world()
    simulate_line(user=w.pilot, line=w.line(w.a1, w.state), choice=Simulation.YES)
    with pytest.raises(GrantsError, match="3 ligne\\(s\\) sans décision"):
        record_vote(user=w.pilot, call=w.call, decision_date=DAY)
    assert (
        not FunderLine.objects.for_call(w.call)
        .filter(status__in=[LineStatus.VOTED, LineStatus.REJECTED])
        .exists()
    )
    w.call.refresh_from_db()
    assert w.call.committee_held_at is None


def test_vote_page_lists_what_is_incomplete_then_records(client):
    w = build_world(city_envelope="500")
    simulate_line(user=w.pilot, line=w.line(w.a3, w.city), choice=Simulation.YES, amount=Decimal("1000"))
    client.force_login(w.pilot)
    url = w.url + "vote/"
    page = client.get(url).content.decode()
    assert "3 lignes sans simulation" in page
    assert w.a1.number in page and w.a2.number in page
    assert "Enveloppe dépassée" in page
    refused = client.post(url, {"decision_date": "2026-02-05", "confirm": "on"})
    assert refused.status_code == 422
    assert "sans décision" in refused.content.decode()
    _simulate_all(w)
    unchecked = client.post(url, {"decision_date": "2026-02-05"})
    assert "Cochez la case" in unchecked.content.decode()
    done = client.post(url, {"decision_date": "2026-02-05", "confirm": "on"})
    assert done.status_code == 302
    assert FunderLine.objects.for_call(w.call).filter(decision_date=DAY).count() == 4


def test_vote_page_warns_while_filing_is_open_and_files_await_information(client):
    """Avant l'acte définitif, la page dit aussi ce qui peut encore arriver : un dépôt encore ouvert,
    des dossiers rendus pour compléments dont la réponse manque."""
    w = build_world()
    client.force_login(w.pilot)
    page = client.get(w.url + "vote/").content.decode()
    assert "Le dépôt est encore ouvert" not in page and "en attente de compléments" not in page
    w.call.filing_closes = datetime.date.today() + datetime.timedelta(days=3)
    w.call.save()
    w.a2.status = ApplicationStatus.RETURNED
    w.a2.save()
    page = client.get(w.url + "vote/").content.decode()
    assert "Le dépôt est encore ouvert" in page
    assert "1 dossier en attente de compléments" in page and w.a2.number in page


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.INSTRUCTOR, Role.APPLICANT])
def test_non_pilot_cannot_vote(client, role):
    w = build_world()
    _simulate_all(w)
    partner = {Role.INSTRUCTOR: w.state.partner, Role.APPLICANT: w.a1.partner}.get(role)
    user = factories.MembershipFactory(contract=w.contract, role=role, partner=partner).user
    client.force_login(user)
    assert client.post(w.url + "vote/", {"decision_date": "2026-02-05", "confirm": "on"}).status_code in (
        403,
        404,
    )
    with pytest.raises(PermissionDenied):
        record_vote(user=user, call=w.call, decision_date=DAY)
    w.call.refresh_from_db()
    assert w.call.committee_held_at is None


def test_one_email_per_referent_with_both_funders_decisions(django_capture_on_commit_callbacks):
    w = build_world()
    referent = factories.MembershipFactory(
        contract=w.contract, role=Role.APPLICANT, partner=w.a1.partner
    ).user
    other = factories.MembershipFactory(contract=w.contract, role=Role.APPLICANT, partner=w.a3.partner).user
    factories.MembershipFactory(
        contract=w.contract, role=Role.EDITOR, partner=w.a1.partner
    )  # pas référent AAP
    _simulate_all(w)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        record_vote(user=w.pilot, call=w.call, decision_date=DAY)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([referent.email, other.email])
    message = next(m for m in mail.outbox if m.to == [referent.email])
    assert w.a1.number in message.body
    assert f"{w.state.partner.name} : accordé, 3\u202f000\u00a0€" in message.body
    assert f"{w.city.partner.name} : refusé" in message.body
    assert w.a3.number not in message.body
    assert Notification.objects.filter(kind=NotificationKind.GRANT_DECISIONS, recipient=referent).count() == 1


def test_no_email_if_the_vote_is_rolled_back():
    w = build_world()
    factories.MembershipFactory(contract=w.contract, role=Role.APPLICANT, partner=w.a1.partner)
    mail.outbox.clear()
    with pytest.raises(GrantsError):
        record_vote(user=w.pilot, call=w.call, decision_date=DAY)
    assert mail.outbox == []


def test_after_the_vote_the_table_is_read_only_and_simulation_refused(
    client, django_capture_on_commit_callbacks
):
    w = build_world()
    _simulate_all(w)
    with django_capture_on_commit_callbacks(execute=True):
        record_vote(user=w.pilot, call=w.call, decision_date=DAY)
    client.force_login(w.pilot)
    html = client.get(w.url).content.decode()
    assert "Vote enregistré" in html
    assert 'name="choice"' not in html
    assert "Voté\u00a0:\u00a03\u202f000\u00a0€" in html
    line = w.line(w.a1, w.state)
    assert client.post(f"{w.url}lignes/{line.pk}/simulation/", {"choice": "NON"}).status_code == 403
    assert client.get(w.url + "vote/").status_code == 302
    line.refresh_from_db()
    assert line.status == LineStatus.VOTED
