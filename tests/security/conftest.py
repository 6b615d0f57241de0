"""Le monde des sondes des pages (attack_world.py), bâti une fois par fichier qui le demande
(test_attack_probes.py, test_attack_roles_*.py) ; test_attack_api.py a son ``built_world``, le même
monde avec ses jetons d'API, et prend ``world`` d'ici. Les matrices des
droits ont le leur (permissions/conftest.py)."""

import pickle

import pytest

from .attack_world import _CAHIERS, log_in_once, probe_world


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker, tmp_path_factory):
    """Bâti une fois pour le fichier (``probe_world``) ; chaque test annule ce qu'il écrit. Rendu
    picklé : chaque test en reçoit une copie neuve (``world``)."""
    with probe_world(django_db_blocker, tmp_path_factory) as world:
        world["sessions"] = log_in_once(world["users"])
        yield pickle.dumps(world, pickle.HIGHEST_PROTOCOL)


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui.

    La copie est celle de ``fresh_copy`` (tests/worlds.py), faite en relisant le monde picklé une
    fois pour le fichier : les mêmes objets, mêmes valeurs et mêmes relations déjà lues, dix fois
    plus vite qu'une copie profonde à chaque test."""
    _CAHIERS.clear()
    return pickle.loads(built_world)
