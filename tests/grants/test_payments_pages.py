"""Les pages des versements : échéancier et versements d'une ligne (montants à la française quelle
que soit la langue du navigateur, erreurs qui nomment le champ, « pas encore possible » sans acte
signé), annulation par une page de confirmation, tableau des retards (filtres, totaux, retards
motivés, requêtes bornées) et son classeur ; droits rôle par rôle."""

import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cdv.core.figures import french_number
from cdv.grants.enums import EventKind, InstalmentKind
from cdv.grants.models import ApplicationEvent, Payment
from cdv.grants.selectors_payments import FIRST_PAYMENT_DAYS, SIGNATURE_DAYS
from tests.factories.grants import GrantActFactory, PaymentFactory, PaymentInstalmentFactory, voted_line
from tests.worlds import built_once, fresh_copy

from .payments_world import build_world

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def eur(value):
    return french_number(Decimal(value), "€")


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        yield build_world()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


def schedule_post(**overrides):
    data = {
        "action": "schedule",
        "terms": "ECHELONNE",
        "advance_percent": "80 %",
        "advance_due_date": TODAY.isoformat(),
        "advance_condition": "à la signature de l'acte",
        "balance_condition": "après acceptation du compte-rendu",
    }
    data.update(overrides)
    return data


def payment_post(**overrides):
    data = {"action": "payment", "paid_on": TODAY.isoformat(), "amount": "1 234,56", "reference": "M-42"}
    data.update(overrides)
    return data


# --- La page d'une ligne -------------------------------------------------------------------------


def test_the_instructor_sets_an_advance_by_percentage_under_an_english_browser(client, world):
    client.force_login(world.instructor_a)
    response = client.post(world.url("line_payments"), schedule_post(), **ENGLISH)
    assert response.status_code == 302
    amounts = list(world.line.instalments.order_by("order").values_list("kind", "amount"))
    assert amounts == [
        (InstalmentKind.ADVANCE, Decimal("1200.00")),
        (InstalmentKind.BALANCE, Decimal("300.00")),
    ]
    page = client.get(world.url("line_payments"), **ENGLISH).content.decode()
    assert eur("1200") in page and "après acceptation du compte-rendu" in page


def test_instalments_that_do_not_add_up_get_a_french_error_naming_the_balance(client, world):
    client.force_login(world.instructor_a)
    response = client.post(
        world.url("line_payments"),
        schedule_post(advance_percent="", advance_amount="1 000", balance_amount="400"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Montant du solde" in page and "Solde : l&#x27;avance" in page and eur("1500") in page
    assert not world.line.instalments.exists()


def test_a_french_amount_is_recorded_under_an_english_browser_and_shown_in_french(client, world):
    client.force_login(world.instructor_a)
    response = client.post(world.url("line_payments"), payment_post(), **ENGLISH)
    assert response.status_code == 302
    payment = Payment.objects.get(line=world.line)
    assert payment.amount == Decimal("1234.56") and payment.reference == "M-42"
    page = client.get(world.url("line_payments"), **ENGLISH).content.decode()
    assert eur("1234.56") in page and eur("265.44") in page  # versé, puis reste à verser


def test_a_payment_above_what_remains_gets_a_clear_error_and_changes_nothing(client, world):
    client.force_login(world.instructor_a)
    response = client.post(world.url("line_payments"), payment_post(amount="1 600"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Montant versé : " in page and "reste à verser" in page
    assert not Payment.objects.filter(line=world.line).exists()


def test_the_payment_date_comes_back_in_its_date_field(client, world):
    client.force_login(world.instructor_a)
    page = client.get(world.url("line_payments")).content.decode()
    assert f'type="date" name="paid_on" value="{TODAY.isoformat()}"' in page


def test_without_a_signed_act_the_page_says_a_payment_is_not_yet_possible(client):
    world = build_world(signed=False)
    client.force_login(world.instructor_a)
    page = client.get(world.url("line_payments")).content.decode()
    assert "Pas encore possible" in page and "pas encore signé" in page
    assert "Enregistrer le versement" not in page
    response = client.post(world.url("line_payments"), payment_post())
    assert response.status_code == 200 and "pas encore signé" in response.content.decode()
    assert not Payment.objects.filter(line=world.line).exists()


def test_the_association_reads_its_schedule_and_payments_only(client, world):
    PaymentInstalmentFactory(line=world.line, kind=InstalmentKind.SINGLE, order=0)
    PaymentFactory(line=world.line, amount=Decimal("1500.00"), reference="M-7")
    client.force_login(world.referent)
    response = client.get(world.url("line_payments"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "M-7" in page and "Payé" in page
    assert "Enregistrer le versement" not in page and "Enregistrer l&#x27;échéancier" not in page
    assert "annulation" not in page
    assert client.post(world.url("line_payments"), payment_post(amount="1")).status_code == 403
    assert client.post(world.url("line_payments"), schedule_post()).status_code == 403
    # la ligne d'une autre association n'existe pas pour elle
    assert client.get(world.url("line_payments", world.other_line)).status_code == 404


def test_the_instructor_of_another_funder_reads_but_cannot_record(client, world):
    client.force_login(world.instructor_b)
    assert client.get(world.url("line_payments")).status_code == 200
    assert client.post(world.url("line_payments"), payment_post()).status_code == 403
    assert client.post(world.url("line_payments"), schedule_post()).status_code == 403
    assert not Payment.objects.filter(line=world.line).exists()


def test_the_pilot_reads_but_cannot_record(client, world):
    client.force_login(world.pilot)
    assert client.get(world.url("line_payments")).status_code == 200
    assert client.post(world.url("line_payments"), payment_post()).status_code == 403
    assert not Payment.objects.filter(line=world.line).exists()


def test_anonymous_is_sent_to_log_in(client, world):
    for url in (world.url("line_payments"), world.board_url(), world.board_url(xlsx=True)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert client.post(world.url("line_payments"), payment_post()).status_code == 302
    assert not Payment.objects.filter(line=world.line).exists()


# --- L'annulation --------------------------------------------------------------------------------


def test_a_payment_is_cancelled_only_through_its_confirmation_page_with_a_reason(client, world):
    payment = PaymentFactory(line=world.line, amount=Decimal("700.00"), reference="M-9")
    url = world.url("payment_cancel", None, payment.pk)
    client.force_login(world.instructor_a)
    page = client.get(url).content.decode()
    assert "M-9" in page and eur("700") in page and "Motif de l&#x27;annulation" in page
    response = client.post(url, {"reason": "Mandat rejeté"})  # sans la case « Je confirme »
    assert response.status_code == 200 and "Je confirme" in response.content.decode()
    response = client.post(url, {"reason": "", "confirm": "on"})
    assert (
        response.status_code == 200
        and "Motif de l&#x27;annulation : dites pourquoi" in response.content.decode()
    )
    assert Payment.objects.filter(pk=payment.pk).exists()
    response = client.post(url, {"reason": "Mandat rejeté par la paierie", "confirm": "on"})
    assert response.status_code == 302
    assert not Payment.objects.filter(pk=payment.pk).exists()
    page = client.get(world.url("line_payments")).content.decode()
    assert "Mandat rejeté par la paierie" in page
    assert ApplicationEvent.objects.filter(
        application=world.application,
        kind=EventKind.PAYMENT,
        message__contains="Mandat rejeté par la paierie",
    ).exists()


@pytest.mark.parametrize("who", ["pilot", "instructor_b", "referent"])
def test_others_cannot_cancel_a_payment(client, world, who):
    payment = PaymentFactory(line=world.line, amount=Decimal("700.00"))
    client.force_login(getattr(world, who))
    url = world.url("payment_cancel", None, payment.pk)
    assert client.post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_a_payment_of_another_line_is_not_found(client, world):
    payment = PaymentFactory(line=world.other_line)
    client.force_login(world.instructor_a)
    assert client.get(world.url("payment_cancel", None, payment.pk)).status_code == 404


# --- Le tableau des retards ----------------------------------------------------------------------


def late_world():
    """Trois lignes de A dans des états de retard différents, une payée, une de B."""
    world = build_world(signed=None)  # la ligne du monde : votée il y a 0 jour, sans acte
    call, a = world.call, world.funder_a
    old = voted_line(call=call, funder=a, decision_date=TODAY - datetime.timedelta(days=SIGNATURE_DAYS + 10))
    signed = voted_line(call=call, funder=a, decision_date=TODAY - datetime.timedelta(days=80))
    GrantActFactory(
        line=signed, signed=True, signed_on=TODAY - datetime.timedelta(days=FIRST_PAYMENT_DAYS + 5)
    )
    overdue = voted_line(call=call, funder=a, decision_date=TODAY - datetime.timedelta(days=50))
    GrantActFactory(line=overdue, signed=True, signed_on=TODAY - datetime.timedelta(days=10))
    PaymentInstalmentFactory(
        line=overdue, kind=InstalmentKind.SINGLE, order=0, due_date=TODAY - datetime.timedelta(days=1)
    )
    paid = voted_line(call=call, funder=a, decision_date=TODAY - datetime.timedelta(days=200))
    GrantActFactory(line=paid, signed=True, signed_on=TODAY - datetime.timedelta(days=190))
    PaymentFactory(line=paid, paid_on=TODAY - datetime.timedelta(days=180))
    return world, {"old": old, "signed": signed, "overdue": overdue, "paid": paid}


def rows_by_line(response):
    return {r.line.pk: r for r in response.context["board"].rows}


def test_the_board_flags_what_is_late_and_says_why(client):
    world, lines = late_world()
    client.force_login(world.pilot)
    response = client.get(world.board_url())
    assert response.status_code == 200
    rows = rows_by_line(response)
    assert "acte non signé" in rows[lines["old"].pk].late[0]
    assert "rien de versé" in rows[lines["signed"].pk].late[0]
    assert "non versée" in rows[lines["overdue"].pk].late[0]
    assert rows[lines["paid"].pk].late == [] and rows[lines["paid"].pk].stage_label == "Payé"
    assert rows[world.line.pk].late == []
    assert rows[lines["paid"].pk].days_to_first_payment == 20
    assert rows[lines["signed"].pk].days_since_signature == FIRST_PAYMENT_DAYS + 5
    assert rows[lines["old"].pk].days_since_vote == SIGNATURE_DAYS + 10
    page = response.content.decode()
    assert "En retard</strong> : acte non signé" in page


def test_the_board_filters_by_state_and_funder_and_totals_each_funder(client):
    world, lines = late_world()
    client.force_login(world.pilot)
    late = rows_by_line(client.get(world.board_url(), {"state": "retard"}))
    assert set(late) == {lines["old"].pk, lines["signed"].pk, lines["overdue"].pk}
    paid = rows_by_line(client.get(world.board_url(), {"state": "paye"}))
    assert set(paid) == {lines["paid"].pk}
    response = client.get(world.board_url(), {"funder": world.funder_b.pk})
    assert set(rows_by_line(response)) == {world.line_b.pk}
    totals = {t.funder_id: t for t in client.get(world.board_url()).context["board"].totals}
    a = totals[world.funder_a.pk]
    assert a.lines == 6 and a.late == 3  # la ligne du monde, celle d'une autre association, les 4 du retard
    assert (
        a.voted == Decimal("9000.00") and a.paid == Decimal("1500.00") and a.remaining == Decimal("7500.00")
    )
    assert a.average_days_to_first_payment == 20


def test_each_instructor_sees_only_its_funders_lines(client):
    world, lines = late_world()
    client.force_login(world.instructor_b)
    response = client.get(world.board_url())
    assert response.status_code == 200
    assert set(rows_by_line(response)) == {world.line_b.pk}
    assert [f.pk for f in response.context["board"].funders] == [world.funder_b.pk]
    # un financeur qu'il ne suit pas ne s'ajoute pas par l'adresse : le filtre est ignoré
    assert set(rows_by_line(client.get(world.board_url(), {"funder": world.funder_a.pk}))) == {
        world.line_b.pk
    }


@pytest.mark.parametrize("who", ["committee", "correspondent", "referent"])
def test_the_board_is_refused_to_other_roles(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(world.board_url()).status_code == 403
    assert client.get(world.board_url(xlsx=True)).status_code == 403


def test_the_board_keeps_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    world = build_world()
    for index in range(45):
        line = voted_line(call=world.call, funder=world.funder_a if index % 2 else world.funder_b)
        if index % 3 == 0:
            GrantActFactory(line=line, signed=True)
            PaymentInstalmentFactory(line=line, order=0, amount=Decimal("1000"), kind=InstalmentKind.ADVANCE)
            PaymentInstalmentFactory(line=line, order=1, amount=Decimal("500"), kind=InstalmentKind.BALANCE)
            PaymentFactory(line=line, amount=Decimal("1000"))
    client.force_login(world.pilot)
    with django_assert_max_num_queries(15):
        response = client.get(world.board_url())
    assert len(response.context["board"].rows) == 48
    with django_assert_max_num_queries(15):
        assert client.get(world.board_url(xlsx=True)).status_code == 200


def test_the_workbook_has_french_headers_and_numbers_as_numbers(client):
    world, lines = late_world()
    client.force_login(world.instructor_a)
    response = client.get(world.board_url(xlsx=True), {"state": "paye"})
    assert response.status_code == 200
    assert "versements-" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Versements"]
    headers = [c.value for c in sheet[1]]
    assert headers[:7] == [
        "N° de dossier",
        "Association",
        "Projet",
        "Financeur",
        "Voté (€)",
        "Versé (€)",
        "Reste à verser (€)",
    ]
    assert sheet.max_row == 2  # le filtre s'applique
    row = [c.value for c in sheet[2]]
    assert row[4] == 1500 and row[5] == 1500 and row[6] == 0
    assert isinstance(row[8], int) and row[8] == 200  # jours depuis le vote
    totals = book["Totaux par financeur"]
    assert [c.value for c in totals[1]][:4] == ["Financeur", "Subventions", "En retard", "Voté (€)"]


def test_the_line_page_keeps_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    PaymentInstalmentFactory(line=world.line, kind=InstalmentKind.SINGLE, order=0)
    for _ in range(30):
        PaymentFactory(line=world.line, amount=Decimal("10.00"))
    client.force_login(world.instructor_a)
    with django_assert_max_num_queries(25):
        response = client.get(world.url("line_payments"))
    assert len(response.context["s"].payments) == 30
    assert response.context["s"].remaining == Decimal("1200.00")


def test_a_name_that_looks_like_a_formula_stays_text_in_the_workbook(client, world):
    partner = world.application.partner
    partner.name = '=HYPERLINK("http://x")'
    partner.save()
    client.force_login(world.pilot)
    book = load_workbook(io.BytesIO(client.get(world.board_url(xlsx=True)).content))
    # Règle XLSX de tous les exports : une cellule texte, relue identique, jamais une formule.
    cells = [c for c in book["Versements"]["B"][1:] if c.value == '=HYPERLINK("http://x")']
    assert cells and all(c.data_type == "s" for c in cells)
