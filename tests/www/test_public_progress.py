"""L'avancement public d'un engagement : celui du dernier bilan ACCEPTÉ par le pilote, en barre
accessible avec le pourcentage et la date en toutes lettres, sur les pages quartier, enjeu, action et
partenaire. Un bilan en brouillon, transmis ou renvoyé n'y paraît jamais."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from cdv.commitments.enums import PUBLIC_STATUSES, CommitmentScope
from cdv.commitments.models import Commitment
from cdv.monitoring.enums import ReportState
from cdv.monitoring.models import ProgressReport, ReviewCampaign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_demo_reviews")]


def text(response):
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def campaign(contract, year):
    return ReviewCampaign.objects.get_or_create(
        contract=contract,
        year=year,
        defaults={"opens_on": datetime.date(year + 1, 1, 10), "deadline": datetime.date(year + 1, 3, 1)},
    )[0]


def report(contract, commitment, year, pct, state):
    return ProgressReport.objects.create(
        campaign=campaign(contract, year),
        commitment=commitment,
        partner=commitment.partner,
        progress_pct=pct,
        state=state,
    )


@pytest.fixture
def published(nantes):
    """Un engagement publié, rattaché à une action et à un quartier du contrat."""
    commitment = (
        Commitment.objects.filter(
            contract=nantes,
            status__in=PUBLIC_STATUSES,
            action__isnull=False,
            scope=CommitmentScope.QPV,
            qpvs__isnull=False,
        )
        .select_related("partner", "objective__enjeu", "action")
        .first()
    )
    assert commitment is not None
    return commitment


def pages(nantes, commitment):
    return {
        "quartier": reverse("www:qpv", args=[nantes.slug, commitment.qpvs.first().code]),
        "enjeu": reverse("www:enjeu", args=[nantes.slug, commitment.objective.enjeu.slug]),
        "action": reverse("www:action", args=[nantes.slug, commitment.action_id]),
        "partenaire": reverse("www:partner", args=[nantes.slug, commitment.partner.slug]),
    }


def test_the_latest_accepted_report_shows_as_a_bar_with_its_figure_and_date(client, nantes, published):
    report(nantes, published, 2024, 30, ReportState.ACCEPTED)
    report(nantes, published, 2025, 62, ReportState.ACCEPTED)
    for name, url in pages(nantes, published).items():
        response = client.get(url)
        page = text(response)
        assert "62 % au 31 décembre 2025" in page.replace("\u00a0", " "), name
        assert "30 % au 31 décembre 2024" not in page.replace("\u00a0", " "), name
        body = response.content.decode()
        assert '<progress max="100" value="62"' in body, name
        assert f"Avancement de « {published.title} »" in html.unescape(body), name


@pytest.mark.parametrize("state", [ReportState.DRAFT, ReportState.SUBMITTED, ReportState.RETURNED])
def test_a_report_not_accepted_never_shows_its_figure(client, nantes, published, state):
    report(nantes, published, 2024, 40, ReportState.ACCEPTED)
    report(nantes, published, 2025, 87, state)
    for name, url in pages(nantes, published).items():
        page = text(client.get(url)).replace("\u00a0", " ")
        assert "87 % au" not in page, name
        assert "40 % au 31 décembre 2024" in page, name


def test_without_an_accepted_report_no_bar_is_shown(client, nantes, published):
    report(nantes, published, 2025, 55, ReportState.RETURNED)
    for name, url in pages(nantes, published).items():
        body = client.get(url).content.decode()
        assert f"Avancement de « {published.title} »" not in html.unescape(body), name
        assert "55 % au" not in text(client.get(url)).replace("\u00a0", " "), name


def test_the_selector_annotates_in_the_same_query(nantes, published, django_assert_num_queries):
    report(nantes, published, 2025, 62, ReportState.ACCEPTED)
    with django_assert_num_queries(1):
        rows = {
            c.pk: (c.last_progress_pct, c.last_progress_year)
            for c in Commitment.objects.filter(contract=nantes).with_latest_accepted_progress()
        }
    assert rows[published.pk] == (62, 2025)
    assert all(value == (None, None) for pk, value in rows.items() if pk != published.pk)


def test_progress_does_not_add_queries_per_commitment(
    client, nantes, published, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    urls = pages(nantes, published)
    report(nantes, published, 2025, 62, ReportState.ACCEPTED)
    baseline = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        baseline[name] = len(ctx.captured_queries)
    others = Commitment.objects.filter(
        contract=nantes, status__in=PUBLIC_STATUSES, partner=published.partner
    ).exclude(pk=published.pk) | Commitment.objects.filter(
        contract=nantes, status__in=PUBLIC_STATUSES, objective__enjeu=published.objective.enjeu
    ).exclude(pk=published.pk)
    for n, commitment in enumerate(others.distinct()[:20]):
        report(nantes, commitment, 2025, n, ReportState.ACCEPTED)
    for name, url in urls.items():
        with django_assert_max_num_queries(baseline[name]):
            assert client.get(url).status_code == 200, name
