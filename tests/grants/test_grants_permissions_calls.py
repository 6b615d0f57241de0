"""Droits de l'appel à projets, l'appel et son comité des financeurs : chaque rôle × chaque page de
l'appel (liste, création, fiche, réglages, financeurs, publication, archivage, copie, brouillons) et
du comité (programmation, simulation, vote), en GET et en POST pour les écritures. Les lignes, les
réponses attendues et le monde : grants_matrix.py ; toutes les pages de cdv/www/urls/grants.py sont
dans l'un des trois fichiers de pages."""

import pytest

from .grants_matrix import CALL_PAGES, ROLES, check_page, page_cases

pytestmark = pytest.mark.django_db
CASES, IDS = page_cases(CALL_PAGES)


def test_every_grants_url_is_in_the_matrix():
    from cdv.www.urls.grants import urlpatterns

    from .grants_matrix import PAGES

    assert {p.name for p in urlpatterns} == {row.name for row in PAGES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("row", "method"), CASES, ids=IDS)
def test_page_matrix(client, grants_world, logins, row, method, role):
    check_page(client, grants_world, logins, row, method, role)
