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
