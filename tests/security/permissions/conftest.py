"""Le monde des matrices des droits, bâti une fois par fichier (portée ``module`` : chaque fichier de
ce dossier a le sien, tests/worlds.py) ; chaque test annule ce qu'il écrit.

Un fichier marqué ``demo`` a son monde sur le contrat de Nantes de la démonstration (ses lectures
portent sur ce qu'elle contient : évaluation, réunions…) ; les autres, sur un petit contrat à lui
(``small_contract``) : ce qu'ils vérifient ne dépend pas de la taille du contrat, et chaque document
du contrat (compilation, bilan annuel) n'a qu'une page au lieu de la démonstration entière."""

import pytest

from tests.worlds import built_once

from .matrix_world import build_world, small_contract


@pytest.fixture(scope="module")
def world(request, django_db_setup, django_db_blocker):
    on_demo = request.node.get_closest_marker("demo") is not None
    if on_demo:
        request.getfixturevalue("demo_data")
    with built_once(django_db_blocker):
        yield build_world(None if on_demo else small_contract())
