"""L'appel à projets de l'année dans le bilan annuel (PDF réservé aux pilotes et évaluateurs)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from cdv.grants.models import FunderLine
from cdv.monitoring import yearly
from cdv.monitoring.models import ReviewCampaign
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import pdf_text as read_pdf_text

from .figures_world import YEAR, build_figures_world

pytestmark = pytest.mark.django_db


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def pdf_text(content):
    text = read_pdf_text(content)
    return " ".join(text.split())


def test_the_annual_report_has_the_call_of_the_year_with_its_tables_and_chart():
    world = build_figures_world()
    html = yearly.annual_report_html(contract=world.contract, year=YEAR)
    text = text_of(html)
    assert f"Appel à projets {YEAR}" in text
    assert "Montants demandés : 7 500 € ; votés : 4 500 € ; versés : 1 000 €" in text
    assert "88,9 %" in text  # part des montants votés en QPV
    assert "1 manquant" in text
    # par financeur : demandé, voté, versé (le bilan est réservé au pilote et aux évaluateurs)
    assert "État 5 000 € 3 000 € 1 000 € 1" in text
    # par quartier, le projet de deux quartiers réparti à parts égales ; tout le territoire à part
    assert "Bellevue 2 1 4 000 € 2 000 € 500 €" in text
    assert "Tout le territoire du contrat 1 1 500 € 500 € 0 €" in text
    # un graphique (SVG du projet) et son tableau de données
    assert "Montants votés par financeur" in html and "<svg" in html and "Données du graphique" in html
    # jamais dossier par dossier
    assert "Ateliers emploi" not in text


def test_a_year_without_call_says_so():
    world = build_figures_world()
    text = text_of(yearly.annual_report_html(contract=world.contract, year=YEAR - 1))
    assert "Aucun appel à projets du contrat ne porte cette année." in text


def test_the_pdf_a_pilot_downloads_has_the_section_and_others_cannot(client):
    world = build_figures_world()
    pilot = factories.MembershipFactory(contract=world.contract, role=Role.PILOT).user
    evaluator = factories.MembershipFactory(contract=world.contract, role=Role.EVALUATOR).user
    url = reverse("www:annual_report", args=[world.contract.slug, YEAR])
    for role in (Role.READER, Role.COMMITTEE_MEMBER):
        client.force_login(factories.MembershipFactory(contract=world.contract, role=role).user)
        assert client.get(url).status_code == 403, role
    client.force_login(evaluator)
    assert client.get(url).status_code == 200
    client.force_login(pilot)
    response = client.get(url)
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert f"Appel à projets {YEAR}" in text and "Par financeur" in text and "Par quartier" in text


def test_the_frozen_year_keeps_the_call_figures_as_they_were():
    world = build_figures_world()
    pilot = factories.MembershipFactory(contract=world.contract, role=Role.PILOT).user
    campaign = ReviewCampaign.objects.create(
        contract=world.contract, year=YEAR, opens_on=f"{YEAR + 1}-01-10", deadline=f"{YEAR + 1}-02-28"
    )
    snapshot = yearly.freeze_year(user=pilot, campaign=campaign, confirmed=True)
    assert snapshot.payload["call"]["totals"]["paid"] == "1000.00"
    factories.PaymentFactory(line=FunderLine.objects.get(application=world.a3), amount=Decimal("500"))
    text = text_of(yearly.annual_report_html(contract=world.contract, year=YEAR))
    assert "versés : 1 000 €" in text


def test_a_snapshot_frozen_before_the_call_section_shows_current_figures_and_says_so():
    world = build_figures_world()
    pilot = factories.MembershipFactory(contract=world.contract, role=Role.PILOT).user
    campaign = ReviewCampaign.objects.create(
        contract=world.contract, year=YEAR, opens_on=f"{YEAR + 1}-01-10", deadline=f"{YEAR + 1}-02-28"
    )
    snapshot = yearly.freeze_year(user=pilot, campaign=campaign, confirmed=True)
    del snapshot.payload["call"]
    snapshot.save(update_fields=["payload"])
    text = text_of(yearly.annual_report_html(contract=world.contract, year=YEAR))
    assert "figé sans les chiffres de l'appel" in text and "votés : 4 500 €" in text
