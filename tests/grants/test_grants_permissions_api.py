"""Droits de l'appel à projets par l'API : chaque rôle × chaque opération de l'API des appels à
projets (lectures, et écritures du référent de l'association sur son propre dossier). Le tableau
des statuts attendus et le monde : grants_matrix.py."""

import pytest

from .grants_matrix import API_CASES, ROLES, check_api

pytestmark = pytest.mark.django_db


def test_every_grants_api_operation_is_in_the_matrix():
    from cdv.api.grants import router

    operations = {op.operation_id for view in router.path_operations.values() for op in view.operations}
    assert operations == {name.split("[")[0] for name in API_CASES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(API_CASES))
def test_api_matrix(client, grants_world, logins, case, role):
    check_api(client, grants_world, logins, case, role)


def test_the_sql_filter_and_the_abilities_agree_on_every_application(grants_world):
    """Les listes (pages, API) filtrent en SQL (``visible_applications``), une page ou une fiche
    décide par ``application_abilities()["view"]`` : deux écritures de la même règle, dans le même
    module. Chaque rôle × chaque dossier du monde (brouillon, déposé, rendu, voté, refusé, de chaque
    association et de chaque quartier) : les deux disent la même chose."""
    from django.contrib.auth.models import AnonymousUser

    from cdv.grants.abilities import application_abilities, visible_applications
    from cdv.grants.models import Application

    applications = list(
        Application.objects.filter(call__contract=grants_world["contract"]).select_related("call")
    )
    assert len({a.status for a in applications}) >= 4  # le monde couvre les états qui comptent
    disagreements = []
    for role, user in grants_world["users"].items():
        user = user or AnonymousUser()
        for application in applications:
            listed = visible_applications(user, Application.objects.all(), application.call)
            in_list = listed.filter(pk=application.pk).exists()
            if in_list != application_abilities(user, application)["view"]:
                disagreements.append((role, application.number or f"brouillon {application.pk}"))
    assert disagreements == []
