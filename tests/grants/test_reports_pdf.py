"""Le compte-rendu financier en PDF, mis en page comme le CERFA 15059 (texte lu avec pypdf)."""

from decimal import Decimal

import pytest

from cdv.grants.enums import ReportPath, ReportStatus
from cdv.grants.models import FinalReport
from tests.document_checks import assert_pdf_ua_metadata
from tests.document_checks import pdf_text as read_pdf_text
from tests.factories.grants import FinalReportFactory, GrantActFactory

from .reports_world import A64, budget_post, build_world, carried_out_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    text = read_pdf_text(response.content)
    return " ".join(text.split())


def test_carried_out_report_pdf_has_the_cerfa_15059_sections(client):
    world = build_world()
    GrantActFactory(line=world.line_a, reference="NM-2031-0007")
    client.force_login(world.referent)
    client.post(world.url("report"), carried_out_post(difficulties="Un local fermé en mai."))
    explained = budget_post(None, {A64: "3 900"}, {A64: "Un animateur de plus en été."})
    assert client.post(world.url("report_budget"), explained).status_code == 302
    response = client.get(world.url("report_pdf"))
    application = world.application
    assert_pdf_ua_metadata(
        response.content,
        title=f"Compte-rendu financier — dossier {application.number} — {application.title}",
    )
    text = pdf_text(response)
    assert "CERFA n° 15059" in text
    assert world.application.partner.name in text
    # Une ligne par financeur qui a accordé un montant, avec la référence de l'acte s'il y en a un.
    assert str(world.funder_a.partner) in text and "NM-2031-0007" in text
    assert str(world.state.partner) in text and "CF-TEST" in text  # pas d'acte : la décision
    assert str(world.funder_b.partner) not in text
    assert "Budget réalisé" in text and "Un animateur de plus en été." in text
    assert "30 %" in text  # écart de la ligne 64 : 900 € sur 3 000 €
    assert "Douze ateliers au centre social." in text and "75 %" in text
    assert "Assiduité : 80 %." in text and "Un local fermé en mai." in text
    assert "Compte-rendu non transmis" in text


def test_other_paths_print_the_declaration(client):
    world = build_world()
    FinalReportFactory(
        application=world.application,
        path=ReportPath.NOT_CARRIED_OUT,
        not_carried_reason="Intervenante absente toute l'année.",
        amount_to_return=Decimal("1500"),
        status=ReportStatus.SUBMITTED,
    )
    client.force_login(world.instructor_state)
    text = pdf_text(client.get(world.url("report_pdf")))
    assert "l'action n'a pas été réalisée" in text and "Intervenante absente toute l'année." in text
    assert "1 500 €" in text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "Budget réalisé" not in text
    FinalReport.objects.filter(application=world.application).update(
        path=ReportPath.NEW_DATES, new_dates_reason="Travaux dans le gymnase."
    )
    text = pdf_text(client.get(world.url("report_pdf")))
    assert "nouvelles dates" in text and "Travaux dans le gymnase." in text


def test_pdf_roles(client):
    world = build_world()
    assert client.get(world.url("report_pdf")).status_code == 302  # anonyme : connexion
    client.force_login(world.referent)
    assert client.get(world.url("report_pdf")).status_code == 403  # pas encore de compte-rendu
    FinalReportFactory(application=world.application)
    assert client.get(world.url("report_pdf")).status_code == 200
    client.force_login(world.other_referent)
    assert client.get(world.url("report_pdf")).status_code == 404
    client.force_login(world.pilot)
    assert client.get(world.url("report_pdf")).status_code == 200
