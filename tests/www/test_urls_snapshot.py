"""Le découpage de cdv/www/urls/ ne change ni une adresse ni un nom d'URL.

tests/snapshots/urls.txt liste, dans l'ordre où Django les essaie, toutes les adresses du site
(motif complet et nom qualifié par son espace de noms) telles qu'elles étaient avant le découpage
de cdv/www/urls.py en un module par domaine. Pour régénérer le fichier après un changement
voulu d'adresse : ``.venv/bin/python tests/www/test_urls_snapshot.py`` (puis relire le diff).
"""

import re
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver, resolve

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "urls.txt"


def url_table(resolver=None, prefix="", namespace=""):
    """(motif complet, nom qualifié) de chaque adresse, dans l'ordre de résolution."""
    resolver = resolver or get_resolver()
    rows = []
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            rows.extend(url_table(entry, pattern, inner))
        elif isinstance(entry, URLPattern):
            rows.append((pattern, f"{namespace}{entry.name}" if entry.name else ""))
    return rows


def as_text(rows):
    return "".join(f"{pattern}\t{name}\n" for pattern, name in rows)


# Valeur d'exemple par convertisseur, pour construire une adresse qui correspond à chaque motif.
SAMPLES = {"slug": "exemple", "int": "7", "str": "exemple", "docfmt": "pdf", "path": "exemple"}


def sample_url(pattern):
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], pattern)


def test_every_url_keeps_its_path_and_name():
    """Mêmes couples (motif, nom), ni plus ni moins ; l'ordre est vérifié par le test suivant, là où
    il compte (les modules de cdv/www/urls/ regroupent par domaine des adresses qui ne se recouvrent
    pas)."""
    assert sorted(as_text(url_table()).splitlines()) == sorted(SNAPSHOT.read_text().splitlines())


def test_every_public_site_address_still_reaches_its_own_view():
    """L'ordre compte quand deux motifs se recouvrent (« evaluations/avenants/ » avant
    « evaluations/<slug:kind>/ ») : chaque adresse du site, remplie d'exemples, mène à sa vue."""
    rows = [(p, n) for p, n in url_table() if n.startswith("www:")]
    assert len(rows) > 100
    wrong = [
        (p, n, resolve(sample_url(p)).view_name) for p, n in rows if resolve(sample_url(p)).view_name != n
    ]
    assert wrong == []


if __name__ == "__main__":
    import os
    import sys

    import django

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    SNAPSHOT.write_text(as_text(url_table()))
