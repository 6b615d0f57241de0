"""Actes irréversibles : figer l'année, clore une campagne, adopter une évaluation, confirmer un
cahier. Chacun passe par une page de confirmation qui dit ce qui est incomplet, et rien ne se fait
sans la case « Je confirme » cochée (ni par les pages, ni par les services). Un bilan renvoyé d'une
année figée se complète encore : l'instantané garde ce qui a été figé, la page dit qu'une version
plus récente existe."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cdv.commitments import services as commitment_services
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.evaluation import services as evaluation_services
from cdv.evaluation.enums import EvaluationKind, EvaluationStatus
from cdv.evaluation.models import Evaluation, Judgement
from cdv.monitoring import services, yearly
from cdv.monitoring.enums import CampaignStatus, MeetingKind, ReportState
from cdv.monitoring.models import Meeting, ReviewCampaign, Snapshot
from cdv.users.enums import Role
from tests import factories
from tests.monitoring import test_review_cycle
from tests.monitoring.test_review_cycle import COMPLETE, YEAR, open_2025, report_of, text

# Le monde des tests du suivi annuel (deux partenaires, leurs référents, le pilote, des engagements).
world = test_review_cycle.world
built_world = test_review_cycle.built_world
media = test_review_cycle.media

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_demo_reviews")]


def campaign_status(campaign):
    return ReviewCampaign.objects.get(pk=campaign.pk).status


# --- Figer l'année -----------------------------------------------------------------------------


def test_freezing_shows_what_is_incomplete_and_refuses_without_the_box(client, world):
    slug, pilot = world["nantes"].slug, world["users"]["pilot"]
    campaign = open_2025(world, deadline=timezone.localdate() + datetime.timedelta(days=56))
    client.force_login(pilot)
    dashboard = text(client.get(reverse("www:review_campaign", args=[slug, YEAR])))
    confirm_url = reverse("www:review_freeze", args=[slug, YEAR])
    assert confirm_url in client.get(reverse("www:review_campaign", args=[slug, YEAR])).content.decode()
    assert "Figer l'année 2025" in dashboard
    page = client.get(confirm_url)
    assert page.status_code == 200
    body = text(page)
    outstanding = campaign.reports.filter(state__in=[ReportState.DRAFT, ReportState.RETURNED]).count()
    assert outstanding > 0
    assert f"{outstanding} bilans ne sont pas encore transmis" in body
    assert "La date limite des bilans n'est pas atteinte : encore 56 jours" in body
    assert "Je confirme" in body
    # Sans la case cochée : refus en français, rien ne change.
    response = client.post(confirm_url)
    assert response.status_code == 200
    assert "Cochez la case « Je confirme » pour figer l'année." in text(response)
    assert campaign_status(campaign) == CampaignStatus.OPEN
    assert not Snapshot.objects.filter(campaign=campaign).exists()
    # Avec la case : l'année est figée.
    response = client.post(confirm_url, {"confirm": "oui"})
    assert response.status_code == 302
    assert campaign_status(campaign) == CampaignStatus.FROZEN
    assert Snapshot.objects.filter(campaign=campaign).exists()


def test_freeze_service_requires_an_explicit_confirmation(world):
    campaign = open_2025(world)
    with pytest.raises(ValidationError, match="confirmation"):
        yearly.freeze_year(user=world["users"]["pilot"], campaign=campaign)
    assert campaign_status(campaign) == CampaignStatus.OPEN
    yearly.freeze_year(user=world["users"]["pilot"], campaign=campaign, confirmed=True)
    assert campaign_status(campaign) == CampaignStatus.FROZEN


# --- Clore une campagne ------------------------------------------------------------------------


def test_closing_shows_what_is_incomplete_and_refuses_without_the_box(client, world):
    slug = world["nantes"].slug
    campaign = open_2025(world, deadline=timezone.localdate() + datetime.timedelta(days=10))
    client.force_login(world["users"]["pilot"])
    confirm_url = reverse("www:review_close", args=[slug, YEAR])
    body = text(client.get(confirm_url))
    assert "ne sont pas encore transmis" in body
    assert "La date limite des bilans n'est pas atteinte : encore 10 jours" in body
    assert "Partenaire A" in body  # qui n'a pas transmis
    response = client.post(confirm_url)
    assert response.status_code == 200
    assert "Cochez la case « Je confirme » pour clore la campagne." in text(response)
    assert campaign_status(campaign) == CampaignStatus.OPEN
    assert client.post(confirm_url, {"confirm": "oui"}).status_code == 302
    assert campaign_status(campaign) == CampaignStatus.CLOSED


def test_close_service_requires_an_explicit_confirmation(world):
    campaign = open_2025(world)
    with pytest.raises(ValidationError, match="confirmation"):
        services.close_campaign(user=world["users"]["pilot"], campaign=campaign)
    assert campaign_status(campaign) == CampaignStatus.OPEN


# --- Bilan renvoyé d'une année figée -----------------------------------------------------------


def test_a_returned_report_of_a_frozen_year_can_still_be_completed_and_accepted(client, world):
    users, slug = world["users"], world["nantes"].slug
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    report = services.save_report(user=users["editor_a"], report=report, expected_version=1, data=COMPLETE)
    report = services.submit_report(user=users["editor_a"], report=report)
    report = services.return_report(user=users["pilot"], report=report, comment="Précisez l'avancement.")
    snapshot = yearly.freeze_year(user=users["pilot"], campaign=campaign, confirmed=True)
    frozen_payload, frozen_checksum = snapshot.payload, snapshot.checksum
    dashboard_url = reverse("www:review_campaign", args=[slug, YEAR])
    client.force_login(users["pilot"])
    assert "une version plus récente existe" not in text(client.get(dashboard_url))
    # Le partenaire complète son bilan renvoyé, par la page.
    client.force_login(users["editor_a"])
    url = reverse("www:review_report", args=[slug, YEAR, report.pk])
    page = text(client.get(url))
    assert "Remplir le bilan" in page and "l'instantané de l'année garde la version figée" in page
    data = COMPLETE | {"progress_pct": 80, "version": report_of(campaign, report.commitment).version}
    response = client.post(url, data | {"action": "submit"})
    assert response.status_code == 302, text(response)[:1500]
    report = report_of(campaign, report.commitment)
    assert report.state == ReportState.SUBMITTED and report.progress_pct == 80
    # Le pilote l'accepte.
    client.force_login(users["pilot"])
    assert client.post(reverse("www:review_accept", args=[slug, YEAR, report.pk])).status_code == 302
    assert report_of(campaign, report.commitment).state == ReportState.ACCEPTED
    # L'instantané garde ce qui a été figé ; la page dit qu'une version plus récente existe.
    snapshot.refresh_from_db()
    assert snapshot.payload == frozen_payload and snapshot.checksum == frozen_checksum
    assert "une version plus récente existe" in text(client.get(dashboard_url))
    # Un brouillon jamais transmis reste figé.
    draft = report_of(campaign, world["commitments"]["a_done"])
    with pytest.raises(services.ReviewError, match="figée"):
        services.save_report(user=users["editor_a"], report=draft, expected_version=1, data=COMPLETE)


# --- Confirmer un cahier -----------------------------------------------------------------------


def test_confirming_a_cahier_requires_the_box_and_says_what_stays_aside(client, world):
    nantes, partner = world["nantes"], world["a"]
    client.force_login(world["users"]["editor_a"])
    confirm_url = reverse("www:confirm_cahier", args=[nantes.slug, partner.slug])
    body = text(client.get(confirm_url))
    assert "Restent de côté" in body and "Projet en brouillon" in body and "Je confirme" in body
    response = client.post(confirm_url, {"signatory_name": "Anne Martin", "signatory_role": "Présidente"})
    assert response.status_code == 200
    assert Commitment.objects.get(pk=world["commitments"]["a_validated"].pk).status == S.VALIDATED
    with pytest.raises(ValidationError, match="confirmation"):
        commitment_services.confirm_cahier(
            user=world["users"]["editor_a"],
            contract=nantes,
            partner=partner,
            signatory_name="Anne Martin",
            signatory_role="Présidente",
        )
    assert Commitment.objects.get(pk=world["commitments"]["a_validated"].pk).status == S.VALIDATED
    response = client.post(
        confirm_url, {"signatory_name": "Anne Martin", "signatory_role": "Présidente", "agree": "on"}
    )
    assert response.status_code == 302
    assert Commitment.objects.get(pk=world["commitments"]["a_validated"].pk).status == S.CONFIRMED


# --- Adopter une évaluation --------------------------------------------------------------------


@pytest.fixture
def evaluation(nantes):
    return Evaluation.objects.get(contract=nantes, kind=EvaluationKind.MID_TERM)


@pytest.fixture
def copil(nantes):
    return Meeting.objects.create(
        contract=nantes, kind=MeetingKind.COPIL, title="COPIL d'adoption", date=datetime.date(2026, 11, 5)
    )


def test_adoption_shows_what_is_missing_and_takes_the_copil_date(client, nantes, evaluation, copil):
    Evaluation.objects.filter(pk=evaluation.pk).update(summary="")
    Judgement.objects.filter(question__evaluation=evaluation, question__number=1).delete()
    evaluation.refresh_from_db()
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    client.force_login(pilot)
    adopt_url = reverse("www:evaluation_adopt", args=[nantes.slug, "mi-parcours"])
    page = client.get(adopt_url)
    assert page.status_code == 200
    body = text(page)
    assert "La synthèse n'est pas encore rédigée" in body
    assert "sans jugement des évaluateurs : Q1" in body
    assert "Je confirme" in body and "COPIL d'adoption" in body
    # Sans la case : refus, rien ne change.
    response = client.post(adopt_url, {"meeting": copil.pk})
    assert response.status_code == 200
    assert "Cochez la case « Je confirme » pour adopter l'évaluation." in text(response)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.IN_PROGRESS
    # Sans COPIL : refus.
    response = client.post(adopt_url, {"confirm": "oui"})
    assert response.status_code == 200
    assert "Choisissez le comité de pilotage (COPIL) qui adopte l'évaluation." in text(response)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.IN_PROGRESS
    # Avec le COPIL et la case : adoptée à la date du COPIL, quoi qu'on envoie d'autre.
    response = client.post(adopt_url, {"meeting": copil.pk, "confirm": "oui", "adopted_on": "2030-01-01"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.ADOPTED
    assert evaluation.adopted_on == copil.date and evaluation.adopting_meeting_id == copil.pk


def test_adopt_service_requires_a_copil_and_an_explicit_confirmation(nantes, evaluation, copil):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    with pytest.raises(ValidationError, match="confirmation"):
        evaluation_services.adopt(user=pilot, evaluation=evaluation, meeting=copil)
    with pytest.raises(ValidationError, match="comité de pilotage"):
        evaluation_services.adopt(user=pilot, evaluation=evaluation, meeting=None, confirmed=True)
    cotech = Meeting.objects.create(contract=nantes, kind="COTECH", title="Technique", date="2026-10-01")
    with pytest.raises(ValidationError, match="comité de pilotage"):
        evaluation_services.adopt(user=pilot, evaluation=evaluation, meeting=cotech, confirmed=True)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.IN_PROGRESS
    evaluation_services.adopt(user=pilot, evaluation=evaluation, meeting=copil, confirmed=True)
    assert evaluation.adopted_on == copil.date
