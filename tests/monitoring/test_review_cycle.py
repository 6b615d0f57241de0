"""Suivi annuel : ouverture des campagnes, cycle de vie des bilans, verrou optimiste, campagne figée,
pièces jointes, tableau de complétude et relances par courriel. Les droits de chaque rôle sur les
bilans (matrice rôle × action) : tests/monitoring/test_review_permissions.py."""

import datetime
import html
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.monitoring import abilities, reminders, services
from cdv.monitoring.enums import CampaignStatus, ReportState
from cdv.monitoring.models import ProgressReport, ReportAttachment, ReviewCampaign
from cdv.notifications.models import SentReminder
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories
from tests.security.permissions.matrix_world import role_users
from tests.worlds import built_once, fresh_copy, remove_demo_reviews

# Ces tests ouvrent leurs propres campagnes de suivi sur le contrat de Nantes : leur monde (plus bas)
# retire d'abord celles de la démonstration.
pytestmark = [pytest.mark.django_db, pytest.mark.demo]

YEAR = 2025


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture(autouse=True)
def media(tmp_path):
    """Chaque test écrit ses pièces jointes et ses marqueurs de relance dans un dossier jetable."""
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py), après le retrait du suivi annuel de la
    démonstration ; chaque test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        remove_demo_reviews()
        yield _build_world(Contract.objects.get(slug="nantes-metropole-2024-2030"))


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


def _build_world(nantes):
    other_contract, partner_a, partner_b, users = role_users(nantes)
    # Des quartiers sans engagement de démonstration : les comptes par quartier ne dépendent que d'ici.
    qpvs = list(nantes.qpvs.exclude(commitments__contract=nantes).order_by("name")[:3])
    commitments = {
        "a_confirmed": factories.CommitmentFactory(
            contract=nantes, partner=partner_a, status=S.CONFIRMED, qpvs=qpvs[:2], title="Ateliers numériques"
        ),
        "a_done": factories.CommitmentFactory(
            contract=nantes, partner=partner_a, status=S.DONE, title="Permanence emploi"
        ),
        "a_draft": factories.CommitmentFactory(
            contract=nantes, partner=partner_a, status=S.DRAFT, title="Projet en brouillon"
        ),
        "a_validated": factories.CommitmentFactory(
            contract=nantes, partner=partner_a, status=S.VALIDATED, title="Projet validé non signé"
        ),
        "b_progress": factories.CommitmentFactory(
            contract=nantes,
            partner=partner_b,
            status=S.IN_PROGRESS,
            qpvs=qpvs[2:],
            title="Chantiers éducatifs",
        ),
        "b_abandoned": factories.CommitmentFactory(
            contract=nantes, partner=partner_b, title="Navette abandonnée", abandoned=True
        ),
    }
    return {
        "users": users,
        "nantes": nantes,
        "other": other_contract,
        "a": partner_a,
        "b": partner_b,
        "qpvs": qpvs,
        "commitments": commitments,
    }


def open_2025(world, deadline=None, opens_on=None):
    return services.open_campaign(
        user=world["users"]["pilot"],
        contract=world["nantes"],
        year=YEAR,
        deadline=deadline or timezone.localdate() + datetime.timedelta(days=30),
        opens_on=opens_on,
    )


def report_of(campaign, commitment):
    return ProgressReport.objects.select_related("campaign").get(campaign=campaign, commitment=commitment)


COMPLETE = {
    "reported_status": S.IN_PROGRESS,
    "progress_pct": 60,
    "fte_actual": "0.5",
    "amount_actual": "12000",
    "what_worked": "Les habitants sont venus nombreux.",
    "difficulties": "",
}


# ---------------------------------------------------------------------------------------------
# Ouverture des campagnes
# ---------------------------------------------------------------------------------------------


def test_opening_creates_a_draft_report_for_each_confirmed_or_later_commitment(world):
    nantes = world["nantes"]
    campaign = open_2025(world)
    reviewed = set(
        Commitment.objects.filter(
            contract=nantes,
            status__in=[S.CONFIRMED, S.IN_PROGRESS, S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED],
        ).values_list("pk", flat=True)
    )
    reports = list(campaign.reports.all())
    assert {r.commitment_id for r in reports} == reviewed
    c = world["commitments"]
    for key in ("a_confirmed", "a_done", "b_progress", "b_abandoned"):
        assert c[key].pk in reviewed
    assert c["a_draft"].pk not in reviewed and c["a_validated"].pk not in reviewed
    # Le bailleur de démonstration a un engagement en cours : il a son bilan.
    demo = Commitment.objects.get(title="Équiper 200 logements de thermostats programmables")
    assert demo.status == S.IN_PROGRESS and demo.pk in reviewed
    # Les engagements proposés, validés ou brouillons de la démonstration n'en ont pas.
    assert not campaign.reports.filter(commitment__status__in=[S.DRAFT, S.PROPOSED, S.VALIDATED]).exists()
    for report in reports:
        assert report.state == ReportState.DRAFT
        assert report.partner_id == report.commitment.partner_id
        assert report.reported_status == report.commitment.status
        assert report.version == 1
    assert campaign.status == CampaignStatus.OPEN and campaign.opened_by == world["users"]["pilot"]
    assert campaign.opens_on == timezone.localdate()
    # Création en lot, mais historisée.
    assert ProgressReport.history.filter(campaign_id=campaign.pk).count() == len(reports)


def test_one_campaign_per_year_and_coherent_dates(world):
    open_2025(world)
    before = (ReviewCampaign.objects.count(), ProgressReport.objects.count())
    with pytest.raises(services.ReviewError) as error:
        open_2025(world)
    assert "existe déjà" in str(error.value.message_dict["year"])
    with pytest.raises(services.ReviewError) as error:
        services.open_campaign(
            user=world["users"]["pilot"],
            contract=world["nantes"],
            year=2040,
            deadline=datetime.date(2041, 3, 31),
        )
    assert "sort de la période du contrat" in str(error.value.message_dict["year"])
    with pytest.raises(services.ReviewError) as error:
        services.open_campaign(
            user=world["users"]["pilot"],
            contract=world["nantes"],
            year=2026,
            opens_on=datetime.date(2027, 3, 1),
            deadline=datetime.date(2027, 2, 1),
        )
    assert "précéder" in str(error.value.message_dict["deadline"])
    assert (ReviewCampaign.objects.count(), ProgressReport.objects.count()) == before


@pytest.mark.parametrize("role", ["editor_a", "reader_a", "evaluator", "pilot_other"])
def test_only_the_pilot_opens_a_campaign(world, role):
    with pytest.raises(PermissionDenied):
        services.open_campaign(
            user=world["users"][role],
            contract=world["nantes"],
            year=YEAR,
            deadline=datetime.date(2026, 3, 31),
        )
    assert not ReviewCampaign.objects.exists()


def test_opening_through_the_page(client, world):
    client.force_login(world["users"]["pilot"])
    url = reverse("www:review_campaigns", args=[world["nantes"].slug])
    page = text(client.get(url))
    assert "Ouvrir une campagne" in page and "Année suivie" in page
    deadline = timezone.localdate() + datetime.timedelta(days=60)
    response = client.post(url, {"year": YEAR, "deadline": deadline.isoformat()})
    assert response.status_code == 302
    assert response["Location"] == reverse("www:review_campaign", args=[world["nantes"].slug, YEAR])
    campaign = ReviewCampaign.objects.get(contract=world["nantes"], year=YEAR)
    assert campaign.deadline == deadline and campaign.reports.count() >= 4
    response = client.post(url, {"year": YEAR, "deadline": deadline.isoformat()})
    page = text(response)
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in page and "existe déjà" in page
    assert ReviewCampaign.objects.filter(contract=world["nantes"]).count() == 1
    # Le lien « Suivi annuel » est dans l'espace personnel.
    my_space = client.get(reverse("www:my_space")).content.decode()
    assert f'href="{url}"' in my_space and "Suivi annuel (bilans)" in my_space
    # Un lecteur voit la campagne et le lien vers les bilans de son partenaire, sans pouvoir ouvrir.
    client.force_login(world["users"]["reader_a"])
    page = text(client.get(url))
    assert f"Bilans {YEAR} de Partenaire A" in page and "Ouvrir une campagne" not in page
    assert "Tableau de complétude" not in page
    assert client.post(url, {"year": 2026, "deadline": deadline.isoformat()}).status_code == 403


# ---------------------------------------------------------------------------------------------
# Cycle de vie d'un bilan
# ---------------------------------------------------------------------------------------------


def test_report_life_cycle(world):
    users = world["users"]
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    report = services.save_report(user=users["editor_a"], report=report, expected_version=1, data=COMPLETE)
    assert report.version == 2 and report.progress_pct == 60 and report.fte_actual == Decimal("0.5")
    # Enregistrer sans rien changer n'écrit rien.
    assert (
        services.save_report(user=users["editor_a"], report=report, expected_version=2, data=COMPLETE).version
        == 2
    )
    report = services.submit_report(user=users["editor_a"], report=report, expected_version=2)
    assert report.state == ReportState.SUBMITTED and report.submitted_by == users["editor_a"]
    with pytest.raises(services.ReviewError) as error:
        services.return_report(user=users["pilot"], report=report, comment="  ")
    assert "compléter" in str(error.value.message_dict["reviewer_comment"])
    assert report_of(campaign, report.commitment).state == ReportState.SUBMITTED
    report = services.return_report(user=users["pilot"], report=report, comment="Ajoutez les chiffres.")
    assert report.state == ReportState.RETURNED and report.reviewer_comment == "Ajoutez les chiffres."
    report = services.save_report(
        user=users["editor_a"],
        report=report,
        expected_version=report.version,
        data=COMPLETE | {"progress_pct": 70},
    )
    report = services.submit_report(user=users["editor_a"], report=report)
    report = services.accept_report(user=users["pilot"], report=report)
    assert report.state == ReportState.ACCEPTED and report.reviewed_by == users["pilot"]
    assert report.progress_pct == 70
    assert report.history.count() >= 7
    with pytest.raises(services.ReviewError, match="accepté"):
        services.save_report(user=users["editor_a"], report=report, expected_version=report.version, data={})


def test_invalid_transitions_are_refused_in_french_and_write_nothing(world):
    users = world["users"]
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])

    with pytest.raises(services.ReviewError, match="Seul un bilan transmis peut être accepté"):
        services.accept_report(user=users["pilot"], report=report)
    with pytest.raises(services.ReviewError, match="Seul un bilan transmis peut être renvoyé"):
        services.return_report(user=users["pilot"], report=report, comment="Non")
    fresh = report_of(campaign, report.commitment)
    assert (fresh.state, fresh.version, fresh.reviewer_comment) == (ReportState.DRAFT, 1, "")
    # Un bilan incomplet ne se transmet pas.
    services.save_report(
        user=users["editor_a"], report=report, expected_version=1, data={"reported_status": ""}
    )
    with pytest.raises(services.ReviewError) as error:
        services.submit_report(user=users["editor_a"], report=report)
    fields = error.value.message_dict
    assert "reported_status" in fields and "progress_pct" in fields and "what_worked" in fields
    assert report_of(campaign, report.commitment).state == ReportState.DRAFT
    # Un engagement déclaré abandonné exige d'expliquer les difficultés.
    current = report_of(campaign, report.commitment)
    current = services.save_report(
        user=users["editor_a"],
        report=current,
        expected_version=current.version,
        data=COMPLETE | {"reported_status": S.ABANDONED},
    )
    with pytest.raises(services.ReviewError) as error:
        services.submit_report(user=users["editor_a"], report=current)
    assert "difficultés" in str(error.value.message_dict["difficulties"])
    # Un état non déclarable, un avancement hors bornes : refusés.
    with pytest.raises(services.ReviewError):
        services.save_report(
            user=users["editor_a"],
            report=current,
            expected_version=current.version,
            data={"reported_status": S.PROPOSED},
        )
    with pytest.raises(services.ReviewError):
        services.save_report(
            user=users["editor_a"],
            report=current,
            expected_version=current.version,
            data={"progress_pct": 140},
        )
    assert report_of(campaign, report.commitment).version == current.version
    # Les rôles : le pilote ne remplit pas le bilan d'un partenaire, le référent ne s'accepte pas.
    with pytest.raises(PermissionDenied):
        services.save_report(user=users["pilot"], report=current, expected_version=current.version, data={})
    with pytest.raises(PermissionDenied):
        services.accept_report(user=users["editor_a"], report=current)
    with pytest.raises(PermissionDenied):
        services.save_report(
            user=users["editor_b"], report=current, expected_version=current.version, data=COMPLETE
        )
    # Une campagne se clôt une fois.
    services.close_campaign(user=users["pilot"], campaign=campaign, confirmed=True)
    with pytest.raises(services.ReviewError, match="n'est pas ouverte"):
        services.close_campaign(user=users["pilot"], campaign=campaign, confirmed=True)
    with pytest.raises(services.ReviewError, match="close"):
        services.submit_report(user=users["editor_a"], report=current)


def test_a_closed_campaign_still_lets_the_pilot_accept_but_not_return(world):
    users = world["users"]
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    report = services.save_report(user=users["editor_a"], report=report, expected_version=1, data=COMPLETE)
    report = services.submit_report(user=users["editor_a"], report=report)
    services.close_campaign(user=users["pilot"], campaign=campaign, confirmed=True)
    report = report_of(campaign, report.commitment)
    with pytest.raises(services.ReviewError, match="close"):
        services.return_report(user=users["pilot"], report=report, comment="Trop tard")
    assert services.accept_report(user=users["pilot"], report=report).state == ReportState.ACCEPTED


def test_a_stale_version_is_a_conflict_and_keeps_the_first_save(world):
    users = world["users"]
    extra_editor = factories.MembershipFactory(
        contract=world["nantes"], partner=world["a"], role=Role.EDITOR
    ).user
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    services.save_report(user=users["editor_a"], report=report, expected_version=1, data=COMPLETE)
    with pytest.raises(services.ReportConflictError) as error:
        services.save_report(
            user=extra_editor, report=report, expected_version=1, data=COMPLETE | {"progress_pct": 10}
        )
    assert "modifié par quelqu'un d'autre" in str(error.value)
    assert ("avancement (%)", "", "60") in error.value.changes
    fresh = report_of(campaign, report.commitment)
    assert fresh.progress_pct == 60 and fresh.version == 2


def test_a_stale_form_gets_a_409_showing_what_changed(client, world):
    users = world["users"]
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    url = reverse("www:review_report", args=[world["nantes"].slug, YEAR, report.pk])
    client.force_login(users["editor_a"])
    form = COMPLETE | {"version": 1, "action": "save", "fte_actual": "0,5"}
    assert client.post(url, form).status_code == 302
    response = client.post(url, form | {"progress_pct": 20})
    assert response.status_code == 409
    page = text(response)
    assert "Conflit de modification" in page and "avancement (%)" in page
    assert 'name="version" value="2"' in response.content.decode()
    assert report_of(campaign, report.commitment).progress_pct == 60


def test_filling_and_submitting_through_the_pages(client, world):
    users, nantes = world["users"], world["nantes"]
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    client.force_login(users["editor_a"])
    listing = text(client.get(reverse("www:review_partner", args=[nantes.slug, YEAR, world["a"].slug])))
    assert f"Mes bilans {YEAR} — Partenaire A" in listing
    assert "Ateliers numériques" in listing and "Permanence emploi" in listing
    assert "Projet en brouillon" not in listing and "Remplir" in listing
    url = reverse("www:review_report", args=[nantes.slug, YEAR, report.pk])
    page = text(client.get(url))
    assert "Où en est l'engagement ?" in page and "Transmettre au pilote" in page
    # Transmettre un bilan incomplet : erreurs en français, rien n'est écrit (pas même le brouillon).
    response = client.post(url, {"version": 1, "action": "submit", "what_worked": "", "progress_pct": "30"})
    page = text(response)
    assert response.status_code == 200 and "Le formulaire contient des erreurs" in page
    assert "Dites en quelques mots ce qui a marché" in page
    fresh = report_of(campaign, report.commitment)
    assert fresh.version == 1 and fresh.progress_pct is None
    response = client.post(url, COMPLETE | {"version": 1, "action": "submit", "fte_actual": "0,5"})
    assert response.status_code == 302
    fresh = report_of(campaign, report.commitment)
    assert fresh.state == ReportState.SUBMITTED and str(fresh.fte_actual) == "0.50"
    # Transmis : le référent lit, ne modifie plus.
    page = text(client.get(url))
    assert "Transmis au pilote" in page and "Transmettre au pilote" not in page
    assert client.post(url, COMPLETE | {"version": fresh.version, "action": "save"}).status_code == 403
    # Le pilote renvoie (commentaire obligatoire), puis accepte.
    client.force_login(users["pilot"])
    page = text(client.get(url))
    assert "Accepter le bilan" in page and "Renvoyer au partenaire" in page
    return_url = reverse("www:review_return", args=[nantes.slug, YEAR, report.pk])
    response = client.post(return_url, {"comment": ""})
    assert response.status_code == 200 and "Le formulaire contient des erreurs" in text(response)
    assert report_of(campaign, report.commitment).state == ReportState.SUBMITTED
    assert client.post(return_url, {"comment": "Précisez le public touché."}).status_code == 302
    client.force_login(users["editor_a"])
    page = text(client.get(url))
    assert "Renvoyé pour complément par le pilote" in page and "Précisez le public touché." in page


# Les rôles du monde (tests/monitoring/test_review_permissions.py en fait sa matrice des droits).
ROLES = ["anonymous", "pilot", "editor_a", "editor_b", "reader_a", "council", "evaluator", "pilot_other"]


def pdf_bytes():
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# ---------------------------------------------------------------------------------------------
# Campagne figée : lecture seule pour tout le monde (sauf un bilan renvoyé, voir test_confirmations)
# ---------------------------------------------------------------------------------------------


def test_a_frozen_campaign_is_read_only_for_everyone(client, world):
    users, slug = world["users"], world["nantes"].slug
    campaign = open_2025(world)
    draft = report_of(campaign, world["commitments"]["a_confirmed"])
    submitted = report_of(campaign, world["commitments"]["a_done"])
    ProgressReport.objects.filter(pk=submitted.pk).update(state=ReportState.SUBMITTED)
    ReviewCampaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.FROZEN)
    draft, submitted = report_of(campaign, draft.commitment), report_of(campaign, submitted.commitment)
    for role in ROLES[1:]:
        user = users[role]
        rights = abilities.report_abilities(user, draft) | {
            k: v for k, v in abilities.report_abilities(user, submitted).items() if v
        }
        # Seul un bilan transmis s'accepte encore (l'instantané, lui, ne change pas).
        expected = ["accept"] if role == "pilot" else []
        assert [k for k, v in rights.items() if v and k != "view"] == expected, role
        campaign_rights = abilities.campaign_abilities(user, draft.campaign)
        assert not campaign_rights["close"] and not campaign_rights["review"]
    with pytest.raises(services.ReviewError, match="figée"):
        services.save_report(user=users["editor_a"], report=draft, expected_version=1, data=COMPLETE)
    with pytest.raises(services.ReviewError, match="figée"):
        services.return_report(user=users["pilot"], report=submitted, comment="Trop tard")
    with pytest.raises(services.ReviewError, match="figée"):
        services.add_attachment(
            user=users["editor_a"],
            report=draft,
            uploaded_file=SimpleUploadedFile("a.pdf", pdf_bytes(), "application/pdf"),
        )
    with pytest.raises(services.ReviewError):
        services.close_campaign(user=users["pilot"], campaign=campaign, confirmed=True)
    client.force_login(users["editor_a"])
    url = reverse("www:review_report", args=[slug, YEAR, draft.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Remplir le bilan" not in text(page)
    response = client.post(url, COMPLETE | {"version": 1, "action": "save"})
    assert response.status_code == 403 and "figée" in text(response)
    client.force_login(users["pilot"])
    assert client.post(reverse("www:review_close", args=[slug, YEAR])).status_code == 403
    assert report_of(campaign, draft.commitment).version == 1
    assert report_of(campaign, submitted.commitment).state == ReportState.SUBMITTED
    assert ReviewCampaign.objects.get(pk=campaign.pk).status == CampaignStatus.FROZEN
    assert not ReportAttachment.objects.exists()


# ---------------------------------------------------------------------------------------------
# Pièces jointes
# ---------------------------------------------------------------------------------------------


def zip_bytes(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_bytes(macro=False):
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    if macro:
        main = "application/vnd.ms-word.document.macroEnabled.main+xml"
    files = {
        "[Content_Types].xml": (
            f'<Types><Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
        ),
        "word/document.xml": "<w:document/>",
    }
    if macro:
        files["word/vbaProject.bin"] = "binaire"
    return zip_bytes(files)


def ods_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.fixture
def draft_report(world):
    campaign = open_2025(world)
    return report_of(campaign, world["commitments"]["a_confirmed"])


def upload(world, report, name, content, content_type="application/pdf"):
    return services.add_attachment(
        user=world["users"]["editor_a"],
        report=report,
        uploaded_file=SimpleUploadedFile(name, content, content_type),
    )


@pytest.mark.parametrize(
    ("name", "content", "kind", "stored_ext"),
    [
        ("bilan 2025.pdf", pdf_bytes(), "application/pdf", "pdf"),
        ("photo.PNG", PNG, "image/png", "png"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "image/jpeg", "jpg"),
        ("compte-rendu.docx", docx_bytes(), "wordprocessingml.document", "docx"),
        ("notes.pdf", docx_bytes(), "wordprocessingml.document", "docx"),  # le contenu fait foi
        ("tableau.ods", ods_bytes(), "opendocument.spreadsheet", "ods"),
    ],
)
def test_accepted_attachments_are_recognised_by_their_content(
    world, draft_report, media, name, content, kind, stored_ext
):
    attachment = upload(world, draft_report, name, content, "application/octet-stream")
    assert kind in attachment.content_type
    assert attachment.file.name.endswith("." + stored_ext)
    assert attachment.size == len(content)
    stored = Path(media) / attachment.file.name
    assert stored.read_bytes() == content
    assert stored.resolve().is_relative_to((Path(media) / "bilans").resolve())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("rapport.pdf", zip_bytes({"rapport.txt": "pas un PDF"})),  # une archive ZIP déguisée
        ("rapport.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200),  # un exécutable Windows
        ("photo.png", b"#!/bin/sh\nrm -rf /\n"),
        ("macro.docx", docx_bytes(macro=True)),
        ("vide.pdf", b""),
    ],
)
def test_forged_or_dangerous_attachments_are_refused(world, draft_report, media, name, content):
    with pytest.raises(services.ReviewError) as error:
        upload(world, draft_report, name, content)
    assert "file" in error.value.message_dict
    assert not ReportAttachment.objects.exists()
    assert not (Path(media) / "bilans").exists() or not any((Path(media) / "bilans").rglob("*.*"))


def test_too_large_attachment_is_refused(world, draft_report, media):
    content = pdf_bytes() + b"0" * services.MAX_ATTACHMENT_BYTES
    with pytest.raises(services.ReviewError, match="trop volumineux"):
        upload(world, draft_report, "gros.pdf", content)
    assert not ReportAttachment.objects.exists()


@pytest.mark.parametrize(
    "name", ["../../../etc/passwd.pdf", "..\\..\\windows\\evil.pdf", "/tmp/../passwd.pdf", "..", "a\x00b.pdf"]
)
def test_attachment_filenames_are_sanitised(world, draft_report, media, name):
    # Un objet fichier brut : Django assainit déjà les noms téléversés, le service ne s'y fie pas.
    raw = io.BytesIO(pdf_bytes())
    raw.name, raw.size = name, len(pdf_bytes())
    attachment = services.add_attachment(
        user=world["users"]["editor_a"], report=draft_report, uploaded_file=raw
    )
    stored = attachment.file.name
    assert ".." not in stored and "\\" not in stored and "\x00" not in stored
    base = stored.rsplit("/", 1)[-1]
    assert stored == f"bilans/{draft_report.campaign.contract_id}/{YEAR}/{draft_report.pk}/{base}"
    assert base.endswith(".pdf")
    assert "/" not in attachment.original_name and "\\" not in attachment.original_name
    assert ".." not in attachment.original_name.replace("...", "")
    assert (Path(media) / stored).resolve().is_relative_to(Path(media).resolve())
    if name.startswith("../../../etc"):
        assert base.startswith("passwd") and attachment.original_name == "passwd.pdf"


def test_upload_through_the_form_and_download_with_rights(client, world, draft_report, media):
    slug, users = world["nantes"].slug, world["users"]
    url = reverse("www:review_report", args=[slug, YEAR, draft_report.pk])
    client.force_login(users["editor_a"])
    fake = SimpleUploadedFile("rapport.pdf", zip_bytes({"x.txt": "zip"}), "application/pdf")
    response = client.post(url, COMPLETE | {"version": 1, "action": "save", "attachment": fake})
    page = text(response)
    assert response.status_code == 200 and "Le formulaire contient des erreurs" in page
    assert "n'est pas accepté" in page
    # Rien n'est écrit : ni la pièce, ni les champs saisis en même temps.
    assert report_of(draft_report.campaign, draft_report.commitment).version == 1
    assert not ReportAttachment.objects.exists()
    good = SimpleUploadedFile("../Bilan final.pdf", pdf_bytes(), "application/pdf")
    response = client.post(url, COMPLETE | {"version": 1, "action": "save", "attachment": good})
    assert response.status_code == 302
    attachment = ReportAttachment.objects.get()
    assert attachment.original_name == "Bilan final.pdf" and attachment.uploaded_by == users["editor_a"]
    download = reverse("www:review_attachment", args=[slug, YEAR, draft_report.pk, attachment.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    for role, expected in [("reader_a", 200), ("evaluator", 200), ("pilot_other", {403, 404})]:
        client.force_login(users[role])
        response = client.get(download)
        if response.streaming:  # lu jusqu'au bout, le téléchargement referme son fichier
            b"".join(response.streaming_content)
        status = response.status_code
        assert status in expected if isinstance(expected, set) else status == expected
    client.logout()
    assert client.get(download).status_code == 302
    # Retirer une pièce : le référent seulement.
    delete = reverse("www:review_attachment_delete", args=[slug, YEAR, draft_report.pk, attachment.pk])
    client.force_login(users["reader_a"])
    assert client.post(delete).status_code == 403
    client.force_login(users["editor_a"])
    assert client.post(delete).status_code == 302
    assert not ReportAttachment.objects.exists()


def test_an_attachment_is_kept_in_the_object_storage_and_downloaded_through_the_rights(
    client, world, draft_report, s3_storage
):
    """Avec le stockage S3 partagé par les serveurs : la pièce va dans le seau (rien sur le disque
    local), revient à l'identique par la plateforme, toujours refusée à qui n'a pas le droit."""
    slug, users = world["nantes"].slug, world["users"]
    url = reverse("www:review_report", args=[slug, YEAR, draft_report.pk])
    client.force_login(users["editor_a"])
    good = SimpleUploadedFile("Bilan final.pdf", pdf_bytes(), "application/pdf")
    response = client.post(url, COMPLETE | {"version": 1, "action": "save", "attachment": good})
    assert response.status_code == 302
    attachment = ReportAttachment.objects.get()
    assert s3_storage.objects() == {attachment.file.name: pdf_bytes()}
    download = reverse("www:review_attachment", args=[slug, YEAR, draft_report.pk, attachment.pk])
    for role in ("editor_a", "reader_a"):
        client.force_login(users[role])
        response = client.get(download)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == pdf_bytes()
        assert int(response["Content-Length"]) == len(pdf_bytes())
    client.force_login(users["pilot_other"])
    assert client.get(download).status_code in {403, 404}
    client.logout()
    assert client.get(download).status_code == 302
    s3_storage.client.delete_object(Bucket="cdv-tests", Key=attachment.file.name)
    client.force_login(users["editor_a"])
    assert client.get(download).status_code == 404  # fichier perdu : 404 clair, pas d'erreur 500
    assert s3_storage.local_files() == []


# ---------------------------------------------------------------------------------------------
# Tableau de complétude
# ---------------------------------------------------------------------------------------------


def set_state(campaign, commitment, state):
    ProgressReport.objects.filter(campaign=campaign, commitment=commitment).update(state=state)


def test_completeness_dashboard_counts_and_lists_late_partners(client, world):
    c = world["commitments"]
    campaign = open_2025(world, opens_on=datetime.date(2025, 12, 1), deadline=datetime.date(2026, 1, 31))
    set_state(campaign, c["a_confirmed"], ReportState.SUBMITTED)
    set_state(campaign, c["a_done"], ReportState.ACCEPTED)
    set_state(campaign, c["b_progress"], ReportState.RETURNED)
    # b_abandoned et l'engagement du bailleur de démonstration restent en brouillon.
    client.force_login(world["users"]["pilot"])
    response = client.get(reverse("www:review_campaign", args=[world["nantes"].slug, YEAR]))
    assert response.status_code == 200
    page = text(response)
    assert f"Bilans {YEAR} : tableau de complétude" in page
    total = campaign.reports.count()
    assert f"2 sur {total}" in page  # transmis ou acceptés
    assert "À examiner (1)" in page and "Ateliers numériques" in page
    # Date limite passée : Partenaire B (renvoyé + brouillon) et le bailleur sont en retard, pas A.
    late_section = page.split("En retard (2 partenaires)")[1].split("Par partenaire")[0]
    assert "Partenaire B" in late_section and "Bailleur Habitat Solidaire" in late_section
    assert "Partenaire A" not in late_section
    assert "Chantiers éducatifs" in late_section and "Navette abandonnée" in late_section
    by_partner = page.split("Par partenaire")[1].split("Par enjeu")[0]
    assert "Partenaire A 2 0 0 1 1 0" in by_partner
    assert "Partenaire B 2 1 1 0 0 2" in by_partner
    by_enjeu = page.split("Par enjeu")[1].split("Par quartier")[0]
    assert "Bilans par enjeu et par état" in by_enjeu
    by_qpv = page.split("Par quartier")[1]
    q0, q2 = world["qpvs"][0], world["qpvs"][2]
    assert f"{q0.name} 1 0 0 1 0 0" in by_qpv
    assert f"{q2.name} 1 0 1 0 0 1" in by_qpv
    assert "Portée générale (tous les quartiers)" in by_qpv
    assert "Clore la campagne" in page


@pytest.mark.parametrize(
    ("role", "status"),
    [("evaluator", 200), ("reader_a", 403), ("editor_a", 403), ("pilot_other", 403), ("anonymous", 302)],
)
def test_dashboard_is_for_the_pilot_and_the_evaluator(client, world, role, status):
    open_2025(world)
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    response = client.get(reverse("www:review_campaign", args=[world["nantes"].slug, YEAR]))
    assert response.status_code == status
    if role == "evaluator":
        assert "Clore la campagne" not in text(response)


def test_dashboard_query_count_does_not_grow_with_the_data(client, world):
    campaign = open_2025(world)
    url = reverse("www:review_campaign", args=[world["nantes"].slug, YEAR])
    client.force_login(world["users"]["pilot"])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    qpvs = list(world["nantes"].qpvs.all()[:5])
    for index in range(30):
        partner = Partner.objects.create(
            name=f"Partenaire en plus {index}", slug=f"partenaire-en-plus-{index}"
        )
        commitment = factories.CommitmentFactory(
            contract=world["nantes"],
            partner=partner,
            status=S.IN_PROGRESS,
            qpvs=qpvs[index % 5 :][:2],
            title="Engagement suivi",
        )
        ProgressReport.objects.create(
            campaign=campaign, commitment=commitment, partner=partner, state=ReportState.SUBMITTED
        )
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200 and "Partenaire en plus 29" in text(response)
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(large) <= 15


# ---------------------------------------------------------------------------------------------
# Relances
# ---------------------------------------------------------------------------------------------


def test_reminder_slots():
    campaign = ReviewCampaign(opens_on=datetime.date(2026, 1, 5), deadline=datetime.date(2026, 3, 31))
    deadline = campaign.deadline

    def slot(days):
        return reminders.reminder_slot(campaign, deadline + datetime.timedelta(days=days))

    assert slot(-7) == "J-7"
    assert slot(-1) == "J-1"
    assert [slot(d) for d in (-8, -6, -3, -2, 0, 2, 3, 7, 9)] == [None] * 9
    assert slot(1) == "retard-semaine-1"
    assert slot(8) == "retard-semaine-2"
    assert slot(15) == "retard-semaine-3"
    opening_late = ReviewCampaign(opens_on=datetime.date(2026, 3, 28), deadline=deadline)
    assert reminders.reminder_slot(opening_late, deadline - datetime.timedelta(days=7)) is None


@pytest.fixture
def reminder_world(world):
    users = world["users"]
    second_editor_a = factories.MembershipFactory(
        contract=world["nantes"], partner=world["a"], role=Role.EDITOR, user__email="second.a@example.org"
    ).user
    inactive = factories.MembershipFactory(
        contract=world["nantes"], partner=world["a"], role=Role.EDITOR, user__email="parti@example.org"
    ).user
    inactive.is_active = False
    inactive.save()
    campaign = open_2025(world, opens_on=datetime.date(2026, 1, 5), deadline=datetime.date(2026, 3, 31))
    # L'ouverture a prévenu les référents (tests/notifications/test_notifications.py) : seules les
    # relances comptent ici.
    mail.outbox.clear()
    c = world["commitments"]
    # B a tout transmis ou fait accepter : ses référents ne sont pas relancés.
    set_state(campaign, c["b_progress"], ReportState.SUBMITTED)
    set_state(campaign, c["b_abandoned"], ReportState.ACCEPTED)
    # A : un bilan renvoyé, un en brouillon.
    set_state(campaign, c["a_done"], ReportState.RETURNED)
    return {"campaign": campaign, "editors_a": {users["editor_a"].email, second_editor_a.email}}


def run(date, *extra):
    out = io.StringIO()
    call_command("send_review_reminders", "--date", date, *extra, stdout=out)
    return out.getvalue()


def test_reminders_reach_the_editors_with_pending_reports_once_a_day(world, reminder_world, media):
    output = run("2026-03-24")  # J-7
    recipients = {m.to[0] for m in mail.outbox}
    assert recipients == reminder_world["editors_a"]  # ni B, ni lecteur, ni compte désactivé
    message = mail.outbox[0]
    assert message.subject.startswith(f"Bilans {YEAR} à transmettre avant le 31/03/2026")
    assert "Ateliers numériques" in message.body and "Permanence emploi" in message.body
    assert "(renvoyé pour complément)" in message.body
    assert reverse("www:review_partner", args=[world["nantes"].slug, YEAR, world["a"].slug]) in message.body
    assert "Chantiers éducatifs" not in message.body
    assert "relance J-7 ; 2 courriel(s) envoyé(s)" in output
    # Le bailleur de démonstration n'a qu'un lecteur : signalé, pas relancé.
    assert "sans référent" in output and "Bailleur Habitat Solidaire" in output
    # Chaque relance envoyée est retenue dans la base (une ligne par personne), rien sur le disque.
    campaign = reminder_world["campaign"]
    sent = SentReminder.objects.filter(key__startswith=f"campagne-{campaign.pk}/J-7/")
    assert {r.recipient.email for r in sent} == reminder_world["editors_a"]
    assert not (Path(media) / "reminders").exists()
    # Seconde exécution le même jour : rien de plus.
    output = run("2026-03-24")
    assert len(mail.outbox) == 2
    assert "0 courriel(s) envoyé(s), 2 déjà envoyé(s) aujourd'hui" in output
    # Un jour sans créneau : rien.
    assert "pas de relance aujourd'hui" in run("2026-03-26")
    assert len(mail.outbox) == 2
    # La veille, puis après la date limite (chaque semaine).
    run("2026-03-30")
    assert len(mail.outbox) == 4 and "demain" in mail.outbox[-1].subject
    run("2026-04-01")
    assert len(mail.outbox) == 6 and "en retard" in mail.outbox[-1].subject
    assert "était le 31 mars 2026" in mail.outbox[-1].body
    run("2026-04-01")
    run("2026-04-05")
    assert len(mail.outbox) == 6
    run("2026-04-08")
    assert len(mail.outbox) == 8


def test_reminders_dry_run_sends_and_records_nothing(world, reminder_world, media):
    output = run("2026-03-24", "--dry-run")
    assert "simulation" in output and "2 courriel(s) à envoyer" in output
    for email in reminder_world["editors_a"]:
        assert email in output
    assert mail.outbox == []
    assert not SentReminder.objects.exists()
    run("2026-03-24")
    assert len(mail.outbox) == 2


def test_no_reminder_once_everything_is_submitted_or_the_campaign_is_closed(world, reminder_world, media):
    campaign = reminder_world["campaign"]
    ProgressReport.objects.filter(campaign=campaign, partner=world["a"]).update(state=ReportState.SUBMITTED)
    run("2026-03-24")
    assert mail.outbox == []
    ProgressReport.objects.filter(campaign=campaign, partner=world["a"]).update(state=ReportState.DRAFT)
    services.close_campaign(user=world["users"]["pilot"], campaign=campaign, confirmed=True)
    assert "Aucune campagne de suivi ouverte" in run("2026-03-24")
    assert mail.outbox == []


def test_reminder_command_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        run("24/03/2026")
