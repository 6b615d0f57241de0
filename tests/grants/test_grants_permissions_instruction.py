"""Droits de l'appel à projets, l'instruction : chaque rôle × chaque page de l'instruction (file,
dossier instruit, ligne d'un financeur, avis de quartier, notes, demande de compléments, PDF du
dossier), en GET et en POST pour les écritures. Les lignes, les réponses attendues et le monde :
grants_matrix.py."""

import pytest

from .grants_matrix import INSTRUCTION_PAGES, ROLES, check_page, page_cases

pytestmark = pytest.mark.django_db
CASES, IDS = page_cases(INSTRUCTION_PAGES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("row", "method"), CASES, ids=IDS)
def test_page_matrix(client, grants_world, logins, row, method, role):
    check_page(client, grants_world, logins, row, method, role)
