"""Chiffres sourcés et données de démonstration marquées ; mêmes partenaires partout (ticket 13)."""

import csv
import html
import io
import re

import pytest

from cdv.api.pagination import MAX_LIMIT

pytestmark = pytest.mark.django_db
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


def test_action_lists_of_qpv_and_enjeu_pages_mark_demonstration_actions(client, nantes):
    from cdv.plan.models import Action

    action = Action.objects.for_contract(nantes).filter(is_demo=True, scope="METROPOLE").first()
    qpv = nantes.qpvs.order_by("code").first()
    for url in (f"{PAGE}/quartiers/{qpv.code}/", f"{PAGE}/enjeux/{action.objective.enjeu.slug}/"):
        for item in _items_linking(client.get(url), f"{PAGE}/actions/{action.pk}/"):
            assert f"{action.title} (démonstration)" in item, (url, item)
            assert "(démonstration) (démonstration)" not in item


def test_partner_list_marks_a_demonstration_partner_once(client, nantes):
    page = text(client.get(f"{PAGE}/partenaires/"))
    assert "Bailleur Habitat Solidaire (démonstration)" in page
    assert "(démonstration) (démonstration)" not in page
