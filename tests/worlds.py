"""Un monde bâti une fois pour tout un fichier (ou une classe) de tests, annulé à la fin.

Un fichier qui lance des centaines de cas sur le même monde (rôles, partenaires, contrats) le
bâtit dans une fixture de portée ``module`` :

    @pytest.fixture(scope="module")
    def world(demo_data, django_db_blocker):  # sans jeu de données : django_db_setup
        with built_once(django_db_blocker):
            yield {...}  # objets créés par les fabriques

Le monde est écrit dans une transaction ouverte pour tout le module et annulée à la fin : la
base gardée n'en garde rien. Chaque test tourne, comme d'habitude, dans sa propre transaction
(un point de sauvegarde dans celle du module) annulée à la fin : ce qu'un test écrit ne passe pas
au suivant. Marche sous SQLite et PostgreSQL (pytest-django enveloppe chaque test dans un
``atomic`` imbriqué).

Les objets Python du monde sont partagés par les tests : un test ne les modifie pas en mémoire
(il relit la base s'il a besoin de leur état après une écriture), ou sa fixture lui en donne une
copie (``fresh_copy``).
"""

from contextlib import contextmanager


@contextmanager
def built_once(django_db_blocker, **settings):
    """Ouvre la transaction du module (et, s'il y en a, des réglages pour tout le module)."""
    from unittest import mock

    from django.db import DEFAULT_DB_ALIAS, connections, transaction
    from django.test import override_settings

    # La fin d'une réponse (``request_finished``, que ``response.close()`` d'un test envoie aussi)
    # ferme une connexion restée dans une transaction : ce serait celle du module. Elle reste ouverte
    # tant que le module tourne.
    with (
        django_db_blocker.unblock(),
        override_settings(**settings),
        mock.patch.object(connections[DEFAULT_DB_ALIAS], "close_if_unusable_or_obsolete", lambda: None),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def remove_demo_reviews():
    """Le retrait de la fixture ``without_demo_reviews``, pour un monde bâti une fois : appelé dans
    ``built_once``, avant de bâtir le monde."""
    from cdv.contracts.models import Contract
    from cdv.monitoring.models import ReviewCampaign, Snapshot
    from cdv.seed.demo_monitoring import living_demo_commitments

    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    campaigns = ReviewCampaign.objects.filter(contract=contract)
    Snapshot.objects.filter(campaign__in=campaigns).delete()
    campaigns.delete()
    living_demo_commitments(contract).delete()


def fresh_copy(world):
    """Une copie profonde du monde pour un test : ce que le test change en mémoire (un intitulé, un
    objet ajouté à un dictionnaire du monde, l'état qu'un service pose sur l'objet qu'on lui passe)
    n'atteint pas le test suivant, qui retrouve les objets tels qu'ils ont été bâtis, comme la base."""
    import copy

    return copy.deepcopy(world)
