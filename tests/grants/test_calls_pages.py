"""Les pages de l'appel : le pilote le monte sur la plateforme ; l'association et le public voient
l'appel publié ; l'appel ouvert est annoncé sur la page du contrat et celle du quartier."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cdv.grants.enums import CallStatus, FunderKind
from cdv.grants.models import Call
from cdv.grants.services import calls as services
from tests import factories

from ._calls_world import ENVELOPE, build_world, calendar, open_calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def url(name, call=None, contract=None):
    if call is None:
        return reverse(f"www:{name}", kwargs={"slug": contract.slug})
    return reverse(f"www:{name}", kwargs={"slug": call.contract.slug, "year": call.year})


def text(response):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def complete_call(world, *, values=None, year=2026, publish=True):
    call = services.create_call(
        user=world.pilot,
        contract=world.contract,
        year=year,
        values=values or open_calendar(),
        eligible_enjeux=[world.enjeu],
    )
    services.set_funders(
        user=world.pilot,
        call=call,
        funders=[
            {"partner": world.state, "envelope": ENVELOPE, "kind": FunderKind.PRIVILEGED, "label": "BOP 147"}
        ],
    )
    if publish:
        services.publish_call(user=world.pilot, call=call)
    return Call.objects.get(pk=call.pk)


def test_the_pilot_creates_a_call_then_sets_funders_with_french_amounts(client, world):
    client.force_login(world.pilot)
    dates = calendar(2026)
    response = client.post(
        url("call_create", contract=world.contract),
        {
            "year": "2026",
            "title": "Appel 2026",
            "summary": "Des projets.",
            "filing_opens": dates["filing_opens"].isoformat(),
            "filing_closes": dates["filing_closes"].isoformat(),
        },
    )
    call = Call.objects.get(contract=world.contract, year=2026)
    assert response.status_code == 302 and response["Location"] == url("call_funders", call)
    form = {
        "financeurs-TOTAL_FORMS": "2",
        "financeurs-INITIAL_FORMS": "0",
        "financeurs-0-partner": str(world.state.pk),
        "financeurs-0-kind": FunderKind.PRIVILEGED,
        "financeurs-0-label": "BOP 147",
        "financeurs-0-envelope": "12 000,50 €",
        "financeurs-1-partner": str(world.city.pk),
        "financeurs-1-kind": FunderKind.PARTNER,
        "financeurs-1-envelope": "12000.5",
    }
    assert client.post(url("call_funders", call), form).status_code == 302
    assert [f.envelope for f in call.funders.all()] == [Decimal("12000.50"), Decimal("12000.50")]
    form["financeurs-1-envelope"] = "-3"
    response = client.post(url("call_funders", call), form)
    assert response.status_code == 200
    assert "Enveloppe (€) : le nombre ne peut pas être négatif." in text(response)
    assert [f.envelope for f in call.funders.all()] == [Decimal("12000.50"), Decimal("12000.50")]


def test_a_second_call_for_the_same_year_gets_a_french_error_on_the_page(client, world):
    complete_call(world, publish=False)
    client.force_login(world.pilot)
    values = open_calendar()
    response = client.post(
        url("call_create", contract=world.contract),
        {
            "year": "2026",
            "title": "Doublon",
            "filing_opens": values["filing_opens"].isoformat(),
            "filing_closes": values["filing_closes"].isoformat(),
        },
    )
    assert response.status_code == 200
    assert "Ce contrat a déjà un appel à projets pour 2026" in text(response)
    assert Call.objects.for_contract(world.contract).count() == 1


def test_settings_page_saves_rules_documents_and_grid(client, world):
    call = complete_call(world, publish=False)
    client.force_login(world.pilot)
    assert client.get(url("call_settings", call)).status_code == 200
    data = {
        "version": str(call.version),
        "eligible_enjeux": [str(world.enjeu.pk)],
        "eligible_qpvs": [str(world.qpv.pk)],
        "allow_whole_territory": "on",
        "min_qpv_share": "66,67 %",
        "min_amount": "1 000",
        "max_amount": "500",
        "max_call_share": "80",
        "min_funders": "1",
        "pieces-TOTAL_FORMS": "1",
        "pieces-INITIAL_FORMS": "0",
        "pieces-0-kind": "STATUTS",
        "pieces-0-required": "on",
        "criteres-TOTAL_FORMS": "1",
        "criteres-INITIAL_FORMS": "0",
        "criteres-0-label": "Ancrage dans le quartier",
        "criteres-0-scale_max": "5",
    }
    response = client.post(url("call_settings", call), data)
    assert response.status_code == 200
    assert "Le montant maximal doit être au moins égal au montant minimal." in text(response)
    assert not call.required_documents.exists() and not call.criteria.exists()  # tout ou rien
    data["max_amount"] = "20 000 €"
    assert client.post(url("call_settings", call), data).status_code == 302
    call.refresh_from_db()
    assert (call.min_qpv_share, call.max_amount) == (Decimal("66.67"), Decimal("20000.00"))
    assert list(call.eligible_qpvs.all()) == [world.qpv]
    assert call.required_documents.count() == 1 and call.criteria.count() == 1


def test_a_stale_edit_shows_every_differing_field_and_keeps_the_input(client, world):
    call = complete_call(world, publish=False)
    client.force_login(world.pilot)
    stale = call.version
    services.update_call(user=world.pilot, call=call, version=stale, values={"title": "Titre de Paul"})
    data = {
        "version": str(stale),
        "title": "Titre de Zoé",
        "summary": call.summary,
        "contacts": "Zoé, 06 00 00 00 00",
        "filing_opens": call.filing_opens.isoformat(),
        "filing_closes": call.filing_closes.isoformat(),
        "committee_date": call.committee_date.isoformat(),
    }
    response = client.post(url("call_edit", call), data)
    assert response.status_code == 409
    page = text(response)
    assert "Conflit de modification" in page
    assert "Titre Titre de Paul Titre de Zoé" in page
    assert "Contacts" in page and "Zoé, 06 00 00 00 00" in page
    assert 'value="Titre de Zoé"' in response.content.decode()  # la saisie est gardée
    call.refresh_from_db()
    assert call.title == "Titre de Paul"


@pytest.mark.parametrize(
    "name", ["call_edit", "call_funders", "call_settings", "call_publish", "call_copy", "call_drafts"]
)
def test_management_pages_are_closed_to_a_referent_and_to_anonymous(client, world, name):
    draft = complete_call(world, publish=False, year=2027)
    published = complete_call(world, year=2026)
    for call in (draft, published):
        response = client.get(url(name, call))
        assert response.status_code in (403, 404), (name, call.status)
        assert client.post(url(name, call), {"confirm": "oui"}).status_code in (403, 404, 405)
    client.force_login(world.referent)
    assert client.get(url(name, draft)).status_code == 404  # un appel en préparation n'existe pas pour lui
    assert client.get(url(name, published)).status_code == 403
    assert client.post(url(name, published), {"confirm": "oui", "year": "2030"}).status_code in (403, 405)
    assert not Call.objects.filter(year=2030).exists()
    assert Call.objects.get(pk=draft.pk).status == CallStatus.DRAFT


def test_only_the_pilot_creates_a_call(client, world):
    assert client.get(url("call_create", contract=world.contract)).status_code == 403
    client.force_login(world.referent)
    assert client.post(url("call_create", contract=world.contract), {"year": "2026"}).status_code == 403


def test_anonymous_sees_a_published_call_page_but_not_a_draft(client, world):
    draft = complete_call(world, publish=False, year=2027)
    published = complete_call(world, year=2026)
    assert client.get(url("call", draft)).status_code == 404
    response = client.get(url("call", published))
    assert response.status_code == 200
    page = text(response)
    assert "Qui peut déposer ?" in page and world.state.name in page and "BOP 147" in page
    assert world.enjeu.title in page and world.qpv.name in page
    assert "Déposer un dossier pour" not in page
    listing = text(client.get(url("call_list", contract=world.contract)))
    assert published.title in listing and "Appel 2027" not in listing


def test_the_referent_gets_an_apply_button_to_the_partner_space(client, world):
    call = complete_call(world)
    client.force_login(world.referent)
    html = client.get(url("call", call)).content.decode()
    target = reverse(
        "www:partner_applications",
        kwargs={"slug": world.contract.slug, "partner_slug": world.association.slug},
    )
    assert f'href="{target}"' in html


def test_publish_asks_for_confirmation_then_publishes(client, world):
    call = complete_call(world, publish=False)
    client.force_login(world.pilot)
    response = client.post(url("call_publish", call), {})
    assert response.status_code == 400
    assert Call.objects.get(pk=call.pk).status == CallStatus.DRAFT
    assert client.post(url("call_publish", call), {"confirm": "oui"}).status_code == 302
    assert Call.objects.get(pk=call.pk).status == CallStatus.PUBLISHED
    assert client.post(url("call_archive", call), {"confirm": "oui"}).status_code == 302
    assert Call.objects.get(pk=call.pk).status == CallStatus.ARCHIVED


def test_the_publish_page_lists_what_is_missing(client, world):
    call = services.create_call(user=world.pilot, contract=world.contract, year=2026, values=open_calendar())
    client.force_login(world.pilot)
    page = text(client.get(url("call_publish", call)))
    assert "Aucun financeur n'est inscrit" in page and "Aucun enjeu éligible n'est choisi" in page
    client.post(url("call_publish", call), {"confirm": "oui"})
    assert Call.objects.get(pk=call.pk).status == CallStatus.DRAFT


def test_copy_page_creates_next_year_s_call(client, world):
    call = complete_call(world, values=calendar(2026), publish=False)  # clôture passée : en préparation
    client.force_login(world.pilot)
    response = client.post(url("call_copy", call), {"year": "2027"})
    copy = Call.objects.get(contract=world.contract, year=2027)
    assert response["Location"] == url("call_edit", copy)
    assert copy.funders.get().envelope == ENVELOPE
    assert copy.filing_closes == datetime.date(2026, 11, 15)


def test_the_open_call_is_announced_on_contract_and_quarter_pages_until_it_closes(client, world):
    call = complete_call(world)
    qpv_url = reverse("www:qpv", kwargs={"slug": world.contract.slug, "code": world.qpv.code})
    home_url = reverse("www:contract", kwargs={"slug": world.contract.slug})
    closing = call.filing_closes.strftime("%-d")
    for page in (home_url, qpv_url):
        body = text(client.get(page))
        assert "Appel à projets ouvert" in body and call.title in body and closing in body
    Call.objects.filter(pk=call.pk).update(filing_closes=timezone.localdate() - datetime.timedelta(days=1))
    from django.core.cache import cache

    cache.clear()
    for page in (home_url, qpv_url):
        assert "Appel à projets ouvert" not in text(client.get(page))


def test_drafts_page_lists_associations_with_a_draft(client, world):
    call = complete_call(world)
    factories.ApplicationFactory(call=call, partner=world.association)
    factories.ApplicationFactory(call=call, partner=world.association)
    factories.ApplicationFactory(call=call, submitted=True)
    client.force_login(world.pilot)
    page = text(client.get(url("call_drafts", call)))
    assert f"{world.association.name} 2" in page
    assert "2 brouillons chez 1 association" in page


def test_call_list_and_call_page_keep_a_bounded_number_of_queries(
    client, world, django_assert_max_num_queries
):
    calls = [
        complete_call(world, year=year, values=calendar(year) if year < 2030 else None, publish=year == 2030)
        for year in (2027, 2028, 2030)
    ]
    for call in calls:
        for _ in range(3):
            factories.ApplicationFactory(call=call, submitted=True)
        factories.CallDocumentFactory(call=call)
        factories.ScoringCriterionFactory(call=call)
    client.force_login(world.pilot)
    with django_assert_max_num_queries(10):
        assert client.get(url("call_list", contract=world.contract)).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(url("call", calls[-1])).status_code == 200
    client.logout()
    with django_assert_max_num_queries(10):
        assert client.get(url("call", calls[-1])).status_code == 200


def test_every_management_page_opens_for_the_pilot(client, world):
    draft = complete_call(world, publish=False, year=2027)
    published = complete_call(world, year=2026)
    factories.ApplicationFactory(call=published, partner=world.association, funders=[published.funders.get()])
    client.force_login(world.pilot)
    assert client.get(url("call_list", contract=world.contract)).status_code == 200
    assert client.get(url("call_create", contract=world.contract)).status_code == 200
    for name in ("call", "call_edit", "call_funders", "call_settings", "call_publish", "call_copy"):
        assert client.get(url(name, draft)).status_code == 200, name
    for name in (
        "call",
        "call_edit",
        "call_funders",
        "call_settings",
        "call_archive",
        "call_copy",
        "call_drafts",
    ):
        assert client.get(url(name, published)).status_code == 200, name
    page = text(client.get(url("call_funders", published)))
    assert "ne peut pas être retiré" in page
