"""Droits de l'appel à projets, l'espace de l'association (la sienne seulement) : chaque rôle × ses
dossiers, son identité, ses pièces, la création d'un dossier, la fiche d'un dossier (brouillon,
déposé) et son accusé de réception, en GET et en POST pour les écritures. Les lignes, les réponses
attendues et le monde : grants_matrix.py."""

import pytest

from .grants_matrix import ASSOCIATION_PAGES, ROLES, check_page, page_cases

pytestmark = pytest.mark.django_db
CASES, IDS = page_cases(ASSOCIATION_PAGES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("row", "method"), CASES, ids=IDS)
def test_page_matrix(client, grants_world, logins, row, method, role):
    check_page(client, grants_world, logins, row, method, role)
