"""Agenda iCalendar (RFC 5545) et fil Atom (RFC 4287) d'un contrat, relus par les bibliothèques que
les agendas et les lecteurs de fils utilisent (icalendar, feedparser)."""

import datetime
import re
from urllib.parse import urlsplit

import feedparser
import icalendar
import pytest
from django.core.cache import cache

from cdv.contracts.enums import MilestoneKind
from cdv.monitoring.enums import FeedbackKind
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    settings.CDV_PUBLIC_CACHE_SECONDS = 0
    cache.clear()


@pytest.fixture
def contract():
    return factories.ContractFactory(slug="contrat-agenda", title="Contrat de ville de Test, 2024; essai")


@pytest.fixture
def dated(contract):
    """Un contrat avec des dates publiques et d'autres qui ne le sont pas."""
    factories.MilestoneFactory(
        contract=contract,
        kind=MilestoneKind.SIGNATURE,
        year=2024,
        title="Signature du contrat",
        due_on=datetime.date(2024, 3, 15),
    )
    factories.MilestoneFactory(contract=contract, kind=MilestoneKind.END, year=2030, title="Fin (sans date)")
    copil = factories.MeetingFactory(
        contract=contract, copil=True, title="COPIL annuel", date=datetime.date(2025, 6, 12)
    )
    factories.MeetingFactory(contract=contract, cotech=True, title="Comité technique interne")
    factories.CallFactory(
        contract=contract,
        year=2026,
        title="Appel à projets 2026",
        publication_date=datetime.date(2025, 10, 1),
        filing_opens=datetime.date(2025, 10, 15),
        filing_closes=datetime.date(2025, 11, 30),
        committee_date=datetime.date(2026, 2, 10),
    )
    factories.CallFactory(contract=contract, year=2027, title="Appel en préparation", draft=True)
    factories.ReviewCampaignFactory(contract=contract, year=2025, deadline=datetime.date(2026, 3, 31))
    return copil


def _calendar(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    # Le lecteur tolère les erreurs et les note : il n'en trouve aucune.
    assert all(not component.errors for component in calendar.walk())
    return calendar


def _events(calendar):
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def test_the_anonymous_agenda_lists_public_dates_only_as_all_day_events(client, dated):
    calendar = _calendar(client.get("/contrats/contrat-agenda/agenda.ics"))
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = _events(calendar)
    summaries = set(events)
    assert "Contrat de ville de Test, 2024; essai : Signature du contrat" in summaries
    assert "Comité de pilotage : COPIL annuel" in summaries
    assert {
        "Appel à projets 2026 : publication de l'appel",
        "Appel à projets 2026 : ouverture du dépôt des dossiers",
        "Appel à projets 2026 : clôture du dépôt des dossiers (23 h 59, heure de Paris)",
        "Appel à projets 2026 : comité des financeurs",
    } <= summaries
    # Ni le comité technique, ni l'appel en préparation, ni la date limite des bilans (membres),
    # ni le jalon sans date.
    text = " ".join(summaries)
    for hidden in ("technique", "préparation", "Suivi annuel", "Fin (sans date)"):
        assert hidden not in text
    signature = events["Contrat de ville de Test, 2024; essai : Signature du contrat"]
    assert signature["DTSTART"].dt == datetime.date(2024, 3, 15)
    assert signature["DTSTART"].params.get("VALUE") == "DATE"
    assert signature["DTEND"].dt == datetime.date(2024, 3, 16)
    copil = events["Comité de pilotage : COPIL annuel"]
    assert copil["DTSTART"].dt == datetime.date(2025, 6, 12)
    assert str(copil["URL"]) == f"http://testserver/contrats/contrat-agenda/instances/{dated.pk}/"
    for event in events.values():
        assert isinstance(event["DTSTAMP"].dt, datetime.datetime)
        assert event["DTSTAMP"].dt.utcoffset() == datetime.timedelta(0)
    uids = [str(e["UID"]) for e in calendar.walk("VEVENT")]
    assert len(uids) == len(set(uids)) == 6


def test_uids_are_stable_from_one_download_to_the_next(client, dated):
    first = _calendar(client.get("/contrats/contrat-agenda/agenda.ics"))
    second = _calendar(client.get("/contrats/contrat-agenda/agenda.ics"))
    assert sorted(str(e["UID"]) for e in first.walk("VEVENT")) == sorted(
        str(e["UID"]) for e in second.walk("VEVENT")
    )


def test_lines_are_folded_at_75_octets_and_text_escaped(client, contract):
    factories.MeetingFactory(
        contract=contract,
        title="Réunion très longue, avec virgules; points-virgules et accents é è à ç "
        * 2,  # < 200 caractères
        agenda="Ordre du jour :\n1. bilan\n2. perspectives",
    )
    response = client.get("/contrats/contrat-agenda/agenda.ics")
    raw = response.content
    assert raw.endswith(b"\r\n")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
    assert b"virgules\\; points" in raw.replace(b"\r\n ", b"")
    assert b"Ordre du jour :\\n1. bilan" in raw.replace(b"\r\n ", b"")
    (event,) = _calendar(response).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == "Ordre du jour :\n1. bilan\n2. perspectives"


def test_a_member_downloading_the_agenda_also_gets_internal_dates(client, dated, contract):
    member = factories.MembershipFactory(contract=contract, reader=True).user
    client.force_login(member)
    response = client.get("/contrats/contrat-agenda/agenda.ics")
    summaries = set(_events(_calendar(response)))
    assert "Comité technique : Comité technique interne" in summaries
    assert "Suivi annuel 2025 : date limite des bilans" in summaries
    assert not any("préparation" in s for s in summaries)
    assert "private" in response["Cache-Control"]


def test_even_the_pilot_never_gets_a_draft_call_in_the_agenda(
    client, dated, contract, django_assert_max_num_queries
):
    pilot = factories.MembershipFactory(contract=contract).user
    client.force_login(pilot)
    client.get("/contrats/contrat-agenda/")  # la session et les droits sont chargés
    # session (3, dont sa mise à jour), compte, contrat, rôles, puis une requête par sorte de date
    with django_assert_max_num_queries(12):
        response = client.get("/contrats/contrat-agenda/agenda.ics")
    summaries = set(_events(_calendar(response)))
    assert "Suivi annuel 2025 : date limite des bilans" in summaries
    assert not any("préparation" in s for s in summaries)


def test_the_anonymous_agenda_is_cacheable_and_answers_304_when_unchanged(client, dated):
    response = client.get("/contrats/contrat-agenda/agenda.ics")
    assert "public" in response["Cache-Control"]
    assert response["ETag"]
    again = client.get("/contrats/contrat-agenda/agenda.ics", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_agenda_and_feed_of_a_contract_in_preparation_are_not_found(client):
    factories.ContractFactory(slug="en-preparation", preparing=True)
    assert client.get("/contrats/en-preparation/agenda.ics").status_code == 404
    assert client.get("/contrats/en-preparation/actualites.atom").status_code == 404


def test_agenda_queries_are_bounded(client, contract, django_assert_max_num_queries):
    for day in range(1, 11):
        factories.MeetingFactory(contract=contract, date=datetime.date(2025, 1, day))
        factories.ReviewCampaignFactory(contract=contract, year=2000 + day)
        factories.CallFactory(contract=contract, year=2040 + day)
    with django_assert_max_num_queries(8):
        assert client.get("/contrats/contrat-agenda/agenda.ics").status_code == 200


# --- Fil Atom ----------------------------------------------------------------------------------


@pytest.fixture
def news(contract, dated):
    factories.DecisionFactory(meeting=dated, text="Ouvrir une maison de santé")
    cotech = factories.MeetingFactory(contract=contract, cotech=True)
    factories.DecisionFactory(meeting=cotech, text="Décision interne du comité technique")
    partner = factories.PartnerFactory(name="Association des habitants")
    factories.FeedbackFactory(
        contract=contract,
        published=True,
        partner=partner,
        kind=FeedbackKind.SUCCESS,
        text="Le jardin <b>vit</b>",
    )
    factories.FeedbackFactory(contract=contract, text="Retour en attente de modération")
    factories.FeedbackFactory(contract=contract, hidden=True, text="Retour refusé")
    factories.EvaluationFactory(contract=contract, adopted=True, summary="Synthèse adoptée")
    factories.EvaluationFactory(contract=contract, final=True, summary="Évaluation finale en cours")


def _feed(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_the_atom_feed_lists_published_items_only_with_absolute_links(client, news):
    parsed = _feed(client.get("/contrats/contrat-agenda/actualites.atom"))
    feed = parsed.feed
    assert feed.title == "Actualités — Contrat de ville de Test, 2024; essai"
    assert feed.id and feed.updated_parsed
    assert feed.link == "http://testserver/contrats/contrat-agenda/"
    assert feed.author
    titles = [entry.title for entry in parsed.entries]
    assert len(titles) == 3, titles
    text = " ".join(entry.title + entry.summary for entry in parsed.entries)
    assert "Ouvrir une maison de santé" in text
    assert "Association des habitants" in text and "Synthèse adoptée" in text
    for hidden in ("interne", "en attente", "refusé", "en cours"):
        assert hidden not in text
    # Le texte d'un retour est échappé : une balise déposée ne devient pas du HTML.
    (feedback,) = [entry for entry in parsed.entries if "Association" in entry.title]
    assert "&lt;b&gt;vit&lt;/b&gt;" in feedback.summary
    ids = [entry.id for entry in parsed.entries]
    assert len(set(ids)) == len(ids)
    for entry in parsed.entries:
        assert entry.updated_parsed
        assert urlsplit(entry.link).scheme == "http" and urlsplit(entry.link).netloc == "testserver"


def test_the_atom_feed_is_cacheable_and_queries_are_bounded(client, news, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get("/contrats/contrat-agenda/actualites.atom")
    assert "public" in response["Cache-Control"]
    assert response["Last-Modified"] and response["ETag"]
    again = client.get(
        "/contrats/contrat-agenda/actualites.atom", headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304


def test_visitors_get_the_stored_agenda_and_feed_without_sql(
    client, news, settings, django_assert_num_queries
):
    settings.CDV_PUBLIC_CACHE_SECONDS = 60
    for url, content_type in (
        ("/contrats/contrat-agenda/agenda.ics", "text/calendar; charset=utf-8"),
        ("/contrats/contrat-agenda/actualites.atom", "application/atom+xml; charset=utf-8"),
    ):
        first = client.get(url)
        with django_assert_num_queries(0):
            second = client.get(url)
        assert second["X-Cache"] == "hit"
        assert second.content == first.content and second["Content-Type"] == content_type


def test_an_empty_contract_has_a_valid_empty_feed_and_calendar(client, contract):
    assert _feed(client.get("/contrats/contrat-agenda/actualites.atom")).entries == []
    assert _calendar(client.get("/contrats/contrat-agenda/agenda.ics")).walk("VEVENT") == []


def test_the_contract_page_links_to_its_agenda_and_feed(client, contract):
    html = client.get("/contrats/contrat-agenda/").content.decode()
    assert '<link rel="alternate" type="text/calendar"' in html
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert html.count('href="/contrats/contrat-agenda/agenda.ics"') == 2
    assert html.count('href="/contrats/contrat-agenda/actualites.atom"') == 2


# --- Adresse d'abonnement personnelle d'un membre ------------------------------------------------


def _personal_link(client, user):
    client.force_login(user)
    html = client.get("/contrats/contrat-agenda/").content.decode()
    client.logout()
    (link,) = re.findall(r'href="(/contrats/contrat-agenda/agenda\.ics\?cle=[^"]+)"', html)
    return link


def test_a_member_subscribes_without_cookies_to_the_agenda_of_their_role(client, dated, contract):
    membership = factories.MembershipFactory(contract=contract, reader=True)
    link = _personal_link(client, membership.user)
    response = client.get(link)  # l'agenda abonné n'a pas de session
    summaries = set(_events(_calendar(response)))
    assert "Suivi annuel 2025 : date limite des bilans" in summaries
    assert "Comité technique : Comité technique interne" in summaries
    assert response["Cache-Control"] == "private, no-cache"
    # Rôle retiré : l'adresse ne montre plus que le public.
    membership.delete()
    summaries = set(_events(_calendar(client.get(link))))
    assert "Suivi annuel 2025 : date limite des bilans" not in summaries
    assert "Comité de pilotage : COPIL annuel" in summaries


def test_a_visitor_and_a_stranger_get_no_personal_link(client, contract):
    assert "?cle=" not in client.get("/contrats/contrat-agenda/").content.decode()
    client.force_login(factories.UserFactory())
    assert "?cle=" not in client.get("/contrats/contrat-agenda/").content.decode()


def test_a_forged_or_revoked_key_reads_nothing(client, dated, contract):
    user = factories.MembershipFactory(contract=contract, reader=True).user
    link = _personal_link(client, user)
    key = link.split("cle=")[1]
    other = factories.ContractFactory(slug="autre-contrat")
    factories.MembershipFactory(contract=other, user=user, reader=True)
    stranger = factories.UserFactory()
    for forged in (
        "",
        "abc",
        f"{stranger.pk}-{key.split('-', 1)[1]}",  # l'empreinte d'un autre compte
        key[:-1] + ("0" if key[-1] != "0" else "1"),
    ):
        assert client.get(f"/contrats/contrat-agenda/agenda.ics?cle={forged}").status_code == 404, forged
    # La clé d'un contrat n'ouvre pas l'agenda d'un autre.
    assert client.get(f"/contrats/autre-contrat/agenda.ics?cle={key}").status_code == 404
    # Changer son mot de passe annule l'adresse ; un compte désactivé ne lit plus rien.
    user.set_password("un-nouveau-mot-de-passe")
    user.save()
    assert client.get(link).status_code == 404
    fresh = _personal_link(client, user)
    assert client.get(fresh).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(fresh).status_code == 404
