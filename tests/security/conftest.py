"""Le monde des sondes des pages (attack_world.py), bâti une fois par fichier qui le demande
(test_attack_probes.py, test_attack_roles_*.py) ; test_attack_api.py bâtit le sien. Les matrices des
droits ont le leur (permissions/conftest.py)."""

import pickle

import pytest

from tests.worlds import built_once, remove_demo_reviews

from .attack_world import _CAHIERS, build_world, install_write_counter, log_in_once, remove_write_counter


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker, tmp_path_factory):
    """Bâti une fois pour le fichier (tests/worlds.py), après le retrait du suivi annuel de la
    démonstration ; chaque test annule ce qu'il écrit. Rendu picklé : chaque test en reçoit une
    copie neuve (``world``).

    Le compteur d'écritures est posé avant la transaction du monde et retiré après elle (voir
    ``install_write_counter``)."""
    from cdv.contracts.models import Contract

    with django_db_blocker.unblock():
        install_write_counter()
    try:
        with built_once(django_db_blocker, MEDIA_ROOT=tmp_path_factory.mktemp("media")):
            remove_demo_reviews()
            world = build_world(Contract.objects.get(slug="nantes-metropole-2024-2030"))
            world["sessions"] = log_in_once(world["users"])
            yield pickle.dumps(world, pickle.HIGHEST_PROTOCOL)
    finally:
        with django_db_blocker.unblock():
            remove_write_counter()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui.

    La copie est celle de ``fresh_copy`` (tests/worlds.py), faite en relisant le monde picklé une
    fois pour le fichier : les mêmes objets, mêmes valeurs et mêmes relations déjà lues, dix fois
    plus vite qu'une copie profonde à chaque test."""
    _CAHIERS.clear()
    return pickle.loads(built_world)
