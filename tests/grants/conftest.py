import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from cdv.users.services import create_api_token

from .grants_world import build_world


@pytest.fixture(scope="module")
def grants_world(django_db_setup, django_db_blocker):
    """Le monde de l'appel à projets, bâti une fois par module et défait après (rollback)."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def logins(grants_world, django_db_blocker):
    """Chaque rôle connecté une fois pour le module, dans la transaction du monde : {rôle: (clé de
    session, jeton d'API)}. Un test qui change la session ou le jeton (dernière utilisation) voit
    son écriture annulée avec lui."""
    keys = {}
    with django_db_blocker.unblock():
        for role, user in grants_world["users"].items():
            if user is None:
                continue
            browser = Client()
            browser.force_login(user)
            keys[role] = (
                browser.cookies[settings.SESSION_COOKIE_NAME].value,
                create_api_token(user=user, name="matrice")[1],
            )
    return keys
