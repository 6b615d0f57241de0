"""La programmation du comité : totaux et parts justes, dépassement d'enveloppe, droits, requêtes
bornées, classeur XLSX."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cdv.grants.enums import Simulation
from cdv.grants.programmation import build_programmation
from cdv.grants.services.committee import simulate_line
from cdv.users.enums import Role
from tests import factories

from .committee_world import build_world

pytestmark = pytest.mark.django_db


def test_totals_per_funder_enjeu_qpv_and_share_in_qpv():
    w = build_world()
    simulate_line(user=w.pilot, line=w.line(w.a1, w.state), choice=Simulation.YES, amount=Decimal("3000"))
    simulate_line(user=w.pilot, line=w.line(w.a1, w.city), choice=Simulation.NO)
    simulate_line(user=w.pilot, line=w.line(w.a2, w.state), choice=Simulation.YES, amount=None)  # proposé
    simulate_line(user=w.pilot, line=w.line(w.a3, w.city), choice=Simulation.YES, amount=Decimal("1000"))

    p = build_programmation(w.call)

    assert {r.application_id for r in p.rows} == {w.a1.pk, w.a2.pk, w.a3.pk}  # pas le brouillon
    state, city = p.funders
    assert state.totals.requested == Decimal("10000")
    assert state.totals.proposed == Decimal("9000")
    assert state.totals.simulated == Decimal("9000")
    assert state.remaining == Decimal("1000")
    assert city.totals.requested == Decimal("3000")
    assert city.totals.simulated == Decimal("1000")
    assert city.remaining == Decimal("2000")
    assert p.grand_total.simulated == Decimal("10000")
    by_enjeu = {g.label: g for g in p.by_enjeu}
    assert by_enjeu["Emploi"].totals.requested == Decimal("12000")
    assert by_enjeu["Éducation"].totals.simulated == Decimal("1000")
    # a2 (6 000 € simulés) compte pour moitié dans chacun de ses deux quartiers.
    by_qpv = {g.label: g for g in p.by_qpv}
    assert by_qpv[w.qpv1.name].totals.simulated == Decimal("6000.00")  # 3 000 (a1) + 3 000 (a2 / 2)
    assert by_qpv[w.qpv2.name].totals.simulated == Decimal("3000.00")
    assert by_qpv[w.qpv2.name].applications == Decimal("0.5")
    assert by_qpv["Tout le territoire"].totals.simulated == Decimal("1000.00")
    # 9 000 € sur 10 000 € simulés vont à des projets en QPV.
    assert p.share_in_qpv("simulated") == Decimal("90.0")
    assert p.share_in_qpv("requested") == Decimal("92.3")  # 12 000 / 13 000
    assert p.not_simulated == []


def test_page_shows_totals_envelope_overrun_and_rule(client):
    w = build_world(state_envelope="5000")
    simulate_line(user=w.pilot, line=w.line(w.a2, w.state), choice=Simulation.YES, amount=Decimal("6000"))
    client.force_login(w.pilot)
    response = client.get(w.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dépassement de 1\u202f000 €" in html
    assert "Enveloppe dépassée" in html
    assert "compte à parts égales" in html
    assert "<caption>Programmation : 3 dossiers" in html
    assert w.a1.number in html and w.a3.number in html
    assert 'name="choice"' in html  # le pilote simule


def test_amounts_of_a_cell_stay_on_one_line_in_a_scrollable_table(client):
    """« Demandé : 7 500 € » ne se coupe pas (espaces insécables autour du deux-points) ;
    le tableau large défile dans un cadre qu'on atteint au clavier (vu dans le navigateur)."""
    w = build_world()
    client.force_login(w.pilot)
    html = client.get(w.url).content.decode()
    assert "Demandé\u00a0:\u00a0" in html and "Demandé : " not in html
    assert '<div class="table-scroll" tabindex="0" role="region"' in html


@pytest.mark.parametrize("role", [Role.COMMITTEE_MEMBER, Role.INSTRUCTOR])
def test_committee_members_and_instructors_read_without_simulating(client, role):
    w = build_world()
    partner = w.state.partner if role == Role.INSTRUCTOR else None
    member = factories.MembershipFactory(contract=w.contract, role=role, partner=partner).user
    client.force_login(member)
    response = client.get(w.url)
    assert response.status_code == 200
    assert 'name="choice"' not in response.content.decode()
    line = w.line(w.a1, w.state)
    assert client.post(f"{w.url}lignes/{line.pk}/simulation/", {"choice": "OUI"}).status_code == 403
    line.refresh_from_db()
    assert line.simulation == ""


@pytest.mark.parametrize("role", [None, Role.APPLICANT, Role.EDITOR])
def test_others_cannot_see_the_table(client, role):
    w = build_world()
    if role is not None:
        partner = w.a1.partner if role == Role.APPLICANT else factories.PartnerFactory()
        client.force_login(factories.MembershipFactory(contract=w.contract, role=role, partner=partner).user)
    assert client.get(w.url).status_code in (403, 404)
    assert client.get(w.url.rstrip("/") + ".xlsx").status_code in (403, 404)


def test_simulation_htmx_returns_row_and_totals(client):
    w = build_world()
    client.force_login(w.pilot)
    line = w.line(w.a1, w.city)
    response = client.post(
        f"{w.url}lignes/{line.pk}/simulation/",
        {"choice": "OUI", "amount": "1 200,50 €"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="ligne-{w.a1.pk}"' in html
    assert 'id="totaux" data-hx-swap-oob="true"' in html
    line.refresh_from_db()
    assert (line.simulation, line.simulated_amount) == ("OUI", Decimal("1200.50"))


def test_simulation_refuses_amount_above_request_and_changes_nothing(client):
    w = build_world()
    client.force_login(w.pilot)
    line = w.line(w.a1, w.city)
    response = client.post(
        f"{w.url}lignes/{line.pk}/simulation/", {"choice": "OUI", "amount": "2500"}, HTTP_HX_REQUEST="true"
    )
    assert "dépasse le montant demandé" in response.content.decode()
    bad = client.post(
        f"{w.url}lignes/{line.pk}/simulation/", {"choice": "OUI", "amount": "-5"}, HTTP_HX_REQUEST="true"
    )
    assert 'class="error"' in bad.content.decode()
    line.refresh_from_db()
    assert (line.simulation, line.simulated_amount) == ("", None)


def test_line_of_another_call_is_404(client):
    w = build_world()
    other = factories.FunderLineFactory()
    client.force_login(w.pilot)
    assert client.post(f"{w.url}lignes/{other.pk}/simulation/", {"choice": "NON"}).status_code == 404


def _add_applications(w, count):
    for _ in range(count):
        factories.ApplicationFactory(
            call=w.call, submitted=True, qpvs=[w.qpv1, w.qpv2], funders=[w.state, w.city]
        )


def test_programmation_queries_do_not_grow_with_applications(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = build_world()
    client.force_login(w.pilot)
    client.get(w.url)  # caches chauds (rôles, session)
    counts = []
    for extra in (0, 27):  # 3 puis 30 dossiers
        _add_applications(w, extra)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(w.url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_xlsx_opens_and_holds_the_totals(client):
    w = build_world()
    simulate_line(user=w.pilot, line=w.line(w.a2, w.state), choice=Simulation.YES, amount=Decimal("5000"))
    client.force_login(w.pilot)
    response = client.get(w.url.rstrip("/") + ".xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Programmation", "Financeurs", "Enjeux", "Quartiers", "Part en QPV"]
    sheet = book["Programmation"]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "N° de dossier"
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "Total"
    assert last[headers.index("Total demandé (€)")] == 13000
    assert last[headers.index("Total simulé (€)")] == 5000
    funders = {row[0]: row for row in book["Financeurs"].iter_rows(min_row=2, values_only=True)}
    assert funders[w.state.partner.name][4] == 10000  # demandé
    assert sheet.max_row == 1 + 3 + 1


def test_filters_restrict_rows_but_not_totals(client):
    w = build_world()
    client.force_login(w.pilot)
    html = client.get(w.url, {"qpv": w.qpv2.pk}).content.decode()
    assert "<caption>Programmation : 1 dossier (filtrés sur 3)" in html
    assert f'id="ligne-{w.a2.pk}"' in html and f'id="ligne-{w.a1.pk}"' not in html
    assert "13\u202f000\u00a0€" in html  # le total demandé de tout l'appel
    html = client.get(w.url, {"financeur": w.city.pk, "enjeu": "x"}).content.decode()
    assert f'id="ligne-{w.a2.pk}"' not in html and f'id="ligne-{w.a3.pk}"' in html


def test_rows_written_in_python_escape_every_text(client):
    w = build_world()
    w.a1.title = '<script>alert("titre")</script>'
    w.a1.save(update_fields=["title"])
    w.a1.partner.name = "Asso <b>grasse</b> & cie"
    w.a1.partner.save(update_fields=["name"])
    w.state.partner.name = 'Financeur "<i>"'
    w.state.partner.save(update_fields=["name"])
    client.force_login(w.pilot)
    html = client.get(w.url).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;titre&quot;)" in html
    assert "<b>grasse</b>" not in html and "Asso &lt;b&gt;grasse&lt;/b&gt; &amp; cie" in html
    assert '"<i>"' not in html
