"""Les actes attributifs : type choisi d'après le montant et la durée, référence numérotée par
financeur, nouvelle préparation qui garde la référence, dépôt de l'acte signé et ses refus."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cdv.grants.enums import ActKind, EventKind, PaymentTerms
from cdv.grants.errors import ConflictError, GrantsError
from cdv.grants.models import ActTemplate, ApplicationEvent, GrantAct
from cdv.grants.services import acts as services
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from tests.factories.grants import (
    ActTemplateFactory,
    ApplicationFactory,
    FunderLineFactory,
    PaymentInstalmentFactory,
)

from .acts_world import build_acts_world

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="acte-signe.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    return build_acts_world()


@pytest.mark.parametrize(
    "amount, kind",
    [
        (Decimal("22999.99"), ActKind.DECISION),
        (Decimal("23000.00"), ActKind.CONVENTION),
        (Decimal("40000.00"), ActKind.CONVENTION),
    ],
)
def test_the_kind_follows_the_yearly_amount(amount, kind):
    world = build_acts_world(amount_a=amount)
    act = services.prepare_act(user=world.instructor_a, line=world.line_a)
    assert act.kind == kind
    assert act.amount == amount
    assert act.yearly_amounts == []


def test_a_multi_year_project_gets_a_cpo_with_its_yearly_amounts():
    world = build_acts_world(amount_a=Decimal("8000.00"), years=3, later=["9000", "9500.5"])
    act = services.prepare_act(user=world.instructor_a, line=world.line_a)
    assert act.kind == ActKind.MULTI_YEAR
    assert act.yearly_amounts == ["8000.00", "9000.00", "9500.50"]


def test_references_are_numbered_per_funder_with_the_template_prefix(world):
    ActTemplateFactory(
        contract=world.call.contract, partner=world.funder_b.partner, reference_prefix="ETAT-P147"
    )
    year = world.call.year
    a = services.prepare_act(user=world.instructor_a, line=world.line_a)
    b = services.prepare_act(user=world.instructor_b, line=world.line_b)
    assert a.reference == f"METROPOLE-TEST-{year}-0001"
    assert b.reference == f"ETAT-P147-{year}-0001"
    world.funder_a.refresh_from_db()
    assert world.funder_a.last_act_number == 1
    next_line = FunderLineFactory(
        application=ApplicationFactory(call=world.call, decided=True), funder=world.funder_a, voted=True
    )
    assert services.prepare_act(user=world.instructor_a, line=next_line).reference.endswith(f"-{year}-0002")
    assert ApplicationEvent.objects.filter(
        application=world.application, kind=EventKind.ACT_PREPARED, funder=world.funder_a
    ).exists()


def test_preparing_again_keeps_the_reference_and_takes_the_new_schedule(world):
    first = services.prepare_act(user=world.instructor_a, line=world.line_a)
    PaymentInstalmentFactory(line=world.line_a, kind="AVANCE", amount=Decimal("10000"), order=1)
    again = services.prepare_act(user=world.instructor_a, line=world.line_a)
    assert again.pk == first.pk
    assert again.reference == first.reference and again.number == 1
    assert again.payment_terms == PaymentTerms.STAGED
    assert again.version == first.version + 1
    world.funder_a.refresh_from_db()
    assert world.funder_a.last_act_number == 1


@pytest.mark.parametrize("who", ["instructor_b", "pilot", "referent"])
def test_only_the_funder_instructor_prepares(world, who):
    with pytest.raises(PermissionDenied):
        services.prepare_act(user=getattr(world, who), line=world.line_a)
    assert not GrantAct.objects.filter(line=world.line_a).exists()


def test_signing_records_the_file_and_date_and_notifies_the_association(world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    day = timezone.localdate() - datetime.timedelta(days=2)
    act = services.sign_act(user=world.instructor_a, line=world.line_a, signed_on=day, uploaded=pdf())
    assert act.signed_on == day
    with act.signed_file.open("rb") as handle:
        assert handle.read() == PDF
    assert act.signed_original_name == "acte-signe.pdf" and len(act.signed_sha256) == 64
    assert act.signed_uploaded_by == world.instructor_a
    notification = Notification.objects.get(recipient=world.referent, kind=NotificationKind.ACT_SIGNED)
    assert f"/dossiers/{world.application.pk}/" in notification.url
    assert not Notification.objects.filter(recipient=world.other_referent).exists()
    assert ApplicationEvent.objects.filter(application=world.application, kind=EventKind.ACT_SIGNED).exists()


@pytest.mark.parametrize(
    "days, field",
    [(1, "signed_on"), (-11, "signed_on")],  # demain ; la veille de la décision (il y a 10 jours)
)
def test_a_bad_signature_date_is_refused_and_changes_nothing(world, days, field):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    day = timezone.localdate() + datetime.timedelta(days=days)
    with pytest.raises(GrantsError) as error:
        services.sign_act(user=world.instructor_a, line=world.line_a, signed_on=day, uploaded=pdf())
    assert field in error.value.message_dict
    assert "Date de signature" in error.value.message_dict[field][0]
    assert GrantAct.objects.get(line=world.line_a).signed_on is None


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("acte.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf"),
        SimpleUploadedFile("acte.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50, content_type="image/png"),
        SimpleUploadedFile("acte.pdf", b"", content_type="application/pdf"),
        SimpleUploadedFile("acte.pdf", PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf"),
    ],
    ids=["executable", "image", "vide", "trop-gros"],
)
def test_the_signed_act_must_be_a_real_pdf(world, upload):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    with pytest.raises(GrantsError) as error:
        services.sign_act(
            user=world.instructor_a, line=world.line_a, signed_on=timezone.localdate(), uploaded=upload
        )
    assert "Acte signé" in error.value.message_dict["file"][0]
    assert GrantAct.objects.get(line=world.line_a).signed_on is None


def test_replacing_a_signed_act_needs_a_confirmation(world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    today = timezone.localdate()
    services.sign_act(user=world.instructor_a, line=world.line_a, signed_on=today, uploaded=pdf())
    with pytest.raises(GrantsError) as error:
        services.sign_act(user=world.instructor_a, line=world.line_a, signed_on=today, uploaded=pdf("v2.pdf"))
    assert "confirm_replace" in error.value.message_dict
    act = services.sign_act(
        user=world.instructor_a, line=world.line_a, signed_on=today, uploaded=pdf("v2.pdf"), replace=True
    )
    assert act.signed_original_name == "v2.pdf"


def test_a_signed_act_is_not_prepared_again(world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    services.sign_act(
        user=world.instructor_a, line=world.line_a, signed_on=timezone.localdate(), uploaded=pdf()
    )
    with pytest.raises(PermissionDenied):
        services.prepare_act(user=world.instructor_a, line=world.line_a)


def test_preparing_every_missing_act_prepares_only_mine(world):
    acts = services.prepare_missing_acts(user=world.instructor_a, call=world.call)
    assert [a.line_id for a in acts] == [world.line_a.pk]
    assert not GrantAct.objects.filter(line=world.line_b).exists()
    assert services.prepare_missing_acts(user=world.instructor_a, call=world.call) == []


def test_the_template_is_saved_with_optimistic_locking(world):
    contract, partner = world.call.contract, world.funder_a.partner
    data = {"reference_prefix": "NM", "visas": "Vu le code ;", "place": "Nantes"}
    template = services.save_act_template(
        user=world.instructor_a, contract=contract, partner=partner, version=None, data=data
    )
    assert template.reference_prefix == "NM" and template.version == 1
    services.save_act_template(
        user=world.pilot, contract=contract, partner=partner, version=1, data={**data, "place": "Rezé"}
    )
    with pytest.raises(ConflictError):
        services.save_act_template(
            user=world.instructor_a,
            contract=contract,
            partner=partner,
            version=1,
            data={**data, "place": "Orvault"},
        )
    assert ActTemplate.objects.get(pk=template.pk).place == "Rezé"


def test_a_bad_prefix_is_refused(world):
    with pytest.raises(GrantsError) as error:
        services.save_act_template(
            user=world.instructor_a,
            contract=world.call.contract,
            partner=world.funder_a.partner,
            version=None,
            data={"reference_prefix": "a b/c"},
        )
    assert "Préfixe des références" in error.value.message_dict["reference_prefix"][0]
    assert not ActTemplate.objects.filter(partner=world.funder_a.partner).exists()


def test_another_funder_instructor_cannot_edit_the_template(world):
    with pytest.raises(PermissionDenied):
        services.save_act_template(
            user=world.instructor_b,
            contract=world.call.contract,
            partner=world.funder_a.partner,
            version=None,
            data={"place": "Ailleurs"},
        )
