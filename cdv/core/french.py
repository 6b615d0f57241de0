"""Petites règles du français pour composer des phrases avec des noms propres ou des nombres.

- ``de("Les Dervallières")`` → « des Dervallières », ``de("Le Breil")`` → « du Breil »,
  ``de("La Boissière")`` → « de la Boissière », ``de("Association Tremplin")`` → « de l'Association
  Tremplin », ``de("Bailleur Habitat")`` → « du Bailleur Habitat », ``de("Malakoff")`` → « de Malakoff »,
  ``de("Orvault")`` → « d'Orvault » ;
- ``a("Les Dervallières")`` → « aux Dervallières », ``a("Le Breil")`` → « au Breil » ;
- ``plural(3, "confirmé")`` → « 3 confirmés », ``plural(0, "engagement")`` → « 0 engagement » (en
  français, zéro et un sont au singulier) ;
- ``day_month_year(date)`` → « 1er janvier 2024 », « 2 janvier 2024 » ;
- ``partial_date("2023-12")`` → « décembre 2023 » (dates partielles des sources).
"""

import datetime

from django.utils import formats

VOWELS = tuple("aeiouyàâäéèêëîïôöùûüœhAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒH")

# Noms communs par lesquels commencent souvent les noms d'organisations : ils prennent un article
# (« au nom de l'Association … », « du Conseil citoyen … ») ; le genre décide de l'article.
MASCULINE = {
    "bailleur",
    "conseil",
    "centre",
    "comité",
    "collectif",
    "club",
    "département",
    "office",
    "syndicat",
    "groupement",
    "établissement",
    "service",
    "foyer",
    "pôle",
    "réseau",
}
FEMININE = {
    "association",
    "ville",
    "mairie",
    "caisse",
    "maison",
    "mission",
    "région",
    "préfecture",
    "fédération",
    "fondation",
    "agence",
    "chambre",
    "direction",
    "métropole",
    "régie",
    "union",
}


def _split_article(name: str) -> tuple[str, str]:
    """(« le », « Breil ») pour « Le Breil » ; ("", nom) s'il n'y a pas d'article."""
    for article in ("Les ", "Le ", "La ", "L'", "L’"):
        if name.startswith(article) or name.lower().startswith(article.lower()):
            return article.strip().lower().replace("’", "'"), name[len(article) :]
    return "", name


def _common_noun_article(name: str) -> str:
    """« l' », « le » ou « la » devant un nom d'organisation qui commence par un nom commun ; sinon ""."""
    first = name.split(" ", 1)[0].split("'", 1)[0].lower()
    if first in MASCULINE:
        return "l'" if name.startswith(VOWELS) else "le"
    if first in FEMININE:
        return "l'" if name.startswith(VOWELS) else "la"
    return ""


def _with_article(name: str) -> tuple[str, str]:
    article, rest = _split_article(name.strip())
    if article:
        return article, rest
    return _common_noun_article(name.strip()), name.strip()


# Article du nom → (« de » contracté ou élidé, « à » contracté).
CONTRACTIONS = {
    "les": ("des ", "aux "),
    "le": ("du ", "au "),
    "la": ("de la ", "à la "),
    "l'": ("de l'", "à l'"),
}


def de(name: str) -> str:
    """« de » contracté ou élidé devant un nom propre."""
    article, rest = _with_article(name)
    if article in CONTRACTIONS:
        return CONTRACTIONS[article][0] + rest
    return f"d'{rest}" if rest.startswith(VOWELS) else f"de {rest}"


def a(name: str) -> str:
    """« à » contracté devant un nom propre."""
    article, rest = _with_article(name)
    if article in CONTRACTIONS:
        return CONTRACTIONS[article][1] + rest
    return f"à {rest}"


def plural(count, singular: str, plural_form: str | None = None) -> str:
    """« 0 engagement », « 1 engagement », « 3 engagements » ; le nombre écrit à la française."""
    from cdv.core.figures import french_number

    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{french_number(count)} {word}"


def day_month_year(value: datetime.date) -> str:
    """« 1er janvier 2024 », « 15 mars 2025 »."""
    text = formats.date_format(value, "j F Y")
    return "1er" + text[1:] if value.day == 1 else text


MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def partial_date(value: str) -> str:
    """« 2023-12 » → « décembre 2023 » ; « 2023-12-06 » → « 6 décembre 2023 »."""
    parts = (value or "").split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return value or ""
