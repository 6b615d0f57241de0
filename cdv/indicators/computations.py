"""Calculs sur les indicateurs : fonctions pures, les mêmes pour les pages, l'API et les rapports.

Un taux sur plusieurs territoires est un rapport de sommes (numérateurs / dénominateurs), jamais
une moyenne de taux ; une valeur sous secret statistique ne compte jamais pour 0.

Ordre des périodes : chronologique, une valeur annuelle (trimestre 0) avant les trimestres de son
année (2023, 2024, 2024-T1…2024-T4, 2025) — l'ordre de la base, de l'API et des exports. Les
graphiques et leurs tableaux suivent cet ordre quelles que soient les valeurs manquantes.

Écarts, évolutions et distances à la cible s'arrondissent au dixième (``DIFFERENCE_PRECISION``).
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cdv.core.figures import Gap, gap  # noqa: F401 - réexporté : l'écart se calcule ici aussi

from .enums import Aggregation, Direction

PRECISION = Decimal("0.01")
DIFFERENCE_PRECISION = Decimal("0.1")

_PERIOD_LABEL = re.compile(r"^(\d{4})(?:-T([1-4]))?$")
_QUARTER_NAME = re.compile(r"^([1-4])(?:er|e|ème) trimestre (\d{4})$")


def period_key(year: int, quarter: int = 0) -> tuple[int, int]:
    """La clé de tri chronologique d'une période ; une valeur annuelle précède ses trimestres."""
    return (int(year), int(quarter or 0))


def period_sort_key(label: str) -> tuple:
    """La clé de tri d'une période écrite (« 2024 », « 2024-T3 », « 3e trimestre 2024 »).

    Les contenus figés (bilan annuel) ne gardent que l'écriture : elle suffit à retrouver l'ordre.
    Une écriture inconnue se range après les autres, par ordre alphabétique.
    """
    text = str(label).strip()
    match = _PERIOD_LABEL.match(text)
    if match:
        return (0, *period_key(int(match.group(1)), int(match.group(2) or 0)), "")
    match = _QUARTER_NAME.match(text)
    if match:
        return (0, *period_key(int(match.group(2)), int(match.group(1))), "")
    return (1, 0, 0, text)


def _quarter_of(label) -> tuple[int, int] | None:
    match = _PERIOD_LABEL.match(str(label).strip())
    if match and match.group(2):
        return int(match.group(1)), int(match.group(2))
    return None


def period_name(label, *, short: bool = False) -> str:
    """Une période en français : « 2024 », « 1er trimestre 2024 » (court : « 1er trim. 2024 »)."""
    quarter = _quarter_of(label)
    if quarter is None:
        return str(label)
    year, number = quarter
    return f"{number}{'er' if number == 1 else 'e'} {'trim.' if short else 'trimestre'} {year}"


def at_period(label) -> str:
    """« en 2024 », « au 1er trimestre 2024 »."""
    return f"au {period_name(label)}" if _quarter_of(label) else f"en {label}"


def round_difference(value) -> Decimal:
    """Un écart, une évolution, une distance : au dixième (28,695 points s'écrit 28,7)."""
    return Decimal(value).quantize(DIFFERENCE_PRECISION, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Point:
    label: str
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    is_secret: bool = False
    weight: Decimal | None = None  # population, pour une moyenne pondérée


@dataclass(frozen=True)
class Aggregate:
    value: Decimal | None
    reason: str = ""  # pourquoi l'agrégat est refusé, en français
    parts: int = 0

    @property
    def ok(self) -> bool:
        return self.value is not None


def _round(value: Decimal) -> Decimal:
    return value.quantize(PRECISION, rounding=ROUND_HALF_UP)


def aggregate(points: list[Point], rule: str, *, scale: int | None = None) -> Aggregate:
    """L'agrégat de plusieurs territoires selon la règle de l'indicateur, ou le motif du refus.

    ``scale`` : l'échelle du taux (100, 1 000…) ; le rapport des sommes est multiplié par elle.
    """
    if not points:
        return Aggregate(None, "aucune valeur à agréger")
    if rule == Aggregation.NONE:
        return Aggregate(None, "cet indicateur ne s'agrège pas (règle « non agrégeable »)")
    secret = [p.label for p in points if p.is_secret]
    if secret:
        return Aggregate(
            None,
            "valeur sous secret statistique pour "
            + ", ".join(secret)
            + " : l'ensemble ne peut pas être calculé",
        )
    if rule == Aggregation.SUM:
        missing = [p.label for p in points if p.value is None]
        if missing:
            return Aggregate(None, "valeur manquante pour " + ", ".join(missing))
        return Aggregate(sum((p.value for p in points), Decimal(0)), parts=len(points))
    if rule == Aggregation.RATIO:
        missing = [p.label for p in points if p.numerator is None or p.denominator is None]
        if missing:
            return Aggregate(
                None,
                "numérateur ou dénominateur manquant pour "
                + ", ".join(missing)
                + " : un taux d'ensemble est un rapport de sommes, jamais une moyenne de taux",
            )
        denominator = sum((p.denominator for p in points), Decimal(0))
        if denominator == 0:
            return Aggregate(None, "dénominateur total nul")
        ratio = sum((p.numerator for p in points), Decimal(0)) / denominator
        return Aggregate(_round(ratio * (scale or 1)), parts=len(points))
    if rule == Aggregation.WEIGHTED_MEAN:
        missing = [p.label for p in points if p.value is None or p.weight is None]
        if missing:
            return Aggregate(None, "valeur ou population manquante pour " + ", ".join(missing))
        total_weight = sum((p.weight for p in points), Decimal(0))
        if total_weight == 0:
            return Aggregate(None, "population totale nulle")
        weighted = sum((p.value * p.weight for p in points), Decimal(0)) / total_weight
        return Aggregate(_round(weighted), parts=len(points))
    return Aggregate(None, f"règle d'agrégation inconnue : {rule}")


@dataclass(frozen=True)
class Change:
    points: Decimal  # évolution absolue (en points pour un taux), au dixième
    percent: Decimal | None  # évolution relative en %, None si la base est nulle


def change(current, baseline) -> Change:
    """Évolution depuis l'année de référence : 40 contre 44 donne −4 points, soit −9,09 %."""
    current, baseline = Decimal(current), Decimal(baseline)
    relative = None if baseline == 0 else _round((current - baseline) / baseline * 100)
    return Change(points=round_difference(current - baseline), percent=relative)


@dataclass(frozen=True)
class TargetDistance:
    remaining: Decimal  # ce qu'il reste à parcourir (0 si atteinte), au dixième
    reached: bool


def distance_to_target(current, target, direction: str) -> TargetDistance:
    """Distance à la cible selon le sens de l'indicateur (une baisse peut être l'amélioration)."""
    current, target = Decimal(current), Decimal(target)
    if direction == Direction.DOWN_IS_GOOD:
        remaining = current - target
    else:
        remaining = target - current
    reached = remaining <= 0
    return TargetDistance(remaining=Decimal(0) if reached else round_difference(remaining), reached=reached)
