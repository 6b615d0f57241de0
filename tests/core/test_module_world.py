"""Un monde bâti une fois pour le fichier (tests/worlds.py) : chaque test le voit tel qu'il a été
bâti, ce qu'un test écrit n'atteint pas le suivant, et la base gardée n'en garde rien."""

import pytest
from django.urls import reverse

from cdv.partners.models import Partner
from tests import factories
from tests.worlds import built_once

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
