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
