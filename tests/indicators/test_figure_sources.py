"""Chiffres sourcés et données de démonstration marquées ; mêmes partenaires partout (ticket 13)."""

import csv
import html
import io
import re

import pytest

from cdv.api.pagination import MAX_LIMIT

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
SLUG = "nantes-metropole-2024-2030"
PAGE = f"/contrats/{SLUG}"
API = f"/api/v1/contracts/{SLUG}"


def text(response):
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def api_items(client, url):
    response = client.get(url, {"limit": MAX_LIMIT})
    assert response.status_code == 200
    return response.json()["items"]


# --- Les partenaires : la page, l'API et les données ouvertes comptent les mêmes ----------------


def test_partner_list_page_api_and_open_data_show_the_same_partners(client, nantes):
    api = {p["slug"] for p in api_items(client, f"{API}/partners")}
    rows = csv.DictReader(io.StringIO(client.get(f"{PAGE}/donnees/partenaires.csv").content.decode()))
    opendata = {row["identifiant"] for row in rows}
    listing = client.get(f"{PAGE}/partenaires/")
    page = {p.slug for p in listing.context["partners"]}
    assert page == api == opendata
    assert f"{len(api)} partenaires du contrat" in text(listing)


# --- Données de démonstration marquées, une seule fois -------------------------------------------


def _items_linking(response, href):
    """Le texte des éléments de liste qui contiennent un lien vers ``href``."""
    content = response.content.decode()
    found = [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", item)))
        for item in re.findall(r"<li>(.*?)</li>", content, flags=re.S)
        if f'href="{href}"' in item
    ]
    assert found, href
    return found


def test_api_enjeux_and_their_objectives_say_which_are_demonstration(client, nantes):
    from cdv.plan.models import Enjeu, Objective
    from tests import factories

    enjeux = api_items(client, f"{API}/enjeux")
    demo = dict(Objective.objects.filter(enjeu__contract=nantes).values_list("title", "is_demo"))
    assert any(demo.values())
    for enjeu in enjeux:
        assert enjeu["is_demo"] is False  # les quatre enjeux du contrat réel
        for objective in enjeu["objectives"]:
            assert objective["is_demo"] is demo[objective["title"]]
    factories.EnjeuFactory(contract=nantes, number=9, title="Enjeu fictif", is_demo=True)
    assert client.get(f"{API}/enjeux/9").json()["is_demo"] is True
    assert Enjeu.objects.get(contract=nantes, number=9).is_demo


def test_search_results_mark_demonstration_data_once(client, nantes):
    from cdv.plan.models import Action

    action = Action.objects.for_contract(nantes).filter(is_demo=True).order_by("code").first()
    response = client.get(f"{PAGE}/recherche/", {"q": action.title})
    (item,) = _items_linking(response, f"{PAGE}/actions/{action.pk}/")
    assert f"{action.title} (démonstration)" in item and item.count("démonstration") == 1
    response = client.get(f"{PAGE}/recherche/", {"q": "Tremplin"})
    (item,) = _items_linking(response, f"{PAGE}/partenaires/association-tremplin-quartiers-demonstration/")
    assert item.count("démonstration") == 1


def test_action_lists_of_qpv_enjeu_and_partner_pages_mark_demonstration_actions(client, nantes):
    from cdv.plan.models import Action

    action = (
        Action.objects.for_contract(nantes)
        .filter(is_demo=True, scope="METROPOLE")
        .exclude(pilot_partner=None)
        .first()
    )
    qpv = nantes.qpvs.order_by("code").first()
    for url in (
        f"{PAGE}/quartiers/{qpv.code}/",
        f"{PAGE}/enjeux/{action.objective.enjeu.slug}/",
        f"{PAGE}/partenaires/{action.pilot_partner.slug}/",
    ):
        for item in _items_linking(client.get(url), f"{PAGE}/actions/{action.pk}/"):
            assert f"{action.title} (démonstration)" in item, (url, item)
            assert "(démonstration) (démonstration)" not in item


def test_partner_list_marks_a_demonstration_partner_once(client, nantes):
    page = text(client.get(f"{PAGE}/partenaires/"))
    assert "Bailleur Habitat Solidaire (démonstration)" in page
    assert "(démonstration) (démonstration)" not in page


# --- Chaque chiffre dit sa source et son millésime -----------------------------------------------


def test_commune_and_metropolis_populations_are_dated_by_the_insee_reference_year(nantes):
    """Les populations légales « 2023 » (recensement) sont en vigueur depuis 2026 : leur millésime
    est 2023, pas 2026."""
    from cdv.indicators.models import IndicatorValue
    from cdv.territories.models import Territory

    for territory in Territory.objects.filter(code__in=["44109", "244400404"]):
        assert territory.population_year == 2023
        assert "populations légales 2023" in territory.population_source
        assert "millésime 2026" not in territory.population_source
    values = IndicatorValue.objects.filter(indicator__contract=nantes, indicator__code="population")
    assert not values.filter(year=2026).exists()
    nantes_commune = values.get(territory__code="44109", year=2023)
    assert nantes_commune.source.startswith("INSEE, populations légales 2023")
    assert nantes_commune.vintage == "2023"


def test_home_page_population_shows_its_source_and_vintage(client, nantes):
    page = text(client.get(f"{PAGE}/"))
    facts = page[page.index("Le contrat en bref") : page.index("Quartiers prioritaires")]
    assert "habitants en 2023" in facts
    assert "INSEE, populations légales 2023" in page


def _portrait_values(nantes, qpv):
    from cdv.indicators.enums import ValueStatus
    from cdv.indicators.models import Indicator, IndicatorValue

    indicator = Indicator.objects.create(
        contract=nantes, code="revenu-median", name="Revenu médian", unit="€", aggregation="AUCUNE"
    )
    IndicatorValue.objects.create(
        indicator=indicator,
        territory=qpv,
        year=2021,
        value=14000,
        source="INSEE, Filosofi 2021 (QPV)",
        vintage="2021",
        status=ValueStatus.PROVISIONAL,
    )
    IndicatorValue.objects.create(
        indicator=indicator,
        territory=nantes.reference,
        year=2021,
        value=23000,
        source="INSEE, Filosofi 2021 (EPCI)",
        vintage="2021",
        status=ValueStatus.FINAL,
    )
    return indicator


def test_qpv_portrait_figures_show_their_source_and_vintage(client, nantes):
    qpv = nantes.qpvs.get(code="QN04406M")
    _portrait_values(nantes, qpv)
    page = text(client.get(f"{PAGE}/quartiers/{qpv.code}/"))
    portrait = page[page.index("Portrait") : page.index("Feuille de route")]
    assert "Source : INSEE, Filosofi 2021 (QPV), millésime 2021, provisoire" in portrait
    assert "INSEE, Filosofi 2021 (EPCI), millésime 2021" in portrait
    # La valeur de démonstration du portrait est marquée et dit aussi d'où elle vient.
    assert re.search(r"dans le quartier[^.]*\. \(démonstration\)", portrait)
    assert "Source : Données de démonstration (valeurs fictives), millésime fictif" in portrait


def test_indicator_pages_show_the_source_and_vintage_of_their_values(client, nantes):
    qpv = nantes.qpvs.get(code="QN04406M")
    indicator = _portrait_values(nantes, qpv)
    for url in (f"{PAGE}/indicateurs/", f"{PAGE}/indicateurs/{indicator.code}/"):
        page = text(client.get(url))
        assert "INSEE, Filosofi 2021 (QPV), millésime 2021, provisoire" in page, url
        assert "INSEE, Filosofi 2021 (EPCI), millésime 2021" in page, url


def test_open_data_and_api_values_name_their_source_and_vintage(client, nantes):
    rows = csv.DictReader(io.StringIO(client.get(f"{PAGE}/donnees/valeurs-indicateurs.csv").content.decode()))
    row = next(r for r in rows if r["indicateur_code"] == "population" and r["territoire_code"] == "44109")
    assert row["source_libelle"].startswith("INSEE, populations légales 2023")
    assert (row["annee"], row["millesime"]) == ("2023", "2023")
    values = client.get(f"{API}/indicators/population/values", {"territory": "44109"}).json()["values"]
    assert values[-1]["source"].startswith("INSEE, populations légales 2023")


def test_open_data_enjeux_say_which_are_demonstration(client, nantes):
    rows = list(csv.DictReader(io.StringIO(client.get(f"{PAGE}/donnees/enjeux.csv").content.decode())))
    assert [r["est_demonstration"] for r in rows] == ["false"] * 4


# --- data/SOURCES.md dit quels fichiers sont chargés ---------------------------------------------


def test_sources_md_says_which_reference_files_are_loaded(nantes, monkeypatch, settings):
    from pathlib import Path

    from django.core.management import call_command

    from cdv.territories import loaders

    read = set()

    def recording_open(path, *args, **kwargs):
        read.add(Path(path).name)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(loaders, "open", recording_open, raising=False)
    call_command("load_reference_data", verbosity=0)
    doc = (Path(settings.BASE_DIR) / "data" / "SOURCES.md").read_text(encoding="utf-8")
    loaded_part = doc[
        doc.index("`python manage.py load_reference_data`") : doc.index("Livrés mais non chargés")
    ]
    not_loaded_part = doc[doc.index("Livrés mais non chargés") : doc.index("## ", doc.index("Livrés mais"))]
    names = re.compile(r"`([\w.-]+\.(?:csv|geojson))`")
    loaded, not_loaded = set(names.findall(loaded_part)), set(names.findall(not_loaded_part))
    assert "chomage_ze2020_nantes_trimestriel.csv" in read
    assert loaded == read
    assert not (not_loaded & read)
    shipped = {
        p.name for p in Path(settings.REFERENCE_DATA_DIR).iterdir() if p.suffix in {".csv", ".geojson"}
    }
    assert loaded | not_loaded == shipped


def test_no_public_page_repeats_the_demonstration_mark(client, nantes):
    from cdv.partners.models import Partner
    from cdv.plan.models import Action

    urls = [
        "/",
        f"{PAGE}/",
        f"{PAGE}/partenaires/",
        f"{PAGE}/indicateurs/",
        f"{PAGE}/recherche/?q=demonstration",
        *(f"{PAGE}/quartiers/{code}/" for code in nantes.qpvs.values_list("code", flat=True)[:3]),
        *(f"{PAGE}/enjeux/{slug}/" for slug in nantes.enjeux.values_list("slug", flat=True)),
        *(f"{PAGE}/partenaires/{p.slug}/" for p in Partner.objects.filter(is_demo=True)[:4]),
        *(
            f"{PAGE}/actions/{pk}/"
            for pk in Action.objects.for_contract(nantes).values_list("pk", flat=True)[:5]
        ),
    ]
    repeated = re.compile(r"démonstration\)?\s*\(démonstration\)")
    for url in urls:
        response = client.get(url)
        if response.status_code == 404:
            continue
        assert not repeated.search(text(response)), url


def test_map_page_cites_the_source_and_vintage_of_qpv_populations(client, nantes):
    qpv = nantes.qpvs.order_by("code").first()
    type(qpv).objects.filter(pk=qpv.pk).update(
        population=4321, population_source="INSEE, population des QPV 2020", population_year=2020
    )
    page = text(client.get(f"{PAGE}/carte/"))
    assert "Population des quartiers : INSEE, population des QPV 2020 (millésime 2020)" in page


def test_open_data_qpv_population_source_gives_the_vintage(client, nantes):
    qpv = nantes.qpvs.order_by("code").first()
    type(qpv).objects.filter(pk=qpv.pk).update(
        population=4321, population_source="INSEE, population des QPV 2020", population_year=2020
    )
    rows = csv.DictReader(io.StringIO(client.get(f"{PAGE}/donnees/quartiers.csv").content.decode()))
    row = next(r for r in rows if r["code"] == qpv.code)
    assert row["source_population"] == "INSEE, population des QPV 2020, millésime 2020"
