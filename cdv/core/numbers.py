"""Saisie des nombres à la française : une seule règle de lecture, un seul champ de formulaire.

Règle (documentée pour les utilisateurs dans docs/saisie-des-nombres.md) :

- la virgule est le séparateur décimal : « 0,5 », « 11 500,50 » ;
- le point est accepté comme séparateur décimal (« 0.5 ») **sauf** s'il peut se lire comme un
  séparateur de milliers : « 1.500 » (1 à 3 chiffres, un point, exactement 3 chiffres) est refusé
  comme ambigu, au lieu de deviner 1,5 ou 1 500 ;
- les milliers se séparent par une espace (ordinaire, insécable U+00A0 ou fine U+202F), par
  groupes de trois chiffres, ou ne se séparent pas : « 11 500 », « 11500 » ;
- un nombre qui mêle point et virgule (« 1.234,5 », « 1,234.5 »), qui a plusieurs virgules ou
  plusieurs points (« 0,5,3 ») ou des groupes de chiffres mal formés (« 1 50 ») est refusé ;
- le symbole de l'unité du champ peut suivre le nombre (« 11 500 € », « 12,5 % ») ;
- le signe moins s'écrit « - » ou « − ».

Le navigateur n'interprète rien : le champ est un ``<input type="text" inputmode="decimal">``
(un ``type="number"`` lit « 0,5 » selon la langue du navigateur et peut le transformer en 5).
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from cdv.core.figures import french_number

SPACES = " \u00a0\u202f\u2009\u2007"
MINUS_SIGNS = "-\u2212\u2013"
UNIT_ALIASES = {"€": ("€", "eur", "euro", "euros"), "%": ("%",), "ETP": ("etp",)}

_GROUPED = re.compile(r"^[0-9]{1,3}(?: [0-9]{3})+$")  # espaces déjà ramenées à « »
_PLAIN = re.compile(r"^[0-9]+$")
_AMBIGUOUS_POINT = re.compile(r"^[1-9][0-9]{0,2}\.[0-9]{3}$")


class NumberFormatError(ValueError):
    """Saisie illisible ou ambiguë : le message, en français, explique comment l'écrire."""


def parse_french_decimal(text, *, unit: str = "", thousands: bool = True) -> Decimal | None:
    """Lit un nombre saisi à la française ; None si la saisie est vide.

    ``unit`` : symbole qui peut suivre le nombre (« € », « % »). ``thousands=False`` pour une
    valeur sans milliers (coordonnées) : le point y est alors toujours décimal.
    Lève NumberFormatError (message français) plutôt que de deviner."""
    if text is None:
        return None
    raw = str(text)
    value = raw.strip(SPACES + "\t\n\r")
    if not value:
        return None
    shown = f"« {raw.strip()} »"
    lowered = value.lower()
    for alias in sorted(UNIT_ALIASES.get(unit, (unit.lower(),) if unit else ()), key=len, reverse=True):
        if lowered.endswith(alias):
            value = value[: -len(alias)].rstrip(SPACES)
            break
    sign = ""
    if value[:1] in MINUS_SIGNS or value[:1] == "+":
        sign = "-" if value[0] in MINUS_SIGNS else ""
        value = value[1:].lstrip(SPACES)
    for space in SPACES:
        value = value.replace(space, " ")
    if "," in value and "." in value:
        raise NumberFormatError(
            f"{shown} mêle point et virgule : écrivez la virgule pour les décimales et une espace "
            "(ou rien) entre les milliers, ex. 1 234,5."
        )
    separator = "," if "," in value else "."
    if value.count(separator) > 1:
        raise NumberFormatError(
            f"{shown} n'est pas un nombre : une seule virgule, pour les décimales (ex. 0,5 ou 1 234,5)."
        )
    whole, has_decimals, decimals = value.partition(separator)
    if has_decimals and not (decimals and _PLAIN.match(decimals)):
        raise NumberFormatError(f"{shown} n'est pas un nombre : des chiffres après la virgule (ex. 0,5).")
    if separator == "." and thousands and _AMBIGUOUS_POINT.match(value):
        raise NumberFormatError(
            f"{shown} est ambigu : écrivez {whole} {decimals} (ou {whole}{decimals}) pour un nombre "
            f"de milliers, {whole},{decimals.rstrip('0') or '0'} pour un nombre décimal."
        )
    if whole == "" and has_decimals:
        whole = "0"
    if not _PLAIN.match(whole):
        if " " in whole and thousands and _GROUPED.match(whole):
            whole = whole.replace(" ", "")
        elif re.fullmatch(r"[0-9 ]+", whole):
            raise NumberFormatError(
                f"{shown} n'est pas un nombre : séparez les milliers par groupes de trois chiffres "
                "(ex. 11 500) ou ne les séparez pas."
            )
        else:
            expected = f"un nombre, suivi au plus de « {unit} »" if unit else "un nombre, sans autre signe"
            raise NumberFormatError(f"{shown} n'est pas un nombre : saisissez {expected} (ex. 0,5).")
    try:
        number = Decimal(f"{sign}{whole}.{decimals}" if has_decimals else f"{sign}{whole}")
    except InvalidOperation as error:  # pragma: no cover - les motifs ci-dessus l'excluent
        raise NumberFormatError(f"{shown} n'est pas un nombre.") from error
    return number


def french_input(value, *, thousands: bool = True, unit: str = "") -> str:
    """Un nombre réaffiché dans un champ : « 0,5 », « 11 500,5 » (sans arrondi ni unité) ;
    sans séparer les milliers si ``thousands=False`` (une année : « 2025 »). Un montant en euros
    (``unit="€"``) garde 0 ou 2 décimales, comme partout ailleurs : « 11 500,50 »."""
    if value is None or value == "":
        return ""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    places = max(0, -number.normalize().as_tuple().exponent)
    text = french_number(number, places=places)
    if unit == "€" and places == 1:
        text += "0"
    return text if thousands else text.replace("\u202f", "")


class FrenchNumberInput(forms.TextInput):
    """``<input type="text" inputmode="decimal">`` : le navigateur ne lit pas le nombre."""

    input_type = "text"
    thousands = True  # False : valeur sans milliers (année, coordonnée), écrite « 2025 »
    unit = ""  # « € » : un montant réaffiché avec ses centimes (« 12 000,50 »)

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, str):
            # Saisie renvoyée avec une erreur ailleurs : réécrite à la française si elle est lisible.
            try:
                value = parse_french_decimal(value, thousands=self.thousands)
            except NumberFormatError:
                return value
            if value is None:
                return None
        return french_input(value, thousands=self.thousands, unit=self.unit)


class FrenchDecimalField(forms.DecimalField):
    """Montant, ETP, taux ou valeur saisis à la française ; refus clair, jamais de conversion ×10.

    ``unit`` : le symbole accepté après le nombre (« € », « % »). Les messages nomment le champ."""

    widget = FrenchNumberInput

    def __init__(self, *, unit: str = "", thousands: bool = True, **kwargs):
        self.unit = unit
        self.thousands = thousands
        kwargs.pop("localize", None)
        super().__init__(**kwargs)
        self.widget.thousands = thousands
        self.widget.unit = unit

    def _named(self, message: str) -> str:
        return f"{self.label} : {message}" if self.label else message

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if len(str(value)) > 60:
            raise ValidationError(self._named("saisie trop longue pour un nombre."), code="invalid")
        try:
            return parse_french_decimal(value, unit=self.unit, thousands=self.thousands)
        except NumberFormatError as error:
            raise ValidationError(self._named(str(error)), code="invalid") from error

    def run_validators(self, value):
        if value in self.empty_values:
            return
        places, digits = self.decimal_places, self.max_digits
        # Les décimales tapées comptent, zéros compris : « 11,500 » dans un champ en euros
        # (deux décimales) est refusé plutôt que lu 11,5 (ou 11 500 à l'anglaise).
        decimals = max(0, -value.as_tuple().exponent)
        if places is not None and decimals > places:
            message = (
                "nombre entier attendu, sans décimales."
                if places == 0
                else f"{places} chiffre{'s' if places > 1 else ''} après la virgule au plus."
            )
            raise ValidationError(self._named(message), code="max_decimal_places")
        whole_digits = value.adjusted() + 1 if abs(value) >= 1 else 0
        if digits is not None and places is not None and whole_digits > digits - places:
            largest = "9" * (digits - places)
            raise ValidationError(
                self._named(f"nombre trop grand ({french_number(Decimal(largest))} au plus)."),
                code="max_whole_digits",
            )
        if self.min_value is not None and value < self.min_value:
            message = (
                "le nombre ne peut pas être négatif."
                if self.min_value == 0
                else f"{french_input(self.min_value)} au moins."
            )
            raise ValidationError(self._named(message), code="min_value")
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(self._named(f"{french_input(self.max_value)} au plus."), code="max_value")

    def widget_attrs(self, widget):
        # Ni min, ni max, ni step : ce sont des attributs de type="number" ; le serveur contrôle.
        return forms.Field.widget_attrs(self, widget)


class FrenchIntegerField(FrenchDecimalField):
    """Un entier saisi à la française (« 50 % », « 1 200 ») ; rendu comme un int."""

    def __init__(self, **kwargs):
        kwargs.setdefault("decimal_places", 0)
        kwargs.setdefault("max_digits", 12)
        super().__init__(**kwargs)
        self.widget.attrs["inputmode"] = "numeric"

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else int(value)
