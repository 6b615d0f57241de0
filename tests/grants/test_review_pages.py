"""Les pages de l'examen des comptes-rendus : qui lit, qui examine (par rôle), le formulaire
(commentaire obligatoire pour demander des modifications), la liste des comptes-rendus d'un appel
(filtres, comptes, retards, requêtes SQL bornées)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cdv.grants.enums import ReportStatus, ReviewDecision
from cdv.grants.models import ReportReview
from tests.factories.grants import (
    ApplicationFactory,
    FinalReportFactory,
    FunderLineFactory,
    ReportBudgetLineFactory,
    ReportReviewFactory,
)

from .review_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def review_url(world, application=None):
    application = application or world.application
    return reverse("www:report_review", args=[world.contract.slug, world.call.year, application.pk])


def reports_url(world):
    return reverse("www:call_reports", args=[world.contract.slug, world.call.year])


def post(world, **overrides):
    data = {"version": world.report.version, "funder": world.funder_a.pk, "decision": ReviewDecision.ACCEPTED}
    data.update(overrides)
    return data


def test_instructor_reads_the_report_and_accepts_it(client, world):
    client.force_login(world.instructor_a)
    page = client.get(review_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Matériel" in html and "+50" in html.replace("\u202f", "").replace(" ", "")  # écart de 50 %
    assert "écart expliqué" in html and "Achat de tables pliantes." in html
    assert "75" in html and "Déclarée" not in html  # part QPV, origine non précisée
    response = client.post(review_url(world), post(world))
    assert response.status_code == 302
    review = ReportReview.objects.get(report=world.report)
    assert (review.funder, review.reviewer, review.decision) == (
        world.funder_a,
        world.instructor_a,
        "ACCEPTE",
    )
    history = client.get(review_url(world)).content.decode()
    assert "Historique des examens" in history and str(world.instructor_a) in history


def test_asking_changes_without_a_comment_names_the_field_and_changes_nothing(client, world):
    client.force_login(world.instructor_a)
    response = client.post(
        review_url(world), post(world, decision=ReviewDecision.CHANGES_REQUESTED, comment=" ")
    )
    assert response.status_code == 200
    assert (
        "Commentaire : dites à l&#x27;association ce qu&#x27;elle doit modifier." in response.content.decode()
    )
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.SUBMITTED
    assert not ReportReview.objects.filter(report=world.report).exists()


def test_asking_changes_sends_the_report_back(client, world):
    client.force_login(world.instructor_b)
    response = client.post(
        review_url(world),
        post(
            world,
            funder=world.funder_b.pk,
            decision=ReviewDecision.CHANGES_REQUESTED,
            comment="Les factures.",
        ),
    )
    assert response.status_code == 302
    world.report.refresh_from_db()
    assert world.report.status == ReportStatus.CHANGES_REQUESTED
    page = client.get(review_url(world)).content.decode()
    assert "Enregistrer l&#x27;examen" not in page and "Les factures." in page


def test_pilot_reads_the_review_but_cannot_review(client, world):
    client.force_login(world.pilot)
    page = client.get(review_url(world))
    assert page.status_code == 200
    assert "Enregistrer l&#x27;examen" not in page.content.decode()
    assert client.post(review_url(world), post(world)).status_code == 403
    assert not ReportReview.objects.filter(report=world.report).exists()


def test_a_funder_whose_line_was_not_voted_reads_but_cannot_review(client, world):
    client.force_login(world.instructor_c)
    assert client.get(review_url(world)).status_code == 200
    assert client.post(review_url(world), post(world, funder=world.funder_c.pk)).status_code == 403
    assert client.post(review_url(world), post(world)).status_code == 403
    assert not ReportReview.objects.filter(report=world.report).exists()


def test_other_roles_are_refused(client, world):
    assert client.get(review_url(world)).status_code == 302  # connexion demandée
    expected = {
        world.instructor_d: 404,  # financeur étranger au dossier : il ne le voit pas
        world.other_referent: 404,  # une autre association
        world.referent: 403,  # l'association lit ses commentaires sur son compte-rendu, pas ici
        world.committee: 403,
        world.correspondent: 403,
    }
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(review_url(world)).status_code == status, user
        assert client.post(review_url(world), post(world)).status_code == status, user
    assert not ReportReview.objects.filter(report=world.report).exists()


def test_a_draft_report_is_not_shown_to_funders(client, world):
    world.report.status = ReportStatus.DRAFT
    world.report.save()
    client.force_login(world.instructor_a)
    page = client.get(review_url(world)).content.decode()
    assert "pas encore été transmis" in page and "Matériel" not in page
    assert client.post(review_url(world), post(world)).status_code == 403


# ---------------------------------------------------------------------------------------------
# Les comptes-rendus de l'appel


def _funded(world, funder, **report):
    application = ApplicationFactory(call=world.call, decided=True)
    FunderLineFactory(application=application, funder=funder, voted=True, voted_amount=Decimal("1000"))
    if report:
        FinalReportFactory(application=application, **report)
    return application


def test_call_reports_lists_funded_projects_with_status_late_flag_and_counts(client, world):
    today = timezone.localdate()
    late = _funded(world, world.funder_a, due_date=today - datetime.timedelta(days=3))
    only_d = _funded(world, world.funder_d)
    ReportReviewFactory(report=world.report, funder=world.funder_a, reviewer=world.instructor_a)
    client.force_login(world.pilot)
    page = client.get(reports_url(world)).content.decode()
    for application in (world.application, late, only_d):
        assert application.title in page
    assert "En retard" in page and "Accepté le" in page and "à examiner" in page
    late_only = client.get(reports_url(world), {"late": "on"}).content.decode()
    assert late.title in late_only and world.application.title not in late_only
    drafts = client.get(reports_url(world), {"status": "BROUILLON"}).content.decode()
    assert late.title in drafts and only_d.title not in drafts
    not_started = client.get(reports_url(world), {"status": "NON_COMMENCE"}).content.decode()
    assert only_d.title in not_started and late.title not in not_started
    # L'instructeur de A ne voit que les projets que A a financés.
    client.force_login(world.instructor_a)
    mine = client.get(reports_url(world)).content.decode()
    assert late.title in mine and world.application.title in mine and only_d.title not in mine


def test_call_reports_is_for_the_pilot_and_funders_only(client, world):
    assert client.get(reports_url(world)).status_code == 302
    for user in (world.referent, world.committee, world.correspondent):
        client.force_login(user)
        assert client.get(reports_url(world)).status_code == 403


def test_call_reports_keeps_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    for index in range(32):
        funder = world.funder_a if index % 2 else world.funder_b
        application = _funded(world, funder, submitted=True)
        ReportReviewFactory(report=application.final_report, funder=funder)
    client.force_login(world.pilot)
    with django_assert_max_num_queries(14):
        page = client.get(reports_url(world))
    assert page.status_code == 200
    assert page.content.decode().count("/compte-rendu/examen/") == 33


def test_review_page_keeps_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(10):
        ReportReviewFactory(report=world.report, funder=world.funder_a)
    client.force_login(world.instructor_a)
    with django_assert_max_num_queries(16):
        assert client.get(review_url(world)).status_code == 200


def test_a_call_funder_grant_line_is_titled_with_its_funder_not_outside_the_call(client, world):
    """Au compte 74, la ligne d'un financeur de l'appel ne s'intitule pas « Autres subventions
    (hors financeurs de l'appel) »."""
    ReportBudgetLineFactory(
        report=world.report,
        account="74",
        label=f"Subvention de {world.funder_a.partner}",
        planned_amount=Decimal("3000"),
        actual_amount=Decimal("3000"),
    )
    client.force_login(world.instructor_a)
    html = client.get(review_url(world)).content.decode().replace("&#x27;", "'")
    assert f"74 – Subvention de {world.funder_a.partner}<" in html
    assert "(hors financeurs de l'appel) — Subvention de" not in html
