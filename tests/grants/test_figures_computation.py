"""Les chiffres d'un appel (``cdv.grants.figures``) : demandé, voté, versé par financeur, enjeu et
quartier ; part en QPV ; associations et projets ; comptes-rendus ; requêtes bornées."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.grants.enums import ApplicationStatus, LineStatus, ProjectScope
from cdv.grants.figures import WHOLE_LABEL, call_figures, calls_figures, public_figures, to_json
from cdv.grants.models import Application, FunderLine
from tests import factories

from .figures_world import YEAR, build_figures_world

pytestmark = pytest.mark.django_db
D = Decimal


def by_label(rows):
    return {row["label"]: row for row in rows}


def test_totals_count_submitted_requests_and_voted_lines_only():
    world = build_figures_world()
    figures = call_figures(world.contract, YEAR)
    # le brouillon de 9 999 € ne compte pas ; la ligne rejetée compte au demandé, pas au voté
    assert figures["totals"] == {"requested": D("7500"), "voted": D("4500"), "paid": D("1000")}
    assert figures["paid_share"] == D("22.2")


def test_per_funder():
    world = build_figures_world()
    funders = by_label(call_figures(world.contract, YEAR)["funders"])
    assert (funders["État"]["requested"], funders["État"]["voted"], funders["État"]["paid"]) == (
        D("5000"),
        D("3000"),
        D("1000"),
    )
    assert (funders["État"]["submitted"], funders["État"]["funded"]) == (2, 1)
    assert (funders["Ville"]["requested"], funders["Ville"]["voted"], funders["Ville"]["paid"]) == (
        D("2500"),
        D("1500"),
        D("0"),
    )
    assert funders["Ville"]["funded"] == 2


def test_multi_qpv_project_is_split_evenly_and_counted_whole_in_each_qpv():
    world = build_figures_world()
    figures = call_figures(world.contract, YEAR)
    qpvs = by_label(figures["qpvs"])
    bellevue, dervallieres = qpvs["Bellevue"], qpvs["Dervallières"]
    # A1 (6 000 demandés, 4 000 votés, 1 000 versés) moitié-moitié ; A2 (1 000 demandés) à Bellevue
    assert (bellevue["requested"], bellevue["voted"], bellevue["paid"]) == (D("4000"), D("2000"), D("500"))
    assert (bellevue["submitted"], bellevue["funded"]) == (2, 1)
    assert (dervallieres["requested"], dervallieres["voted"], dervallieres["paid"]) == (
        D("3000"),
        D("2000"),
        D("500"),
    )
    assert (dervallieres["submitted"], dervallieres["funded"]) == (1, 1)
    whole = figures["whole_territory"]
    assert whole["label"] == WHOLE_LABEL
    assert (whole["requested"], whole["voted"], whole["submitted"], whole["funded"]) == (
        D("500"),
        D("500"),
        1,
        1,
    )
    # les lignes de quartier et celle du territoire refont le total
    assert sum(r["voted"] for r in figures["qpvs"]) + whole["voted"] == figures["totals"]["voted"]


def test_share_of_voted_amounts_in_qpv():
    world = build_figures_world()
    scope = call_figures(world.contract, YEAR)["scope"]
    assert scope["qpv_voted"] == D("4000") and scope["whole_voted"] == D("500")
    assert scope["qpv_share"] == D("88.9") and scope["whole_share"] == D("11.1")


def test_per_enjeu_and_counts():
    world = build_figures_world()
    figures = call_figures(world.contract, YEAR)
    enjeux = by_label(figures["enjeux"])
    assert enjeux["1. Emploi"]["requested"] == D("7000") and enjeux["1. Emploi"]["voted"] == D("4000")
    assert enjeux["1. Emploi"]["submitted"] == 2  # le brouillon de l'enjeu 1 ne compte pas
    assert enjeux["Sans enjeu rattaché"]["voted"] == D("500")
    assert figures["counts"] == {
        "associations_submitted": 2,
        "associations_funded": 2,
        "projects_submitted": 3,
        "projects_funded": 2,
    }


def test_reports_due_received_accepted_missing():
    world = build_figures_world()
    reports = call_figures(world.contract, YEAR)["reports"]
    assert reports == {"due": 2, "received": 1, "accepted": 1, "changes_requested": 0, "missing": 1}


def test_a_payment_or_a_vote_changes_the_figures():
    world = build_figures_world()
    line = FunderLine.objects.get(application=world.a3)
    factories.PaymentFactory(line=line, amount=D("200"))
    FunderLine.objects.filter(application=world.a2).update(status=LineStatus.VOTED, voted_amount=D("800"))
    figures = call_figures(world.contract, YEAR)
    assert figures["totals"]["paid"] == D("1200")
    assert figures["totals"]["voted"] == D("5300")
    assert by_label(figures["qpvs"])["Bellevue"]["funded"] == 2
    assert figures["counts"]["projects_funded"] == 3


def test_no_call_that_year():
    world = build_figures_world()
    assert call_figures(world.contract, YEAR + 1) is None


def test_several_years_per_year_and_totals():
    world = build_figures_world()
    other = build_figures_world(year=YEAR + 1, suffix=" bis")
    # le même contrat : on rattache l'appel de l'autre monde au premier
    other.call.contract = world.contract
    other.call.save(update_fields=["contract"])
    result = calls_figures(world.contract, range(YEAR, YEAR + 3))
    assert [f["year"] for f in result["years"]] == [YEAR, YEAR + 1]
    assert result["totals"]["totals"]["voted"] == D("9000")
    assert result["totals"]["counts"]["projects_submitted"] == 6
    # les quartiers de l'autre monde, sortis du contrat, gardent leur ligne
    assert len(result["totals"]["qpvs"]) == 4


def test_public_figures_keep_voted_and_only_totals_of_requested_and_paid():
    world = build_figures_world()
    figures = public_figures(call_figures(world.contract, YEAR))
    assert figures["totals"]["requested"] == D("7500")
    for key in ("funders", "enjeux", "qpvs"):
        for row in figures[key]:
            assert "requested" not in row and "paid" not in row and "voted" in row
    assert "requested" not in figures["whole_territory"]
    assert to_json(figures)["totals"]["voted"] == "4500.00"


def _bulk_applications(call, funders, qpvs, count, start=0):
    partner = factories.PartnerFactory(kind="ASSOCIATION")
    apps = Application.objects.bulk_create(
        [
            Application(
                call=call,
                partner=partner,
                number=f"B-{start + i:04d}",
                status=ApplicationStatus.DECIDED,
                title=f"Projet {i}",
                scope=ProjectScope.WHOLE if i % 5 == 0 else ProjectScope.QPV,
            )
            for i in range(count)
        ]
    )
    through = Application.qpvs.through
    through.objects.bulk_create(
        [through(application_id=a.pk, territory_id=q.pk) for a in apps if a.scope == "QPV" for q in qpvs]
    )
    FunderLine.objects.bulk_create(
        [
            FunderLine(
                application=a,
                funder=f,
                status=LineStatus.VOTED,
                requested_amount=D("1000"),
                voted_amount=D("900"),
            )
            for a in apps
            for f in funders
        ]
    )


def test_query_count_does_not_grow_with_applications():
    world = build_figures_world()
    with CaptureQueriesContext(connection) as small:
        call_figures(world.contract, YEAR)
    _bulk_applications(world.call, [world.state, world.city], [world.bellevue, world.dervallieres], 70)
    with CaptureQueriesContext(connection) as large:
        figures = call_figures(world.contract, YEAR)
    assert figures["counts"]["projects_submitted"] == 73
    assert figures["totals"]["voted"] == D("4500") + 70 * 2 * D("900")
    assert len(large.captured_queries) == len(small.captured_queries) <= 10


def test_query_count_does_not_grow_with_years():
    """Plusieurs années : chaque requête est groupée par appel, pas refaite année par année."""
    world = build_figures_world()
    with CaptureQueriesContext(connection) as two:
        calls_figures(world.contract, range(YEAR, YEAR + 2))  # un seul appel dans la période
    for offset, suffix in ((1, " bis"), (2, " ter")):
        other = build_figures_world(year=YEAR + offset, suffix=suffix)
        other.call.contract = world.contract
        other.call.save(update_fields=["contract"])
    with CaptureQueriesContext(connection) as three:
        result = calls_figures(world.contract, range(YEAR, YEAR + 3))
    assert [f["year"] for f in result["years"]] == [YEAR, YEAR + 1, YEAR + 2]
    for figures in result["years"]:
        assert figures == {**call_figures(world.contract, figures["year"]), "as_of": figures["as_of"]}
    assert result["totals"]["counts"]["projects_submitted"] == 9
    # un appel seul : neuf requêtes et sa recherche ; trois : neuf pour les années, neuf pour le total
    assert len(two.captured_queries) <= 10 and len(three.captured_queries) <= 19


def test_a_qpv_project_without_its_quarter_has_its_own_row_so_that_totals_add_up():
    world = build_figures_world()
    world.a2.qpvs.clear()
    figures = call_figures(world.contract, YEAR)
    rows = by_label(figures["qpvs"])
    assert rows["Quartier non précisé"]["requested"] == D("1000")
    assert rows["Quartier non précisé"]["submitted"] == 1
    assert rows["Bellevue"]["requested"] == D("3000")
    assert (
        sum(r["requested"] for r in figures["qpvs"]) + figures["whole_territory"]["requested"]
        == figures["totals"]["requested"]
    )
