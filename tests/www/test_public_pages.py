"""Pages publiques : enjeu, action, partenaires, recherche, carte, accueil ; langage clair."""

import html
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.monitoring.models import Decision, Meeting
from cdv.plan.models import Action, Enjeu
from tests import factories

pytestmark = pytest.mark.django_db
BASE = "/contrats/nantes-metropole-2024-2030"


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def commitment(contract, *, partner=None, status=S.CONFIRMED, title="Engagement de test", action=None, **kw):
    objective = action.objective if action else contract.enjeux.get(number=1).objectives.first()
    return Commitment.objects.create(
        contract=contract,
        partner=partner or factories.PartnerFactory(),
        objective=objective,
        action=action,
        title=title,
        scope="CONTRAT",
        status=status,
        **kw,
    )


# --- Enjeu ---------------------------------------------------------------------------------------


def test_enjeu_page_shows_summary_first_objectives_actions_and_only_published_commitments(
    client, nantes, without_demo_reviews
):
    forums = Commitment.objects.get(title__startswith="Animer deux forums")  # proposé : pas public
    url = f"{BASE}/enjeux/emploi-et-activite-economique/"
    page = text(client.get(url))
    assert page.index("Aider les habitants des quarti") < page.index("Objectifs et actions")
    assert "Forums emploi de proximité" in page
    assert forums.title not in page
    Commitment.objects.filter(pk=forums.pk).update(status=S.DONE)
    page = text(client.get(url))
    assert forums.title in page
    assert "1 engagement publié , dont 1 réalisé en tout ou partie (100 %)" in page


def test_an_enjeu_of_another_contract_is_a_404(client):
    other = factories.EnjeuFactory(
        title="Enjeu d'ailleurs", contract=factories.ContractFactory(status="PREPARATION")
    )
    assert client.get(f"{BASE}/enjeux/{other.slug}/").status_code == 404
    assert (
        client.get(f"/contrats/{other.contract.slug}/enjeux/{other.slug}/").status_code == 404
    )  # préparation


def test_enjeu_page_queries_are_bounded(client, nantes):
    url = f"{BASE}/enjeux/emploi-et-activite-economique/"
    before = queries(client, url)
    objective = nantes.enjeux.get(number=1).objectives.first()
    for n in range(8):
        action = factories.ActionFactory(objective=objective, pilot_partner=factories.PartnerFactory())
        commitment(nantes, action=action, title=f"E{n}")
    assert queries(client, url) == before


# --- Action --------------------------------------------------------------------------------------


def test_action_page_shows_where_who_commitments_and_public_decisions(client, nantes):
    action = Action.objects.for_contract(nantes).get(title="Forums emploi de proximité")
    confirmed = commitment(nantes, action=action, title="Tenir un forum à Bellevue")
    commitment(nantes, action=action, title="Brouillon secret", status=S.DRAFT)
    copil = Meeting.objects.filter(contract=nantes, kind="COPIL").first()
    public = Decision.objects.create(meeting=copil, text="Doubler les forums en 2026")
    public.actions.add(action)
    page = text(client.get(f"{BASE}/actions/{action.pk}/"))
    assert page.index(action.summary_plain) < page.index("Engagements qui la mettent en œuvre")
    assert confirmed.title in page and "Brouillon secret" not in page
    assert "Doubler les forums en 2026" in page
    assert action.pilot_partner.name in page
    for qpv in action.qpvs.all():
        assert qpv.name in page


def test_an_action_of_another_contract_is_a_404(client):
    other = factories.ActionFactory()
    assert client.get(f"{BASE}/actions/{other.pk}/").status_code == 404


def test_action_page_queries_are_bounded(client, nantes):
    action = Action.objects.for_contract(nantes).get(title="Forums emploi de proximité")
    url = f"{BASE}/actions/{action.pk}/"
    before = queries(client, url)
    for n in range(8):
        commitment(nantes, action=action, title=f"A{n}")
        action.contributors.add(factories.PartnerFactory())
    assert queries(client, url) == before


# --- Partenaires ---------------------------------------------------------------------------------


def test_partner_page_shows_its_published_commitments_progress_and_means(client, nantes):
    partner = factories.PartnerFactory(name="Régie de quartier Test")
    done = commitment(nantes, partner=partner, status=S.DONE, title="Réalisé")
    commitment(nantes, partner=partner, status=S.IN_PROGRESS, title="En cours")
    commitment(nantes, partner=partner, status=S.PROPOSED, title="Pas encore public")
    done.means.create(year=2025, fte=1.5, amount_eur=12000, funding="DROIT_COMMUN")
    page = text(client.get(f"{BASE}/partenaires/{partner.slug}/"))
    assert "2 engagements publiés , dont 1 réalisé en tout ou partie (50 %)" in page
    assert "Pas encore public" not in page
    assert "12 000 € et 1,5 ETP" in page
    listing = text(client.get(f"{BASE}/partenaires/"))
    assert "Régie de quartier Test" in listing


def test_a_partner_outside_the_contract_is_a_404(client):
    stranger = factories.PartnerFactory()
    assert client.get(f"{BASE}/partenaires/{stranger.slug}/").status_code == 404


def test_partner_pages_queries_are_bounded(client, nantes):
    partner = factories.PartnerFactory()
    commitment(nantes, partner=partner)
    urls = [f"{BASE}/partenaires/{partner.slug}/", f"{BASE}/partenaires/"]
    before = [queries(client, u) for u in urls]
    for n in range(8):
        c = commitment(nantes, partner=partner, title=f"P{n}")
        c.means.create(year=2025, fte=1, amount_eur=10, funding="DROIT_COMMUN")
        commitment(nantes, title=f"Autre {n}")
    assert [queries(client, u) for u in urls] == before


# --- Recherche -----------------------------------------------------------------------------------


def test_search_ignores_accents_and_case_and_finds_each_kind(client, nantes):
    commitment(nantes, title="Créer une équipe de médiation")
    page = text(client.get(f"{BASE}/recherche/", {"q": "EQUIPE mediation"}))
    assert "1 résultat pour « EQUIPE mediation »" in page
    assert "Créer une équipe de médiation" in page
    page = text(client.get(f"{BASE}/recherche/", {"q": "dervallieres"}))
    assert "Quartiers (1)" in page and "Les Dervallières" in page
    page = text(client.get(f"{BASE}/recherche/", {"q": "emploi"}))
    assert "Enjeux (1)" in page and "Forums emploi de proximité" in page


def test_search_never_shows_unpublished_commitments_and_explains_short_queries(client, nantes):
    commitment(nantes, title="Projet confidentiel zorglub", status=S.DRAFT)
    assert "Aucun résultat pour « zorglub »" in text(client.get(f"{BASE}/recherche/", {"q": "zorglub"}))
    assert "Saisissez au moins 2 caractères" in text(client.get(f"{BASE}/recherche/", {"q": "z"}))
    assert client.get(f"{BASE}/recherche/").status_code == 200


def test_search_queries_are_bounded(client, nantes):
    url = f"{BASE}/recherche/?q=test"
    before = queries(client, url)
    for n in range(8):
        commitment(nantes, title=f"Test {n}")
        factories.ActionFactory(objective=nantes.enjeux.first().objectives.first(), title=f"Test {n}")
    assert queries(client, url) == before


# --- Carte ---------------------------------------------------------------------------------------


def test_map_page_lists_every_qpv_and_loads_leaflet_from_our_own_static_files(client, nantes):
    response = client.get(f"{BASE}/carte/")
    body = response.content.decode()
    for qpv in nantes.qpvs.all():
        assert f"{BASE}/quartiers/{qpv.code}/" in body
    assert re.search(r'<script src="/static/leaflet/leaflet\.js"', body)
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', body)  # aucun CDN
    assert "La carte interactive demande JavaScript" in body  # et la liste suit, sans script


def test_map_geojson_has_the_qpv_and_commune_outlines_and_an_etag(client, nantes):
    response = client.get(f"{BASE}/carte.geojson")
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    qpv = [f for f in data["features"] if f["properties"]["nature"] == "qpv"]
    communes = [f for f in data["features"] if f["properties"]["nature"] == "commune"]
    assert sorted(f["properties"]["code"] for f in qpv) == sorted(nantes.qpvs.values_list("code", flat=True))
    assert len(communes) == 24  # les communes de Nantes Métropole
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in data["features"])
    assert response["Cache-Control"] == "public, max-age=3600"
    again = client.get(f"{BASE}/carte.geojson", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


# --- Accueil -------------------------------------------------------------------------------------


def test_contract_home_has_a_static_map_the_enjeux_pages_and_latest_public_decisions(client, nantes):
    response = client.get(f"{BASE}/")
    body = response.content.decode()
    svg = re.search(r'<g class="svg-map-qpv">(.*?)</g>', body, re.S).group(1)
    assert svg.count("<path") == nantes.qpvs.count()
    assert f"{BASE}/enjeux/emploi-et-activite-economique/" in body
    assert "Étendre les ateliers économies d'énergie" in text(response)
    internal = Meeting.objects.create(
        contract=nantes, kind="COTECH", title="Comité technique", date="2025-05-01"
    )
    Decision.objects.create(meeting=internal, text="Décision interne zorglub")
    assert "zorglub" not in text(client.get(f"{BASE}/"))
    assert "<script" not in body


def test_public_pages_never_show_an_empty_summary(client, nantes):
    enjeu = Enjeu.objects.get(contract=nantes, number=3)
    Enjeu.objects.filter(pk=enjeu.pk).update(summary_plain="", description="")
    page = text(client.get(f"{BASE}/enjeux/{enjeu.slug}/"))
    assert "Cet enjeu du contrat porte sur : tranquillité publique." in page
    Enjeu.objects.filter(pk=enjeu.pk).update(
        description="Première phrase utile. " + "Suite très longue. " * 40
    )
    page = text(client.get(f"{BASE}/enjeux/{enjeu.slug}/"))
    assert "Première phrase utile." in page
    partner = factories.PartnerFactory(name="Centre social Test", kind="ASSOCIATION", description="")
    commitment(nantes, partner=partner)
    assert "Centre social Test prend part au contrat de ville (association)." in text(
        client.get(f"{BASE}/partenaires/{partner.slug}/")
    )


def test_the_accessibility_statement_is_linked_from_every_page_and_states_what_was_tested(client):
    assert (
        '<a href="/accessibilite/">Accessibilité : partiellement conforme</a>'
        in client.get("/").content.decode()
    )
    page = text(client.get("/accessibilite/"))
    assert "partiellement conforme" in page and "RGAA 4.1" in page
    assert "axe-core (version 4.12.1)" in page and "aucune erreur" in page
    assert "Défenseur des droits" in page


def test_qpv_portrait_shows_the_gap_and_how_it_changed(client, nantes):
    from cdv.indicators.models import Indicator, IndicatorValue

    qpv = nantes.qpvs.get(code="QN04406M")
    indicator = Indicator.objects.create(
        contract=nantes, code="test-ecart", name="Taux test", unit="%", rate_scale=100
    )
    for year, mine, ref in [(2022, 40, 10), (2025, 33.5, 11)]:
        IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=year, value=mine)
        IndicatorValue.objects.create(indicator=indicator, territory=nantes.reference, year=year, value=ref)
    page = text(client.get(f"{BASE}/quartiers/QN04406M/"))
    assert "Écart : +22,5 points ; en 2022, il était de +30 points : il s'est réduit de 7,5 points." in page


def test_a_negative_gap_that_shrinks_is_reported_as_reduced(client, nantes):
    from cdv.indicators.models import Indicator, IndicatorValue

    qpv = nantes.qpvs.get(code="QN04406M")
    indicator = Indicator.objects.create(
        contract=nantes, code="test-emploi", name="Emploi test", unit="%", rate_scale=100
    )
    for year, mine, ref in [(2022, 46, 69), (2025, 50, 69)]:
        IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=year, value=mine)
        IndicatorValue.objects.create(indicator=indicator, territory=nantes.reference, year=year, value=ref)
    page = text(client.get(f"{BASE}/quartiers/QN04406M/"))
    assert "Écart : −19 points ; en 2022, il était de −23 points : il s'est réduit de 4 points." in page
