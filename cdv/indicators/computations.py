"""Calculs sur les indicateurs : fonctions pures, les mêmes pour les pages, l'API et les rapports.

Un taux sur plusieurs territoires est un rapport de sommes (numérateurs / dénominateurs), jamais
une moyenne de taux ; une valeur sous secret statistique ne compte jamais pour 0.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cdv.core.figures import Gap, gap  # noqa: F401 - réexporté : l'écart se calcule ici aussi

from .enums import Aggregation, Direction

PRECISION = Decimal("0.01")


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


def aggregate(points: list[Point], rule: str, *, percent: bool = False) -> Aggregate:
    """L'agrégat de plusieurs territoires selon la règle de l'indicateur, ou le motif du refus."""
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
        return Aggregate(_round(ratio * (100 if percent else 1)), parts=len(points))
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
    points: Decimal  # évolution absolue (en points pour un taux)
    percent: Decimal | None  # évolution relative en %, None si la base est nulle


def change(current, baseline) -> Change:
    """Évolution depuis l'année de référence : 40 contre 44 donne −4 points, soit −9,09 %."""
    current, baseline = Decimal(current), Decimal(baseline)
    relative = None if baseline == 0 else _round((current - baseline) / baseline * 100)
    return Change(points=current - baseline, percent=relative)


@dataclass(frozen=True)
class TargetDistance:
    remaining: Decimal  # ce qu'il reste à parcourir (0 si atteinte)
    reached: bool


def distance_to_target(current, target, direction: str) -> TargetDistance:
    """Distance à la cible selon le sens de l'indicateur (une baisse peut être l'amélioration)."""
    current, target = Decimal(current), Decimal(target)
    if direction == Direction.DOWN_IS_GOOD:
        remaining = current - target
    else:
        remaining = target - current
    reached = remaining <= 0
    return TargetDistance(remaining=Decimal(0) if reached else remaining, reached=reached)
