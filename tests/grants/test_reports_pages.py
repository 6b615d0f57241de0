"""Le compte-rendu financier côté association : saisie (trois chemins), budget réalisé, conflits,
transmission, droits de chaque rôle."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cdv.grants.enums import DocumentKind, EventKind, ReportStatus
from cdv.grants.models import ApplicationEvent, FinalReport, ReportBudgetLine
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from tests.factories.grants import TINY_PDF, FinalReportFactory, PartnerDocumentFactory, PaymentFactory
from tests.worlds import built_once, fresh_copy

from .reports_world import A60, A64, A74_A, ROWS, budget_post, build_world, carried_out_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        yield build_world()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


def as_user(client, user):
    client.force_login(user)
    return client


def page(response):
    return response.content.decode()


def test_first_save_creates_the_report_due_six_months_after_the_end_of_the_action(client, world):
    as_user(client, world.referent)
    assert "pas encore commencé" in page(client.get(world.url("report")))
    response = client.post(world.url("report"), carried_out_post())
    assert response.status_code == 302
    report = FinalReport.objects.get(application=world.application)
    assert report.status == ReportStatus.DRAFT
    # 31 août + 6 mois : le dernier jour de février (29 les années bissextiles)
    assert report.due_date == datetime.date(world.call.year + 1, 3, 1) - datetime.timedelta(days=1)
    assert report.beneficiaries_reached == 40 and report.qpv_share == Decimal("75.00")
    assert report.qpv_share_source == "DECLARE"


def test_without_an_end_date_the_report_is_due_six_months_after_the_call_year(client):
    world = build_world(end_date=None)
    world.application.end_date = None
    world.application.save()
    as_user(client, world.referent).post(world.url("report"), carried_out_post())
    report = FinalReport.objects.get(application=world.application)
    assert report.due_date == datetime.date(world.call.year + 1, 6, 30)


def test_another_association_gets_404_everywhere(client, world):
    FinalReportFactory(application=world.application)
    as_user(client, world.other_referent)
    for name in ("report", "report_budget", "report_beneficiaries", "report_submit", "report_pdf"):
        assert client.get(world.url(name)).status_code == 404, name
    assert client.post(world.url("report"), carried_out_post()).status_code == 404
    assert not FinalReport.objects.filter(
        application=world.application, achievements__contains="centre"
    ).exists()


def test_anonymous_is_sent_to_the_login_page(client, world):
    FinalReportFactory(application=world.application)
    for name in ("report", "report_budget", "report_beneficiaries", "report_submit", "report_pdf"):
        response = client.get(world.url(name))
        assert response.status_code == 302, name
        assert "next=" in response["Location"], name
    assert client.post(world.url("report"), carried_out_post()).status_code == 302


@pytest.mark.parametrize("who", ["instructor_a", "instructor_state", "pilot"])
def test_instructors_and_pilot_read_but_cannot_edit(client, world, who):
    report = FinalReportFactory(application=world.application, achievements="Des ateliers de cuisine.")
    as_user(client, getattr(world, who))
    response = client.get(world.url("report"))
    assert response.status_code == 200
    assert "Des ateliers de cuisine." in page(response) and "Enregistrer le compte-rendu" not in page(
        response
    )
    assert client.get(world.url("report_budget")).status_code == 200
    assert client.get(world.url("report_pdf")).status_code == 200
    assert client.post(world.url("report"), carried_out_post(report.version)).status_code == 403
    assert client.post(world.url("report_budget"), budget_post(report.version)).status_code == 403
    assert client.get(world.url("report_submit")).status_code == 403
    assert client.post(world.url("report_submit"), {"confirm": "on"}).status_code == 403
    report.refresh_from_db()
    assert report.achievements == "Des ateliers de cuisine." and report.status == ReportStatus.DRAFT


def test_an_instructor_of_a_funder_that_granted_nothing_reads_but_is_not_notified(client, world):
    report = FinalReportFactory(application=world.application)
    as_user(client, world.instructor_b)
    # Il a instruit le dossier (instruction conjointe) : il lit le compte-rendu, sans le modifier.
    assert client.get(world.url("report")).status_code == 200
    assert client.post(world.url("report"), carried_out_post(report.version)).status_code == 403


def test_budget_is_prefilled_with_the_planned_budget_and_voted_amounts(client, world):
    response = as_user(client, world.referent).get(world.url("report_budget"))
    text = page(response)
    assert "64 – Charges de personnel (Animateur)" in text
    assert f"Subvention de {world.funder_a.partner}" in text and "2\u202f000" in text
    assert f"Subvention de {world.funder_b.partner}" not in text  # rejeté : pas de subvention


def test_a_variance_above_20_percent_needs_an_explanation_naming_the_line(client, world):
    as_user(client, world.referent)
    response = client.post(world.url("report_budget"), budget_post(None, {A64: "4 000,00"}))
    assert response.status_code == 200
    assert (
        "64 – Charges de personnel (Animateur) : le réalisé (4\u202f000\u00a0€) s&#x27;écarte de plus de 20 %"
        in (page(response))
    )
    assert not FinalReport.objects.filter(application=world.application).exists()
    assert not ReportBudgetLine.objects.filter(report__application=world.application).exists()
    # Un écart de 20 % tout juste n'a pas besoin d'explication ; au-delà, expliqué, il passe.
    explained = budget_post(None, {A64: "4 000", A60: "1 200"}, {A64: "Un second animateur."})
    assert client.post(world.url("report_budget"), explained).status_code == 302
    lines = {
        line.order: line for line in ReportBudgetLine.objects.filter(report__application=world.application)
    }
    assert len(lines) == ROWS
    assert lines[A64].actual_amount == Decimal("4000") and lines[A64].planned_amount == Decimal("3000")
    assert lines[A64].explanation == "Un second animateur." and lines[A60].explanation == ""
    assert lines[A74_A].planned_amount == Decimal("2000")


def test_an_unplanned_expense_needs_an_explanation(client, world):
    as_user(client, world.referent)
    response = client.post(world.url("report_budget"), budget_post(None, {1: "300"}))
    assert "61 – Services extérieurs : le réalisé (300\u00a0€)" in page(response)
    assert not ReportBudgetLine.objects.filter(report__application=world.application).exists()


def test_unbalanced_budget_is_a_warning_not_a_refusal(client, world):
    as_user(client, world.referent)
    data = budget_post(None, {A60: "1 100"})
    assert client.post(world.url("report_budget"), data).status_code == 302
    text = page(client.get(world.url("report_budget")))
    assert "les charges et les produits réalisés diffèrent de 100\u00a0€" in text


def test_a_bad_amount_is_refused_in_french_and_changes_nothing(client, world):
    as_user(client, world.referent)
    response = client.post(world.url("report_budget"), budget_post(None, {A60: "douze"}))
    assert response.status_code == 200 and "Réalisé — 60 – Achats (Fournitures)" in page(response)
    assert not FinalReport.objects.filter(application=world.application).exists()


def test_conflicting_save_shows_every_differing_field_and_loses_nothing(client, world):
    report = FinalReportFactory(application=world.application, achievements="Avant.", difficulties="")
    seen_version = report.version
    # Quelqu'un d'autre (un autre référent de l'association) enregistre entre-temps.
    report.achievements, report.difficulties, report.version = "Leur texte.", "Leur difficulté.", 2
    report.save()
    as_user(client, world.referent)
    mine = carried_out_post(seen_version, achievements="Mon texte.", difficulties="Ma difficulté.")
    response = client.post(world.url("report"), mine)
    assert response.status_code == 409
    text = page(response)
    assert "Conflit de modification" in text
    for value in ("Leur texte.", "Mon texte.", "Leur difficulté.", "Ma difficulté."):
        assert value in text
    assert 'name="version" value="2"' in text  # la saisie repart avec la version enregistrée
    report.refresh_from_db()
    assert report.achievements == "Leur texte."
    # Renvoyé tel quel, le formulaire enregistre la saisie.
    assert client.post(world.url("report"), {**mine, "version": "2"}).status_code == 302
    report.refresh_from_db()
    assert report.achievements == "Mon texte." and report.difficulties == "Ma difficulté."


def test_conflicting_budget_save_lists_the_lines(client, world):
    as_user(client, world.referent)
    client.post(world.url("report_budget"), budget_post(None))
    report = FinalReport.objects.get(application=world.application)
    stale = report.version
    client.post(world.url("report_budget"), budget_post(stale, {A60: "900"}))  # l'autre enregistre
    response = client.post(world.url("report_budget"), budget_post(stale, {A60: "1 050"}))
    assert response.status_code == 409
    text = page(response)
    assert (
        "60 – Achats (Fournitures) — réalisé" in text and "900\u00a0€" in text and "1\u202f050\u00a0€" in text
    )
    assert ReportBudgetLine.objects.get(report=report, order=A60).actual_amount == Decimal("900")


def complete_report(client, world):
    as_user(client, world.referent)
    assert client.post(world.url("report"), carried_out_post()).status_code == 302
    assert client.post(world.url("report_budget"), budget_post(None)).status_code == 302
    return FinalReport.objects.get(application=world.application)


def test_submit_is_refused_while_something_is_missing(client, world):
    as_user(client, world.referent)
    client.post(world.url("report"), carried_out_post(achievements="", indicators_results=""))
    text = page(client.get(world.url("report_submit")))
    assert "Ce qui a été fait : décrivez les actions menées." in text
    assert "Le budget réalisé : saisissez-le, ligne à ligne." in text
    assert "Indicateurs d&#x27;évaluation : donnez leurs résultats." in text
    response = client.post(world.url("report_submit"), {"confirm": "on"})
    assert response.status_code == 200 and "Ce qui a été fait" in page(response)
    report = FinalReport.objects.get(application=world.application)
    assert report.status == ReportStatus.DRAFT and report.submitted_at is None
    assert not ApplicationEvent.objects.filter(application=world.application, kind=EventKind.REPORT_SUBMITTED)


def test_submit_transmits_notifies_each_granting_funder_and_freezes_the_report(client, world):
    complete_report(client, world)
    unchecked = client.post(world.url("report_submit"), {})
    assert "Cochez « Je confirme »" in page(unchecked)
    assert FinalReport.objects.get(application=world.application).status == ReportStatus.DRAFT
    assert client.post(world.url("report_submit"), {"confirm": "on"}).status_code == 302
    report = FinalReport.objects.get(application=world.application)
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_by == world.referent and report.submitted_at is not None
    assert ApplicationEvent.objects.filter(
        application=world.application, kind=EventKind.REPORT_SUBMITTED, actor=world.referent
    ).exists()
    notified = set(
        Notification.objects.filter(kind=NotificationKind.REPORT_SUBMITTED).values_list(
            "recipient", flat=True
        )
    )
    assert notified == {world.instructor_a.pk, world.instructor_state.pk}
    # Transmis : l'association ne le modifie plus.
    assert client.post(world.url("report"), carried_out_post(report.version)).status_code == 403
    assert client.post(world.url("report_budget"), budget_post(report.version)).status_code == 403
    assert client.get(world.url("report_submit")).status_code == 403
    assert "Douze ateliers" in page(client.get(world.url("report")))


def test_after_changes_are_requested_the_association_edits_and_resubmits(client, world):
    report = FinalReportFactory(
        application=world.application, status=ReportStatus.CHANGES_REQUESTED, indicators_results="Assiduité."
    )
    as_user(client, world.referent)
    assert "Un financeur demande des modifications" in page(client.get(world.url("report")))
    assert client.post(world.url("report"), carried_out_post(report.version)).status_code == 302
    assert client.post(world.url("report_budget"), budget_post(None)).status_code == 302
    assert client.post(world.url("report_submit"), {"confirm": "on"}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    event = ApplicationEvent.objects.get(application=world.application, kind=EventKind.REPORT_SUBMITTED)
    assert "transmis à nouveau" in event.message


def test_not_carried_out_amount_to_return_is_bounded_by_what_was_granted_or_paid(client, world):
    as_user(client, world.referent)
    data = carried_out_post(path="NON_REALISEE", not_carried_reason="Local fermé.", amount_to_return="4 000")
    response = client.post(world.url("report"), data)
    assert "Montant à reverser : 4\u202f000\u00a0€ dépasse le montant accordé (3\u202f500\u00a0€)." in page(
        response
    )
    assert not FinalReport.objects.filter(application=world.application).exists()
    PaymentFactory(line=world.line_a, amount=Decimal("1000"))
    response = client.post(world.url("report"), {**data, "amount_to_return": "1 500"})
    assert "dépasse le montant versé (1\u202f000\u00a0€)" in page(response)
    assert client.post(world.url("report"), {**data, "amount_to_return": "1 000"}).status_code == 302
    # Sur ce chemin, ni le budget ni les bénéficiaires ne sont demandés.
    assert "Le compte-rendu est complet" in page(client.get(world.url("report_submit")))
    assert client.post(world.url("report_submit"), {"confirm": "on"}).status_code == 302


def test_new_dates_need_both_dates_in_order_and_a_reason(client, world):
    as_user(client, world.referent)
    data = carried_out_post(path="REPORT", new_start_date="2031-03-01", new_end_date="2031-01-01")
    response = client.post(world.url("report"), data)
    assert "Nouvelle fin : elle doit suivre le nouveau début." in page(response)
    data.update(new_end_date="", new_dates_reason="")
    client.post(world.url("report"), data)
    text = page(client.get(world.url("report_submit")))
    assert "Nouvelles dates : indiquez le nouveau début et la nouvelle fin" in text
    assert "Pourquoi de nouvelles dates : expliquez-le." in text


def test_attachments_are_report_pieces_of_the_association(client, world):
    as_user(client, world.referent)
    upload = SimpleUploadedFile("facture.pdf", TINY_PDF, content_type="application/pdf")
    assert client.post(world.url("report"), {**carried_out_post(), "new_file": upload}).status_code == 302
    report = FinalReport.objects.get(application=world.application)
    (piece,) = report.documents.all()
    assert piece.kind == DocumentKind.REPORT_PIECE and piece.partner == world.application.partner
    # Une pièce d'une autre association ne peut pas être jointe.
    foreign = PartnerDocumentFactory(kind=DocumentKind.REPORT_PIECE)
    data = {**carried_out_post(report.version), "documents": [piece.pk, foreign.pk]}
    response = client.post(world.url("report"), data)
    assert "pas une pièce justificative de votre association" in page(response)
    assert list(report.documents.all()) == [piece]
    # Un faux PDF est refusé, en français.
    fake = SimpleUploadedFile("facture.pdf", b"<html>nope</html>", content_type="application/pdf")
    response = client.post(world.url("report"), {**carried_out_post(report.version), "new_file": fake})
    assert "facture.pdf" in page(response) and response.status_code == 200


def test_report_pages_keep_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    from cdv.grants.services.reports import planned_rows
    from tests.factories.grants import CallFunderFactory, FunderLineFactory

    for _ in range(8):
        FunderLineFactory(
            application=world.application, funder=CallFunderFactory(call=world.call), voted=True
        )
    as_user(client, world.referent)
    assert client.post(world.url("report"), carried_out_post()).status_code == 302
    rows = planned_rows(FinalReport.objects.get(application=world.application).application)
    data = {"version": ""}
    for order, row in enumerate(rows):
        data[f"actual_{order}"] = str(row.planned)
        data[f"explanation_{order}"] = ""
    assert client.post(world.url("report_budget"), data).status_code == 302
    for name in ("report", "report_budget", "report_beneficiaries", "report_submit"):
        with django_assert_max_num_queries(25):
            assert client.get(world.url(name)).status_code == 200


def test_two_people_starting_the_report_at_once_do_not_overwrite_each_other(client, world):
    as_user(client, world.referent)
    form = page(client.get(world.url("report")))
    assert 'name="version" value="0"' in form
    # Une autre personne de l'association commence le compte-rendu pendant ce temps.
    FinalReportFactory(application=world.application, achievements="Le texte de l'autre.")
    response = client.post(world.url("report"), carried_out_post(0, achievements="Mon texte."))
    assert response.status_code == 409
    assert "Le texte de l&#x27;autre." in page(response) and "Mon texte." in page(response)
    assert FinalReport.objects.get(application=world.application).achievements == "Le texte de l'autre."


def test_a_piece_uploaded_with_a_conflicting_save_is_kept_and_ticked(client, world):
    report = FinalReportFactory(application=world.application, achievements="Avant.")
    FinalReport.objects.filter(pk=report.pk).update(achievements="Leur texte.", version=2)
    as_user(client, world.referent)
    upload = SimpleUploadedFile("facture.pdf", TINY_PDF, content_type="application/pdf")
    data = {**carried_out_post(1, achievements="Mon texte."), "new_file": upload}
    response = client.post(world.url("report"), data)
    assert response.status_code == 409
    piece = world.application.partner.documents.get(kind=DocumentKind.REPORT_PIECE)
    assert f'value="{piece.pk}" id="id_documents_0" checked' in page(response)
    resent = {**carried_out_post(2, achievements="Mon texte."), "documents": [piece.pk]}
    assert client.post(world.url("report"), resent).status_code == 302
    assert list(FinalReport.objects.get(pk=report.pk).documents.all()) == [piece]


def test_a_call_funder_grant_row_is_not_called_a_subsidy_outside_the_call(client, world):
    """Au compte 74, la ligne d'un financeur de l'appel porte son nom, pas « hors financeurs de
    l'appel » (le libellé de la ligne des autres subventions)."""
    text = page(as_user(client, world.referent).get(world.url("report_budget")))
    assert f"74 – Subvention de {world.funder_a.partner}" in text
    assert "(hors financeurs de l'appel) (Subvention de" not in text
