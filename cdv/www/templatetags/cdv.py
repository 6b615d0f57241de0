from django import template

from cdv.core import french
from cdv.core.figures import french_number
from cdv.core.plain import plain_summary

register = template.Library()


@register.filter
def fr_number(value, unit=""):
    """12345.5 → « 12 345,5 » ; ``{{ v|fr_number:"%" }}`` → « 12,5 % » (espace insécable avant
    l'unité). Voir cdv.core.figures.french_number (arrondi, euros à 0 ou 2 décimales)."""
    if value is None or value == "":
        return ""
    return french_number(value, unit)


@register.filter
def fr_places(value, places):
    """Comme fr_number, arrondi à ``places`` décimales au plus (coordonnées : 6)."""
    if value is None or value == "":
        return ""
    return french_number(value, places=int(places))


@register.filter
def plain(obj) -> str:
    """Le résumé en langage clair d'un objet public ; jamais vide (voir cdv.core.plain)."""
    return plain_summary(obj)


@register.filter
def fr_abs(value):
    """La valeur absolue, à la française : −3,5 → « 3,5 »."""
    if value is None or value == "":
        return ""
    return french_number(abs(value))


@register.filter
def labelled(cells, headers):
    """Chaque case avec l'en-tête de sa colonne : ``{% for header, cell in cells|labelled:headers %}``
    (l'étiquette ``data-label`` d'un tableau lu sur petit écran), en un seul passage."""
    headers = list(headers)
    return [(headers[i] if i < len(headers) else "", cell) for i, cell in enumerate(cells)]


register.filter("partial_date", french.partial_date)
