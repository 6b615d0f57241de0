import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Charge une fois par session les données de référence réelles et la démonstration.

    Chaque test tourne dans une transaction annulée à la fin : il voit ces données et ne
    les abîme pas pour les suivants.
    """
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)
        call_command("load_demo_data", verbosity=0)


@pytest.fixture
def nantes(db):
    from cdv.contracts.models import Contract

    return Contract.objects.get(slug="nantes-metropole-2024-2030")


@pytest.fixture
def without_demo_reviews(db):
    """Retire le suivi annuel de la démonstration (2024 figé, 2025 en cours) du contrat de Nantes,
    pour les tests qui ouvrent eux-mêmes leurs campagnes de suivi sur ce contrat."""
    from cdv.monitoring.models import ReviewCampaign, Snapshot

    campaigns = ReviewCampaign.objects.filter(contract__slug="nantes-metropole-2024-2030")
    Snapshot.objects.filter(campaign__in=campaigns).delete()
    campaigns.delete()


@pytest.fixture
def admin_user(db):
    from cdv.users.models import User

    return User.objects.create_superuser(email="admin@example.org", password="motdepasse-de-test")
