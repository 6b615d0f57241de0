"""Identifiants d'URL uniques : « base », sinon « base-2 », « base-3 »…"""

from django.utils.text import slugify


def unique_slug(queryset, text: str, *, fallback: str, length: int = 70) -> str:
    """Le premier identifiant d'URL tiré de ``text`` qu'aucun objet de ``queryset`` ne porte encore
    (une seule requête, quel que soit le nombre d'homonymes)."""
    base = slugify(text)[:length] or fallback
    taken = set(queryset.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
