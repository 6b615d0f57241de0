"""Le parcours de bout en bout de l'appel à projets, par les pages (client de test Django) : une
association dépose, deux financeurs instruisent, l'un demande des compléments, l'association répond
et redépose, le comité (le pilote) simule puis vote, l'association voit les deux décisions et reçoit
UN courriel qui les liste. Les services ne servent qu'à bâtir le monde de départ.

Les mauvaises saisies du « Done when » de l'issue 16 : chacune reçoit un message clair en français
et ne change rien en base. Où chacune est vérifiée (une fois) :

- budget déséquilibré : ``test_unbalanced_budget_is_refused_at_submission_and_nothing_changes`` (ici) ;
  l'écart affiché sur la page : test_applications_pages.py::test_unbalanced_budget_page_shows_difference ;
  le service : test_applications_services.py::
  test_unbalanced_budget_is_refused_with_the_difference_and_nothing_changes
- dépôt après la clôture (le brouillon est gardé) :
  test_applications_pages.py::test_late_submission_page_says_why_and_keeps_draft ;
  test_applications_services.py::test_late_submission_is_refused_and_the_draft_is_kept
- SIRET (clé de Luhn) et RNA faux sur la page d'identité :
  test_applications_pages.py::test_identity_refuses_bad_siret_and_rna ;
  chacun seul : ``test_identity_refuses_a_bad_siret_or_rna_alone_and_nothing_changes`` (ici)
- QPV d'un autre contrat : ``test_a_qpv_of_another_contract_is_refused_and_nothing_changes`` (ici) ;
  QPV hors contrat : test_applications_pages.py::test_project_page_saves_and_refuses_foreign_qpv ;
  le service : test_applications_services.py::test_foreign_qpv_is_refused
- pièce jointe menteuse : ``test_a_lying_pdf_is_refused_on_the_page_and_nothing_is_stored`` (ici : PNG
  et programme nommés .pdf) ; page web nommée .pdf :
  test_applications_pages.py::test_lying_attachment_refused_on_the_page ; tous les cas au service :
  test_applications_services.py::test_lying_attachment_is_refused
- adresse du dossier d'une autre association (404) :
  test_applications_pages.py::test_another_associations_urls_are_404 (pages) ;
  test_grants_api_writes.py::test_another_associations_application_is_a_404_and_unchanged (API) ;
  les autres rôles : test_grants_permissions_*.py
- montants « 12 000,50 € » et « 12000.5 » acceptés : ``test_journey`` (budget, instruction) ;
  test_applications_pages.py::test_budget_accepts_french_amounts_and_shows_live_totals ;
  test_instruction_pages.py::test_instructor_saves_its_line_with_a_french_amount
- montants « -5 » et « 1e9 » refusés : ``test_budget_refuses_negative_and_absurd_amounts_on_the_page``
  (ici) ; ligne de financeur :
  test_instruction_pages.py::test_bad_amounts_get_a_french_message_naming_the_field ;
  le service : test_applications_services.py::test_budget_refuses_negative_and_absurd_amounts
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cdv.grants.enums import ApplicationStatus, DocumentKind, LineStatus
from cdv.grants.models import Application, ApplicationEvent, FunderLine, PartnerDocument
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests.factories.base import qpv_of
from tests.factories.contracts import ContractFactory
from tests.factories.grants import TINY_PDF, CallDocumentFactory, CallFactory, CallFunderFactory
from tests.factories.plan import EnjeuFactory
from tests.factories.users import MembershipFactory, UserFactory

from .applying_helpers import association, complete_application, referent_of

pytestmark = pytest.mark.django_db


def _errors(response):
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(text.split())[-3000:]


def member(contract, role, **kwargs):
    user = UserFactory()
    MembershipFactory(user=user, contract=contract, role=role, **kwargs)
    return user


def app_url(name, application, *extra):
    call = application.call
    return reverse(f"www:{name}", args=[call.contract.slug, call.year, application.pk, *extra])


def call_url(name, call):
    return reverse(f"www:{name}", args=[call.contract.slug, call.year])


@pytest.fixture
def act(client, django_capture_on_commit_callbacks):
    """Un POST sous l'identité de ``user``, courriels envoyés comme à la fin d'une vraie requête."""

    def post(user, path, data=None, **extra):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data or {}, **extra)

    return post


def test_journey(client, act):
    # --- Le monde : un appel ouvert, deux financeurs, une pièce exigée, les personnes de chaque rôle.
    call = CallFactory()
    contract = call.contract
    qpv = qpv_of(contract)
    enjeu = EnjeuFactory(contract=contract)
    city = CallFunderFactory(call=call, envelope=Decimal("50000"), order=1)
    state = CallFunderFactory(call=call, state=True, envelope=Decimal("80000"), order=2)
    CallDocumentFactory(call=call, kind=DocumentKind.STATUTES)
    partner = association(siret="", rna="", address="", legal_representative="")
    referent = referent_of(partner, contract)
    instructor_city = member(contract, Role.INSTRUCTOR, partner=city.partner)
    instructor_state = member(contract, Role.INSTRUCTOR, partner=state.partner)
    committee = member(contract, Role.COMMITTEE_MEMBER)
    pilot = member(contract, Role.PILOT)

    # --- L'association : son identité, sa pièce, son brouillon en étapes.
    client.force_login(referent)
    space = reverse("www:partner_applications", args=[contract.slug, partner.slug])
    assert client.get(space).status_code == 200
    identity = reverse("www:partner_identity", args=[contract.slug, partner.slug])
    response = act(
        referent,
        identity,
        {
            "siret": "732 829 320 00074",
            "rna": "w442000123",
            "address": "1 rue des Lilas",
            "postal_code": "44000",
            "city": "Nantes",
            "legal_representative": "Camille Martin",
            "legal_representative_title": "Présidente",
        },
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.siret, partner.rna) == ("73282932000074", "W442000123")
    documents = reverse("www:partner_documents", args=[contract.slug, partner.slug])
    upload = SimpleUploadedFile("statuts.pdf", TINY_PDF, content_type="application/pdf")
    assert act(referent, documents, {"kind": DocumentKind.STATUTES, "file": upload}).status_code == 302
    statutes = PartnerDocument.objects.get(partner=partner)

    create = reverse("www:application_create", args=[contract.slug, call.year, partner.slug])
    assert act(referent, create, {"title": "Ateliers cuisine"}).status_code == 302
    application = Application.objects.get(call=call, partner=partner)
    assert application.status == ApplicationStatus.DRAFT and not application.number
    start = timezone.localdate() + datetime.timedelta(days=60)
    project = {
        "version": application.version,
        "title": "Ateliers cuisine",
        "summary_plain": "Des ateliers de cuisine pour les familles du quartier.",
        "objectives": "Rompre l'isolement.",
        "public": "Familles",
        "beneficiaries": "120",
        "qpv_share": "80",
        "scope": "QPV",
        "qpvs": [qpv.pk],
        "places": "Maison de quartier",
        "start_date": start.isoformat(),
        "end_date": (start + datetime.timedelta(days=200)).isoformat(),
        "enjeu": enjeu.pk,
        "evaluation_indicators": "Nombre de participants",
        "years": "1",
    }
    response = act(referent, app_url("application_project", application), project)
    assert response.status_code == 302, response.content.decode()
    application.refresh_from_db()
    budget = {
        "version": application.version,
        "label_64": "Animatrice",
        "amount_64": "12000.5",
        "label_70": "Participations",
        "amount_70": "4 000,50 €",
        f"funder_{city.pk}_1": "3 000",
        f"funder_{state.pk}_1": "5000",
    }
    response = act(referent, app_url("application_budget", application), budget)
    assert response.status_code == 302, response.content.decode()
    application.refresh_from_db()
    attach = {"version": application.version, "documents": [statutes.pk]}
    assert act(referent, app_url("application_documents", application), attach).status_code == 302
    detail = client.get(app_url("application", application)).content.decode()
    assert "Brouillon (non déposé)" in detail

    # --- Le dépôt : acte explicite, numéro, récépissé PDF, courriel.
    mail.outbox.clear()
    sworn = {"sworn_name": "Camille Martin", "sworn_statement": "on", "republican_contract": "on"}
    response = act(referent, app_url("application_submit", application), sworn)
    assert response.status_code == 302, _errors(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.number == f"{call.year}-0001"
    lines = {line.funder_id: line for line in application.funder_lines.all()}
    assert {line.status for line in lines.values()} == {LineStatus.TRANSMITTED}
    assert (lines[city.pk].requested_amount, lines[state.pk].requested_amount) == (
        Decimal("3000"),
        Decimal("5000"),
    )
    assert [m.to for m in mail.outbox] == [[referent.email]]
    assert application.number in mail.outbox[0].subject + mail.outbox[0].body
    receipt = client.get(app_url("application_receipt", application))
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")

    # --- Deux financeurs instruisent, chacun sa seule ligne.
    line_city, line_state = lines[city.pk], lines[state.pk]
    client.force_login(instructor_city)
    queue = client.get(call_url("call_queue", call)).content.decode()
    assert application.number in queue
    city_edit = app_url("funder_line_edit", application, line_city.pk)
    state_edit = app_url("funder_line_edit", application, line_state.pk)
    line_data = {"status": LineStatus.INSTRUCTING, "opinion": "FAVORABLE", "comment": "Projet solide."}
    response = act(
        instructor_city,
        city_edit,
        {**line_data, "version": line_city.version, "proposed_amount": "2 500,50 €"},
    )
    assert response.status_code == 302
    assert act(instructor_city, state_edit, {**line_data, "version": line_state.version}).status_code == 403
    line_state.refresh_from_db()
    assert (line_state.status, line_state.comment) == (LineStatus.TRANSMITTED, "")

    # --- L'État demande des compléments : le dossier revient à l'association.
    mail.outbox.clear()
    ask = {"funder": state.pk, "questions": "Quel local, quels horaires ?", "confirm": "on"}
    assert act(instructor_state, app_url("request_info", application), ask).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RETURNED
    assert [m.to for m in mail.outbox] == [[referent.email]]
    client.force_login(referent)
    detail = client.get(app_url("application", application)).content.decode()
    assert "Quel local, quels horaires ?" in detail and app_url("application_answer", application) in detail
    assert "Projet solide." not in detail  # l'avis d'un instructeur n'est jamais montré à l'association

    # --- L'association répond et redépose ; tout reste dans l'historique.
    answer = {"answer": "La maison de quartier, le mercredi après-midi."}
    assert act(referent, app_url("application_answer", application), answer).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and application.number == f"{call.year}-0001"
    history = client.get(app_url("application", application)).content.decode()
    assert "Quel local, quels horaires ?" in history and "le mercredi après-midi" in history
    assert ApplicationEvent.objects.filter(application=application).count() >= 4

    line_state.refresh_from_db()
    response = act(
        instructor_state,
        state_edit,
        {**line_data, "version": line_state.version, "proposed_amount": "12000.5", "opinion": "DEFAVORABLE"},
    )
    assert response.status_code == 200 and "montant demandé" in response.content.decode()
    line_state.refresh_from_db()
    assert line_state.proposed_amount is None
    response = act(
        instructor_state,
        state_edit,
        {**line_data, "version": line_state.version, "proposed_amount": "0", "opinion": "DEFAVORABLE"},
    )
    assert response.status_code == 302

    # --- Le comité : un membre lit la programmation ; le pilote simule puis vote, avec confirmation.
    client.force_login(committee)
    assert application.number in client.get(call_url("programmation", call)).content.decode()
    simulate = reverse("www:simulate_line", args=[contract.slug, call.year, line_city.pk])
    assert act(pilot, simulate, {"choice": "OUI", "amount": "2 500,50"}).status_code == 302
    simulate = reverse("www:simulate_line", args=[contract.slug, call.year, line_state.pk])
    assert act(pilot, simulate, {"choice": "NON"}).status_code == 302
    vote = call_url("committee_vote", call)
    decision = {"decision_date": timezone.localdate().isoformat(), "reference_prefix": "CF-TEST"}
    unconfirmed = act(pilot, vote, decision)
    assert unconfirmed.status_code == 422 and "Cochez la case" in unconfirmed.content.decode()
    assert not FunderLine.objects.filter(application=application, decision_date__isnull=False).exists()
    mail.outbox.clear()
    assert act(pilot, vote, {**decision, "confirm": "on"}).status_code == 302
    line_city.refresh_from_db()
    line_state.refresh_from_db()
    assert (line_city.status, line_city.voted_amount) == (LineStatus.VOTED, Decimal("2500.50"))
    assert (line_state.status, line_state.voted_amount) == (LineStatus.REJECTED, None)

    # --- L'association voit les deux décisions dans son espace et reçoit UN courriel les listant.
    client.force_login(referent)
    mine = client.get(space).content.decode()
    assert f"{city.partner.name} : 3\u202f000\u00a0€ — Voté (2\u202f500,50\u00a0€ votés)" in mine
    assert f"{state.partner.name} : 5\u202f000\u00a0€ — Rejeté" in mine
    detail = client.get(app_url("application", application)).content.decode()
    assert "2\u202f500,50\u00a0€ accordés" in detail and "Refusé" in detail
    assert line_city.decision_reference in detail and line_state.decision_reference in detail
    assert "Projet solide." not in detail
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [referent.email]
    body = mail.outbox[0].body
    assert f"{city.partner.name} : accordé, 2\u202f500,50\u00a0€" in body
    assert f"{state.partner.name} : refusé" in body
    assert application.number in body


# ---------------------------------------------------------------------------------------------
# Mauvaises saisies : un message clair en français, rien de changé.


@pytest.fixture
def draft(client):
    application = complete_application()
    user = referent_of(application.partner, application.call.contract)
    client.force_login(user)
    return application, user


def snapshot(application):
    application = Application.objects.get(pk=application.pk)
    return (
        application.status,
        application.number,
        application.version,
        sorted(application.budget_lines.values_list("account", "amount")),
        sorted(application.funder_lines.values_list("status", "requested_amount")),
        sorted(application.qpvs.values_list("pk", flat=True)),
        application.title,
    )


def test_unbalanced_budget_is_refused_at_submission_and_nothing_changes(draft, act):
    application, user = draft
    application.budget_lines.filter(account="70").delete()
    before = snapshot(application)
    mail.outbox.clear()
    sworn = {"sworn_name": "Camille Martin", "sworn_statement": "on", "republican_contract": "on"}

    response = act(user, app_url("application_submit", application), sworn)

    text = response.content.decode()
    assert response.status_code == 200
    assert "pas équilibré" in text and "4\u202f000\u00a0€" in text
    assert snapshot(application) == before and before[0] == ApplicationStatus.DRAFT
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("siret", "73282932000075", "clé de contrôle incorrecte"), ("rna", "W12", "numéro RNA valide")],
)
def test_identity_refuses_a_bad_siret_or_rna_alone_and_nothing_changes(draft, act, field, value, words):
    application, user = draft
    partner = application.partner
    page = reverse("www:partner_identity", args=[application.call.contract.slug, partner.slug])
    data = {
        "siret": partner.siret,
        "rna": partner.rna,
        "address": "2 rue Neuve",
        "postal_code": "44000",
        "city": "Nantes",
        "legal_representative": "Camille Martin",
    }
    before = Partner.objects.filter(pk=partner.pk).values().get()

    response = act(user, page, {**data, field: value})

    assert response.status_code == 200
    assert words in response.content.decode().replace("&#x27;", "'")
    assert Partner.objects.filter(pk=partner.pk).values().get() == before


def test_a_qpv_of_another_contract_is_refused_and_nothing_changes(draft, act):
    application, user = draft
    foreign = qpv_of(ContractFactory())
    before = snapshot(application)
    data = {
        "version": application.version,
        "title": "Ateliers",
        "scope": "QPV",
        "years": "1",
        "qpvs": [foreign.pk],
    }

    response = act(user, app_url("application_project", application), data)

    assert response.status_code == 200
    assert "pas un quartier prioritaire du contrat" in response.content.decode()
    assert snapshot(application) == before


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "en réalité une image ou un document PNG"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60, "programme Windows"),
    ],
)
def test_a_lying_pdf_is_refused_on_the_page_and_nothing_is_stored(draft, act, data, words):
    application, user = draft
    page = reverse("www:partner_documents", args=[application.call.contract.slug, application.partner.slug])
    before = list(PartnerDocument.objects.filter(partner=application.partner).values_list("pk", flat=True))
    fake = SimpleUploadedFile("statuts.pdf", data, content_type="application/pdf")

    response = act(user, page, {"kind": DocumentKind.STATUTES, "file": fake})

    assert response.status_code == 200
    assert words in response.content.decode(), _errors(response)
    assert (
        list(PartnerDocument.objects.filter(partner=application.partner).values_list("pk", flat=True))
        == before
    )


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("-5", "ne peut pas être négatif"),
        ("1e9", "« 1e9 » n'est pas un nombre"),
        ("1 000 000 000", "au plus"),
    ],
)
def test_budget_refuses_negative_and_absurd_amounts_on_the_page(draft, act, typed, words):
    application, user = draft
    first, second = application.call.funders.all()
    before = snapshot(application)
    data = {
        "version": application.version,
        "amount_64": typed,
        "amount_70": "4000",
        f"funder_{first.pk}_1": "3000",
        f"funder_{second.pk}_1": "3000",
    }

    response = act(user, app_url("application_budget", application), data)

    text = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert words in text and "Montant — " in text
    assert snapshot(application) == before
