"""Un bilan accepté fait avancer l'engagement vers l'état déclaré (jamais en arrière)."""

import datetime

import pytest

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.monitoring import services
from cdv.monitoring.enums import ReportState
from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def campaign(nantes, pilot):
    Commitment.objects.filter(title__startswith="Ouvrir l'aide aux devoirs").update(status=S.CONFIRMED)
    return services.open_campaign(
        user=pilot,
        contract=nantes,
        year=2025,
        deadline=datetime.date(2026, 2, 28),
        opens_on=datetime.date(2026, 1, 5),
    )


def report_for(campaign, title, reported, difficulties=""):
    report = campaign.reports.get(commitment__title__startswith=title)
    report.reported_status = reported
    report.difficulties = difficulties
    report.state = ReportState.SUBMITTED
    report.save()
    return report


@pytest.mark.parametrize(
    ("title", "reported", "expected"),
    [
        ("Équiper 200 logements", S.DONE, S.DONE),  # en cours → réalisé
        ("Ouvrir l'aide aux devoirs", S.IN_PROGRESS, S.IN_PROGRESS),  # confirmé → en cours
        ("Équiper 200 logements", S.CONFIRMED, S.IN_PROGRESS),  # jamais en arrière
    ],
)
def test_accepting_moves_the_commitment_forward(campaign, pilot, title, reported, expected):
    report = report_for(campaign, title, reported)
    services.accept_report(user=pilot, report=report)
    assert Commitment.objects.get(pk=report.commitment_id).status == expected


def test_a_declared_abandon_keeps_the_reason(campaign, pilot):
    report = report_for(
        campaign, "Équiper 200 logements", S.ABANDONED, difficulties="Le fournisseur a disparu."
    )
    services.accept_report(user=pilot, report=report)
    commitment = Commitment.objects.get(pk=report.commitment_id)
    assert (commitment.status, commitment.status_comment) == (S.ABANDONED, "Le fournisseur a disparu.")
