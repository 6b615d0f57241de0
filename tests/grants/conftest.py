import pytest
from django.db import transaction

from .grants_world import build_world


@pytest.fixture(scope="module")
def grants_world(django_db_setup, django_db_blocker):
    """Le monde de l'appel à projets, bâti une fois par module et défait après (rollback)."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        yield world
        transaction.set_rollback(True)
