"""Filtres de gabarit à la française, chargés partout (``builtins`` dans TEMPLATES) : ils remplacent
``pluralize`` et ``date`` de Django.

- ``pluralize`` : en français, 0 et 1 sont au singulier (« 0 engagement », « 1,5 ETP ») ; Django
  met le pluriel dès que le nombre n'est pas 1 (règle anglaise). Mêmes arguments que Django.
- ``date`` : le premier jour du mois s'écrit « 1er » (« 1er janvier 2024 ») ; le reste est le filtre
  de Django.
- ``de`` et ``a`` (nouveaux) : « au nom {{ partner.name|de }} » → « au nom de l'Association … ».
"""

import datetime
import re

from django import template
from django.template import defaultfilters
from django.utils import formats

from cdv.core import french

register = template.Library()

_UNESCAPED_DAY = re.compile(r"(?<!\\)j")


@register.filter(is_safe=False)
def pluralize(value, arg="s"):
    if "," not in arg:
        arg = "," + arg
    bits = arg.split(",")
    if len(bits) > 2:
        return ""
    singular, plural = bits[:2]
    try:
        number = abs(float(value))
    except (TypeError, ValueError):
        try:
            number = len(value)
        except TypeError:
            return ""
    return singular if number < 2 else plural


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    if isinstance(value, datetime.date) and value.day == 1:
        arg = _UNESCAPED_DAY.sub(r"\\1\\e\\r", arg or formats.get_format("DATE_FORMAT"))
    return defaultfilters.date(value, arg)


@register.filter(name="de")
def de_filter(name):
    """« de » contracté ou élidé devant un nom : « des Dervallières », « de l'Association … »."""
    return french.de(str(name or ""))


@register.filter(name="a")
def a_filter(name):
    """« à » contracté devant un nom : « aux Dervallières », « au Breil »."""
    return french.a(str(name or ""))
