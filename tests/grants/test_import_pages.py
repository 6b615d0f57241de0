"""L'import de Dauphin à l'écran : le pilote téléverse l'export, règle les colonnes, voit l'aperçu
(ou chaque erreur par ligne et colonne), confirme ; les autres sont refusés."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cdv.grants.enums import EventKind
from cdv.grants.models import Application, ApplicationEvent, FunderLine
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories

from .dauphin_world import CSV, XLSX, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world()


def url(world):
    return reverse("www:call_import", kwargs={"slug": world.contract.slug, "year": world.call.year})


def text(response):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def upload(client, world, path=CSV, name=None, content=None):
    data = content if content is not None else path.read_bytes()
    return client.post(url(world), {"fichier": SimpleUploadedFile(name or path.name, data)})


def test_the_pilot_uploads_previews_confirms_and_sees_the_result(client, world):
    client.force_login(world.pilot)
    assert client.get(url(world)).status_code == 200

    response = upload(client, world)
    assert response.status_code == 302
    preview_url = response["Location"]
    token = preview_url.split("fichier=")[1]

    preview = client.get(preview_url)
    assert preview.status_code == 200
    page = text(preview)
    # Colonnes reconnues d'après les intitulés de Dauphin, proposées dans le formulaire.
    assert preview.context["form"].data["col_numero"] == "N° dossier"
    assert preview.context["form"].data["col_montant_vote"] == "Montant voté"
    assert "Simulation, rien n'a été enregistré : 4 dossiers seraient créés" in page
    assert "Parole Commune (test import)" in page  # association à créer
    assert "DA-0001" in page and "Je confirme l'import" in page
    assert not Application.objects.filter(call=world.call).exists()

    fields = dict(preview.context["form"].confirm_fields())
    # Sans la case cochée, rien n'est fait.
    refused = client.post(url(world), {**fields, "fichier": token, "empreinte": token})
    assert refused.status_code == 400
    assert "Cochez « Je confirme l'import »" in text(refused)
    assert not Application.objects.filter(call=world.call).exists()

    done = client.post(url(world), {**fields, "fichier": token, "empreinte": token, "confirm": "oui"})
    assert done.status_code == 302
    assert done["Location"] == reverse(
        "www:call", kwargs={"slug": world.contract.slug, "year": world.call.year}
    )
    assert Application.objects.filter(call=world.call).count() == 4
    imported = ApplicationEvent.objects.filter(application__call=world.call, kind=EventKind.IMPORTED)
    assert imported.count() == 4 and {e.actor for e in imported} == {world.pilot}
    result = text(client.get(done["Location"]))
    assert "Import terminé : 4 dossiers créés" in result
    assert "3 associations créées" in result
    # Le fichier n'est plus gardé une fois importé.
    assert client.get(preview_url).status_code == 404


def test_reimporting_the_same_export_on_screen_has_nothing_to_do(client, world):
    client.force_login(world.pilot)
    first = client.get(upload(client, world)["Location"])
    token = first.context["token"]
    fields = dict(first.context["form"].confirm_fields())
    client.post(url(world), {**fields, "fichier": token, "empreinte": token, "confirm": "oui"})

    again = client.get(upload(client, world)["Location"])

    assert "0 dossier serait créé, 0 modifié, 4 inchangés" in text(again)
    assert "Rien à importer" in text(again)


def test_the_mapping_form_chooses_another_column(client, world):
    client.force_login(world.pilot)
    preview_url = upload(client, world)["Location"]
    # « Montant proposé » pris pour le montant sollicité : les montants changent dans l'aperçu.
    response = client.get(
        preview_url,
        {
            **_detected(client, preview_url),
            "col_montant_sollicite": "Montant proposé",
            "col_montant_propose": "",
        },
    )
    assert response.status_code == 422  # DA-0001 / Ville : montant proposé vide → montant sollicité manquant
    assert (3, "Montant proposé", "montant sollicité manquant.") in response.context["report"].error_details
    # Une même colonne choisie deux fois : refusé dans le formulaire, sans aperçu.
    twice = client.get(
        preview_url, {**_detected(client, preview_url), "col_montant_sollicite": "Montant proposé"}
    )
    assert "la colonne « Montant proposé » est choisie deux fois" in text(twice)
    assert twice.context["report"] is None


def _detected(client, preview_url):
    """Les colonnes proposées, et le fichier (l'adresse de l'aperçu le porte dans sa requête)."""
    response = client.get(preview_url)
    return {**dict(response.context["form"].confirm_fields()), "fichier": response.context["token"]}


def test_errors_are_listed_by_row_and_column_and_nothing_can_be_confirmed(client, world):
    client.force_login(world.pilot)
    bad = CSV.read_bytes().replace("Etat - Politique de la ville;Voté".encode(), "Région;Voté".encode())
    response = client.get(upload(client, world, content=bad)["Location"])
    assert response.status_code == 422
    page = text(response)
    assert "Import refusé" in page
    assert "« Région » n'est pas un financeur de l'appel" in page
    assert (2, "Financeur", response.context["report"].error_details[0][2]) == response.context[
        "report"
    ].error_details[0]
    assert "Je confirme l'import" not in page
    assert not Application.objects.filter(call=world.call).exists()


def test_an_xlsx_export_goes_through_the_same_flow(client, world):
    client.force_login(world.pilot)
    preview = client.get(upload(client, world, path=XLSX)["Location"])
    assert preview.status_code == 200
    assert "2 dossiers seraient créés" in text(preview)


def test_a_file_that_is_not_a_spreadsheet_is_refused_at_upload(client, world):
    client.force_login(world.pilot)
    response = upload(client, world, name="export.csv", content=b"%PDF-1.4 pas un tableau")
    assert response.status_code == 422
    assert "ni un CSV ni un classeur XLSX" in text(response)


def test_a_file_changed_since_the_preview_is_refused(client, world):
    client.force_login(world.pilot)
    preview = client.get(upload(client, world)["Location"])
    token = preview.context["token"]
    fields = dict(preview.context["form"].confirm_fields())
    other = "0" * 64
    response = client.post(url(world), {**fields, "fichier": token, "empreinte": other, "confirm": "oui"})
    assert response.status_code == 409
    assert not Application.objects.filter(call=world.call).exists()


def test_the_preview_keeps_a_bounded_number_of_queries(
    client, world, django_assert_max_num_queries, tmp_path
):
    header = CSV.read_text(encoding="utf-8-sig").splitlines()[0]
    rows = [
        f"DA-{n:04d};Projet {n};Association {n} (test import);;;Testville;Voté;1 000;;1 000;06/02/2031;"
        f"14/11/2030;QN09898M;;;"
        for n in range(120)
    ]
    content = "\n".join([header, *rows]).encode()
    client.force_login(world.pilot)
    preview_url = upload(client, world, content=content, name="gros.csv")["Location"]
    with django_assert_max_num_queries(25):
        response = client.get(preview_url)
    assert "120 dossiers seraient créés" in text(response)


def test_anonymous_people_are_sent_to_log_in(client, world, settings):
    response = client.get(url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse(settings.LOGIN_URL) if ":" in settings.LOGIN_URL else settings.LOGIN_URL
    )


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.APPLICANT, Role.COMMITTEE_MEMBER])
def test_other_roles_are_forbidden(client, world, role):
    partner = world.city.partner if role == Role.INSTRUCTOR else factories.PartnerFactory()
    member = factories.MembershipFactory(contract=world.contract, role=role, partner=partner).user
    client.force_login(member)
    assert client.get(url(world)).status_code == 403
    response = client.post(url(world), {"fichier": SimpleUploadedFile("d.csv", CSV.read_bytes())})
    assert response.status_code == 403
    assert not Application.objects.filter(call=world.call).exists()


def test_a_call_in_preparation_is_invisible_to_non_pilots(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world(draft=True)
    client.force_login(factories.UserFactory())
    assert client.get(url(world)).status_code == 404


def test_an_archived_call_cannot_be_imported_into(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world(archived=True)
    client.force_login(world.pilot)
    assert client.get(url(world)).status_code == 403


def test_the_pilot_of_another_contract_cannot_read_a_stored_file(client, world):
    client.force_login(world.pilot)
    token = upload(client, world)["Location"].split("fichier=")[1]
    other = build_world_other()
    client.force_login(other.pilot)
    other_url = reverse("www:call_import", kwargs={"slug": other.contract.slug, "year": other.call.year})
    assert client.get(other_url, {"fichier": token}).status_code == 404
    assert not FunderLine.objects.filter(application__call=world.call).exists()
    assert Partner.objects.filter(name="Parole Commune (test import)").count() == 0


def build_world_other():
    contract = factories.ContractFactory()
    call = factories.CallFactory(contract=contract, year=2032)
    pilot = factories.MembershipFactory(contract=contract, role="PILOTE").user

    class Other:
        pass

    other = Other()
    other.contract, other.call, other.pilot = contract, call, pilot
    return other
