"""D'où vient une valeur d'indicateur : la série officielle (import, pilote) ou un engagement.

Un partenaire n'écrit de valeur (part de son public en QPV par géoréférencement, valeurs saisies
dans son bilan annuel) que dans un indicateur propre à son engagement, vu par le pilote à la
validation : jamais dans la série officielle ni par-dessus la valeur de quelqu'un d'autre. Ces
règles servent au géoréférencement (`cdv.georef.services`) et au bilan (`cdv.monitoring.services`).
"""

from cdv.commitments.enums import CommitmentStatus

from .models import IndicatorValue


def indicators_seen_at_validation(commitment) -> set[int] | None:
    """Les indicateurs de l'engagement tels que le pilote les a validés (dernière validation, d'après
    l'historique) ; None si l'historique n'en garde pas (engagement chargé directement dans cet état)."""
    record = (
        commitment.history.filter(status=CommitmentStatus.VALIDATED)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is None:
        return None
    return set(record.indicators.values_list("indicator_id", flat=True))


def value_origins(indicator_ids) -> dict[int, set[int | None]]:
    """Par indicateur, les engagements d'origine de ses valeurs (None : série officielle)."""
    origins = {}
    rows = IndicatorValue.objects.filter(indicator_id__in=indicator_ids).values_list(
        "indicator_id", "commitment_id"
    )
    for indicator_id, commitment_id in rows.distinct().order_by():
        origins.setdefault(indicator_id, set()).add(commitment_id)
    return origins


def is_own_series(indicator, commitment, origins=None) -> bool:
    """Toutes les valeurs de l'indicateur (s'il en a) viennent de cet engagement."""
    if origins is None:
        origins = value_origins([indicator.pk])
    return origins.get(indicator.pk, set()) <= {commitment.pk}


# Signature des valeurs saisies dans un bilan annuel avant que la valeur ne garde son engagement
# d'origine (voir ``cdv.monitoring.abilities.REPORT_VALUE_COMMENT``).
REPORT_SIGNATURE_PREFIX = "Saisi par "


def with_official_values(indicator_ids) -> set[int]:
    """Parmi ces indicateurs, ceux qui ont des valeurs de la série officielle (import, pilote,
    données de référence) : ni un engagement d'origine, ni la signature d'un bilan. Une requête."""
    return set(
        IndicatorValue.objects.filter(indicator_id__in=indicator_ids, commitment__isnull=True)
        .exclude(comment__startswith=REPORT_SIGNATURE_PREFIX)
        .values_list("indicator_id", flat=True)
        .distinct()
        .order_by()
    )
