"""Un nouveau contrat en quelques minutes : référentiel national des EPCI, service, page de
l'opérateur, commande, et cloisonnement du pilote du nouveau contrat (pages, back-office, API)."""

import csv
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from cdv.contracts.enums import ContractStatus, PlanStart, SignatoryKind, UsualSignatory
from cdv.contracts.models import Contract
from cdv.contracts.services import create_contract
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective
from cdv.territories.models import Territory
from cdv.users.enums import Role
from cdv.users.models import Invitation, Membership

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

CARENE = "244400644"
RENNES = "243500139"


def reference_rows(name):
    with open(Path(settings.REFERENCE_DATA_DIR) / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_qpvs(siren):
    """Les QPV 2024 dont une commune est membre de l'EPCI, d'après les deux fichiers livrés."""
    row = next(r for r in reference_rows("epci_france.csv") if r["siren_epci"] == siren)
    members = set(row["insee_com"].split(";")) | set(filter(None, row["anciens_insee_com"].split(";")))
    return {
        r["code_qp"]
        for r in reference_rows("qpv2024_france_liste.csv")
        if members & set(r["insee_com"].split(";"))
    }


def make(operator, **overrides):
    arguments = {
        "operator": operator,
        "epci_code": CARENE,
        "title": "Contrat de ville de la CARENE 2024-2030",
        "start_year": 2024,
        "end_year": 2030,
        "signatory_kinds": list(UsualSignatory.values),
        "plan_start": PlanStart.EMPTY,
        "pilot_email": "Pilote@Carene.example",
    }
    arguments.update(overrides)
    return create_contract(**arguments)


# --- référentiel national -------------------------------------------------------------------------


def test_every_epci_of_france_is_loaded_and_qpv_outside_loire_atlantique_are_linked_to_their_epci():
    assert Territory.objects.epcis().count() == len(reference_rows("epci_france.csv")) == 1255
    assert Territory.objects.epcis().get(code=RENNES).name == "Rennes Métropole"
    rennes = set(Territory.objects.qpvs().in_epci(RENNES).values_list("code", flat=True))
    assert rennes == expected_qpvs(RENNES) and len(rennes) == 5
    assert Territory.objects.qpvs().in_epci(CARENE).count() == 3
    # Un QPV décrit avec le code d'une ancienne commune (Pierrefitte, déléguée de Saint-Denis en 2025).
    assert Territory.objects.qpvs().in_epci("200054781").filter(code="QN09336I").exists()
    # Nantes garde ses 15 QPV, reliés par leurs communes.
    assert Territory.objects.qpvs().in_epci("244400404").count() == 15


# --- le service -----------------------------------------------------------------------------------


def test_a_contract_is_created_with_its_qpv_signatories_and_an_invited_pilot(admin_user, nantes):
    prefecture = Partner.objects.get(name="État — Préfecture de la Loire-Atlantique")
    department = Partner.objects.get(name="Département de Loire-Atlantique")
    partners_before = Partner.objects.count()
    contract, link = make(admin_user)
    assert contract.status == ContractStatus.PREPARING
    assert contract.epci.code == CARENE and contract.reference == contract.epci
    assert set(contract.qpvs.values_list("code", flat=True)) == expected_qpvs(CARENE)
    assert contract.qpvs.count() == 3
    names = set(contract.signatories.values_list("partner__name", flat=True))
    assert names == {
        "État — Préfecture de la Loire-Atlantique",
        "CA de la Région Nazairienne et de l'Estuaire (CARENE)",
        "Ville de Saint-Nazaire",
        "Département de Loire-Atlantique",
        "Région Pays de la Loire",
        "Caisse d'allocations familiales de Loire-Atlantique",
        "France Travail",
    }
    assert set(contract.signatories.values_list("kind", flat=True)) == {SignatoryKind.SIGNATORY}
    # L'État et le Département de Nantes sont repris, pas dupliqués.
    assert contract.signatories.filter(partner=prefecture).exists()
    assert contract.signatories.filter(partner=department).exists()
    assert Partner.objects.count() == partners_before + 3  # CARENE, Saint-Nazaire, France Travail
    assert Partner.objects.get(name__startswith="CA de la Région Nazairienne").siren == CARENE
    assert not Enjeu.objects.filter(contract=contract).exists()
    # Le premier pilote reçoit un lien absolu ; il n'a encore aucun rôle.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pilote@carene.example"]
    assert link.startswith("http") and link in mail.outbox[0].body
    assert Invitation.objects.get(contract=contract).role == Role.PILOT
    assert not Membership.objects.filter(contract=contract).exists()
    # Nantes n'a pas bougé.
    assert nantes.qpvs.count() == 15


def test_the_pilot_who_accepts_is_staff_never_superuser(client, admin_user):
    contract, link = make(admin_user)
    response = client.post(
        re.sub(r"^https?://[^/]+", "", link),
        {
            "first_name": "Pia",
            "last_name": "Lote",
            "password1": "Un-mot-de-passe-solide-42",
            "password2": "Un-mot-de-passe-solide-42",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    membership = Membership.objects.get(contract=contract)
    assert membership.role == Role.PILOT
    assert membership.user.is_staff and not membership.user.is_superuser


def test_a_contract_outside_loire_atlantique_names_its_prefecture_from_the_referential(admin_user):
    contract, _ = make(
        admin_user,
        epci_code=RENNES,
        title="Contrat de ville de Rennes Métropole",
        signatory_kinds=[UsualSignatory.PREFECTURE, UsualSignatory.REGION],
    )
    assert set(contract.qpvs.values_list("code", flat=True)) == expected_qpvs(RENNES)
    assert set(contract.signatories.values_list("partner__name", flat=True)) == {
        "État — Préfecture d'Ille-et-Vilaine",
        "Région Bretagne",
    }


def test_the_plan_can_start_from_the_four_national_priorities(admin_user):
    from cdv.contracts.nantes import ENJEUX

    contract, _ = make(admin_user, plan_start=PlanStart.NATIONAL)
    assert list(contract.enjeux.values_list("number", "title")) == [(n, t) for n, t, _ in ENJEUX]
    assert not Objective.objects.filter(enjeu__contract=contract).exists()


def test_the_plan_can_copy_the_structure_of_another_contract_without_its_quarters_or_commitments(
    admin_user, nantes
):
    from cdv.commitments.models import Commitment

    source_actions = Action.objects.for_contract(nantes)
    nantes_before = (source_actions.count(), Commitment.objects.filter(contract=nantes).count())
    contract, _ = make(admin_user, plan_start=PlanStart.COPY, copy_from=nantes)
    copied = Action.objects.for_contract(contract)
    assert contract.enjeux.count() == nantes.enjeux.count()
    assert (
        Objective.objects.filter(enjeu__contract=contract).count()
        == Objective.objects.filter(enjeu__contract=nantes).count()
    )
    assert copied.count() == source_actions.count() > 0
    assert set(copied.values_list("code", "title")) == set(source_actions.values_list("code", "title"))
    assert not copied.exclude(qpvs=None).exists()
    assert not copied.exclude(pilot_partner=None).exists()
    assert not Commitment.objects.filter(contract=contract).exists()
    assert (source_actions.count(), Commitment.objects.filter(contract=nantes).count()) == nantes_before


def test_communes_chosen_by_insee_code_give_their_epci_and_qpv(admin_user):
    contract, _ = make(admin_user, epci_code="", commune_codes=["44184"])
    assert contract.epci.code == CARENE and contract.qpvs.count() == 3


def test_bad_input_is_refused_in_french_and_creates_nothing(admin_user):
    count = Contract.objects.count()
    with pytest.raises(ValidationError) as error:
        make(admin_user, epci_code="123456789")
    assert "123456789" in error.value.message_dict["epci_code"][0]
    with pytest.raises(ValidationError) as error:
        make(admin_user, plan_start=PlanStart.COPY)
    assert "copy_from" in error.value.message_dict
    with pytest.raises(ValidationError):
        make(admin_user, start_year=2030, end_year=2024)
    assert Contract.objects.count() == count and not mail.outbox


def test_only_an_operator_creates_a_contract(nantes):
    from tests import factories

    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    pilot.is_staff = True
    pilot.save()
    with pytest.raises(PermissionDenied):
        make(pilot)


# --- la page de l'opérateur -----------------------------------------------------------------------

URL = "/exploitation/contrats/nouveau/"


def form_data(**overrides):
    data = {
        "epci": "CA de la Région Nazairienne et de l'Estuaire (CARENE) (244400644)",
        "commune_codes": "",
        "title": "Contrat de ville de la CARENE 2024-2030",
        "start_year": "2024",
        "end_year": "2030",
        "signatory_kinds": ["PREFECTURE", "EPCI", "COMMUNES"],
        "landlords": "Silène\nEspace Domicile",
        "others": "",
        "plan_start": "national",
        "copy_from": "",
        "pilot_email": "pilote@carene.example",
    }
    data.update(overrides)
    return data


def test_the_operator_screen_previews_then_creates(client, admin_user):
    client.force_login(admin_user)
    assert reverse("www:new_contract") == URL
    page = client.get(URL)
    assert page.status_code == 200 and "244400644" in page.content.decode()
    preview = client.post(URL, {**form_data(), "action": "preview"})
    text = preview.content.decode()
    assert preview.status_code == 200 and "Vérifier le contrat à créer" in text
    for qpv in Territory.objects.qpvs().in_epci(CARENE):
        assert qpv.name in text
    assert "Ville de Saint-Nazaire" in text and "Silène" in text
    # La préfecture de Nantes est reprise ; Silène, bailleur tapé à la main, sera créé.
    assert re.search(r"Préfecture de la Loire-Atlantique</th>[^\n]*déjà présent, repris", text)
    assert re.search(r"Silène</th>[^\n]*nouveau", text)
    assert not Contract.objects.filter(epci__code=CARENE).exists() and not mail.outbox
    response = client.post(URL, {**form_data(), "action": "create"}, follow=True)
    assert response.status_code == 200 and "créé (en préparation) avec 3 QPV" in response.content.decode()
    contract = Contract.objects.get(epci__code=CARENE)
    assert contract.qpvs.count() == 3 and contract.enjeux.count() == 4
    assert contract.signatories.filter(partner__name="Silène", partner__kind="BAILLEUR").exists()
    assert len(mail.outbox) == 1 and "http://testserver/invitation/" in mail.outbox[0].body


def test_the_screen_keeps_a_bounded_number_of_queries(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200
    data = {**form_data(signatory_kinds=list(UsualSignatory.values)), "action": "preview"}
    with django_assert_max_num_queries(40):
        assert client.post(URL, data).status_code == 200


def test_only_an_operator_finds_the_screen_in_the_menu(client, admin_user, nantes):
    from tests import factories

    client.force_login(admin_user)
    assert f'href="{URL}"' in client.get("/").content.decode()
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    pilot.is_staff = True
    pilot.save()
    client.force_login(pilot)
    assert f'href="{URL}"' not in client.get("/").content.decode()


def test_the_screen_explains_an_unknown_epci(client, admin_user):
    client.force_login(admin_user)
    response = client.post(URL, {**form_data(epci="Nulle part"), "action": "preview"})
    assert response.status_code == 422
    assert "EPCI introuvable" in response.content.decode()


def test_the_screen_is_refused_to_anyone_but_an_operator(client, nantes):
    from tests import factories

    assert client.get(URL).status_code == 302  # connexion d'abord
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    pilot.is_staff = True
    pilot.save()
    client.force_login(pilot)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {**form_data(), "action": "create"}).status_code == 403
    assert not Contract.objects.filter(epci__code=CARENE).exists()


# --- la commande ----------------------------------------------------------------------------------


def test_the_command_creates_a_contract(admin_user, capsys):
    call_command(
        "create_contract",
        "--epci",
        CARENE,
        "--title",
        "Contrat de ville de la CARENE",
        "--pilot-email",
        "pilote@carene.example",
        "--plan",
        "national",
    )
    contract = Contract.objects.get(epci__code=CARENE)
    assert contract.qpvs.count() == 3 and contract.enjeux.count() == 4
    assert contract.signatories.count() == 7
    assert "3 QPV" in capsys.readouterr().out
    assert len(mail.outbox) == 1


# --- cloisonnement : le pilote du nouveau contrat ne voit ni ne change Nantes ------------------------


@pytest.fixture
def carene_pilot(admin_user):
    """Le second contrat tel qu'un opérateur le crée sur sa page (plan vide), et son pilote tel qu'il
    suit le lien reçu par courriel pour choisir son mot de passe."""
    from django.test import Client

    operator = Client()
    operator.force_login(admin_user)
    created = operator.post(URL, {**form_data(plan_start="empty"), "action": "create"})
    assert created.status_code == 302, created.content.decode()[:2000]
    contract = Contract.objects.get(epci__code=CARENE)
    assert contract.qpvs.count() == 3 and contract.signatories.count() == 5
    assert not Enjeu.objects.filter(contract=contract).exists()
    link = re.search(r"http://testserver(/invitation/\S+/)", mail.outbox[-1].body)[1]
    newcomer = Client()
    password = "Un-mot-de-passe-solide-42"
    accepted = newcomer.post(
        link,
        {"first_name": "Camille", "last_name": "Nazairienne", "password1": password, "password2": password},
    )
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    user = Membership.objects.get(contract=contract, role=Role.PILOT).user
    assert user.email == "pilote@carene.example" and user.is_staff and not user.is_superuser
    return contract, user


def test_the_new_pilot_works_on_their_contract(client, carene_pilot):
    contract, pilot = carene_pilot
    client.force_login(pilot)
    assert client.get(reverse("www:dashboard", args=[contract.slug])).status_code == 200
    assert client.get(reverse("www:invitations", args=[contract.slug])).status_code == 200
    assert client.get(reverse("admin:contracts_contract_change", args=[contract.pk])).status_code == 200


def test_the_new_pilot_sees_no_internal_page_of_nantes(client, carene_pilot, nantes):
    _, pilot = carene_pilot
    client.force_login(pilot)
    slug = nantes.slug
    partner = nantes.signatories.first().partner
    for url in [
        reverse("www:dashboard", args=[slug]),
        reverse("www:invitations", args=[slug]),
        reverse("www:audit", args=[slug]),
        reverse("www:moderation", args=[slug]),
        reverse("www:review_campaigns", args=[slug]),
        reverse("www:review_campaign", args=[slug, 2025]),
        reverse("www:review_partner", args=[slug, 2025, partner.slug]),
        reverse("www:evaluation", args=[slug, "mi-parcours"]),
        reverse("www:commitment_create", args=[slug, partner.slug]),
        reverse("www:meeting_create", args=[slug]),
    ]:
        assert client.get(url).status_code in {302, 403, 404}, url
    before = nantes.enjeux.count(), Membership.objects.filter(contract=nantes).count()
    client.post(reverse("www:invitations", args=[slug]), {"email": "x@example.org", "role": Role.PILOT})
    assert (nantes.enjeux.count(), Membership.objects.filter(contract=nantes).count()) == before
    assert not Invitation.objects.filter(contract=nantes, email="x@example.org").exists()


def test_the_new_pilot_sees_nothing_of_nantes_in_the_admin(client, carene_pilot, nantes):
    contract, pilot = carene_pilot
    client.force_login(pilot)
    listing = client.get(reverse("admin:contracts_contract_changelist")).content.decode()
    assert contract.title in listing and "Nantes" not in listing
    # Son plan, vide, commence sur la plateforme ; le back-office ne montre que lui.
    created = client.post(
        reverse("www:plan_enjeu_create", args=[contract.slug]), {"title": "Tranquillité publique"}
    )
    assert created.status_code == 302
    enjeux = client.get(reverse("admin:plan_enjeu_changelist")).content.decode()
    assert "Tranquillité publique" in enjeux and "Nantes" not in enjeux
    assert "Emploi et activité économique" not in enjeux  # un enjeu de Nantes
    nantes_enjeu = nantes.enjeux.first()
    for url in [
        reverse("admin:contracts_contract_change", args=[nantes.pk]),
        reverse("admin:plan_enjeu_change", args=[nantes_enjeu.pk]),
        reverse("admin:contracts_signatory_change", args=[nantes.signatories.first().pk]),
        reverse("admin:contracts_contract_history", args=[nantes.pk]),
    ]:
        response = client.get(url)
        assert response.status_code in {302, 403, 404}, url
    client.post(
        reverse("admin:plan_enjeu_change", args=[nantes_enjeu.pk]),
        {"contract": nantes.pk, "number": nantes_enjeu.number, "title": "Piraté", "slug": "pirate"},
    )
    nantes_enjeu.refresh_from_db()
    assert nantes_enjeu.title != "Piraté"
    assert client.get(reverse("admin:contracts_contract_add")).status_code == 403


def test_the_new_pilot_reads_nothing_internal_of_nantes_through_the_api(client, carene_pilot, nantes):
    from cdv.users.services import create_api_token

    _, pilot = carene_pilot
    headers = {"HTTP_AUTHORIZATION": "Bearer " + create_api_token(user=pilot, name="essai")[1]}
    base = f"/api/v1/contracts/{nantes.slug}"
    assert client.get(f"{base}/evaluations/MI_PARCOURS", **headers).status_code in {403, 404}
    partner = nantes.signatories.first().partner
    objective = Objective.objects.filter(enjeu__contract=nantes).first()
    body = {
        "partner": partner.slug,
        "objective": f"{objective.enjeu.number}.{objective.number}",
        "title": "Créé par un pilote d'ailleurs",
        "scope": "CONTRAT",
    }
    response = client.post(f"{base}/commitments", body, content_type="application/json", **headers)
    assert response.status_code in {403, 404}
    from cdv.commitments.models import Commitment

    assert not Commitment.objects.filter(title="Créé par un pilote d'ailleurs").exists()
    # Les engagements de Nantes : le pilote d'ailleurs n'en lit que ce que lit le public.
    public = client.get(f"{base}/commitments", {"limit": 100}).json()
    seen = client.get(f"{base}/commitments", {"limit": 100}, **headers).json()
    assert seen == public and public["count"] < Commitment.objects.filter(contract=nantes).count()
