"""Le dossier côté association : services (création, renouvellement, budget, pièces, dépôt)."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from cdv.grants.enums import Account, ApplicationStatus, DocumentKind, EventKind, LineStatus
from cdv.grants.errors import ConflictError, GrantsError
from cdv.grants.models import Application, Call, PartnerDocument
from cdv.grants.services import applications as services
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from cdv.users.enums import Role
from tests.factories.grants import (
    TINY_PDF,
    ApplicationFactory,
    CallFactory,
    CallFunderFactory,
    InfoRequestFactory,
)
from tests.factories.territories import QpvFactory
from tests.factories.users import MembershipFactory, UserFactory

from .applying_helpers import association, complete_application, referent_of

pytestmark = pytest.mark.django_db


def submit(user, application, **kwargs):
    values = {"sworn_name": "Camille Martin", "sworn_statement": True, "republican_contract": True}
    values.update(kwargs)
    return services.submit_application(user=user, application=application, **values)


def test_submission_numbers_freezes_transmits_and_emails(mailoutbox):
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)
    second = complete_application(call=application.call, partner=application.partner)

    submit(user, application)
    submit(user, second)

    application.refresh_from_db()
    second.refresh_from_db()
    year = application.call.year
    assert (application.number, second.number) == (f"{year}-0001", f"{year}-0002")
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.submitted_by == user and application.sworn_name == "Camille Martin"
    assert set(application.funder_lines.values_list("status", flat=True)) == {LineStatus.TRANSMITTED}
    assert application.events.filter(kind=EventKind.SUBMITTED).count() == 1
    assert (
        Notification.objects.filter(recipient=user, kind=NotificationKind.APPLICATION_SUBMITTED).count() == 2
    )
    assert f"{year}-0001" in mailoutbox[0].subject
    assert "recepisse.pdf" in mailoutbox[0].body
    name, content, mimetype = mailoutbox[0].attachments[0]
    assert (name, mimetype) == (f"recepisse-{year}-0001.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    # Figé : plus modifiable.
    with pytest.raises(PermissionDenied):
        services.update_project(user=user, application=application, version=None, data={"title": "Autre"})


def test_unbalanced_budget_is_refused_with_the_difference_and_nothing_changes():
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)
    application.budget_lines.filter(account=Account.A70).update(amount=Decimal("3000"))

    with pytest.raises(GrantsError) as refusal:
        submit(user, application)

    text = " ".join(refusal.value.messages)
    assert "pas équilibré" in text and "1\u202f000\u00a0€" in text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT and application.number == ""
    assert application.call.__class__.objects.get(pk=application.call_id).last_number == 0


def test_late_submission_is_refused_and_the_draft_is_kept():
    call = CallFactory(closed=True)
    application = complete_application(call=call)
    user = referent_of(application.partner, call.contract)

    with pytest.raises(GrantsError) as refusal:
        submit(user, application)

    assert "clos depuis le" in refusal.value.messages[0]
    assert "brouillon est gardé" in refusal.value.messages[0]
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_sworn_statement_and_named_person_are_required():
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)

    with pytest.raises(GrantsError) as refusal:
        submit(user, application, sworn_name=" ", republican_contract=False)

    assert set(refusal.value.message_dict) == {"sworn_name", "republican_contract"}
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_checklist_lists_what_is_missing_in_french():
    call = CallFactory(min_amount=Decimal("8000"), min_funders=2)
    application = ApplicationFactory(
        call=call, partner=association(legal_representative=""), qpv_share=Decimal("20")
    )

    missing = services.checklist(application)

    assert "Le représentant légal de l'association." in missing
    assert any("sous le minimum de l'appel (50\u00a0%)" in m for m in missing)
    assert any("Au moins 2 financeur(s)" in m for m in missing)
    assert any("sous le minimum de l'appel (8\u202f000\u00a0€)" in m for m in missing)
    assert services.checklist(complete_application()) == []


def test_another_associations_referent_cannot_touch_the_application():
    application = complete_application()
    stranger = referent_of(association(), application.call.contract)

    with pytest.raises(PermissionDenied):
        services.update_project(user=stranger, application=application, version=None, data={"title": "Volé"})
    with pytest.raises(PermissionDenied):
        submit(stranger, application)
    assert Application.objects.get(pk=application.pk).title == application.title


def test_foreign_qpv_is_refused():
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)
    foreign = QpvFactory()

    with pytest.raises(GrantsError) as refusal:
        services.update_project(
            user=user, application=application, version=application.version, data={}, qpvs=[foreign]
        )

    assert "hors du contrat" in refusal.value.message_dict["qpvs"][0]
    assert foreign not in application.qpvs.all()


def test_update_project_conflict_lists_the_differing_fields():
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)
    services.update_project(
        user=user, application=application, version=application.version, data={"title": "A"}
    )

    with pytest.raises(ConflictError) as conflict:
        services.update_project(
            user=user, application=application, version=application.version, data={"title": "B"}
        )

    assert conflict.value.changes[0][0] == "title"
    assert Application.objects.get(pk=application.pk).title == "A"


def test_budget_refuses_negative_and_absurd_amounts():
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)

    for amount, words in [(Decimal("-5"), "négatif"), (Decimal("1e9"), "invraisemblable")]:
        with pytest.raises(GrantsError) as refusal:
            services.set_budget(
                user=user, application=application, version=None, lines=[(Account.A60, "Matériel", amount)]
            )
        assert words in refusal.value.messages[0] and "Ligne 1" in refusal.value.messages[0]
    assert application.budget_lines.count() == 2


def test_funder_requests_are_written_per_call_funder():
    application = complete_application(years=2)
    user = referent_of(application.partner, application.call.contract)
    first, second = application.call.funders.all()

    services.set_funder_requests(
        user=user,
        application=application,
        version=None,
        requests={first: (Decimal("5000"), [Decimal("5500")]), second: (Decimal("0"), [])},
    )

    lines = list(application.funder_lines.all())
    assert [(line.funder, line.requested_amount, line.later_amounts) for line in lines] == [
        (first, Decimal("5000.00"), ["5500.00"])
    ]
    other_call_funder = CallFunderFactory()
    with pytest.raises(GrantsError):
        services.set_funder_requests(
            user=user, application=application, version=None, requests={other_call_funder: (1, [])}
        )


def test_renewal_copies_project_budget_funders_and_documents():
    old_call = CallFactory(voted=True, year=2024)
    old = complete_application(call=old_call, years=2, number="2024-0007", status=ApplicationStatus.DECIDED)
    contract = old_call.contract
    call = CallFactory(contract=contract, year=2025)
    same_partner_funder = CallFunderFactory(call=call, partner=old.funder_lines.first().funder.partner)
    CallFunderFactory(call=call)
    user = referent_of(old.partner, contract)

    new = services.create_application(user=user, call=call, partner=old.partner, renewal_of=old)

    assert new.status == ApplicationStatus.DRAFT and new.renewal_of == old
    assert (new.title, new.objectives, new.enjeu, new.years) == (old.title, old.objectives, old.enjeu, 2)
    assert list(new.qpvs.all()) == list(old.qpvs.all())
    assert sorted((b.account, b.amount) for b in new.budget_lines.all()) == sorted(
        (b.account, b.amount) for b in old.budget_lines.all()
    )
    assert [(line.funder, line.requested_amount) for line in new.funder_lines.all()] == [
        (same_partner_funder, Decimal("3000.00"))
    ]
    assert list(new.documents.all()) == list(old.documents.all())
    assert new.events.get().kind == EventKind.CREATED


def test_renewal_of_another_associations_application_is_refused():
    other = complete_application()
    call = CallFactory(contract=other.call.contract, year=other.call.year + 1)
    partner = association()
    user = referent_of(partner, call.contract)

    with pytest.raises(GrantsError):
        services.create_application(user=user, call=call, partner=partner, renewal_of=other)
    assert not Application.objects.filter(call=call).exists()


def _office_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("statuts.pdf", TINY_PDF, "application/pdf"),
        ("rib.PNG", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "image/png"),
        (
            "rapport.docx",
            _office_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_real_documents_are_accepted(name, data, content_type):
    call = CallFactory()
    partner = association()
    user = referent_of(partner, call.contract)

    document = services.upload_document(
        user=user,
        call=call,
        partner=partner,
        kind=DocumentKind.STATUTES,
        uploaded=SimpleUploadedFile(name, data),
    )

    assert document.content_type == content_type and document.size == len(data)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("statuts.pdf", b"<html><script>alert(1)</script></html>", "page web"),
        ("statuts.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60, "programme Windows"),
        ("photo.jpg", TINY_PDF, "PDF"),
        ("rapport.docx", b"PK\x03\x04" + b"garbage" * 10, "archive"),
        ("notes.txt", b"simple texte", "format accepté"),
    ],
)
def test_lying_attachment_is_refused(name, data, words):
    call = CallFactory()
    partner = association()
    user = referent_of(partner, call.contract)

    with pytest.raises(GrantsError) as refusal:
        services.upload_document(
            user=user,
            call=call,
            partner=partner,
            kind=DocumentKind.STATUTES,
            uploaded=SimpleUploadedFile(name, data),
        )

    assert words in " ".join(refusal.value.messages)
    assert not PartnerDocument.objects.filter(partner=partner).exists()


def test_oversized_attachment_is_refused():
    call = CallFactory()
    partner = association()
    user = referent_of(partner, call.contract)
    big = SimpleUploadedFile("gros.pdf", TINY_PDF + b"0" * (services.MAX_DOCUMENT_BYTES + 1))

    with pytest.raises(GrantsError) as refusal:
        services.upload_document(
            user=user, call=call, partner=partner, kind=DocumentKind.STATUTES, uploaded=big
        )
    assert "taille maximale" in refusal.value.messages[0]


def test_answer_resubmits_and_notifies_instructors():
    application = complete_application(status=ApplicationStatus.RETURNED, number="2025-0001")
    application.funder_lines.update(status=LineStatus.TRANSMITTED)
    funder = application.funder_lines.first().funder
    request = InfoRequestFactory(application=application, funder=funder)
    instructor = UserFactory()
    MembershipFactory(
        user=instructor, contract=application.call.contract, role=Role.INSTRUCTOR, partner=funder.partner
    )
    user = referent_of(application.partner, application.call.contract)

    services.answer_info_request(user=user, application=application, answer="Douze séances.")

    request.refresh_from_db()
    application.refresh_from_db()
    assert request.answer == "Douze séances." and request.answered_at is not None
    assert application.status == ApplicationStatus.SUBMITTED and application.number == "2025-0001"
    assert application.events.filter(kind=EventKind.INFO_ANSWERED).exists()
    assert Notification.objects.filter(recipient=instructor, kind=NotificationKind.INFO_ANSWERED).exists()


def test_withdraw_and_delete_draft():
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)
    services.withdraw_application(user=user, application=application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert set(application.funder_lines.values_list("status", flat=True)) == {LineStatus.CLOSED}

    draft = complete_application(call=application.call, partner=application.partner)
    services.delete_draft(user=user, application=draft)
    assert not Application.objects.filter(pk=draft.pk).exists()
    submitted = complete_application(call=application.call, partner=application.partner)
    submit(user, submitted)
    with pytest.raises(PermissionDenied):
        services.delete_draft(user=user, application=submitted)


def test_french_amount_format():
    assert services.format_eur(Decimal("12000.50")) == "12\u202f000,50\u00a0€"
    assert services.format_eur(Decimal("-1000")) == "-1\u202f000\u00a0€"


def test_checklist_writes_percentages_the_french_way():
    application = complete_application(qpv_share=Decimal("12.5"))
    Call.objects.filter(pk=application.call_id).update(
        max_call_share=Decimal("50"), min_qpv_share=Decimal("33.5")
    )
    application = Application.objects.get(pk=application.pk)  # les taux relus en base : « 50.00 »
    application.budget_lines.filter(account=Account.A70).update(amount=Decimal("1000"))
    application.budget_lines.filter(account=Account.A64).update(amount=Decimal("7000"))

    missing = " ".join(services.checklist(application))

    assert "couvriraient 85,7\u00a0% du budget : 50\u00a0% au plus" in missing
    assert "(12,5\u00a0%) est sous le minimum de l'appel (33,5\u00a0%)" in missing
