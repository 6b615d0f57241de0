"""Journal d'audit des pilotes : fusion des historiques, filtres, export CSV sûr, requêtes bornées,
réservé aux pilotes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


def test_only_pilots_see_the_audit_log(client, nantes):
    url = reverse("www:audit", args=[nantes.slug])
    assert client.get(url).status_code == 302  # connexion demandée
    for role in (Role.EDITOR, Role.READER, Role.EVALUATOR):
        client.force_login(factories.MembershipFactory(contract=nantes, role=role).user)
        assert client.get(url).status_code == 403
    other = factories.ContractFactory(slug="autre-contrat-audit")
    client.force_login(factories.MembershipFactory(contract=other, role=Role.PILOT).user)
    assert client.get(url).status_code == 403


def test_lists_who_changed_what_filters_and_excludes_other_contracts(client, nantes, pilot):
    mine = factories.CommitmentFactory(
        contract=nantes, by_signatory=True, title="Engagement suivi au journal", history_user=pilot
    )
    other = factories.ContractFactory(slug="autre-contrat-audit")
    factories.EnjeuFactory(contract=other, number=1)
    factories.CommitmentFactory(contract=other, by_signatory=True, title="Engagement d'un autre contrat")
    client.force_login(pilot)
    url = reverse("www:audit", args=[nantes.slug])
    page = client.get(url, {"q": "journal"}).content.decode()
    assert "Engagement suivi au journal" in page and "création" in page and pilot.email in page
    assert "Aucune modification" in client.get(url, {"q": "un autre contrat"}).content.decode()
    by_who = client.get(url, {"qui": pilot.pk, "objet": "engagement"}).content.decode()
    assert f"n° {mine.pk}" in by_who
    none = client.get(url, {"du": "2000-01-01", "au": "2000-01-02"}).content.decode()
    assert "Aucune modification" in none


def test_csv_export_is_formula_safe(client, nantes, pilot):
    factories.CommitmentFactory(
        contract=nantes, by_signatory=True, title='=HYPERLINK("http://x.example","clic")', history_user=pilot
    )
    client.force_login(pilot)
    response = client.get(reverse("www:audit", args=[nantes.slug]), {"format": "csv", "objet": "engagement"})
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK" in body and ";=HYPERLINK" not in body


def test_page_costs_a_bounded_number_of_queries(client, nantes, pilot):
    factories.CommitmentFactory(
        contract=nantes, by_signatory=True, title="Premier engagement", history_user=pilot
    )
    client.force_login(pilot)
    url = reverse("www:audit", args=[nantes.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(30):
        factories.CommitmentFactory(
            contract=nantes, by_signatory=True, title=f"Engagement {i}", history_user=pilot
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few) <= 15


def test_pilots_of_other_contracts_are_not_listed_among_the_people(client, nantes, pilot):
    """Les pilotes ont le back-office (is_staff) de leur seul contrat : ceux d'ailleurs n'ont rien
    modifié ici et leur nom n'a pas à y paraître ; les opérateurs de l'instance, si."""
    elsewhere = factories.MembershipFactory(role=Role.PILOT).user  # pilote d'un autre contrat
    elsewhere.last_name, elsewhere.is_staff = "Dailleurs", True
    elsewhere.save()
    factories.UserFactory(last_name="Operatrice", is_staff=True, is_superuser=True)
    client.force_login(pilot)
    page = client.get(reverse("www:audit", args=[nantes.slug])).content.decode()
    assert "Dailleurs" not in page and "Operatrice" in page
