"""Droits de l'appel à projets, un dossier de l'association en cours : chaque rôle × chaque page du
dossier (projet, budget, pièces, dépôt, retrait, suppression, réponse aux demandes de compléments),
en GET et en POST pour les écritures. Les lignes, les réponses attendues et le monde :
grants_matrix.py."""

import pytest

from .grants_matrix import APPLICATION_PAGES, ROLES, check_page, page_cases

pytestmark = pytest.mark.django_db
CASES, IDS = page_cases(APPLICATION_PAGES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("row", "method"), CASES, ids=IDS)
def test_page_matrix(client, grants_world, logins, row, method, role):
    check_page(client, grants_world, logins, row, method, role)
