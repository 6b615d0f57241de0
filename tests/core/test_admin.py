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
