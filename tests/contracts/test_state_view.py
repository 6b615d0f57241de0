"""La vue de l'État : une personne qui a la lecture inter-contrats d'un partenaire lit le tableau de
tous les contrats que ce partenaire a signés, et d'aucun autre ; chaque autre rôle est refusé ;
l'opérateur seul accorde cette lecture ; le nombre de requêtes ne dépend pas du nombre de contrats."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cdv.contracts.enums import ContractStatus, SignatoryKind
from cdv.contracts.state_view import department_of_qpv
from cdv.partners.enums import PartnerKind
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import Territory
from cdv.users.enums import Role
from cdv.users.models import CrossContractReader
from tests import factories

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("www:state_dashboard")
XLSX = reverse("www:state_dashboard_xlsx")
GRANTS = reverse("www:cross_contract_readers")
# Plafond de requêtes du tableau (session et personne comprises), le même à 3 et à 30 contrats.
MAX_QUERIES = 16


def _contract(state, index, *, department="044", kind=SignatoryKind.SIGNATORY):
    """Un contrat signé (ou non) par ``state`` : un QPV du département, des engagements, une campagne,
    une évaluation, un taux commun (« taux-chomage ») avec sa référence, un appel voté."""
    contract = factories.ContractFactory(title=f"Contrat {department}-{index:02d}")
    # Le code dit le département ; un QPV de référence déjà chargé sous ce code sert tel quel.
    code = f"QN{department}{index:02d}C"
    qpv = Territory.objects.filter(kind=TerritoryKind.QPV, code=code).first() or factories.QpvFactory(
        code=code
    )
    contract.qpvs.add(qpv)
    if kind is not None:
        factories.SignatoryFactory(contract=contract, partner=state, kind=kind)
    factories.CommitmentFactory(contract=contract)
    factories.CommitmentFactory(contract=contract, status="CONFIRME")
    factories.ReviewCampaignFactory(contract=contract, year=2025)
    factories.EvaluationFactory(contract=contract)
    indicator = factories.IndicatorFactory(
        contract=contract, code="taux-chomage", name="Taux de chômage", rate=True
    )
    factories.IndicatorValueFactory(
        indicator=indicator, territory=qpv, year=2024, value=Decimal("30"), numerator=30, denominator=100
    )
    factories.IndicatorValueFactory(
        indicator=indicator, territory=contract.epci, year=2024, value=Decimal("10")
    )
    factories.FunderLineFactory(
        application__call__contract=contract,
        application__call__year=2025,
        funder__partner=state,
        voted=True,
        voted_amount=Decimal("1500.00"),
    )
    return contract


@pytest.fixture
def state():
    return factories.PartnerFactory(name="Préfecture de test", kind=PartnerKind.STATE)


@pytest.fixture
def reader(state):
    user = factories.UserFactory()
    CrossContractReader.objects.create(user=user, partner=state)
    return user


def _world(state, n):
    signed = [_contract(state, i, department="044" if i % 2 else "069") for i in range(n)]
    participant = _contract(state, 90, kind=SignatoryKind.PARTICIPANT)
    other = _contract(state, 91, kind=None)
    preparing = _contract(state, 92)
    preparing.status = ContractStatus.PREPARING
    preparing.save()
    return signed, participant, other, preparing


def test_department_of_a_qpv_code():
    assert department_of_qpv("QN04413M") == "44"
    assert department_of_qpv("QN02A01M") == "2A"
    assert department_of_qpv("QN97101M") == "971"


def test_the_state_reader_sees_exactly_the_contracts_its_partner_signed(client, state, reader):
    signed, participant, other, preparing = _world(state, 3)
    client.force_login(reader)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    text = response.content.decode()
    for contract in signed:
        assert reverse("www:contract", args=[contract.slug]) in text
    for contract in (participant, other, preparing):  # participant, non signé, en préparation
        assert contract.title not in text
    row = response.context["board"].rows[0]
    assert row.qpv_count == 1
    assert row.commitment_total == 2
    assert row.campaign["year"] == 2025
    assert row.evaluations == [("Évaluation à mi-parcours", "En cours")]
    assert [i.code for i in response.context["board"].headline] == ["taux-chomage"]
    assert row.gaps[0].gap.points == Decimal("20.0")
    assert row.funders == [("Préfecture de test", Decimal("1500.00"))]
    assert "+20 points" in text


def test_the_filter_by_region_and_department(client, state, reader):
    signed, *_ = _world(state, 4)
    client.force_login(reader)
    board = client.get(DASHBOARD, {"region": "Pays de la Loire"}).context["board"]
    assert {r.contract.pk for r in board.rows} == {c.pk for c in signed[1::2]}
    board = client.get(DASHBOARD, {"departement": "69"}).context["board"]
    assert {r.contract.pk for r in board.rows} == {c.pk for c in signed[0::2]}
    assert board.regions == ["Auvergne-Rhône-Alpes", "Pays de la Loire"]


def test_the_xlsx_export_has_the_same_rows(client, state, reader):
    signed, participant, *_ = _world(state, 3)
    client.force_login(reader)
    response = client.get(XLSX, {"departement": "44"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Contrat"
    assert [r[0] for r in rows[1:]] == [c.title for c in sorted(signed[1::2], key=lambda c: c.title)]
    assert participant.title not in [r[0] for r in rows]
    header = list(rows[0])
    assert rows[1][header.index("Taux de chômage — écart (points)")] == 20
    assert rows[1][header.index("Appel à projets 2025 — voté (€)")] == 1500


@pytest.mark.parametrize("n", [3, 30])
def test_the_number_of_queries_does_not_grow_with_the_contracts(
    client, state, reader, n, django_assert_max_num_queries
):
    _world(state, n)
    client.force_login(reader)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(DASHBOARD)
    assert len(response.context["board"].rows) == n
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(XLSX).status_code == 200


@pytest.mark.parametrize(
    "role", ["anonymous", "editor_of_the_state", "pilot", "reader_of_the_state", "operator"]
)
def test_every_other_role_is_refused(client, state, role):
    """Un référent ou un lecteur de l'État dans un contrat, un pilote, l'opérateur sans lecture
    accordée : refusés (la connexion est demandée à l'anonyme)."""
    signed, *_ = _world(state, 2)
    if role == "operator":
        client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    elif role != "anonymous":
        membership_role = {
            "editor_of_the_state": Role.EDITOR,
            "pilot": Role.PILOT,
            "reader_of_the_state": Role.READER,
        }
        partner = None if role == "pilot" else state
        user = factories.MembershipFactory(
            contract=signed[0], partner=partner, role=membership_role[role]
        ).user
        client.force_login(user)
    for url in (DASHBOARD, XLSX):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and reverse("www:login") in response["Location"]
        else:
            assert response.status_code == 403
            assert signed[0].title.encode() not in response.content


def test_only_the_operator_grants_and_revokes_the_reading(client, state):
    _world(state, 1)
    person = factories.UserFactory(email="prefecture@example.org")
    pilot = factories.MembershipFactory(role=Role.PILOT).user
    client.force_login(pilot)
    assert client.get(GRANTS).status_code == 403
    response = client.post(GRANTS, {"action": "grant", "email": person.email, "partner": state.name})
    assert response.status_code == 403
    assert not CrossContractReader.objects.exists()

    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    assert client.get(GRANTS).status_code == 200
    response = client.post(
        GRANTS, {"action": "grant", "email": person.email, "partner": "Préfecture de test"}
    )
    assert response.status_code == 302
    grant = CrossContractReader.objects.get()
    assert (grant.user, grant.partner) == (person, state)
    client.force_login(person)
    assert client.get(DASHBOARD).status_code == 200
    assert "Vue de l'État" in client.get(reverse("www:my_space")).content.decode()

    client.force_login(grant.granted_by)
    client.post(GRANTS, {"action": "revoke", "grant": grant.pk})
    assert not CrossContractReader.objects.exists()
    client.force_login(person)
    assert client.get(DASHBOARD).status_code == 403


def test_a_grant_with_an_unknown_person_or_partner_says_which_field_and_writes_nothing(client, state):
    _world(state, 1)
    factories.PartnerFactory(name="Conseil départemental sans contrat")
    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    response = client.post(
        GRANTS,
        {"action": "grant", "email": "inconnu@example.org", "partner": "Conseil départemental sans contrat"},
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "Aucun compte actif pour « inconnu@example.org »" in text
    assert "Aucun partenaire signataire d&#x27;un contrat ne répond" in text
    assert not CrossContractReader.objects.exists()


def test_a_deleted_account_loses_its_reading_and_its_export_lists_it(state, reader):
    from cdv.users import privacy

    assert privacy.export_data(reader)["lectures_inter_contrats"][0]["partenaire"] == "Préfecture de test"
    privacy.anonymize(reader)
    assert not CrossContractReader.objects.exists()


def test_the_aap_year_shown_first_is_the_latest_one_with_voted_amounts(client, state, reader):
    """Un appel de l'année en cours, ouvert mais pas encore voté, ne remplace pas par des tirets les
    montants du dernier appel voté ; on le choisit dans la liste."""
    contract = _contract(state, 1)
    factories.CallFactory(contract=contract, year=2026)  # ouvert, rien de voté
    client.force_login(reader)
    board = client.get(DASHBOARD).context["board"]
    assert board.aap_years == [2026, 2025]
    assert board.aap_year == 2025
    assert board.rows[0].funders == [("Préfecture de test", Decimal("1500.00"))]
    board = client.get(DASHBOARD, {"annee": "2026"}).context["board"]
    assert board.aap_year == 2026 and board.rows[0].funders == []
