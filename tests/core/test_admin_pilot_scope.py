"""Le back-office d'un pilote se limite à ses contrats (ticket 13, docs/decisions/0006) : listes,
pages par identifiant, ajouts, filtres et listes de choix ne montrent ni ne modifient rien d'un autre
contrat ; comptes et jetons restent aux opérateurs. Le back-office de l'opérateur (toutes les pages,
en français) : tests/core/test_admin.py."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.core.test_admin import our_models
from tests.core.test_admin import templates_not_recorded as admin_templates_not_recorded

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

# La fixture de test_admin.py : les pages rendues sans l'instrumentation des gabarits.
templates_not_recorded = admin_templates_not_recorded


@pytest.fixture
def two_contracts(nantes):
    from cdv.contracts.enums import MilestoneKind
    from cdv.contracts.models import Milestone
    from cdv.plan.models import Enjeu
    from cdv.users.enums import Role
    from tests import factories

    other = factories.ContractFactory(title="Contrat de ville d'Ailleurs", slug="ailleurs")
    enjeu = Enjeu.objects.create(contract=other, number=1, title="Enjeu d'Ailleurs", slug="ailleurs")
    milestone = Milestone.objects.create(
        contract=other, title="Jalon d'Ailleurs", kind=MilestoneKind.OTHER, year=2026
    )
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    pilot.is_staff = True
    pilot.save()
    return {"other": other, "enjeu": enjeu, "milestone": milestone, "pilot": pilot}


def test_a_pilot_administers_only_their_own_contract(client, nantes, two_contracts, templates_not_recorded):
    from cdv.contracts.models import Milestone
    from cdv.plan.models import Enjeu

    other, pilot = two_contracts["other"], two_contracts["pilot"]
    client.force_login(pilot)
    # Son contrat : le travail courant reste possible.
    page = client.get(reverse("admin:contracts_contract_changelist")).content.decode()
    assert nantes.title in page and other.title not in page
    assert client.get(reverse("admin:contracts_contract_change", args=[nantes.pk])).status_code == 200
    enjeux = client.get(reverse("admin:plan_enjeu_changelist")).content.decode()
    assert "Enjeu d&#x27;Ailleurs" not in enjeux and "Enjeu d'Ailleurs" not in enjeux
    # Pas même le nom de l'autre contrat dans les filtres des listes.
    for name in ["plan_enjeu", "contracts_milestone", "indicators_indicatorvalue"]:
        listing = client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert "Ailleurs" not in listing, name
    assert client.get(reverse("admin:plan_objective_add")).status_code == 200
    # L'autre contrat : ni vu, ni modifié, même en donnant son identifiant.
    for url in [
        reverse("admin:contracts_contract_change", args=[other.pk]),
        reverse("admin:plan_enjeu_change", args=[two_contracts["enjeu"].pk]),
        reverse("admin:contracts_milestone_change", args=[two_contracts["milestone"].pk]),
        reverse("admin:contracts_milestone_history", args=[two_contracts["milestone"].pk]),
        reverse("admin:contracts_milestone_delete", args=[two_contracts["milestone"].pk]),
    ]:
        response = client.get(url)
        assert response.status_code in {302, 403, 404}, url
        assert "Ailleurs" not in response.content.decode()
    client.post(
        reverse("admin:contracts_milestone_change", args=[two_contracts["milestone"].pk]),
        {"contract": other.pk, "title": "Piraté", "kind": "AUTRE", "year": 2026},
    )
    assert Milestone.objects.get(pk=two_contracts["milestone"].pk).title == "Jalon d'Ailleurs"
    client.post(reverse("admin:plan_enjeu_add"), {"contract": other.pk, "number": 2, "title": "Ajouté"})
    assert not Enjeu.objects.filter(contract=other, title="Ajouté").exists()
    # L'instance (comptes, jetons) reste aux opérateurs.
    assert client.get(reverse("admin:users_user_changelist")).status_code == 403
    assert client.get(reverse("admin:contracts_contract_add")).status_code == 403


@pytest.mark.demo  # ouvre chaque page d'administration sur les données de démonstration
def test_every_admin_page_a_pilot_may_open_works(client, nantes, two_contracts, templates_not_recorded):
    from cdv.commitments.models import Commitment

    pilot = two_contracts["pilot"]
    client.force_login(pilot)
    assert client.get(reverse("admin:index")).status_code == 200
    for model in our_models():
        request = type("Request", (), {"user": pilot})()
        model_admin = admin.site._registry[model]
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        expected = 200 if model_admin.has_view_permission(request) else 403
        assert client.get(url).status_code == expected, url
        if model_admin.has_add_permission(request):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
            assert client.get(url).status_code == 200, url
    commitment = Commitment.objects.filter(contract=nantes).first()
    page = client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    assert page.status_code == 200
    assert "Enjeu d&#x27;Ailleurs" not in page.content.decode()


def test_a_pilot_cannot_rename_a_partner_shared_with_another_contract(
    client, nantes, two_contracts, templates_not_recorded
):
    from tests import factories

    shared = factories.PartnerFactory(name="Préfecture partagée")
    own = factories.PartnerFactory(name="Association d'ici")
    factories.SignatoryFactory(contract=nantes, partner=shared)
    factories.SignatoryFactory(contract=two_contracts["other"], partner=shared)
    factories.SignatoryFactory(contract=nantes, partner=own)
    stranger = factories.PartnerFactory(name="Organisation d'ailleurs seulement")
    factories.SignatoryFactory(contract=two_contracts["other"], partner=stranger)
    request = type("Request", (), {"user": two_contracts["pilot"]})()
    partner_admin = admin.site._registry[type(shared)]
    assert partner_admin.has_view_permission(request, shared)
    assert not partner_admin.has_change_permission(request, shared)
    assert partner_admin.has_change_permission(request, own)
    assert not partner_admin.has_view_permission(request, stranger)
    client.force_login(two_contracts["pilot"])
    listing = client.get(reverse("admin:partners_partner_changelist")).content.decode()
    assert "Association d" in listing and "ailleurs seulement" not in listing


def test_a_pilot_picks_quarters_among_the_contract_s_own_in_the_back_office(
    client, nantes, two_contracts, templates_not_recorded
):
    """Le sélecteur de QPV d'une action ne liste plus les 1 584 QPV de France (« Bellevue » en donnait 11)."""
    client.force_login(two_contracts["pilot"])
    page = client.get(reverse("admin:plan_action_add")).content.decode()
    options = re.findall(
        r'<option value="\d+"[^>]*>([^<]+)</option>', page.split('name="qpvs"', 1)[1].split("</select>", 1)[0]
    )
    assert len(options) == nantes.qpvs.count() == 15
    assert sum("Bellevue" in o for o in options) == 1
