"""Calculs sur les chiffres : fonctions pures, partagées par les pages, l'API et les rapports."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Gap:
    points: Decimal  # différence, en points si les valeurs sont des taux ; au dixième
    ratio: Decimal | None  # valeur / référence, None si la référence est nulle

    def points_label(self) -> str:
        sign = "+" if self.points > 0 else ("−" if self.points < 0 else "")
        return f"{sign}{french_number(abs(self.points))}"

    def ratio_label(self) -> str:
        return "" if self.ratio is None else f"×{french_number(self.ratio)}"


def gap(value, reference) -> Gap:
    """Écart entre un territoire et sa référence : 44 % contre 12 % donne +32 points et ×3,7.

    Arrondi au dixième : 40,005 contre 11,31 donne +28,7 points, jamais « +28,695 points ».
    """
    value, reference = Decimal(value), Decimal(reference)
    points = (value - reference).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    ratio = None
    if reference != 0:
        ratio = (value / reference).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Gap(points=points, ratio=ratio)


def french_number(value, unit: str = "", *, places: int | None = None) -> str:
    """Écrit un nombre à la française, pour toute page ou tout document (pas pour les données
    ouvertes ni l'API, qui gardent le point décimal).

    Virgule décimale, espace fine insécable (U+202F) entre les milliers, espace insécable
    (U+00A0) avant l'unité : ``french_number(12345.5, "€")`` → « 12 345,50 € ».
    Arrondi : ``places`` décimales au plus ; par défaut 2 (3 chiffres significatifs sous 1,
    pour ne pas écrire 0 pour 0,004). Les zéros inutiles tombent (« 3,7 », pas « 3,70 »), sauf
    pour les euros, écrits avec 0 ou 2 décimales."""
    # Un flottant (contenu figé en JSON) passe par son écriture courte : 33.3 et non 33,29999…
    value = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if places is None:
        places = 2
        if value and abs(value) < 1:
            places = max(2, 2 - value.adjusted())
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) if value.is_finite() else value
    if value == value.to_integral_value():
        text = f"{int(value):,}".replace(",", "\u202f")  # int() efface aussi « -0 »
    else:
        text = f"{value.normalize():f}".replace(".", ",")
        whole, _, decimals = text.partition(",")
        if unit == "€":
            decimals = decimals.ljust(2, "0")
        sign = "-" if whole.startswith("-") else ""  # int("-0") perdrait le signe de −0,5
        text = sign + f"{abs(int(whole)):,}".replace(",", "\u202f") + "," + decimals
    return f"{text}\u00a0{unit}" if unit else text
