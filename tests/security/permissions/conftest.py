"""Le monde des matrices des droits, bâti une fois par fichier (portée ``module`` : chaque fichier de
ce dossier a le sien, tests/worlds.py) ; chaque test annule ce qu'il écrit.

Un fichier marqué ``demo`` a son monde sur le contrat de Nantes de la démonstration (ses lectures
portent sur ce qu'elle contient : évaluation, réunions…) ; les autres, sur un petit contrat à lui
(``small_contract``) : ce qu'ils vérifient ne dépend pas de la taille du contrat, et chaque document
du contrat (compilation, bilan annuel) n'a qu'une page au lieu de la démonstration entière."""

import pytest

from tests.worlds import built_once

from .matrix_world import build_world, small_contract
from .partner_reads import build_read_world, one_generation_time


@pytest.fixture(scope="module")
def world(request, django_db_setup, django_db_blocker):
    on_demo = request.node.get_closest_marker("demo") is not None
    if on_demo:
        request.getfixturevalue("demo_data")
    with built_once(django_db_blocker):
        yield build_world(None if on_demo else small_contract())


@pytest.fixture(scope="module")
def read_world(world, django_db_blocker, tmp_path_factory):
    """Pour chaque cible : un engagement validé (non publié), un engagement confirmé avec son bilan
    (non publié) et une pièce jointe, une année figée dont l'instantané porte le bilan.

    Bâti une fois pour les lectures du fichier (tests/worlds.py)."""
    with (
        built_once(django_db_blocker, MEDIA_ROOT=tmp_path_factory.mktemp("read_world")),
        one_generation_time(),
    ):
        yield build_read_world(world)


@pytest.fixture(scope="module")
def read_responses():
    """(rôle, URL) -> (statut, texte) : une lecture du contrat (compilation, recherche, tableaux de
    bord…) est la même pour les cibles « own_partner » et « other_partner » ; le monde du module
    étant le même à chaque test, elle n'est rendue qu'une fois par rôle (les PDF coûtent)."""
    return {}
