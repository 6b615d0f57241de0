"""Le parcours de l'issue 17, de bout en bout, par les pages (client de test Django) : le comité vote ;
l'instructeur de chaque financeur prépare l'acte (convention à partir de 23 000 €, arrêté en
dessous), le télécharge en DOCX et PDF, dépose l'acte signé avec sa date ; pose un échéancier
(avance et solde) et enregistre l'avance ; l'association remplit son compte-rendu (budget réalisé
avec un écart de plus de 20 % expliqué, part des bénéficiaires en QPV calculée d'après leurs
coordonnées) et le transmet ; chaque financeur l'accepte ; le solde est versé : la subvention est
« Payé ». Elle apparaît alors sur la page publique du quartier, sur celle des projets financés de
l'appel, dans le bilan annuel (PDF) et dans ``subventions.csv`` (SCDL).

À chaque étape, ce que chaque rôle ne doit PAS pouvoir faire : l'association ne prépare ni ne verse
rien, une autre association reçoit « page introuvable », le pilote lit mais n'écrit pas au nom d'un
financeur, un financeur n'écrit pas la ligne d'un autre, un visiteur ne voit rien avant le vote et
jamais le détail des versements.

Et un import de Dauphin lancé deux fois : le second ne change rien (nombres, versions, historique).
Les services ne servent qu'à bâtir le monde de départ.
"""

import csv
import datetime
import io
import re
from decimal import Decimal
from io import StringIO

import pytest
import shapely
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from docx import Document

from cdv.core.validators import luhn_ok
from cdv.georef import engine
from cdv.grants.enums import (
    ActKind,
    ApplicationStatus,
    FollowUpStage,
    InstalmentKind,
    LineStatus,
    ReportStatus,
    ReviewDecision,
)
from cdv.grants.followup import stage_of
from cdv.grants.models import (
    Application,
    ApplicationEvent,
    FinalReport,
    FunderLine,
    GrantAct,
    Payment,
    ReportReview,
)
from cdv.grants.services.reports import planned_rows
from cdv.notifications.enums import NotificationKind
from cdv.notifications.models import Notification
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import pdf_text as read_pdf_text

from .scdl_columns import SCDL  # les 16 colonnes du schéma national, écrites une fois

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "Ateliers numériques des familles (parcours après le vote)"
SUMMARY = "Des ateliers pour faire ses démarches en ligne en famille."
ASSOCIATION = "Association Parcours Numérique"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
OUTSIDE = (-1.5536, 47.2184)  # centre de Nantes, hors QPV


def siret(seed: int) -> str:
    base = f"3{seed:012d}"[:13]
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


def plain(response) -> str:
    """Le texte de la page, espaces insécables en espaces."""
    body = response.content.decode()
    body = re.sub(r"<[^>]+>", " ", body).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return " ".join(re.sub(r"[\u202f\xa0]", " ", body).split())


def pdf_text(content: bytes) -> str:
    text = read_pdf_text(content)
    return " ".join(re.sub(r"[\u202f\xa0]", " ", text).split())


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def as_user(client, django_capture_on_commit_callbacks):
    """``as_user(user).get(...)`` / ``.post(...)`` : la requête sous l'identité de ``user`` (None :
    un visiteur), notifications envoyées comme à la fin d'une vraie requête. Chaque personne est
    connectée une fois pour le test : ses requêtes suivantes reprennent sa session, seule dans un
    navigateur vidé (aucun cookie d'une autre personne)."""
    sessions = {}  # pk -> clé de session

    class Session:
        def __init__(self, user):
            self.user = user

        def _login(self):
            client.cookies.clear()
            if self.user is None:
                return
            if self.user.pk not in sessions:
                client.force_login(self.user)
                sessions[self.user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[self.user.pk]

        def get(self, path, **extra):
            self._login()
            return client.get(path, **extra)

        def post(self, path, data=None, **extra):
            self._login()
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(path, data or {}, **extra)

    return Session


def member(contract, role, **kwargs):
    return factories.MembershipFactory(contract=contract, role=role, **kwargs).user


class World:
    """Un appel dont le dépôt est clos et les deux lignes du dossier instruites : le comité n'a pas
    encore voté. La Métropole propose 25 000 € (convention), l'État 5 000 € (arrêté)."""

    def __init__(self):
        today = timezone.localdate()
        self.year = today.year
        self.qpv = factories.QpvFactory(name="Quartier du Parcours")
        self.contract = factories.ContractFactory(
            qpvs=[self.qpv], start_year=self.year - 2, end_year=self.year + 4
        )
        self.enjeu = factories.EnjeuFactory(contract=self.contract, title="Accès aux droits")
        # Le dossier a été déposé : l'appel a donné son premier numéro.
        self.call = factories.CallFactory(contract=self.contract, year=self.year, closed=True, last_number=1)
        self.metro = factories.CallFunderFactory(
            call=self.call,
            order=1,
            partner=factories.PartnerFactory(
                name="Métropole du Parcours", kind=PartnerKind.EPCI, siret=siret(1)
            ),
        )
        self.state = factories.CallFunderFactory(
            call=self.call,
            order=2,
            label="Programme 147",
            partner=factories.PartnerFactory(
                name="Préfecture du Parcours", kind=PartnerKind.STATE, siret=siret(2)
            ),
        )
        self.association = factories.PartnerFactory(
            name=ASSOCIATION,
            kind=PartnerKind.ASSOCIATION,
            siret="73282932000074",
            rna="W442001234",
            address="3 rue des Lilas",
            postal_code="44000",
            city="Nantes",
            legal_representative="Camille Durand",
            legal_representative_title="Présidente",
        )
        self.application = factories.ApplicationFactory(
            call=self.call,
            partner=self.association,
            submitted=True,
            number=f"{self.year}-0001",
            title=TITLE,
            summary=SUMMARY,
            qpvs=[self.qpv],
            enjeu=self.enjeu,
            start_date=today - datetime.timedelta(days=120),
            end_date=today - datetime.timedelta(days=5),
        )
        for account, label, amount in (
            ("60", "Matériel informatique", "15000"),
            ("64", "Animatrice", "20000"),
            ("70", "Participations", "5000"),
        ):
            factories.BudgetLineFactory(
                application=self.application, account=account, label=label, amount=Decimal(amount)
            )
        self.line_metro = factories.FunderLineFactory(
            application=self.application,
            funder=self.metro,
            status=LineStatus.INSTRUCTING,
            requested_amount=Decimal("25000"),
            proposed_amount=Decimal("25000"),
        )
        self.line_state = factories.FunderLineFactory(
            application=self.application,
            funder=self.state,
            status=LineStatus.INSTRUCTING,
            requested_amount=Decimal("5000"),
            proposed_amount=Decimal("5000"),
        )
        other = factories.PartnerFactory(kind=PartnerKind.ASSOCIATION, name="Autre association du parcours")
        self.pilot = member(self.contract, Role.PILOT)
        self.committee = member(self.contract, Role.COMMITTEE_MEMBER)
        self.instructor_metro = member(self.contract, Role.INSTRUCTOR, partner=self.metro.partner)
        self.instructor_state = member(self.contract, Role.INSTRUCTOR, partner=self.state.partner)
        self.referent = member(self.contract, Role.APPLICANT, partner=self.association)
        self.other_referent = member(self.contract, Role.APPLICANT, partner=other)

    def call_url(self, name):
        return reverse(f"www:{name}", args=[self.contract.slug, self.year])

    def app_url(self, name):
        return reverse(f"www:{name}", args=[self.contract.slug, self.year, self.application.pk])

    def line_url(self, name, line, *extra):
        return reverse(
            f"www:{name}", args=[self.contract.slug, self.year, self.application.pk, line.pk, *extra]
        )

    def public_urls(self):
        return (
            reverse("www:qpv", kwargs={"slug": self.contract.slug, "code": self.qpv.code}),
            self.call_url("call_results"),
            reverse("www:enjeu", kwargs={"slug": self.contract.slug, "enjeu_slug": self.enjeu.slug}),
        )


def malakoff():
    """Un point du QPV Malakoff (Nantes), en longitude, latitude (contours des données de référence)."""
    index = engine.get_index()
    geometry = index.geometries[list(index.codes).index("QN04413M")]
    lon, lat = shapely.get_coordinates(geometry.representative_point())[0]
    return float(lon), float(lat)


def stage(line) -> str:
    """L'état de suivi de la ligne, relue (acte, versements et compte-rendu du moment)."""
    return stage_of(FunderLine.objects.get(pk=line.pk))


def budget_post(world, version, actual, explanations):
    """Le formulaire du budget réalisé, ligne ``i`` = ``planned_rows()[i]`` ; ``actual`` et
    ``explanations`` : {(compte, début du libellé): valeur} ; le prévu ailleurs."""
    data = {"version": "" if version is None else str(version)}
    for order, row in enumerate(planned_rows(world.application)):
        value = row.planned if row.planned else ""
        explanation = ""
        for (account, label), typed in actual.items():
            if row.account == account and row.label.startswith(label):
                value = typed
        for (account, label), text in explanations.items():
            if row.account == account and row.label.startswith(label):
                explanation = text
        data[f"actual_{order}"] = str(value)
        data[f"explanation_{order}"] = explanation
    return data


def test_journey_after_the_vote(as_user):
    world = World()
    today = timezone.localdate()
    pilot, metro, state = world.pilot, world.instructor_metro, world.instructor_state
    asso, other, visitor = world.referent, world.other_referent, None
    line_metro, line_state = world.line_metro, world.line_state

    # --- Avant le vote : rien de public ; personne d'autre que le pilote ne vote.
    for url in world.public_urls():
        response = as_user(visitor).get(url)
        assert response.status_code in (200, 404) and TITLE not in plain(response), url
    assert as_user(visitor).get(world.line_url("line_act", line_metro)).status_code == 302  # connexion
    assert as_user(metro).get(world.line_url("line_act", line_metro)).status_code == 404  # pas votée
    for who, choice, amount, line in (
        (pilot, "OUI", "25 000", line_metro),
        (pilot, "OUI", "5 000,00", line_state),
    ):
        simulate = reverse("www:simulate_line", args=[world.contract.slug, world.year, line.pk])
        assert as_user(who).post(simulate, {"choice": choice, "amount": amount}).status_code == 302
    vote = world.call_url("committee_vote")
    decision = {"decision_date": today.isoformat(), "reference_prefix": "CF-PARCOURS", "confirm": "on"}
    assert as_user(world.committee).post(vote, decision).status_code == 403
    assert as_user(metro).post(vote, decision).status_code == 403
    assert as_user(pilot).post(vote, decision).status_code == 302
    line_metro.refresh_from_db()
    line_state.refresh_from_db()
    assert (line_metro.status, line_metro.voted_amount) == (LineStatus.VOTED, Decimal("25000"))
    assert (line_state.status, line_state.voted_amount) == (LineStatus.VOTED, Decimal("5000"))
    assert stage(line_metro) == FollowUpStage.VOTED

    # Après le vote, le projet est public (voté), sans rien du suivi qui ne le soit pas.
    results = as_user(visitor).get(world.call_url("call_results"))
    assert results.status_code == 200 and TITLE in plain(results)
    assert "Métropole du Parcours : 25 000 € (Voté)" in plain(results)

    # --- L'acte : convention pour la Métropole (≥ 23 000 €), arrêté pour l'État.
    act_metro = world.line_url("line_act", line_metro)
    page = as_user(metro).get(act_metro)
    assert page.status_code == 200 and "Convention" in plain(page)
    assert as_user(pilot).get(act_metro).status_code == 200  # il lit…
    assert as_user(pilot).post(act_metro).status_code == 403  # … mais ne prépare pas
    assert as_user(asso).post(act_metro).status_code == 403
    assert as_user(state).post(act_metro).status_code == 403  # pas son financeur
    assert as_user(other).get(act_metro).status_code == 404
    assert not GrantAct.objects.filter(line=line_metro).exists()
    assert as_user(metro).post(act_metro).status_code == 302
    act = GrantAct.objects.get(line=line_metro)
    assert (act.kind, act.amount) == (ActKind.CONVENTION, Decimal("25000"))
    assert act.reference.endswith(f"-{world.year}-0001")
    assert stage(line_metro) == FollowUpStage.ACT_READY
    docx = as_user(metro).get(world.line_url("act_docx", line_metro))
    assert docx.status_code == 200 and docx["Content-Disposition"].endswith('.docx"')
    text = " ".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert act.reference in text and ASSOCIATION in text
    pdf = as_user(metro).get(world.line_url("act_pdf", line_metro))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert act.reference in pdf_text(pdf.content)
    assert as_user(asso).get(world.line_url("act_pdf", line_metro)).status_code == 200  # son acte
    assert as_user(other).get(world.line_url("act_pdf", line_metro)).status_code == 404

    act_state = world.line_url("line_act", line_state)
    assert "Décision attributive (arrêté)" in plain(as_user(state).get(act_state))
    assert as_user(state).post(act_state).status_code == 302
    assert GrantAct.objects.get(line=line_state).kind == ActKind.DECISION

    # Pas de versement tant que l'acte n'est pas signé.
    payments_metro = world.line_url("line_payments", line_metro)
    before_signing = as_user(metro).post(
        payments_metro, {"action": "payment", "paid_on": today.isoformat(), "amount": "1 000"}
    )
    assert before_signing.status_code == 200 and "pas encore signé" in plain(before_signing)
    assert not Payment.objects.filter(line=line_metro).exists()

    # --- L'acte signé, avec sa date (jj/mm/aaaa) ; l'association en est prévenue.
    signed_on = today.strftime("%d/%m/%Y")

    def signed(name="convention-signee.pdf"):
        return SimpleUploadedFile(name, PDF, content_type="application/pdf")

    sign_metro = world.line_url("act_sign", line_metro)
    assert as_user(asso).post(sign_metro, {"signed_on": signed_on, "file": signed()}).status_code == 403
    assert as_user(pilot).post(sign_metro, {"signed_on": signed_on, "file": signed()}).status_code == 403
    assert as_user(other).get(sign_metro).status_code == 404
    assert as_user(metro).post(sign_metro, {"signed_on": signed_on, "file": signed()}).status_code == 302
    sign_state = world.line_url("act_sign", line_state)
    assert (
        as_user(state).post(sign_state, {"signed_on": signed_on, "file": signed("arrete.pdf")}).status_code
        == 302
    )
    act.refresh_from_db()
    assert act.signed_on == today and act.signed_file
    assert stage(line_metro) == FollowUpStage.SIGNED
    assert Notification.objects.filter(recipient=asso, kind=NotificationKind.ACT_SIGNED).count() == 2
    signed_file = as_user(asso).get(world.line_url("act_signed_file", line_metro))
    assert signed_file.status_code == 200 and b"".join(signed_file.streaming_content) == PDF

    # --- L'échéancier : avance de 80 % (saisie sous un navigateur en anglais), puis solde.
    schedule = {
        "action": "schedule",
        "terms": "ECHELONNE",
        "advance_percent": "80 %",
        "advance_due_date": today.isoformat(),
        "advance_condition": "à la signature de la convention",
        "balance_condition": "après acceptation du compte-rendu",
    }
    assert as_user(asso).post(payments_metro, schedule).status_code == 403
    assert as_user(pilot).post(payments_metro, schedule).status_code == 403
    assert as_user(state).post(payments_metro, schedule).status_code == 403
    assert as_user(other).get(payments_metro).status_code == 404
    assert as_user(metro).post(payments_metro, schedule, **ENGLISH).status_code == 302
    assert list(line_metro.instalments.order_by("order").values_list("kind", "amount")) == [
        (InstalmentKind.ADVANCE, Decimal("20000.00")),
        (InstalmentKind.BALANCE, Decimal("5000.00")),
    ]

    # --- L'avance : seul l'instructeur du financeur enregistre un versement.
    advance = {"action": "payment", "paid_on": today.isoformat(), "amount": "20 000,00", "reference": "M-1"}
    for who in (asso, pilot, state, world.committee):
        assert as_user(who).post(payments_metro, advance).status_code in (403, 404), who
    assert as_user(other).post(payments_metro, advance).status_code == 404
    assert as_user(visitor).post(payments_metro, advance).status_code == 302
    assert not Payment.objects.filter(line=line_metro).exists()
    too_much = as_user(metro).post(payments_metro, {**advance, "amount": "25 000,01"})
    assert too_much.status_code == 200 and "reste à verser" in plain(too_much)
    assert not Payment.objects.filter(line=line_metro).exists()
    assert as_user(metro).post(payments_metro, advance, **ENGLISH).status_code == 302
    assert stage(line_metro) == FollowUpStage.PARTLY_PAID
    mine = plain(as_user(asso).get(payments_metro))  # l'association lit ses versements, en français
    assert "20 000 €" in mine and "5 000 €" in mine
    # L'État verse en une fois.
    payments_state = world.line_url("line_payments", line_state)
    single = {"action": "payment", "paid_on": today.isoformat(), "amount": "5 000", "reference": "E-1"}
    assert as_user(metro).post(payments_state, single).status_code == 403
    assert as_user(state).post(payments_state, single).status_code == 302
    assert stage(line_state) == FollowUpStage.PAID  # tout versé en une fois

    # Le tableau des retards : le pilote et chaque financeur, pas l'association.
    board = world.call_url("call_payments")
    assert TITLE in plain(as_user(pilot).get(board))
    assert as_user(asso).get(board).status_code in (403, 404)
    assert as_user(visitor).get(board).status_code == 302

    # --- Le compte-rendu : l'association seule le remplit ; une autre association ne le voit pas.
    report_url = world.app_url("report")
    carried_out = {
        "version": "",
        "path": "REALISEE",
        "achievements": "Trente ateliers au centre social.",
        "beneficiaries_reached": "120",
        "qpv_beneficiaries": "90",
        "indicators_results": "Démarches réussies : 85 %.",
        "difficulties": "Le matériel a coûté plus cher que prévu.",
    }
    assert as_user(other).get(report_url).status_code == 404
    assert as_user(other).post(report_url, carried_out).status_code == 404
    assert as_user(metro).post(report_url, carried_out).status_code == 403
    assert as_user(pilot).post(report_url, carried_out).status_code == 403
    assert not FinalReport.objects.filter(application=world.application).exists()
    assert as_user(asso).post(report_url, carried_out).status_code == 302
    report = FinalReport.objects.get(application=world.application)
    assert report.status == ReportStatus.DRAFT

    # Le budget réalisé : un écart de plus de 20 % sans explication est refusé, la ligne nommée.
    budget_url = world.app_url("report_budget")
    actual = {("60", "Matériel"): "19 000", ("70", "Participations"): "9 000,00"}
    refused = as_user(asso).post(
        budget_url, budget_post(world, None, actual, {("70", ""): "Plus d'inscrits."})
    )
    assert refused.status_code == 200
    assert "s'écarte de plus de 20 %" in plain(refused) and "Matériel informatique" in plain(refused)
    assert not report.budget_lines.exists()
    explanations = {("60", "Matériel"): "Prix des ordinateurs en hausse.", ("70", ""): "Plus d'inscrits."}
    assert as_user(asso).post(budget_url, budget_post(world, None, actual, explanations)).status_code == 302
    material = report.budget_lines.get(account="60")
    assert (material.planned_amount, material.actual_amount) == (Decimal("15000"), Decimal("19000"))
    assert material.explanation == "Prix des ordinateurs en hausse."

    # La part des bénéficiaires en QPV, calculée d'après leurs coordonnées : seul l'agrégat reste.
    lon, lat = malakoff()
    rows = ["longitude;latitude", *[f"{lon};{lat}"] * 3, f"{OUTSIDE[0]};{OUTSIDE[1]}"]
    upload = SimpleUploadedFile(
        "beneficiaires.csv", ("\n".join(rows) + "\n").encode(), content_type="text/csv"
    )
    report.refresh_from_db()
    response = as_user(asso).post(
        world.app_url("report_beneficiaries"), {"version": report.version, "file": upload}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.qpv_share, report.located_count, report.unlocated_count) == (Decimal("75.00"), 4, 0)

    # La transmission : confirmée, puis le compte-rendu est figé.
    submit = world.app_url("report_submit")
    assert as_user(metro).post(submit, {"confirm": "on"}).status_code == 403
    assert as_user(asso).post(submit, {}).status_code == 200  # sans la case cochée
    assert as_user(asso).post(submit, {"confirm": "on"}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert as_user(asso).post(report_url, {**carried_out, "version": report.version}).status_code == 403
    assert stage(line_metro) == FollowUpStage.JUSTIFYING

    # --- L'examen : chaque financeur qui a voté un montant l'accepte ; le pilote n'examine pas.
    review = world.app_url("report_review")
    accept = {"version": report.version, "funder": world.metro.pk, "decision": ReviewDecision.ACCEPTED}
    assert as_user(pilot).get(review).status_code == 200
    assert as_user(pilot).post(review, accept).status_code == 403
    assert as_user(asso).post(review, accept).status_code in (403, 404)
    # L'État ne peut choisir que son propre financeur : le formulaire refuse, rien n'est enregistré.
    assert as_user(state).post(review, accept).status_code == 200
    assert not ReportReview.objects.filter(report=report).exists()
    assert as_user(other).get(review).status_code == 404
    page = plain(as_user(metro).get(review))
    assert "Prix des ordinateurs en hausse." in page and "75 %" in page
    assert as_user(metro).post(review, accept).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED  # l'État ne s'est pas encore prononcé
    state_accepts = {**accept, "version": report.version, "funder": world.state.pk}
    assert as_user(state).post(review, state_accepts).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    assert ReportReview.objects.filter(report=report, decision=ReviewDecision.ACCEPTED).count() == 2
    assert stage(line_metro) == FollowUpStage.JUSTIFIED

    # --- Le solde : la subvention est « Payé ».
    balance = {"action": "payment", "paid_on": today.isoformat(), "amount": "5 000", "reference": "M-2"}
    assert as_user(asso).post(payments_metro, balance).status_code == 403
    assert as_user(metro).post(payments_metro, balance).status_code == 302
    assert stage(line_metro) == FollowUpStage.PAID
    assert stage(line_state) == FollowUpStage.PAID
    assert Payment.objects.filter(line__application=world.application).count() == 3
    detail = plain(as_user(asso).get(world.app_url("application")))
    assert "Métropole du Parcours 25 000 € 25 000 € Payé" in detail, detail[-2000:]
    assert "Accepté" in detail
    kinds = set(ApplicationEvent.objects.filter(application=world.application).values_list("kind", flat=True))
    assert {"ACTE", "ACTE_SIGNE", "ECHEANCIER", "VERSEMENT", "CR_TRANSMIS", "CR_EXAMINE"} <= kinds, kinds

    # --- Public : le quartier, les projets financés de l'appel ; jamais le détail des versements.
    qpv_page = as_user(visitor).get(world.public_urls()[0])
    assert "Métropole du Parcours : 25 000 € (Payé)" in plain(qpv_page), plain(qpv_page)[-2000:]
    assert TITLE in plain(qpv_page) and ASSOCIATION in plain(qpv_page)
    results = plain(as_user(visitor).get(world.call_url("call_results")))
    assert TITLE in results and SUMMARY in results
    assert "Métropole du Parcours : 25 000 € (Payé)" in results
    assert "Préfecture du Parcours : 5 000 € (Payé)" in results
    assert "M-1" not in results and "Prix des ordinateurs" not in results
    for url in (payments_metro, world.line_url("act_signed_file", line_metro), report_url, board):
        assert as_user(visitor).get(url).status_code == 302, url  # vers la connexion

    # --- Le bilan annuel (PDF du pilote) : l'appel, par financeur, demandé, voté, versé.
    annual = reverse("www:annual_report", args=[world.contract.slug, world.year])
    assert as_user(asso).get(annual).status_code in (403, 404)
    report_pdf = as_user(pilot).get(annual)
    assert report_pdf.status_code == 200
    text = pdf_text(report_pdf.content)
    assert f"Appel à projets {world.year}" in text
    assert "Métropole du Parcours 25 000 € 25 000 € 25 000 €" in text, text
    assert "Montants demandés : 30 000 € ; votés : 30 000 € ; versés : 30 000 €" in text, text

    # --- subventions.csv (SCDL 2.1.1) : une ligne par financeur, le SIRET du financeur, la signature.
    response = as_user(visitor).get(f"/contrats/{world.contract.slug}/donnees/subventions.csv")
    assert response.status_code == 200
    content = response.content.decode("utf-8")
    assert next(csv.reader(io.StringIO(content))) == SCDL
    data = list(csv.DictReader(io.StringIO(content)))
    assert len(data) == 2
    row = next(r for r in data if r["idAttribuant"] == world.metro.partner.siret)
    assert row["nomAttribuant"] == "Métropole du Parcours"
    assert Decimal(row["montant"]) == Decimal("25000")
    assert row["dateConvention"] == today.isoformat()
    assert row["referenceDecision"] == act.reference
    assert (row["nomBeneficiaire"], row["idBeneficiaire"], row["rnaBeneficiaire"]) == (
        ASSOCIATION,
        "73282932000074",
        "W442001234",
    )
    assert row["objet"] == TITLE and row["conditionsVersement"] == "échelonné"
    assert row["pourcentageSubvention"] == "1.00"
    assert row["dispositifAide"] == f"{world.contract.slug}-aap-{world.year}"
    state_row = next(r for r in data if r["idAttribuant"] == world.state.partner.siret)
    assert Decimal(state_row["montant"]) == Decimal("5000") and state_row["conditionsVersement"] == "unique"


# ---------------------------------------------------------------------------------------------
# Dauphin : un second import du même fichier ne change rien.

DAUPHIN = """N° dossier;Intitulé du projet;Porteur;SIRET;Financeur;Statut;Montant sollicité;Montant voté;\
Date de décision;Quartier(s)
DA-001;Jardin partagé (Dauphin);Association Dauphin Une;{siret_a};{state};Voté;4 000,00;3 500,00;{day};{qpv}
DA-001;Jardin partagé (Dauphin);Association Dauphin Une;{siret_a};{metro};Payé;2 000;2 000;{day};{qpv}
DA-002;Fête de quartier (Dauphin);Association Dauphin Deux;;{state};Rejeté;1 500;;{day};{qpv}
DA-003;Radio des habitants (Dauphin);{known};{siret_known};{metro};En instruction;3 000;;;{qpv}
"""


def snapshot(call):
    applications = Application.objects.filter(call=call)
    lines = FunderLine.objects.filter(application__call=call)
    return {
        "applications": sorted(
            applications.values_list("external_ref", "number", "status", "version", "title")
        ),
        "lines": sorted(
            lines.values_list(
                "application__external_ref",
                "funder_id",
                "status",
                "requested_amount",
                "voted_amount",
                "version",
            )
        ),
        "partners": Partner.objects.count(),
        "application_history": Application.history.filter(call=call).count(),
        "line_history": FunderLine.history.filter(application__call=call).count(),
        "partner_history": Partner.history.count(),
        "events": sorted(ApplicationEvent.objects.filter(application__call=call).values_list("pk", "kind")),
    }


def test_a_second_import_of_the_same_dauphin_file_changes_nothing(tmp_path):
    world = World()
    known = world.association
    day = (timezone.localdate() - datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    path = tmp_path / "dauphin.csv"
    path.write_text(
        DAUPHIN.format(
            siret_a=siret(11),
            siret_known=known.siret,
            known=known.name,
            state=world.state.partner.name,
            metro=world.metro.partner.name,
            day=day,
            qpv=world.qpv.code,
        ),
        encoding="utf-8",
    )
    before = snapshot(world.call)

    def run():
        out = StringIO()
        call_command(
            "import_aap",
            str(path),
            "--contract",
            world.contract.slug,
            "--year",
            str(world.year),
            stdout=out,
            stderr=StringIO(),
        )
        return out.getvalue()

    run()
    first = snapshot(world.call)
    assert len(first["applications"]) == len(before["applications"]) + 3
    assert first["partners"] == before["partners"] + 2  # l'association connue est retrouvée
    imported = Application.objects.get(call=world.call, external_ref="DA-001")
    assert imported.status == ApplicationStatus.DECIDED
    assert sorted(imported.funder_lines.values_list("status", "voted_amount")) == [
        (LineStatus.VOTED, Decimal("2000.00")),
        (LineStatus.VOTED, Decimal("3500.00")),
    ]
    assert not Payment.objects.filter(line__application=imported).exists()  # Dauphin n'a pas les versements
    assert Application.objects.get(call=world.call, external_ref="DA-003").partner == known

    run()
    assert snapshot(world.call) == first
