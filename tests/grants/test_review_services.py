"""L'examen du compte-rendu par chaque financeur : historique, accepté quand tous ont accepté,
à modifier dès qu'un financeur le demande, nouvel examen après une nouvelle transmission,
commentaire obligatoire, droits revérifiés, association prévenue."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cdv.grants.enums import EventKind, ReportStatus, ReviewDecision
from cdv.grants.errors import GrantsError
from cdv.grants.models import ApplicationEvent, ReportReview
from cdv.grants.services.report_review import review_report
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification

from .review_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def review(world, user, funder, decision=ReviewDecision.ACCEPTED, comment="", **kwargs):
    return review_report(
        user=user, report=world.report, funder=funder, decision=decision, comment=comment, **kwargs
    )


def test_accepted_only_when_every_funder_with_a_voted_line_accepted(world, mailoutbox):
    review(world, world.instructor_a, world.funder_a, comment="Très clair.")
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.SUBMITTED  # B n'a pas encore examiné
    review(world, world.instructor_b, world.funder_b)
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.ACCEPTED
    events = ApplicationEvent.objects.filter(application=world.application, kind=EventKind.REPORT_REVIEWED)
    assert events.count() == 2
    assert "accepté par tous les financeurs" in events.last().message
    notified = Notification.objects.filter(kind=NotificationKind.REPORT_REVIEWED, recipient=world.referent)
    assert notified.count() == 2
    assert any("Très clair." in m.body for m in mailoutbox)
    assert all(world.referent.email in m.to for m in mailoutbox)


def test_changes_requested_sends_it_back_with_the_comment_and_keeps_history(world, mailoutbox):
    review(world, world.instructor_a, world.funder_a)
    review(
        world, world.instructor_b, world.funder_b, ReviewDecision.CHANGES_REQUESTED, "Joignez les factures."
    )
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.CHANGES_REQUESTED
    assert list(ReportReview.objects.filter(report=world.report).values_list("decision", flat=True)) == [
        ReviewDecision.ACCEPTED,
        ReviewDecision.CHANGES_REQUESTED,
    ]
    mail = mailoutbox[-1]
    assert "Joignez les factures." in mail.body and "/compte-rendu/" in mail.body


def test_after_resubmission_every_funder_reviews_again(world):
    review(world, world.instructor_a, world.funder_a)
    review(world, world.instructor_b, world.funder_b, ReviewDecision.CHANGES_REQUESTED, "Factures.")
    # L'association corrige et transmet de nouveau (service de l'autre module : état et date).
    world.report.refresh_from_db()
    world.report.status = ReportStatus.SUBMITTED
    world.report.submitted_at = timezone.now() - datetime.timedelta(minutes=1)
    world.report.save()
    # Les examens d'avant la nouvelle transmission
    ReportReview.objects.update(at=timezone.now() - datetime.timedelta(hours=1))
    review(world, world.instructor_b, world.funder_b)
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.SUBMITTED  # l'acceptation de A était d'avant
    review(world, world.instructor_a, world.funder_a)
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.ACCEPTED
    assert ReportReview.objects.filter(report=world.report).count() == 4


def test_comment_required_to_ask_for_changes_and_nothing_changes(world):
    with pytest.raises(GrantsError) as error:
        review(world, world.instructor_a, world.funder_a, ReviewDecision.CHANGES_REQUESTED, "   ")
    assert "Commentaire" in error.value.message_dict["comment"][0]
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.SUBMITTED
    assert not ReportReview.objects.filter(report=world.report).exists()


def test_only_the_instructors_of_a_voting_funder_review_in_its_name(world):
    for user in (world.pilot, world.instructor_c, world.instructor_d, world.referent, world.committee):
        with pytest.raises(PermissionDenied):
            review(world, user, world.funder_a)
    with pytest.raises(PermissionDenied):  # instructeur de A au nom de B
        review(world, world.instructor_a, world.funder_b)
    assert not ReportReview.objects.filter(report=world.report).exists()


def test_stale_review_after_another_funder_sent_it_back_is_refused_clearly(world):
    version = world.report.version
    review(world, world.instructor_a, world.funder_a, ReviewDecision.CHANGES_REQUESTED, "Factures.")
    with pytest.raises(GrantsError) as error:
        review(world, world.instructor_b, world.funder_b, version=version)
    assert "plus à examiner" in error.value.messages[0]
    assert ReportReview.objects.filter(report=world.report).count() == 1


def test_two_instructors_reviewing_the_same_page_are_both_recorded(world):
    """Les deux instructeurs ont ouvert la page en même temps (même objet, même version) : le
    second relit sous verrou l'examen du premier ; les deux sont gardés et le compte-rendu est
    accepté."""
    page_a = type(world.report).objects.get(pk=world.report.pk)
    page_b = type(world.report).objects.get(pk=world.report.pk)
    review_report(
        user=world.instructor_a,
        report=page_a,
        funder=world.funder_a,
        decision=ReviewDecision.ACCEPTED,
        comment="",
        version=page_a.version,
    )
    review_report(
        user=world.instructor_b,
        report=page_b,
        funder=world.funder_b,
        decision=ReviewDecision.ACCEPTED,
        comment="",
        version=page_b.version,
    )
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.ACCEPTED
    assert set(ReportReview.objects.filter(report=world.report).values_list("funder_id", flat=True)) == {
        world.funder_a.pk,
        world.funder_b.pk,
    }
