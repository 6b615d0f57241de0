"""Jeu de données synthétique national (load_scale_data), en réduction, et nombre de requêtes SQL
des pages publiques qui ne doit pas dépendre du volume des données."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.contracts.abilities import contract_abilities
from cdv.contracts.models import Contract, Milestone, Signatory
from cdv.grants.models import Application, BudgetLine, Call, FunderLine
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective, QpvPriority
from cdv.seed.scale import PREFIX, ScaleCounts, synthetic_contracts, synthetic_epcis, synthetic_partners
from cdv.territories.models import Territory

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

NANTES = "nantes-metropole-2024-2030"
MAX_QUERIES = 25  # garde-fou absolu ; l'essentiel est que le nombre ne bouge pas avec le volume


def real_data():
    """Une empreinte de tout ce qui n'est pas synthétique."""
    real_contracts = Contract.objects.exclude(slug__startswith=PREFIX)
    return {
        "territories": list(
            Territory.objects.exclude(pk__in=synthetic_epcis())
            .order_by("pk")
            .values_list("pk", "kind", "code", "name", "population", "status", "predecessor_id")
        ),
        "parents": sorted(
            Territory.parents.through.objects.values_list("from_territory_id", "to_territory_id")
        ),
        "contracts": list(
            real_contracts.order_by("pk").values_list("pk", "slug", "title", "status", "epci_id")
        ),
        "contract_qpvs": sorted(
            Contract.qpvs.through.objects.filter(contract__in=real_contracts).values_list(
                "contract_id", "territory_id"
            )
        ),
        "partners": list(
            Partner.objects.exclude(pk__in=synthetic_partners())
            .order_by("pk")
            .values_list("pk", "name", "kind")
        ),
        "signatories": sorted(
            Signatory.objects.filter(contract__in=real_contracts).values_list("pk", "partner_id")
        ),
        "enjeux": sorted(Enjeu.objects.filter(contract__in=real_contracts).values_list("pk", "slug")),
        "actions": sorted(
            Action.objects.filter(objective__enjeu__contract__in=real_contracts).values_list("pk")
        ),
        "commitments": sorted(
            Commitment.objects.filter(contract__in=real_contracts).values_list(
                "pk", "title", "status", "version"
            )
        ),
        "values": sorted(
            IndicatorValue.objects.filter(indicator__contract__in=real_contracts).values_list(
                "pk", "territory_id", "year", "quarter", "value"
            )
        ),
        "history": Contract.history.count() + Commitment.history.count() + Partner.history.count(),
    }


def synthetic_counts():
    contracts = synthetic_contracts()
    return {
        "contracts": contracts.count(),
        "epcis": synthetic_epcis().count(),
        "partners": synthetic_partners().count(),
        "commitments": Commitment.objects.filter(contract__in=contracts).count(),
        "means": CommitmentMeans.objects.filter(commitment__contract__in=contracts).count(),
        "values": IndicatorValue.objects.filter(indicator__contract__in=contracts).count(),
        "indicators": Indicator.objects.filter(contract__in=contracts).count(),
        "objectives": Objective.objects.filter(enjeu__contract__in=contracts).count(),
        "priorities": QpvPriority.objects.filter(enjeu__contract__in=contracts).count(),
        "milestones": Milestone.objects.filter(contract__in=contracts).count(),
        "calls": Call.objects.filter(contract__in=contracts).count(),
        "applications": Application.objects.filter(call__contract__in=contracts).count(),
        "funder_lines": FunderLine.objects.filter(application__call__contract__in=contracts).count(),
    }


def test_scaled_down_run_counts_idempotency_and_real_data_untouched(capsys):
    before = real_data()
    call_command("load_scale_data", "--factor=0.01", verbosity=0)
    connection.check_constraints()  # clés étrangères cohérentes (SQLite ne les vérifie qu'au COMMIT)

    # 0,01 × (449 contrats, 20 000 partenaires, 200 000 engagements, 2 000 000 valeurs)
    first = synthetic_counts()
    assert first["contracts"] == first["epcis"] == 4
    assert first["partners"] == 200
    assert first["commitments"] == first["means"] == 2_000
    assert first["values"] == 20_000
    assert first["indicators"] == 4 * 24
    # 0,01 × 50 000 dossiers, sur les deux plus grands contrats, une ligne par financeur (6).
    assert (first["calls"], first["applications"], first["funder_lines"]) == (2, 500, 500 * 6)
    assert_applications_follow_the_rules()

    nantes = Contract.objects.get(slug=NANTES)
    nantes_qpvs = set(nantes.qpvs.values_list("pk", flat=True))
    seen = set()
    for contract in synthetic_contracts().select_related("epci"):
        assert contract.status == "EN_VIGUEUR"  # public : pas « en préparation »
        assert contract_abilities(AnonymousUser(), contract)["view"]
        assert contract.epci.code.startswith("SYN") and contract.reference == contract.epci
        qpvs = set(contract.qpvs.values_list("pk", flat=True))
        assert qpvs and not qpvs & nantes_qpvs and not qpvs & seen  # QPV partagés, jamais ceux de Nantes
        seen |= qpvs
        assert contract.signatories.count() == 50
    assert Contract.objects.public().filter(slug__startswith=PREFIX).count() == 4
    assert not Partner.objects.filter(slug__startswith=PREFIX, is_demo=False).exists()
    assert not Commitment.objects.filter(contract__slug__startswith=PREFIX, is_demo=False).exists()
    assert real_data() == before

    ids = set(synthetic_contracts().values_list("pk", flat=True))
    call_command("load_scale_data", "--factor=0.01", verbosity=0)
    connection.check_constraints()
    assert synthetic_counts() == first  # rien n'est dupliqué
    assert not ids & set(synthetic_contracts().values_list("pk", flat=True))  # tout a été reconstruit
    assert real_data() == before

    call_command("load_scale_data", "--delete", verbosity=0)
    assert not any(synthetic_counts().values())
    assert real_data() == before
    assert "supprimées" in capsys.readouterr().out


def assert_applications_follow_the_rules():
    """Numéros uniques dans l'appel, budgets équilibrés (charges = produits + demandes aux
    financeurs), lignes « en cours de saisie » seulement pour les brouillons."""
    from django.db.models import Sum

    from cdv.grants.enums import CHARGE_ACCOUNTS, ApplicationStatus, LineStatus

    for call in Call.objects.filter(contract__slug__startswith=PREFIX):
        numbers = list(call.applications.exclude(number="").values_list("number", flat=True))
        assert len(numbers) == len(set(numbers)) == call.last_number > 0
        assert call.funders.count() == 6 and call.is_demo
    applications = Application.objects.filter(call__contract__slug__startswith=PREFIX)
    assert set(applications.values_list("status", flat=True)) == set(ApplicationStatus.values) - {"DECIDE"}
    assert not applications.filter(is_demo=False).exists()
    drafts = FunderLine.objects.filter(application__in=applications.filter(status=ApplicationStatus.DRAFT))
    assert set(drafts.values_list("status", flat=True)) == {LineStatus.DRAFT}
    for application in applications.order_by("pk")[:40]:
        budget = BudgetLine.objects.filter(application=application)
        charges = budget.filter(account__in=CHARGE_ACCOUNTS).aggregate(total=Sum("amount"))["total"]
        income = budget.exclude(account__in=CHARGE_ACCOUNTS).aggregate(total=Sum("amount"))["total"]
        requested = application.funder_lines.aggregate(total=Sum("requested_amount"))["total"]
        assert charges == income + requested, application


def test_explicit_counts_win_over_the_factor():
    counts = ScaleCounts.scaled(0.5, contracts=3, partners=30, commitments=90, values=900)
    assert (counts.contracts, counts.partners, counts.commitments, counts.values) == (3, 30, 90, 900)
    assert ScaleCounts.scaled(1.0).values == 2_000_000
    call_command(
        "load_scale_data",
        "--contracts=3",
        "--partners=30",
        "--commitments=90",
        "--values=901",
        "--indicators=2",
        "--applications=460",
        verbosity=0,
    )
    counts = synthetic_counts()
    assert (counts["contracts"], counts["partners"], counts["commitments"]) == (3, 30, 90)
    # 460 dossiers : deux appels de 230 (au plus 450 par appel), chez les deux plus grands contrats.
    assert (counts["calls"], counts["applications"]) == (2, 460)
    assert (counts["values"], counts["indicators"]) == (901, 6)


def test_impossible_requests_are_refused_in_french():
    with pytest.raises(CommandError, match="au moins un partenaire par contrat"):
        call_command("load_scale_data", "--contracts=5", "--partners=2", verbosity=0)
    with pytest.raises(CommandError, match="QPV sont libres"):
        call_command("load_scale_data", "--contracts=5000", "--partners=5000", verbosity=0)
    with pytest.raises(CommandError, match="remonteraient avant 1990"):
        call_command(
            "load_scale_data",
            "--contracts=1",
            "--partners=1",
            "--values=100000",
            "--indicators=1",
            verbosity=0,
        )
    assert not synthetic_contracts().exists()


def page_urls(slug, qpv, indicator):
    return [
        "/",
        f"/contrats/{slug}/",
        f"/contrats/{slug}/quartiers/{qpv}/",
        f"/contrats/{slug}/indicateurs/",
        f"/contrats/{slug}/indicateurs/{indicator}/",
        "/api/v1/contracts",
        "/api/v1/qpv",
        f"/api/v1/qpv/{qpv}",
        f"/api/v1/contracts/{slug}",
        f"/api/v1/contracts/{slug}/indicators",
        f"/api/v1/contracts/{slug}/commitments",
    ]


def query_counts(client, django_assert_max_num_queries):
    nantes = Contract.objects.get(slug=NANTES)
    synthetic = Contract.objects.get(slug=f"{PREFIX}001")
    counts = {}
    for contract in (nantes, synthetic):
        # Le QPV qui porte le plus d'engagements : la page la plus chargée du contrat.
        qpv = max(contract.qpvs.all(), key=lambda q: (q.commitments.count(), q.code)).code
        # L'indicateur qui a le plus de valeurs.
        indicator = max(contract.indicators.all(), key=lambda i: (i.values.count(), i.code)).code
        for url in page_urls(contract.slug, qpv, indicator):
            cache.clear()  # la carte SVG de l'accueil est mise en cache : on compare à froid
            with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[url.replace(qpv, "<qpv>").replace(indicator, "<indicateur>")] = len(queries)
    return counts


def test_public_pages_run_the_same_number_of_queries_whatever_the_volume(
    client, django_assert_max_num_queries
):
    # Les dossiers de l'appel à projets grandissent aussi (sans --applications : 50 000 dans les deux
    # lancements, un volume constant qui ne vérifiait rien et coûtait 20 s à chaque fois).
    call_command(
        "load_scale_data",
        "--contracts=2",
        "--partners=20",
        "--commitments=60",
        "--values=2000",
        "--applications=40",
        verbosity=0,
    )
    small = query_counts(client, django_assert_max_num_queries)
    first = Contract.objects.get(slug=f"{PREFIX}001")
    small_volume = (Commitment.objects.filter(contract=first).count(), first.qpvs.count())
    small_applications = Application.objects.filter(call__contract__slug__startswith=PREFIX).count()

    call_command(
        "load_scale_data",
        "--contracts=12",
        "--partners=600",
        "--commitments=6000",
        "--values=60000",
        "--applications=900",
        verbosity=0,
    )
    first = Contract.objects.get(slug=f"{PREFIX}001")
    assert Commitment.objects.filter(contract=first).count() > 10 * small_volume[0]
    assert (
        Application.objects.filter(call__contract__slug__startswith=PREFIX).count() > 10 * small_applications
    )
    bigger = query_counts(client, django_assert_max_num_queries)
    assert bigger == small


def test_contract_partners_stays_a_per_contract_lookup():
    """Sans jointure sur tous les partenaires de l'instance (190 ms à l'échelle nationale)."""
    from cdv.monitoring.meetings import contract_partners
    from cdv.users.models import Membership

    call_command(
        "load_scale_data",
        "--contracts=3",
        "--partners=30",
        "--commitments=90",
        "--values=0",
        "--applications=0",  # les dossiers n'y prennent pas part
        verbosity=0,
    )
    for contract in Contract.objects.filter(slug__in=[NANTES, f"{PREFIX}001"]):
        expected = (
            set(contract.signatories.values_list("partner_id", flat=True))
            | set(
                Membership.objects.filter(contract=contract)
                .exclude(partner=None)
                .values_list("partner", flat=True)
            )
            | set(contract.commitments.values_list("partner_id", flat=True))
        )
        with CaptureQueriesContext(connection) as queries:
            found = list(contract_partners(contract).values_list("pk", flat=True))
        assert len(found) == len(set(found)) and set(found) == expected
        assert len(queries) == 1 and "JOIN" not in queries[0]["sql"].split(" WHERE ")[0]


def test_indicator_values_come_without_the_territory_outline(nantes):
    from cdv.indicators import selectors

    indicator = Indicator.objects.filter(contract=nantes, values__territory__isnull=False).first()
    sql = str(selectors.values_for(indicator).query)
    assert '"territories_territory"."code"' in sql and '."geometry"' not in sql and '."bbox"' not in sql
    assert all(v.territory.code for v in selectors.values_for(indicator) if v.territory_id)
