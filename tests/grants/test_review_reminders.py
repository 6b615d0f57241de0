"""Rappels du compte-rendu financier : 30 jours et 7 jours avant l'échéance, puis le lendemain de
l'échéance, une fois chacun, aux référents de l'association ; rien pour un compte-rendu transmis
ou accepté, ni avant la fin de l'action."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from cdv.grants.blocking import report_due_date
from cdv.grants.enums import ReportStatus
from cdv.grants.report_reminders import send_report_reminders
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from tests.factories.grants import ApplicationFactory, CallFactory, FinalReportFactory, FunderLineFactory

from .applying_helpers import association, referent_of

pytestmark = pytest.mark.django_db


def to(mailoutbox, *users):
    """Les courriels envoyés à ces personnes (les données de démonstration peuvent en recevoir)."""
    emails = {u.email for u in users}
    return [m for m in mailoutbox if set(m.to) & emails]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def funded(end_date=None, **kwargs):
    call = CallFactory(voted=True)
    partner = association()
    referent = referent_of(partner, call.contract)
    application = ApplicationFactory(call=call, partner=partner, decided=True, end_date=end_date, **kwargs)
    FunderLineFactory(application=application, voted=True)
    return application, referent


def test_draft_report_reminded_at_30_days_7_days_and_the_day_after(mailoutbox):
    application, referent = funded()
    due = timezone.localdate() + datetime.timedelta(days=60)
    FinalReportFactory(application=application, due_date=due)
    days = [due - datetime.timedelta(days=n) for n in (31, 30, 29, 8, 7, 3, 0)] + [
        due + datetime.timedelta(days=1),
        due + datetime.timedelta(days=2),
    ]
    for day in days:
        send_report_reminders(today=day)
        send_report_reminders(today=day)  # deux exécutions le même jour : un seul envoi
    mailoutbox = to(mailoutbox, referent)
    assert len(mailoutbox) == 3
    assert "à rendre avant le" in mailoutbox[0].subject
    assert "en retard" in mailoutbox[2].subject and "ne peut pas déposer" in mailoutbox[2].body
    assert application.title in mailoutbox[0].body and "/compte-rendu/" in mailoutbox[0].body
    assert Notification.objects.filter(kind=NotificationKind.REPORT_DUE, recipient=referent).count() == 3


def test_report_never_started_after_the_action_ended_is_reminded(mailoutbox):
    end = timezone.localdate() - datetime.timedelta(days=100)
    application, referent = funded(end_date=end)
    due = report_due_date(application)
    send_report_reminders(today=due - datetime.timedelta(days=20))
    mailoutbox = to(mailoutbox, referent)
    assert [m.to for m in mailoutbox] == [[referent.email]]
    assert "pas encore commencé" in mailoutbox[0].body


def test_nothing_for_a_submitted_or_accepted_report_nor_before_the_window(mailoutbox):
    due = timezone.localdate() + datetime.timedelta(days=10)
    referents = []
    for status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED):
        application, referent = funded()
        referents.append(referent)
        FinalReportFactory(application=application, due_date=due, status=status)
    early, referent = funded()
    referents.append(referent)
    FinalReportFactory(application=early, due_date=timezone.localdate() + datetime.timedelta(days=45))
    ongoing, referent = funded(end_date=timezone.localdate() + datetime.timedelta(days=1))
    referents.append(referent)  # action pas finie, compte-rendu pas commencé
    send_report_reminders(today=due - datetime.timedelta(days=5))
    send_report_reminders(today=timezone.localdate())
    assert to(mailoutbox, *referents) == []


def test_changes_requested_report_is_reminded(mailoutbox):
    application, referent = funded()
    due = timezone.localdate() + datetime.timedelta(days=5)
    FinalReportFactory(application=application, due_date=due, status=ReportStatus.CHANGES_REQUESTED)
    send_report_reminders(today=timezone.localdate())
    mailoutbox = to(mailoutbox, referent)
    assert [m.to for m in mailoutbox] == [[referent.email]]
    assert "demandé des modifications" in mailoutbox[0].body


def test_command_dry_run_sends_nothing(mailoutbox, capsys):
    application, referent = funded()
    due = timezone.localdate() + datetime.timedelta(days=6)
    FinalReportFactory(application=application, due_date=due)
    call_command("send_report_reminders", "--dry-run")
    assert mailoutbox == []
    out = capsys.readouterr().out
    assert "simulation" in out and f"« {application.title} »" in out and "J-7) : 1 relancé(s)" in out
    call_command("send_report_reminders")
    assert len(to(mailoutbox, referent)) == 1
