"""Un monde bâti une fois pour le fichier (tests/worlds.py) : chaque test le voit tel qu'il a été
bâti, ce qu'un test écrit n'atteint pas le suivant, et la base gardée n'en garde rien."""

import pytest
from django.urls import reverse

from cdv.partners.models import Partner
from tests import factories
from tests.worlds import built_once, fresh_copy

pytestmark = pytest.mark.django_db

NAME = "Partenaire du monde partagé"


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    with built_once(django_db_blocker):
        yield {"partner": factories.PartnerFactory(name=NAME)}
    with django_db_blocker.unblock():
        assert not Partner.objects.filter(name=NAME).exists()  # annulé avec le module


def test_a_test_writes_in_the_shared_world(shared_world):
    Partner.objects.filter(pk=shared_world["partner"].pk).update(name="Renommé par un test")
    factories.PartnerFactory(name="Créé par un test")
    assert Partner.objects.filter(name="Renommé par un test").exists()


def test_the_next_test_sees_the_world_as_built(shared_world):
    assert Partner.objects.get(pk=shared_world["partner"].pk).name == NAME
    assert not Partner.objects.filter(name="Créé par un test").exists()


def test_a_closed_response_keeps_the_world(client, shared_world):
    """``response.close()`` (fin de requête) ne ferme pas la connexion du monde partagé."""
    client.get(reverse("www:home")).close()
    assert Partner.objects.filter(pk=shared_world["partner"].pk).exists()


@pytest.fixture
def copied_world(shared_world):
    return fresh_copy(shared_world)


def test_a_test_changes_its_copy_in_memory(copied_world):
    copied_world["partner"].name = "Changé en mémoire"
    copied_world["added"] = factories.PartnerFactory(name="Ajouté au monde par un test")


def test_the_next_test_gets_the_objects_as_built(copied_world, shared_world):
    assert copied_world["partner"].name == NAME and "added" not in copied_world
    assert shared_world["partner"].name == NAME and "added" not in shared_world
