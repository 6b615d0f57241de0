"""Les pages des actes, rôle par rôle : la page de l'acte d'une ligne, ses téléchargements, le
dépôt de l'acte signé (et sa confirmation de remplacement), le tableau des actes de l'appel (et
la préparation groupée), les modèles d'acte des financeurs."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from docx import Document

from cdv.grants.models import ActTemplate, GrantAct
from cdv.grants.services import acts as services
from cdv.users.enums import Role
from tests.factories.grants import ApplicationFactory, CallFunderFactory, FunderLineFactory
from tests.worlds import built_once, fresh_copy

from .acts_world import build_acts_world
from .instruction_world import member

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        yield build_acts_world()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


def url(world, name, line=None):
    line = line or world.line_a
    return reverse(
        f"www:{name}", args=[world.call.contract.slug, world.call.year, world.application.pk, line.pk]
    )


def sign(world, **extra):
    return {
        "signed_on": timezone.localdate().strftime("%d/%m/%Y"),
        "file": SimpleUploadedFile("signe.pdf", PDF, content_type="application/pdf"),
        **extra,
    }


def test_instructor_prepares_the_act_from_its_page(client, world):
    client.force_login(world.instructor_a)
    page = client.get(url(world, "line_act"))
    assert page.status_code == 200
    assert "Décision attributive (arrêté)" in page.content.decode() and "À préparer" in page.content.decode()
    response = client.post(url(world, "line_act"), follow=True)
    act = GrantAct.objects.get(line=world.line_a)
    body = response.content.decode()
    assert act.reference in body and "Acte préparé" in body  # historique de l'acte
    docx = client.get(url(world, "act_docx"))
    assert docx.status_code == 200 and docx["Content-Disposition"].endswith('.docx"')
    text = " ".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert act.reference in text
    assert client.get(url(world, "act_pdf")).content.startswith(b"%PDF")


def test_the_association_sees_and_downloads_its_act_but_cannot_prepare(client, world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    client.force_login(world.referent)
    page = client.get(url(world, "line_act"))
    assert page.status_code == 200
    assert "Préparer" not in page.content.decode()
    assert client.get(url(world, "act_pdf")).status_code == 200
    assert client.post(url(world, "line_act")).status_code == 403
    assert client.get(url(world, "act_sign")).status_code == 403


def test_another_association_gets_404_everywhere(client, world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    client.force_login(world.other_referent)
    for name in ("line_act", "act_docx", "act_pdf", "act_sign", "act_signed_file"):
        assert client.get(url(world, name)).status_code == 404, name


def test_instructor_of_another_funder_cannot_prepare(client, world):
    client.force_login(world.instructor_b)  # son financeur est sollicité par le dossier : il voit
    assert client.get(url(world, "line_act")).status_code == 200
    assert client.post(url(world, "line_act")).status_code == 403
    assert not GrantAct.objects.filter(line=world.line_a).exists()
    stranger = member(
        world.call.contract, Role.INSTRUCTOR, partner=CallFunderFactory(call=world.call).partner
    )
    client.force_login(stranger)
    assert client.get(url(world, "line_act")).status_code == 404


def test_pilot_reads_but_cannot_prepare(client, world):
    client.force_login(world.pilot)
    assert client.get(url(world, "line_act")).status_code == 200
    assert client.post(url(world, "line_act")).status_code == 403
    assert (
        client.get(reverse("www:call_acts", args=[world.call.contract.slug, world.call.year])).status_code
        == 200
    )
    assert not GrantAct.objects.filter(line=world.line_a).exists()


def test_anonymous_is_sent_to_login(client, world, settings):
    for name in ("line_act", "act_pdf", "act_sign"):
        response = client.get(url(world, name))
        assert response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert client.post(url(world, "line_act")).status_code == 302
    assert not GrantAct.objects.filter(line=world.line_a).exists()


def test_signed_act_upload_then_download_and_replace_with_confirmation(client, world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    client.force_login(world.instructor_a)
    response = client.post(url(world, "act_sign"), sign(world))
    assert response.status_code == 302
    act = GrantAct.objects.get(line=world.line_a)
    assert act.signed_on == timezone.localdate()
    client.force_login(world.referent)
    signed = client.get(url(world, "act_signed_file"))
    assert signed.status_code == 200 and b"".join(signed.streaming_content) == PDF
    client.force_login(world.instructor_a)
    page = client.get(url(world, "act_sign"))
    assert "Un acte signé est déjà déposé" in page.content.decode()
    refused = client.post(url(world, "act_sign"), sign(world))
    assert refused.status_code == 200 and "cochez « Je confirme »" in refused.content.decode()
    replaced = client.post(url(world, "act_sign"), sign(world, confirm_replace="on"))
    assert replaced.status_code == 302


def test_the_signed_act_is_kept_in_the_object_storage_and_downloaded_through_the_rights(
    client, world, s3_storage
):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    client.force_login(world.instructor_a)
    assert client.post(url(world, "act_sign"), sign(world)).status_code == 302
    act = GrantAct.objects.get(line=world.line_a)
    assert s3_storage.objects() == {act.signed_file.name: PDF}
    client.force_login(world.referent)
    signed = client.get(url(world, "act_signed_file"))
    assert signed.status_code == 200 and b"".join(signed.streaming_content) == PDF
    assert signed["Content-Type"] == "application/pdf" and int(signed["Content-Length"]) == len(PDF)
    client.force_login(world.other_referent)
    assert client.get(url(world, "act_signed_file")).status_code == 404
    assert s3_storage.local_files() == []


def test_a_future_signature_date_is_refused_with_a_french_message(client, world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    client.force_login(world.instructor_a)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    response = client.post(url(world, "act_sign"), sign(world, signed_on=tomorrow))
    assert response.status_code == 200
    assert "Date de signature" in response.content.decode() and "dans le futur" in response.content.decode()
    assert GrantAct.objects.get(line=world.line_a).signed_on is None


def test_call_acts_page_is_bounded_and_lists_only_my_funder(client, world, django_assert_max_num_queries):
    for _ in range(32):
        application = ApplicationFactory(call=world.call, decided=True)
        FunderLineFactory(application=application, funder=world.funder_a, voted=True)
        FunderLineFactory(application=application, funder=world.funder_b, voted=True)
    client.force_login(world.instructor_a)
    target = reverse("www:call_acts", args=[world.call.contract.slug, world.call.year])
    with django_assert_max_num_queries(15):
        response = client.get(target)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("À préparer") == 33 and str(world.funder_b.partner) not in body
    client.force_login(world.pilot)
    with django_assert_max_num_queries(15):
        body = client.get(target).content.decode()
    assert body.count("À préparer") == 66 and "Lecture seule" in body


def test_batch_preparation_confirms_then_prepares_every_missing_act(client, world):
    application = ApplicationFactory(call=world.call, decided=True)
    FunderLineFactory(
        application=application, funder=world.funder_a, voted=True, voted_amount=Decimal("30000")
    )
    client.force_login(world.instructor_a)
    target = reverse("www:call_acts", args=[world.call.contract.slug, world.call.year])
    page = client.get(target + "?preparer=tous").content.decode()
    assert "2 actes seront préparés" in page
    assert "1 × Convention" in page and "1 × Décision attributive (arrêté)" in page
    unchecked = client.post(target)
    assert unchecked.status_code == 200 and GrantAct.objects.for_call(world.call).count() == 0
    assert client.post(target, {"confirm": "oui"}).status_code == 302
    assert GrantAct.objects.for_call(world.call).count() == 2
    client.force_login(world.pilot)
    assert client.post(target, {"confirm": "oui"}).status_code == 403


def test_act_templates_list_and_edit_with_conflict(client, world):
    client.force_login(world.instructor_a)
    listing = client.get(reverse("www:act_templates", args=[world.call.contract.slug]))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert str(world.funder_a.partner) in body and str(world.funder_b.partner) not in body
    edit = reverse("www:act_template_edit", args=[world.call.contract.slug, world.funder_a.partner.slug])
    assert client.post(edit, {"reference_prefix": "NM", "place": "Nantes"}).status_code == 302
    template = ActTemplate.objects.get(partner=world.funder_a.partner)
    client.force_login(world.pilot)
    assert client.post(edit, {"version": template.version, "place": "Rezé"}).status_code == 302
    client.force_login(world.instructor_a)
    conflict = client.post(edit, {"version": template.version, "place": "Orvault"})
    assert conflict.status_code == 409 and "Rezé" in conflict.content.decode()
    other = reverse("www:act_template_edit", args=[world.call.contract.slug, world.funder_b.partner.slug])
    assert client.get(other).status_code == 404
    client.force_login(world.referent)
    assert client.get(reverse("www:act_templates", args=[world.call.contract.slug])).status_code == 404


def test_who_takes_part_in_the_instruction_reads_the_act_without_preparing(client, world):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    qpv = world.application.qpvs.get()
    contract = world.call.contract
    for user in (member(contract, Role.CORRESPONDENT, qpv=qpv), member(contract, Role.COMMITTEE_MEMBER)):
        client.force_login(user)
        assert client.get(url(world, "act_pdf")).status_code == 200
        assert client.post(url(world, "line_act")).status_code == 403


def test_the_act_page_is_bounded(client, world, django_assert_max_num_queries):
    services.prepare_act(user=world.instructor_a, line=world.line_a)
    client.force_login(world.instructor_a)
    with django_assert_max_num_queries(20):
        assert client.get(url(world, "line_act")).status_code == 200


def test_an_act_signed_outside_the_platform_offers_no_missing_download(client, world):
    """Un acte signé sans fichier déposé (reprise, démonstration) : la page le dit, et n'offre pas
    de télécharger un acte signé qui n'existe pas."""
    from tests.factories.grants import GrantActFactory

    GrantActFactory(line=world.line_a, signed_on=timezone.localdate())
    client.force_login(world.instructor_a)
    page = client.get(url(world, "line_act")).content.decode()
    assert "l'acte signé n'a pas été déposé sur la plateforme" in page
    assert "déposé le )" not in page
    assert url(world, "act_signed_file") not in page
