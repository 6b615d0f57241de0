"""Un bilan accepté fait avancer l'engagement vers l'état déclaré (jamais en arrière)."""

import datetime

import pytest

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.monitoring import services
from cdv.monitoring.enums import ReportState
from cdv.users.enums import Role
from tests import factories

# Ces tests ouvrent leurs propres campagnes de suivi sur le contrat de Nantes.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_demo_reviews")]


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


@pytest.fixture
def bailleur_editor(nantes):
    from cdv.partners.models import Partner

    partner = Partner.objects.get(name="Bailleur Habitat Solidaire (démonstration)")
    return factories.MembershipFactory(contract=nantes, partner=partner, role=Role.EDITOR).user


def test_the_partner_enters_the_values_of_the_indicators_its_commitment_feeds(
    client, nantes, campaign, bailleur_editor
):
    from django.urls import reverse

    from cdv.indicators.models import IndicatorValue

    report = campaign.reports.get(commitment__title__startswith="Équiper 200 logements")
    url = reverse("www:review_report", args=[nantes.slug, 2025, report.pk])
    client.force_login(bailleur_editor)
    page = client.get(url).content.decode()
    assert "Logements équipés de thermostats (démonstration) — Bout des landes" in page
    assert "Logements équipés de thermostats (démonstration) — La Boissière" in page
    response = client.post(
        url, {"action": "save", "version": report.version, "indval_0": "120", "indval_1": ""}
    )
    assert response.status_code == 302
    value = IndicatorValue.objects.get(
        indicator__code="logements-equipes-thermostat", territory__code="QN04408M", year=2025
    )
    assert (value.value, value.status) == (120, "PROVISOIRE")
    assert "Bailleur Habitat Solidaire" in value.comment
    assert not IndicatorValue.objects.filter(
        indicator__code="logements-equipes-thermostat", territory__code="QN04409I"
    ).exists()


def test_a_final_official_value_is_not_overwritten_from_a_report(client, nantes, campaign, bailleur_editor):
    from django.urls import reverse

    from cdv.indicators.models import Indicator, IndicatorValue
    from cdv.territories.models import Territory

    official = IndicatorValue.objects.create(
        indicator=Indicator.objects.get(code="logements-equipes-thermostat"),
        territory=Territory.objects.get(code="QN04409I"),
        year=2025,
        value=80,
        status="DEFINITIVE",
        comment="Import officiel",
    )
    report = campaign.reports.get(commitment__title__startswith="Équiper 200 logements")
    client.force_login(bailleur_editor)
    url = reverse("www:review_report", args=[nantes.slug, 2025, report.pk])
    response = client.post(
        url, {"action": "save", "version": report.version, "what_worked": "x", "indval_1": "95"}
    )
    assert response.status_code == 200 and "série officielle" in response.content.decode()
    official.refresh_from_db()
    assert official.value == 80
    report.refresh_from_db()
    assert report.what_worked == ""  # tout ou rien : le bilan n'est pas enregistré non plus
