"""« Une seule fois » des relances : une ligne de clé unique dans la base (SentReminder), partagée par
tous les serveurs, et plus aucun marqueur sous MEDIA_ROOT."""

import datetime
import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection, connections
from django.utils import timezone

from cdv.grants.reminders import reminder_key, send_call_closing_reminders
from cdv.notifications import once
from cdv.notifications.models import SentReminder
from cdv.users.models import User
from tests import factories
from tests.factories.grants import ApplicationFactory, CallFactory
from tests.grants.applying_helpers import association, referent_of

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def test_a_reminder_is_claimed_once_then_again_after_release(media):
    person = factories.UserFactory()
    key = "campagne-12/J-7/5"
    assert once.claim_once(key, recipient=person) is True
    assert once.claim_once(key, recipient=person) is False
    assert once.sent_keys([key, "autre/1"]) == {key}
    once.release(key)
    assert once.claim_once(key, recipient=person) is True
    assert SentReminder.objects.get().key == key
    assert list(media.rglob("*")) == []  # rien sur le disque : la mémoire est dans la base


def test_a_refused_claim_leaves_the_surrounding_transaction_usable():
    """Le refus a lieu dans son propre point de sauvegarde : la suite de la relance continue."""
    person = factories.UserFactory()
    once.claim_once("aap-1/1", recipient=person)
    assert once.claim_once("aap-1/1", recipient=person) is False
    assert SentReminder.objects.filter(recipient=person).count() == 1


def _in_own_connection(work):
    """Exécute ``work`` dans un fil, donc sur une connexion à la base à lui, en validation
    automatique (comme un second processus ou un second serveur)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome.get("value")


@pytest.mark.skipif(not ON_POSTGRESQL, reason="concurrence réelle : PostgreSQL (DATABASE_URL) seulement")
def test_simultaneous_claims_from_several_connections_give_exactly_one_winner(media):
    """Huit exécutions lancées au même instant, chacune sur sa connexion (deux serveurs, deux
    tâches planifiées) : une seule obtient la relance."""
    person_pk = _in_own_connection(lambda: factories.UserFactory().pk)
    key = f"campagne-1/J-1/{person_pk}"
    start = threading.Barrier(8)
    results = []

    def claim():
        try:
            person = User.objects.get(pk=person_pk)
            start.wait()
            results.append(once.claim_once(key, recipient=person))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(results) == [False] * 7 + [True]
        assert _in_own_connection(lambda: SentReminder.objects.filter(key=key).count()) == 1
    finally:
        _in_own_connection(lambda: User.objects.filter(pk=person_pk).delete())
    assert list(media.rglob("*")) == []


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite : réservations successives (une écriture à la fois)")
def test_claims_one_after_the_other_give_exactly_one_winner(media):
    person = factories.UserFactory()
    results = [once.claim_once("campagne-1/J-1/1", recipient=person) for _ in range(8)]
    assert results == [True] + [False] * 7
    assert list(media.rglob("*")) == []


def _closing_call():
    call = CallFactory(filing_closes=timezone.localdate() + datetime.timedelta(days=1))
    partner = association()
    referent = referent_of(partner, call.contract)
    ApplicationFactory(call=call, partner=partner)
    return call, referent


def test_a_failed_email_releases_the_reminder_which_the_next_run_sends(monkeypatch, mailoutbox, media):
    call, referent = _closing_call()

    def broken(**kwargs):
        raise ConnectionRefusedError("serveur de courriel injoignable")

    monkeypatch.setattr("cdv.notifications.services.send_mail", broken)
    (result,) = send_call_closing_reminders()
    assert result.failed == [referent.email] and mailoutbox == []
    assert not SentReminder.objects.exists()

    monkeypatch.undo()
    (result,) = send_call_closing_reminders()
    assert result.sent == [referent.email] and [m.to for m in mailoutbox] == [[referent.email]]
    assert SentReminder.objects.get().key == reminder_key(call, referent)
    (result,) = send_call_closing_reminders()
    assert result.already_sent == [referent.email] and len(mailoutbox) == 1
    assert list(media.rglob("*")) == []


def test_the_migration_takes_over_the_marker_files_of_before(mailoutbox, media):
    """Une relance déjà envoyée avant la mise à jour (marqueur sous MEDIA_ROOT/reminders) ne repart
    pas après : la migration reprend chaque marqueur sous la même clé."""
    call, referent = _closing_call()
    gone = factories.UserFactory()
    markers = {
        f"aap-{call.pk}/{referent.pk}.envoye": "2026-12-06T08:05:00+01:00",
        f"campagne-7/retard-semaine-2/{referent.pk}.envoye": "",
        f"cr-9/j30-20270115-{referent.pk}.envoye": "2026-12-01T08:10:00+01:00",
        f"aap-{call.pk}/{gone.pk}.envoye": "2026-12-06T08:05:00+01:00",
    }
    gone.delete()
    for name, content in markers.items():
        path = media / "reminders" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    migration = importlib.import_module("cdv.notifications.migrations.0004_sent_reminders_in_database")

    migration.import_marker_files(apps, None)
    migration.import_marker_files(apps, None)  # relancée : rien en double

    rows = {r.key: r for r in SentReminder.objects.all()}
    assert set(rows) == {
        f"aap-{call.pk}/{referent.pk}",
        f"campagne-7/retard-semaine-2/{referent.pk}",
        f"cr-9/j30-20270115-{referent.pk}",
    }
    assert rows[f"cr-9/j30-20270115-{referent.pk}"].created_at == datetime.datetime(
        2026, 12, 1, 7, 10, tzinfo=datetime.UTC
    )
    assert {r.recipient_id for r in rows.values()} == {referent.pk}
    (result,) = send_call_closing_reminders()
    assert result.already_sent == [referent.email] and mailoutbox == []
