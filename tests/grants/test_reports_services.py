"""Les règles du compte-rendu financier, au niveau des services : date limite, écarts à expliquer,
ce qui manque par chemin, droits revérifiés."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from cdv.grants.blocking import add_months
from cdv.grants.enums import ReportPath, ReportStatus
from cdv.grants.models import FinalReport
from cdv.grants.services import reports as services
from tests.factories.grants import FinalReportFactory, ReportBudgetLineFactory

from .reports_world import build_world, carried_out_post


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2031, 8, 31), datetime.date(2032, 2, 29)),
        (datetime.date(2031, 12, 31), datetime.date(2032, 6, 30)),
        (datetime.date(2031, 7, 15), datetime.date(2032, 1, 15)),
        (datetime.date(2031, 3, 31), datetime.date(2031, 9, 30)),
    ],
)
def test_due_date_is_six_months_after_the_end(day, expected):
    assert add_months(day, 6) == expected


@pytest.mark.parametrize(
    ("planned", "actual", "explain"),
    [
        ("1000", "1200", False),  # 20 % tout juste
        ("1000", "800", False),
        ("1000", "1200.01", True),
        ("1000", "799.99", True),
        ("0", "0", False),
        ("0", "0.01", True),
        ("1000", "0", True),
    ],
)
def test_variance_limit(planned, actual, explain):
    assert services.needs_explanation(Decimal(planned), Decimal(actual)) is explain


@pytest.mark.django_db
def test_checklist_per_path():
    report = FinalReportFactory(indicators_results="Assiduité.", qpv_share=Decimal("75"))
    ReportBudgetLineFactory(report=report, planned_amount=Decimal("3000"), actual_amount=Decimal("4000"))
    (missing,) = services.checklist(report)
    assert missing.startswith("Budget réalisé, 64 – Charges de personnel (Animateur) : le réalisé")
    report.path = ReportPath.NOT_CARRIED_OUT
    assert services.checklist(report) == [
        "Pourquoi l'action n'a pas été réalisée : expliquez-le.",
        "Montant à reverser : indiquez-le (0 si rien n'a été versé).",
    ]
    report.amount_to_return, report.not_carried_reason = Decimal("0"), "Local fermé."
    assert services.checklist(report) == []


@pytest.mark.django_db
def test_services_recheck_rights():
    world = build_world()
    data = {k: v for k, v in carried_out_post().items() if k in services.REPORT_FIELDS}
    data.update(
        path=ReportPath.CARRIED_OUT, beneficiaries_reached=40, qpv_beneficiaries=30, amount_to_return=None
    )
    data.update(new_start_date=None, new_end_date=None)
    for user in (world.pilot, world.instructor_a, world.other_referent):
        with pytest.raises(PermissionDenied):
            services.save_report(user=user, application=world.application, version=None, data=data)
    assert not FinalReport.objects.filter(application=world.application).exists()
    report = services.save_report(user=world.referent, application=world.application, version=0, data=data)
    FinalReport.objects.filter(pk=report.pk).update(status=ReportStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.save_report(user=world.referent, application=world.application, version=None, data=data)
    with pytest.raises(PermissionDenied):
        services.submit_report(user=world.referent, application=world.application)


@pytest.mark.django_db
def test_a_piece_joined_to_a_submitted_report_cannot_be_deleted():
    from cdv.grants.enums import DocumentKind
    from cdv.grants.errors import GrantsError
    from cdv.grants.models import PartnerDocument
    from cdv.grants.services.applications import delete_document
    from tests.factories.grants import PartnerDocumentFactory

    world = build_world()
    piece = PartnerDocumentFactory(partner=world.application.partner, kind=DocumentKind.REPORT_PIECE)
    report = FinalReportFactory(application=world.application)
    report.documents.add(piece)
    delete_document(
        user=world.referent, call=world.call, document=PartnerDocumentFactory(partner=piece.partner)
    )
    report.status = ReportStatus.SUBMITTED
    report.save()
    with pytest.raises(GrantsError, match="compte-rendu transmis"):
        delete_document(user=world.referent, call=world.call, document=piece)
    assert PartnerDocument.objects.filter(pk=piece.pk).exists()
