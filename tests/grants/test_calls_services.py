"""Le montage de l'appel par le pilote : chaque refus a un message français et ne change rien."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from cdv.grants.enums import CallStatus, DocumentKind, FunderKind
from cdv.grants.errors import ConflictError, GrantsError
from cdv.grants.models import Call, CallFunder, ScoringCriterion
from cdv.grants.services import calls as services
from tests import factories

from ._calls_world import ENVELOPE, build_world, calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def make_call(world, year=2026, **extra):
    return services.create_call(
        user=world.pilot,
        contract=world.contract,
        year=year,
        values=calendar(year),
        eligible_enjeux=[world.enjeu],
        eligible_qpvs=[world.qpv],
        **extra,
    )


def messages_of(error):
    return " ".join(error.value.messages)


def test_the_pilot_creates_a_draft_call(world):
    call = make_call(world)
    assert call.status == CallStatus.DRAFT
    assert list(call.eligible_enjeux.all()) == [world.enjeu]
    assert call.min_qpv_share == Decimal("50")


def test_a_second_call_for_the_same_year_is_refused(world):
    make_call(world)
    with pytest.raises(GrantsError) as error:
        make_call(world)
    assert "déjà un appel à projets pour 2026" in messages_of(error)
    assert Call.objects.for_contract(world.contract).count() == 1


def test_only_the_pilot_creates_a_call(world):
    with pytest.raises(PermissionDenied):
        services.create_call(user=world.referent, contract=world.contract, year=2026, values=calendar(2026))
    assert not Call.objects.for_contract(world.contract).exists()


def test_another_contract_s_enjeu_or_quarter_is_refused(world):
    other = factories.EnjeuFactory()
    other_qpv = factories.ContractFactory(with_qpv=True).qpvs.get()
    with pytest.raises(GrantsError) as error:
        services.create_call(
            user=world.pilot,
            contract=world.contract,
            year=2026,
            values=calendar(2026),
            eligible_enjeux=[other.pk],
            eligible_qpvs=[other_qpv.pk],
        )
    assert error.value.message_dict["eligible_enjeux"] == ["Un enjeu choisi n'appartient pas à ce contrat."]
    assert "eligible_qpvs" in error.value.message_dict
    assert not Call.objects.for_contract(world.contract).exists()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"filing_closes": datetime.date(2025, 10, 1)}, "filing_closes", "ne peut pas précéder"),
        ({"committee_date": datetime.date(2025, 11, 1)}, "committee_date", "ne peut pas précéder"),
        ({"min_amount": Decimal("5000"), "max_amount": Decimal("1000")}, "max_amount", "au moins égal"),
        ({"min_qpv_share": Decimal("120")}, "min_qpv_share", "entre 0 et 100"),
        ({"min_amount": Decimal("-1")}, "min_amount", "négatif"),
    ],
)
def test_inconsistent_settings_are_refused_and_nothing_changes(world, changes, field, words):
    call = make_call(world)
    before = {f: getattr(call, f) for f in services.CALL_FIELDS}
    with pytest.raises(GrantsError) as error:
        services.update_call(user=world.pilot, call=call, version=call.version, values=changes)
    assert words in " ".join(error.value.message_dict[field])
    call.refresh_from_db()
    assert {f: getattr(call, f) for f in services.CALL_FIELDS} == before
    assert call.version == 1


def test_a_stale_form_gets_a_conflict_listing_every_differing_field(world):
    call = make_call(world)
    services.update_call(
        user=world.pilot, call=call, version=1, values={"title": "Titre de Paul", "contacts": "Paul"}
    )
    with pytest.raises(ConflictError) as error:
        services.update_call(
            user=world.pilot,
            call=call,
            version=1,
            values={"title": "Titre de Zoé", "contacts": "Zoé", "summary": calendar(2026)["summary"]},
            eligible_enjeux=[],
        )
    fields = {change[0]: change for change in error.value.changes}
    assert set(fields) == {"title", "contacts", "eligible_enjeux"}
    assert fields["title"][2:] == ("Titre de Paul", "Titre de Zoé")
    call.refresh_from_db()
    assert (call.title, call.contacts, call.version) == ("Titre de Paul", "Paul", 2)
    assert list(call.eligible_enjeux.all()) == [world.enjeu]


def test_funders_with_envelopes_are_set_and_a_foreign_partner_is_refused(world):
    call = make_call(world)
    services.set_funders(
        user=world.pilot,
        call=call,
        funders=[
            {"partner": world.state, "envelope": ENVELOPE, "kind": FunderKind.PRIVILEGED, "label": "BOP 147"},
            {"partner": world.city.pk, "envelope": Decimal("80000")},
        ],
    )
    assert [(f.partner, f.envelope) for f in call.funders.all()] == [
        (world.state, ENVELOPE),
        (world.city, Decimal("80000.00")),
    ]
    stranger = factories.PartnerFactory()
    with pytest.raises(GrantsError) as error:
        services.set_funders(
            user=world.pilot, call=call, funders=[{"partner": stranger.pk, "envelope": Decimal("1")}]
        )
    assert "ne prend pas part au contrat" in messages_of(error)
    with pytest.raises(GrantsError) as error:
        services.set_funders(
            user=world.pilot, call=call, funders=[{"partner": world.state.pk, "envelope": Decimal("-5")}]
        )
    assert "ne peut pas être négative" in messages_of(error)
    assert call.funders.count() == 2


def test_the_pilot_enters_a_funders_siret_for_the_open_data_and_a_bad_one_changes_nothing(world):
    call = make_call(world)
    world.city.siren, world.city.siret = "214401093", ""
    world.city.save()
    good = "21440109300015"  # SIREN de la ville + NIC, clé de Luhn juste
    bad = "21440109300016"
    with pytest.raises(GrantsError) as error:
        services.set_funders(
            user=world.pilot,
            call=call,
            funders=[{"partner": world.city, "envelope": ENVELOPE, "siret": bad}],
        )
    assert "Ligne 1 : SIRET du financeur" in messages_of(error)
    world.city.refresh_from_db()
    assert world.city.siret == "" and not call.funders.exists()
    with pytest.raises(GrantsError) as error:
        services.set_funders(
            user=world.pilot,
            call=call,
            funders=[{"partner": world.city, "envelope": ENVELOPE, "siret": "73282932000074"}],
        )
    assert "doit commencer par le SIREN de l'organisation (214401093)" in messages_of(error)
    services.set_funders(
        user=world.pilot, call=call, funders=[{"partner": world.city, "envelope": ENVELOPE, "siret": good}]
    )
    world.city.refresh_from_db()
    assert world.city.siret == good
    # Laissé vide, le SIRET n'est pas effacé.
    services.set_funders(user=world.pilot, call=call, funders=[{"partner": world.city, "envelope": ENVELOPE}])
    world.city.refresh_from_db()
    assert world.city.siret == good


def test_a_funder_already_asked_by_an_application_cannot_be_removed(world):
    call = make_call(world)
    services.set_funders(
        user=world.pilot,
        call=call,
        funders=[
            {"partner": world.state, "envelope": ENVELOPE},
            {"partner": world.city, "envelope": ENVELOPE},
        ],
    )
    state_funder = call.funders.get(partner=world.state)
    factories.ApplicationFactory(call=call, partner=world.association, funders=[state_funder])
    with pytest.raises(GrantsError) as error:
        services.set_funders(
            user=world.pilot, call=call, funders=[{"partner": world.city, "envelope": ENVELOPE}]
        )
    assert f"{world.state.name} ne peut pas être retiré" in messages_of(error)
    assert set(call.funders.values_list("partner", flat=True)) == {world.state.pk, world.city.pk}


def test_documents_and_criteria_are_replaced_and_foreign_ids_refused(world):
    call = make_call(world)
    with pytest.raises(GrantsError) as error:
        services.set_required_documents(
            user=world.pilot,
            call=call,
            documents=[{"kind": DocumentKind.STATUTES}, {"kind": DocumentKind.STATUTES}],
        )
    assert "déjà demandée" in messages_of(error)
    assert not call.required_documents.exists()
    services.set_criteria(user=world.pilot, call=call, criteria=[{"label": "Ancrage", "scale_max": 5}])
    foreign = factories.ScoringCriterionFactory()
    with pytest.raises(GrantsError) as error:
        services.set_criteria(
            user=world.pilot, call=call, criteria=[{"pk": foreign.pk, "label": "Volé", "scale_max": 5}]
        )
    assert "n'appartient pas à cet appel" in messages_of(error)
    assert list(call.criteria.values_list("label", flat=True)) == ["Ancrage"]
    assert ScoringCriterion.objects.get(pk=foreign.pk).label != "Volé"


def test_publishing_lists_what_is_missing_then_publishes(world):
    call = services.create_call(user=world.pilot, contract=world.contract, year=2030, values=calendar(2030))
    with pytest.raises(GrantsError) as error:
        services.publish_call(user=world.pilot, call=call)
    text = messages_of(error)
    assert "aucun financeur" in text
    assert "aucun enjeu éligible" in text
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT
    services.update_call(
        user=world.pilot, call=call, version=call.version, values={}, eligible_enjeux=[world.enjeu]
    )
    services.set_funders(
        user=world.pilot, call=call, funders=[{"partner": world.state, "envelope": ENVELOPE}]
    )
    services.publish_call(user=world.pilot, call=call)
    call.refresh_from_db()
    assert call.status == CallStatus.PUBLISHED
    with pytest.raises(PermissionDenied):  # déjà publié
        services.publish_call(user=world.pilot, call=call)


def test_copy_keeps_funders_rules_documents_grid_and_shifts_dates(world):
    call = make_call(world, year=2025)
    services.update_call(
        user=world.pilot,
        call=call,
        version=call.version,
        values={"min_qpv_share": Decimal("66.67"), "max_amount": Decimal("20000")},
        eligible_objectives=[world.objective],
    )
    services.set_funders(
        user=world.pilot,
        call=call,
        funders=[
            {"partner": world.state, "envelope": ENVELOPE, "kind": FunderKind.PRIVILEGED, "label": "BOP 147"}
        ],
    )
    services.set_required_documents(user=world.pilot, call=call, documents=[{"kind": DocumentKind.STATUTES}])
    services.set_criteria(user=world.pilot, call=call, criteria=[{"label": "Ancrage", "scale_max": 4}])
    copy = services.copy_call(user=world.pilot, call=call)
    assert (copy.year, copy.status, copy.copied_from) == (2026, CallStatus.DRAFT, call)
    assert copy.title == call.title and copy.summary == call.summary
    assert (copy.min_qpv_share, copy.max_amount) == (Decimal("66.67"), Decimal("20000.00"))
    assert copy.filing_opens == datetime.date(2025, 10, 15)
    assert copy.committee_date == datetime.date(2026, 2, 5)
    assert [(f.partner, f.envelope, f.kind, f.label) for f in copy.funders.all()] == [
        (world.state, ENVELOPE, FunderKind.PRIVILEGED, "BOP 147")
    ]
    assert list(copy.required_documents.values_list("kind", flat=True)) == [DocumentKind.STATUTES]
    assert list(copy.criteria.values_list("label", "scale_max")) == [("Ancrage", 4)]
    assert list(copy.eligible_enjeux.all()) == [world.enjeu]
    assert list(copy.eligible_objectives.all()) == [world.objective]
    assert list(copy.eligible_qpvs.all()) == [world.qpv]
    with pytest.raises(GrantsError) as error:  # l'année suivante a déjà son appel
        services.copy_call(user=world.pilot, call=call)
    assert "déjà un appel à projets pour 2026" in messages_of(error)
    assert CallFunder.objects.filter(call__contract=world.contract).count() == 2


def test_a_29_february_becomes_28_february():
    assert services.shift_year(datetime.date(2028, 2, 29)) == datetime.date(2029, 2, 28)
