"""Les appels à projets des années évaluées dans les éléments de l'évaluation : page, PDF, DOCX.

Le rapport adopté est public : il donne tout le voté, et le demandé et le versé en totaux
seulement (jamais par financeur, enjeu ou quartier, encore moins par dossier)."""

import datetime
import io
import json

import pytest
from django.urls import reverse
from docx import Document

from cdv.evaluation import documents, services
from cdv.evaluation.documents import KIND_SLUGS
from cdv.evaluation.report import build_payload
from cdv.monitoring.models import Meeting
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import pdf_text

from .figures_world import YEAR, build_figures_world

pytestmark = pytest.mark.django_db


def flat(text):
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def page_text(response):
    import re

    return flat(re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def world():
    world = build_figures_world()
    other = build_figures_world(year=YEAR + 1, suffix=" bis")
    other.call.contract = world.contract
    other.call.save(update_fields=["contract"])
    world.evaluation = factories.EvaluationFactory(
        contract=world.contract, period_start=YEAR - 1, period_end=YEAR + 1
    )
    world.pilot = factories.MembershipFactory(contract=world.contract, role=Role.PILOT).user
    return world


def url(world):
    return reverse("www:evaluation", args=[world.contract.slug, KIND_SLUGS[world.evaluation.kind]])


def test_the_payload_has_each_year_and_the_totals_without_detailed_requested_or_paid(world):
    calls = build_payload(world.evaluation)["calls"]
    assert [f["year"] for f in calls["years"]] == [YEAR, YEAR + 1]
    assert calls["totals"]["totals"] == {"requested": "15000.00", "voted": "9000.00", "paid": "2000.00"}
    assert calls["totals"]["counts"]["projects_funded"] == 4
    for figures in [*calls["years"], calls["totals"]]:
        for key in ("funders", "enjeux", "qpvs"):
            assert all("requested" not in r and "paid" not in r for r in figures[key])
    assert "Ateliers emploi" not in json.dumps(calls, ensure_ascii=False)


def test_a_member_reads_the_calls_in_the_live_evaluation(client, world):
    client.force_login(world.pilot)
    text = page_text(client.get(url(world)))
    assert "Les appels à projets de la période" in text
    assert f"{YEAR} 3 2 2 7 500 € 4 500 € 1 000 € 88,9 % 1 / 1" in text
    assert "Total de la période 6 4 4 15 000 € 9 000 € 2 000 €" in text
    assert "Tout le territoire du contrat" in text


def test_the_adopted_evaluation_shows_the_calls_to_the_public_with_totals_only(client, world):
    meeting = Meeting.objects.create(
        contract=world.contract, kind="COPIL", title="COPIL", date=datetime.date(YEAR + 2, 3, 1)
    )
    report = services.adopt(user=world.pilot, evaluation=world.evaluation, meeting=meeting, confirmed=True)
    response = client.get(url(world))  # anonyme
    assert response.status_code == 200
    text = page_text(response)
    assert "Les appels à projets de la période" in text
    assert "réservé aux membres du contrat" in text
    # par financeur : le voté et le nombre de projets, pas le demandé ni le versé
    assert "État 3 000 € 1" in text
    assert "État 5 000 €" not in text and "Ateliers emploi" not in text
    # le contenu figé public (JSON) n'a pas non plus le détail
    version = client.get(
        reverse(
            "www:evaluation_version_json",
            args=[world.contract.slug, KIND_SLUGS[world.evaluation.kind], report.version],
        )
    )
    content = json.loads(version.content)["payload"]["calls"]
    assert all("requested" not in r for r in content["totals"]["funders"])


def test_pdf_and_docx_have_the_calls(world):
    pdf, _ = documents.evaluation_document(world.evaluation, "pdf", live=True)
    text = flat(pdf_text(pdf))
    assert "Les appels à projets de la période" in text and "Total de la période" in text
    docx, _ = documents.evaluation_document(world.evaluation, "docx", live=True)
    doc = Document(io.BytesIO(docx))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    text = flat("\n".join(parts))
    assert "Les appels à projets de la période" in text
    assert "Total de la période" in text and "15 000 €" in text and "9 000 €" in text
    assert "Tout le territoire du contrat" in text


def test_an_evaluation_without_call_in_its_years_says_so(client, world):
    world.evaluation.period_start, world.evaluation.period_end = 2024, 2026
    world.evaluation.save(update_fields=["period_start", "period_end"])
    client.force_login(world.pilot)
    assert "Aucun appel à projets du contrat ne porte sur les années évaluées." in page_text(
        client.get(url(world))
    )


def test_the_evaluation_page_keeps_a_bounded_number_of_queries(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .test_figures_computation import _bulk_applications

    client.force_login(world.pilot)
    client.get(url(world))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(world)).status_code == 200
    _bulk_applications(world.call, [world.state, world.city], [world.bellevue, world.dervallieres], 60)
    with CaptureQueriesContext(connection) as large:
        text = page_text(client.get(url(world)))
    assert f"{YEAR} 63 62 " in text  # 60 dossiers de plus, tous financés
    assert len(large.captured_queries) == len(small.captured_queries)
