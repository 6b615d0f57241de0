"""Le monde de la participation (participation_world.py), bâti une fois par fichier : chaque test en
reçoit une copie et annule ce qu'il écrit."""

import pytest

from tests.worlds import built_once, fresh_copy

from .participation_world import build_world, session_of


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        world = build_world(Contract.objects.get(slug="nantes-metropole-2024-2030"))
        world["sessions"] = {role: session_of(user) for role, user in world["users"].items() if user}
        yield world


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)
