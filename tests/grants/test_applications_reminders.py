"""Relance des brouillons 48 heures avant la clôture du dépôt."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from cdv.grants.reminders import send_call_closing_reminders
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from tests.factories.grants import ApplicationFactory, CallFactory

from .applying_helpers import association, referent_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_referents_with_a_draft_get_one_email_per_call(mailoutbox):
    today = timezone.localdate()
    call = CallFactory(filing_closes=today + datetime.timedelta(days=2))
    with_draft = association()
    referent = referent_of(with_draft, call.contract)
    ApplicationFactory(call=call, partner=with_draft)
    ApplicationFactory(call=call, partner=with_draft)
    submitted_only = association()
    other = referent_of(submitted_only, call.contract)
    ApplicationFactory(call=call, partner=submitted_only, submitted=True)

    send_call_closing_reminders(today=today)
    send_call_closing_reminders(today=today)
    send_call_closing_reminders(today=today + datetime.timedelta(days=1))

    assert [m.to for m in mailoutbox] == [[referent.email]]
    assert "brouillons" in mailoutbox[0].body.lower() and "PAS déposés" in mailoutbox[0].body
    notifications = Notification.objects.filter(kind=NotificationKind.CALL_CLOSING)
    assert list(notifications.values_list("recipient", flat=True)) == [referent.pk]
    assert not Notification.objects.filter(recipient=other).exists()


def test_nothing_before_48_hours_nor_after_closing(mailoutbox):
    today = timezone.localdate()
    call = CallFactory(filing_closes=today + datetime.timedelta(days=3))
    partner = association()
    referent_of(partner, call.contract)
    ApplicationFactory(call=call, partner=partner)

    send_call_closing_reminders(today=today)
    send_call_closing_reminders(today=today + datetime.timedelta(days=4))

    assert mailoutbox == []


def test_command_dry_run_sends_nothing(mailoutbox, capsys):
    today = timezone.localdate()
    call = CallFactory(filing_closes=today + datetime.timedelta(days=1))
    partner = association()
    referent_of(partner, call.contract)
    ApplicationFactory(call=call, partner=partner)

    call_command("send_call_closing_reminders", "--dry-run")

    assert mailoutbox == []
    assert "1 relancé(s)" in capsys.readouterr().out
