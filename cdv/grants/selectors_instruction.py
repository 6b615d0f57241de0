"""Les lectures de l'instruction : la file des dossiers d'un appel (par financeur, par quartier,
avec filtres) et le dossier tel que le voient les instructeurs.

Nombre de requêtes borné quel que soit le nombre de dossiers (préchargements) ; les droits viennent
de ``abilities.visible_applications``.

Un dossier est « en retard » s'il est déposé et qu'une de ses lignes (celle du financeur choisi,
sinon n'importe laquelle) est encore « Transmis » ou « Pris en charge » après la fin de
l'instruction de l'appel, ou n'est toujours pas décidée après la date du comité.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Avg,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from cdv.territories.models import Territory, heavy_fields

from .abilities import visible_applications
from .enums import DECIDED_LINE_STATUSES, LineStatus
from .models import (
    Application,
    ApplicationEvent,
    Call,
    CallFunder,
    FunderLine,
    InfoRequest,
    QuartierOpinion,
    Score,
)

WAITING_LINE_STATUSES = [LineStatus.TRANSMITTED, LineStatus.TAKEN]


@dataclass
class QueueFilters:
    funder: CallFunder | None = None
    status: str = ""
    enjeu_id: int | None = None
    qpv_id: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    late: bool = False


def late_lines_q(call: Call, today: datetime.date, prefix: str = "") -> Q:
    """Lignes en retard (voir le module) ; ``prefix`` : chemin vers la ligne (« funder_lines__ »)."""
    late = Q(pk__in=[])
    if call.instruction_ends and today > call.instruction_ends:
        late |= Q(**{f"{prefix}status__in": WAITING_LINE_STATUSES})
    if call.committee_date and today > call.committee_date:
        late |= ~Q(**{f"{prefix}status__in": list(DECIDED_LINE_STATUSES)})
    return late


def is_line_late(line: FunderLine, call: Call, today: datetime.date) -> bool:
    if call.instruction_ends and today > call.instruction_ends and line.status in WAITING_LINE_STATUSES:
        return True
    return bool(
        call.committee_date and today > call.committee_date and line.status not in DECIDED_LINE_STATUSES
    )


def _average_score():
    """Moyenne sur 20 des notes du dossier, chacune rapportée sur 20 (les critères peuvent avoir des
    barèmes différents)."""
    scores = (
        Score.objects.filter(application=OuterRef("pk"))
        .order_by()
        .values("application")
        .annotate(
            average=Avg(
                ExpressionWrapper(
                    F("value") * Value(20.0) / F("criterion__scale_max"), output_field=FloatField()
                )
            )
        )
        .values("average")
    )
    return Subquery(scores, output_field=FloatField())


def _requested_total(funder: CallFunder | None):
    lines = FunderLine.objects.filter(application=OuterRef("pk"))
    if funder is not None:
        lines = lines.filter(funder=funder)
    total = lines.order_by().values("application").annotate(total=Sum("requested_amount")).values("total")
    return Coalesce(
        Subquery(total), Value(Decimal("0")), output_field=DecimalField(max_digits=14, decimal_places=2)
    )


def queue(
    user, call: Call, filters: QueueFilters | None = None, *, today: datetime.date | None = None
) -> QuerySet:
    """Les dossiers déposés de l'appel que ``user`` peut ouvrir, filtrés, avec pour chacun
    ``requested_total`` (demandé au financeur choisi, sinon à tous), ``average_score`` et ses lignes,
    quartiers et enjeu préchargés."""
    filters = filters or QueueFilters()
    today = today or timezone.localdate()
    visible = visible_applications(user, Application.objects.all(), call).submitted()
    ids = visible.values("pk")
    queryset = Application.objects.filter(pk__in=ids)
    line_filter = Q()
    if filters.funder is not None:
        line_filter &= Q(funder_lines__funder=filters.funder)
    if filters.status:
        line_filter &= Q(funder_lines__status=filters.status)
    if filters.late:
        line_filter &= late_lines_q(call, today, "funder_lines__")
    if line_filter:
        queryset = queryset.filter(
            pk__in=Application.objects.filter(call=call).filter(line_filter).values("pk")
        )
    if filters.enjeu_id:
        queryset = queryset.filter(enjeu_id=filters.enjeu_id)
    if filters.qpv_id:
        queryset = queryset.filter(pk__in=Application.objects.filter(qpvs=filters.qpv_id).values("pk"))
    queryset = queryset.annotate(
        requested_total=_requested_total(filters.funder), average_score=_average_score()
    )
    if filters.min_amount is not None:
        queryset = queryset.filter(requested_total__gte=filters.min_amount)
    if filters.max_amount is not None:
        queryset = queryset.filter(requested_total__lte=filters.max_amount)
    return (
        queryset.select_related("partner", "enjeu", "call")
        .prefetch_related(
            qpvs_lookup(),
            Prefetch("funder_lines", queryset=FunderLine.objects.select_related("funder__partner")),
        )
        .order_by("number", "pk")
    )


def queue_counts(applications) -> dict[str, int]:
    """Nombre de lignes par état dans la file affichée (lu sur les lignes préchargées)."""
    counts = {status: 0 for status in LineStatus.values}
    for application in applications:
        for line in application.funder_lines.all():
            counts[line.status] += 1
    return {status: count for status, count in counts.items() if count}


def application_for_rights(queryset: QuerySet) -> QuerySet:
    """Le dossier et ce que lisent ses droits (``application_abilities``, ``funder_line_abilities`` :
    l'appel, les quartiers, les lignes des financeurs) ; le reste de la page d'instruction,
    ``instruction_page_lookups()``, se précharge une fois les droits accordés."""
    return queryset.select_related(
        "call__contract", "partner", "enjeu", "objective", "action", "submitted_by"
    ).prefetch_related(
        qpvs_lookup(),
        Prefetch("funder_lines", queryset=FunderLine.objects.select_related("funder__partner", "updated_by")),
    )


def qpvs_lookup() -> Prefetch:
    """Les quartiers d'un dossier, sans leurs champs lourds (contour GeoJSON, emprise, communes) :
    droits, pages, PDF et API n'en lisent que l'identifiant, le nom et le code."""
    return Prefetch("qpvs", queryset=Territory.objects.defer(*heavy_fields()))


def opinions_lookup() -> Prefetch:
    return Prefetch("quartier_opinions", queryset=QuartierOpinion.objects.select_related("qpv", "author"))


def scores_lookup() -> Prefetch:
    return Prefetch("scores", queryset=Score.objects.select_related("criterion", "author"))


def instruction_page_lookups() -> list:
    """Les préchargements de la page d'instruction (et du PDF) que les droits ne lisent pas."""
    return [
        "budget_lines",
        "call__criteria",
        opinions_lookup(),
        scores_lookup(),
        Prefetch(
            "info_requests",
            queryset=InfoRequest.objects.select_related("funder__partner", "asked_by", "answered_by"),
        ),
        Prefetch("events", queryset=ApplicationEvent.objects.select_related("actor", "funder__partner")),
    ]


@dataclass
class ScoreSummary:
    criterion: object
    scores: list
    average: float | None


def score_summary(application: Application) -> tuple[list[ScoreSummary], float | None]:
    """Par critère : les notes et leur moyenne ; puis la moyenne sur 20 de toutes les notes, chacune
    rapportée sur 20 (comme dans la file). Lu sur les préchargements."""
    by_criterion: dict[int, list] = {}
    for score in application.scores.all():
        by_criterion.setdefault(score.criterion_id, []).append(score)
    rows, normalized = [], []
    for criterion in application.call.criteria.all():
        scores = by_criterion.get(criterion.pk, [])
        average = sum(s.value for s in scores) / len(scores) if scores else None
        normalized.extend(s.value / criterion.scale_max * 20 for s in scores)
        rows.append(ScoreSummary(criterion=criterion, scores=scores, average=average))
    overall = sum(normalized) / len(normalized) if normalized else None
    return rows, overall
