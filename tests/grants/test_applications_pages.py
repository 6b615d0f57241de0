"""Les pages du dossier côté association."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cdv.grants.enums import Account, ApplicationStatus, LineStatus
from cdv.grants.models import Application
from cdv.partners.models import Partner
from tests.document_checks import assert_pdf_ua_metadata
from tests.factories.grants import ApplicationFactory, CallFactory, FunderLineFactory
from tests.worlds import built_once, fresh_copy

from .applying_helpers import association, complete_application, referent_of

pytestmark = pytest.mark.django_db


def url(name, application, *extra):
    call = application.call
    return reverse(f"www:{name}", args=[call.contract.slug, call.year, application.pk, *extra])


@pytest.fixture(scope="module")
def built_setup(django_db_setup, django_db_blocker):
    """Le dossier complet et son référent, bâtis une fois pour le fichier (tests/worlds.py) ; chaque
    test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        application = complete_application()
        yield application, referent_of(application.partner, application.call.contract)


@pytest.fixture
def setup(client, built_setup):
    application, user = fresh_copy(built_setup)
    client.force_login(user)
    return client, application, user


def test_partner_space_shows_drafts_as_drafts_and_submitted_lines(setup, django_assert_max_num_queries):
    client, application, user = setup
    call = application.call
    for _ in range(3):
        complete_application(call=call, partner=application.partner)
    for _ in range(3):
        ApplicationFactory(call=call, partner=application.partner, submitted=True, funders=2)
    page = reverse("www:partner_applications", args=[call.contract.slug, application.partner.slug])

    with django_assert_max_num_queries(20):
        response = client.get(page)

    text = response.content.decode()
    assert response.status_code == 200
    assert text.count("Brouillon (non déposé)") >= 4
    assert "Transmis" in text and "Nouveau dossier" in text


def test_another_associations_urls_are_404(client):
    application = complete_application()
    stranger = referent_of(association(), application.call.contract)
    client.force_login(stranger)
    contract = application.call.contract
    for name in ["application", "application_project", "application_budget", "application_submit"]:
        assert client.get(url(name, application)).status_code == 404, name
    for name in ["partner_applications", "partner_identity", "partner_documents"]:
        assert (
            client.get(reverse(f"www:{name}", args=[contract.slug, application.partner.slug])).status_code
            == 404
        )
    response = client.post(
        url("application_project", application), {"title": "Volé", "scope": "QPV", "years": 1}
    )
    assert response.status_code == 404
    assert Application.objects.get(pk=application.pk).title == application.title


def test_detail_bounded_queries_and_no_instruction_data_for_association(setup, django_assert_max_num_queries):
    client, application, user = setup
    line = application.funder_lines.first()
    line.comment = "Avis interne très confidentiel"
    line.save()

    with django_assert_max_num_queries(25):
        response = client.get(url("application", application))

    text = response.content.decode()
    assert response.status_code == 200 and "Brouillon (non déposé)" in text
    assert "confidentiel" not in text


def test_decisions_shown_after_the_vote(client):
    call = CallFactory(voted=True)
    partner = association()
    application = ApplicationFactory(
        call=call, partner=partner, status=ApplicationStatus.DECIDED, number="2025-0001"
    )
    FunderLineFactory(application=application, voted=True, decision_reference="CF-2025-12")
    FunderLineFactory(application=application, rejected=True)
    client.force_login(referent_of(partner, call.contract))

    text = client.get(url("application", application)).content.decode()

    assert "1\u202f500\u00a0€ accordés" in text and "CF-2025-12" in text and "Refusé" in text


def test_budget_accepts_french_amounts_and_shows_live_totals(setup):
    client, application, user = setup
    first, second = application.call.funders.all()
    data = {
        "version": application.version,
        "amount_64": "12 000,50 €",
        "amount_70": "2000.5",
        f"funder_{first.pk}_1": "5 000",
        f"funder_{second.pk}_1": "5000",
    }

    preview = client.post(url("application_budget", application), data, HTTP_HX_REQUEST="true")
    assert "0 € : budget équilibré" in preview.content.decode()

    response = client.post(url("application_budget", application), data)
    assert response.status_code == 302
    lines = {b.account: b.amount for b in application.budget_lines.all()}
    assert lines == {Account.A64: Decimal("12000.50"), Account.A70: Decimal("2000.50")}
    assert sorted(application.funder_lines.values_list("requested_amount", flat=True)) == [5000, 5000]


def test_budget_refuses_negative_amount_and_changes_nothing(setup):
    client, application, user = setup
    response = client.post(
        url("application_budget", application), {"amount_64": "-100", "version": application.version}
    )
    assert response.status_code == 200
    assert "ne peut pas être négatif" in response.content.decode()
    assert application.budget_lines.get(account=Account.A64).amount == Decimal("10000")


def test_unbalanced_budget_page_shows_difference(setup):
    client, application, user = setup
    application.budget_lines.filter(account=Account.A70).delete()
    text = client.get(url("application_submit", application)).content.decode()
    assert "pas équilibré" in text and "4\u202f000\u00a0€" in text


def test_submit_page_submits_and_receipt_pdf(setup, mailoutbox):
    client, application, user = setup
    response = client.post(
        url("application_submit", application),
        {"sworn_name": "Camille Martin", "sworn_statement": "on", "republican_contract": "on"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.number == f"{application.call.year}-0001"
    assert set(application.funder_lines.values_list("status", flat=True)) == {LineStatus.TRANSMITTED}
    receipt = client.get(url("application_receipt", application))
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert_pdf_ua_metadata(receipt.content, title=f"Récépissé de dépôt — dossier {application.number}")
    assert len(mailoutbox) == 1


def test_late_submission_page_says_why_and_keeps_draft(client):
    call = CallFactory(closed=True)
    application = complete_application(call=call)
    client.force_login(referent_of(application.partner, call.contract))
    response = client.post(
        url("application_submit", application),
        {"sworn_name": "Camille Martin", "sworn_statement": "on", "republican_contract": "on"},
    )
    assert response.status_code == 200 and "clos depuis le" in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_identity_refuses_bad_siret_and_rna(setup):
    client, application, user = setup
    partner = application.partner
    page = reverse("www:partner_identity", args=[application.call.contract.slug, partner.slug])
    response = client.post(page, {"siret": "73282932000075", "rna": "X123", "address": "2 rue Neuve"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "clé de contrôle incorrecte" in text and "n&#x27;est pas un numéro RNA valide" in text
    assert Partner.objects.get(pk=partner.pk).address == "1 rue des Lilas"
    response = client.post(
        page,
        {
            "siret": "732 829 320 00074",
            "rna": "w442000999",
            "address": "2 rue Neuve",
            "legal_representative": "A",
        },
    )
    assert response.status_code == 302
    assert Partner.objects.get(pk=partner.pk).rna == "W442000999"


def test_project_page_saves_and_refuses_foreign_qpv(setup):
    client, application, user = setup
    from tests.factories.territories import QpvFactory

    foreign = QpvFactory()
    data = {
        "version": application.version,
        "title": "Ateliers",
        "scope": "QPV",
        "years": "2",
        "qpvs": [foreign.pk],
    }
    response = client.post(url("application_project", application), data)
    assert "pas un quartier prioritaire du contrat" in response.content.decode()
    assert Application.objects.get(pk=application.pk).title != "Ateliers"
    data["qpvs"] = [application.qpvs.first().pk]
    data["summary_plain"] = "Des ateliers de cuisine."
    assert client.post(url("application_project", application), data).status_code == 302
    application.refresh_from_db()
    assert (application.title, application.years, application.summary) == (
        "Ateliers",
        2,
        "Des ateliers de cuisine.",
    )


def test_create_from_last_year(client):
    old = complete_application(call=CallFactory(voted=True, year=2024), number="2024-0001", status="DECIDE")
    call = CallFactory(contract=old.call.contract, year=2025)
    client.force_login(referent_of(old.partner, call.contract))
    page = reverse("www:application_create", args=[call.contract.slug, call.year, old.partner.slug])
    assert client.get(page).status_code == 200
    response = client.post(page, {"renewal_of": old.pk, "title": ""})
    assert response.status_code == 302
    new = Application.objects.get(call=call)
    assert new.renewal_of == old and new.title == old.title


def test_withdraw_needs_confirmation(setup):
    client, application, user = setup
    response = client.post(url("application_withdraw", application), {})
    assert "Cochez" in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT
    client.post(url("application_withdraw", application), {"confirm": "oui"})
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.WITHDRAWN


def test_my_space_links_the_referent_to_the_association_space(setup):
    client, application, user = setup
    page = reverse(
        "www:partner_applications", args=[application.call.contract.slug, application.partner.slug]
    )
    assert page in client.get(reverse("www:my_space")).content.decode()


def test_project_conflict_keeps_the_input_and_a_second_save_wins(setup):
    client, application, user = setup
    stale = application.version
    base = {"scope": "QPV", "years": "1", "qpvs": [application.qpvs.first().pk]}
    assert (
        client.post(
            url("application_project", application), {**base, "version": stale, "title": "A"}
        ).status_code
        == 302
    )

    response = client.post(url("application_project", application), {**base, "version": stale, "title": "B"})

    text = response.content.decode()
    assert response.status_code == 200 and "modifié par quelqu" in text and 'value="B"' in text
    assert Application.objects.get(pk=application.pk).title == "A"
    version = Application.objects.get(pk=application.pk).version
    assert f'name="version" value="{version}"' in text
    assert (
        client.post(
            url("application_project", application), {**base, "version": version, "title": "B"}
        ).status_code
        == 302
    )
    assert Application.objects.get(pk=application.pk).title == "B"


def test_lying_attachment_refused_on_the_page(setup):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cdv.grants.models import PartnerDocument

    client, application, user = setup
    page = reverse("www:partner_documents", args=[application.call.contract.slug, application.partner.slug])
    before = PartnerDocument.objects.filter(partner=application.partner).count()
    fake = SimpleUploadedFile(
        "statuts.pdf", b"<html><body>pas un PDF</body></html>", content_type="application/pdf"
    )

    response = client.post(page, {"kind": "STATUTS", "file": fake})

    assert response.status_code == 200
    assert "est en réalité une page web" in response.content.decode()
    assert PartnerDocument.objects.filter(partner=application.partner).count() == before


def test_anonymous_and_draft_receipt(client, setup):
    logged, application, user = setup
    assert logged.get(url("application_receipt", application)).status_code == 404
    logged.logout()
    assert client.get(url("application", application)).status_code in (302, 404)
    assert client.get(url("application_project", application)).status_code in (302, 404)


def test_answer_is_an_ability_of_the_owner_of_a_returned_application_only(client):
    from cdv.grants.abilities import application_abilities

    returned = complete_application(status=ApplicationStatus.RETURNED, number="2030-0001")
    owner = referent_of(returned.partner, returned.call.contract)
    submitted = complete_application(
        call=returned.call, partner=returned.partner, status=ApplicationStatus.SUBMITTED, number="2030-0002"
    )
    stranger = referent_of(association(), returned.call.contract)

    assert application_abilities(owner, returned)["answer"] is True
    assert application_abilities(owner, submitted)["answer"] is False
    assert application_abilities(stranger, returned)["answer"] is False
    client.force_login(owner)
    assert url("application_answer", returned) in client.get(url("application", returned)).content.decode()
    assert (
        url("application_answer", submitted) not in client.get(url("application", submitted)).content.decode()
    )
    response = client.get(url("application_answer", submitted))
    assert response.status_code == 403
    assert client.get(url("application_answer", returned)).status_code == 200
