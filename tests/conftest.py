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
    """Retire le suivi annuel de la démonstration du contrat de Nantes (campagnes 2024 figée et 2025 en
    cours, et les engagements suivis dans chaque quartier), pour les tests qui ouvrent eux-mêmes leurs
    campagnes sur ce contrat et comptent leurs bilans."""
    from cdv.contracts.models import Contract
    from cdv.monitoring.models import ReviewCampaign, Snapshot
    from cdv.seed.demo_monitoring import living_demo_commitments

    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    campaigns = ReviewCampaign.objects.filter(contract=contract)
    Snapshot.objects.filter(campaign__in=campaigns).delete()
    campaigns.delete()
    living_demo_commitments(contract).delete()


@pytest.fixture
def admin_user(db):
    from cdv.users.models import User

    return User.objects.create_superuser(email="admin@example.org", password="motdepasse-de-test")
