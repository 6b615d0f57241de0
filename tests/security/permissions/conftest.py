"""Le monde des matrices des droits, bâti une fois par fichier (portée ``module`` : chaque fichier de
ce dossier a le sien, tests/worlds.py) ; chaque test annule ce qu'il écrit."""

import pytest

from tests.worlds import built_once

from .matrix_world import build_world


@pytest.fixture(scope="module")
def world(demo_data, django_db_blocker):
    with built_once(django_db_blocker):
        yield build_world()
