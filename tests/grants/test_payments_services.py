"""Les écritures des versements : échéancier (unique, avance et solde, somme exacte, pas de
versement orphelin), versements (acte signé, pas plus que le reste dû, date), annulation motivée,
notification de l'association, état « Payé »."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cdv.core.figures import french_number
from cdv.grants.enums import EventKind, FollowUpStage, InstalmentKind, PaymentTerms
from cdv.grants.errors import ConflictError, GrantsError
from cdv.grants.followup import stage_of
from cdv.grants.models import ApplicationEvent, FunderLine, Payment, PaymentInstalment
from cdv.grants.services import payments as services
from cdv.grants.services.payments import PlannedInstalment, staged_amounts
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification

from .payments_world import build_world

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def eur(value):
    return french_number(Decimal(value), "€")


@pytest.fixture
def world():
    return build_world()


def staged(advance, balance, **kwargs):
    return [
        PlannedInstalment(InstalmentKind.ADVANCE, Decimal(advance), kwargs.get("advance_due")),
        PlannedInstalment(
            InstalmentKind.BALANCE,
            Decimal(balance),
            kwargs.get("balance_due"),
            "après acceptation du compte-rendu",
        ),
    ]


def schedule(world, advance="1200", balance="300", **kwargs):
    return services.set_schedule(
        user=world.instructor_a,
        line=world.line,
        terms=PaymentTerms.STAGED,
        instalments=staged(advance, balance, **kwargs),
    )


def pay(world, amount, paid_on=TODAY, user=None, line=None):
    return services.record_payment(
        user=user or world.instructor_a,
        line=line or world.line,
        paid_on=paid_on,
        amount=Decimal(amount),
        reference="M-2031-42",
    )


def test_the_funder_sets_an_advance_and_a_balance_kept_in_the_history(world):
    schedule(world)
    rows = list(world.line.instalments.order_by("order").values_list("kind", "amount", "condition"))
    assert rows == [
        (InstalmentKind.ADVANCE, Decimal("1200.00"), ""),
        (InstalmentKind.BALANCE, Decimal("300.00"), "après acceptation du compte-rendu"),
    ]
    event = ApplicationEvent.objects.get(application=world.application, kind=EventKind.SCHEDULED)
    assert f"avance de {eur('1200')}" in event.message and event.funder == world.funder_a


def test_an_advance_percentage_gives_the_amounts_to_the_cent():
    assert staged_amounts(Decimal("1500.00"), Decimal("80")) == (Decimal("1200.00"), Decimal("300.00"))
    assert staged_amounts(Decimal("1000.01"), Decimal("33.33")) == (Decimal("333.30"), Decimal("666.71"))


def test_instalments_not_adding_up_to_the_voted_amount_are_refused_naming_the_balance(world):
    with pytest.raises(GrantsError) as refusal:
        schedule(world, "1200", "200")
    message = refusal.value.message_dict["balance_amount"][0]
    assert message.startswith("Solde :") and f"montant voté ({eur('1500')})" in message
    assert not world.line.instalments.exists()


def test_a_single_payment_must_be_the_voted_amount(world):
    with pytest.raises(GrantsError) as refusal:
        services.set_schedule(
            user=world.instructor_a,
            line=world.line,
            terms=PaymentTerms.SINGLE,
            instalments=[PlannedInstalment(InstalmentKind.SINGLE, Decimal("1000"))],
        )
    assert "Versement unique" in refusal.value.message_dict["single_amount"][0]


@pytest.mark.parametrize("who", ["instructor_b", "pilot", "referent", "committee"])
def test_only_the_funders_instructor_sets_the_schedule(world, who):
    with pytest.raises(PermissionDenied):
        services.set_schedule(
            user=getattr(world, who),
            line=world.line,
            terms=PaymentTerms.STAGED,
            instalments=staged("1200", "300"),
        )
    assert not world.line.instalments.exists()


def test_a_payment_needs_a_signed_act_and_says_so():
    world = build_world(signed=False)
    with pytest.raises(GrantsError) as refusal:
        pay(world, "100")
    assert "pas encore signé" in refusal.value.messages[0]
    assert not Payment.objects.filter(line=world.line).exists()


@pytest.mark.parametrize("who", ["instructor_b", "pilot", "referent"])
def test_only_the_funders_instructor_records_a_payment(world, who):
    with pytest.raises(PermissionDenied):
        pay(world, "100", user=getattr(world, who))
    assert not Payment.objects.filter(line=world.line).exists()


def test_a_payment_cannot_exceed_what_remains_due(world):
    pay(world, "1000")
    with pytest.raises(GrantsError) as refusal:
        pay(world, "600")
    message = refusal.value.message_dict["amount"][0]
    assert message.startswith("Montant versé :") and "reste à verser" in message and eur("500") in message
    assert Payment.objects.filter(line=world.line).count() == 1


def test_a_payment_in_the_future_is_refused(world):
    with pytest.raises(GrantsError) as refusal:
        pay(world, "100", paid_on=TODAY + datetime.timedelta(days=3))
    assert "Date du versement" in refusal.value.message_dict["paid_on"][0]


def test_advance_then_balance_reach_paid_and_notify_the_association(
    world, django_capture_on_commit_callbacks
):
    schedule(world)
    with django_capture_on_commit_callbacks(execute=True):
        advance = pay(world, "1200")
    assert advance.instalment.kind == InstalmentKind.ADVANCE
    notes = Notification.objects.filter(recipient=world.referent, kind=NotificationKind.PAYMENT_RECORDED)
    assert notes.count() == 1 and eur("1200") in notes.get().text
    assert not Notification.objects.filter(recipient=world.other_referent).exists()
    line = FunderLine.objects.with_follow_up().get(pk=world.line.pk)
    assert stage_of(line) == FollowUpStage.PARTLY_PAID
    balance = pay(world, "300")
    assert balance.instalment.kind == InstalmentKind.BALANCE
    line = FunderLine.objects.with_follow_up().get(pk=world.line.pk)
    assert stage_of(line) == FollowUpStage.PAID
    assert ApplicationEvent.objects.filter(application=world.application, kind=EventKind.PAYMENT).count() == 2


def test_a_schedule_change_that_would_orphan_a_payment_is_refused(world):
    schedule(world)
    pay(world, "1200")
    pay(world, "100")  # sur le solde
    with pytest.raises(GrantsError) as refusal:
        services.set_schedule(
            user=world.instructor_a,
            line=world.line,
            terms=PaymentTerms.SINGLE,
            instalments=[PlannedInstalment(InstalmentKind.SINGLE, Decimal("1500"))],
        )
    assert f"solde : {eur('100')}" in refusal.value.messages[0]
    assert world.line.instalments.count() == 2
    assert Payment.objects.filter(line=world.line).count() == 2


def test_a_schedule_change_keeps_the_recorded_payments(world):
    schedule(world)
    pay(world, "1200")
    schedule(world, "1000", "500")
    payment = Payment.objects.get(line=world.line)
    assert payment.instalment.amount == Decimal("1000.00") and payment.amount == Decimal("1200.00")
    assert list(PaymentInstalment.objects.filter(line=world.line).values_list("amount", flat=True)) == [
        Decimal("1000.00"),
        Decimal("500.00"),
    ]


def test_a_cancelled_payment_leaves_its_reason_in_the_history(world):
    payment = pay(world, "500")
    with pytest.raises(GrantsError):
        services.cancel_payment(user=world.instructor_a, payment=payment, reason="  ")
    with pytest.raises(PermissionDenied):
        services.cancel_payment(user=world.pilot, payment=payment, reason="Erreur")
    assert Payment.objects.filter(pk=payment.pk).exists()
    services.cancel_payment(user=world.instructor_a, payment=payment, reason="Mandat rejeté par le comptable")
    assert not Payment.objects.filter(pk=payment.pk).exists()
    event = ApplicationEvent.objects.filter(application=world.application, kind=EventKind.PAYMENT).last()
    assert "annulé" in event.message and "Mandat rejeté par le comptable" in event.message
    assert eur("500") in event.message


def test_two_instructors_changing_the_schedule_at_once_do_not_overwrite_each_other(world):
    version = world.line.version
    schedule(world)  # l'autre instructeur enregistre d'abord
    with pytest.raises(ConflictError) as conflict:
        services.set_schedule(
            user=world.instructor_a,
            line=world.line,
            terms=PaymentTerms.STAGED,
            instalments=staged("1000", "500"),
            version=version,
        )
    (field, label, saved, typed) = conflict.value.changes[0]
    assert label == "Échéancier" and eur("1200") in saved and eur("1000") in typed
    assert list(world.line.instalments.values_list("amount", flat=True).order_by("order")) == [
        Decimal("1200.00"),
        Decimal("300.00"),
    ]
