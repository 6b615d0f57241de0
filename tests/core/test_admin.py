import re

import pytest
from django.contrib import admin
from django.urls import reverse

from cdv.contracts.models import Contract
from cdv.territories.models import Qpv

pytestmark = [pytest.mark.django_db, pytest.mark.reference]  # recherche parmi les QPV réels

OUR_APPS = {
    "users",
    "territories",
    "partners",
    "contracts",
    "plan",
    "commitments",
    "indicators",
    "monitoring",
    "grants",
}


@pytest.fixture
def templates_not_recorded(monkeypatch):
    """Les gabarits rendus comme en production, sans l'instrumentation de la suite de tests
    (``setup_test_environment``) qui signale chaque gabarit rendu, jusqu'à chaque ``<option>``
    d'une liste de choix, et en copie le contexte pour ``response.context`` / ``response.templates``,
    que ces tests ne lisent pas : les pages et leur contenu sont les mêmes, avec 40 % de calcul en
    moins pour les quelque 250 pages d'administration que ce fichier ouvre."""
    from django.template.base import Template
    from django.test.utils import _TestState

    monkeypatch.setattr(Template, "_render", _TestState.saved_data.template_render)


def our_models():
    return [m for m in admin.site._registry if m._meta.app_label in OUR_APPS]


def test_every_domain_model_is_in_the_admin():
    from django.apps import apps

    registered = set(our_models())
    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS and not model.__name__.startswith("Historical"):
            assert model in registered, model.__name__


@pytest.mark.parametrize("page", ["changelist", "add"])
def test_every_admin_page_opens_in_french(client, admin_user, page, templates_not_recorded):
    client.force_login(admin_user)
    for model in our_models():
        request = type("Request", (), {"user": admin_user})()
        if page == "add" and not admin.site._registry[model].has_add_permission(request):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}")
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="fr"' in response.content.decode(), url


def test_admin_search_and_filters(client, admin_user, templates_not_recorded):
    client.force_login(admin_user)
    response = client.get(reverse("admin:territories_qpv_changelist"), {"q": "Malakoff"})
    assert "QN04413M" in response.content.decode()
    response = client.get(reverse("admin:territories_qpv_changelist"), {"status": "NOUVEAU"})
    assert response.status_code == 200


def test_change_pages_open_for_reference_records(client, admin_user, nantes, templates_not_recorded):
    client.force_login(admin_user)
    for url in [
        reverse("admin:contracts_contract_change", args=[nantes.pk]),
        reverse("admin:territories_qpv_change", args=[Qpv.objects.get(code="QN04413M").pk]),
        reverse("admin:contracts_contract_history", args=[nantes.pk]),
    ]:
        assert client.get(url).status_code == 200, url


def test_an_admin_edit_is_recorded_in_history_with_its_author(client, admin_user, nantes):
    client.force_login(admin_user)
    url = reverse("admin:partners_partner_change", args=[nantes.signatories.first().partner.pk])
    partner = nantes.signatories.first().partner
    form = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update({"website": "https://exemple.fr/", "member_of": [], "qpvs": []})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    last = partner.history.latest()
    assert last.website == "https://exemple.fr/"
    assert last.history_user == admin_user
    assert Contract.history.filter(slug=nantes.slug).exists()


# --- le back-office d'un pilote se limite à ses contrats (ticket 13) -------------------------------


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


def test_the_back_office_speaks_french_everywhere(client, admin_user, templates_not_recorded):
    """Plus de « AXES », « Tasks Database Backend / Task Results » ni de « Ajout de objectif »."""
    client.force_login(admin_user)
    index = client.get(reverse("admin:index")).content.decode()
    for english in ("Axes", "AXES", "Tasks Database Backend", "Task Results", "Task Result"):
        assert english not in index, english
    assert "Sécurité des connexions" in index
    assert "Tâches de fond" in index
    assert "Résultats des tâches" in index

    add = client.get(reverse("admin:plan_objective_add")).content.decode()
    assert "Ajout d'objectif" in add.replace("&#x27;", "'")
    assert "Ajout de objectif" not in add.replace("&#x27;", "'")
    changelist = client.get(reverse("admin:plan_objective_changelist")).content.decode()
    assert "Sélectionnez objectif" not in changelist
    tasks = client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist")).content.decode()
    assert "Task Result" not in tasks


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
