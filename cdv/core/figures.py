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


def french_number(value) -> str:
    """Écrit un nombre à la française : virgule décimale, espace insécable fine pour les milliers."""
    # Un flottant (contenu figé en JSON) passe par son écriture courte : 33.3 et non 33,29999…
    value = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if value == value.to_integral_value():
        text = f"{int(value):,}".replace(",", "\u202f")
    else:
        text = f"{value.normalize():f}".replace(".", ",")
        whole, _, decimals = text.partition(",")
        sign = "-" if whole.startswith("-") else ""  # int("-0") perdrait le signe de −0,5
        text = sign + f"{abs(int(whole)):,}".replace(",", "\u202f") + "," + decimals
    return text
