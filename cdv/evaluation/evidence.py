"""Les éléments de preuve d'une évaluation, assemblés par la plateforme, question par question.

Pour chaque question évaluative (ses enjeux et ses objectifs) :
- les indicateurs de ses enjeux : la valeur de l'ensemble des QPV et l'écart à la référence au début
  de la période (dernière valeur connue au plus tard la première année) et à la fin (dernière valeur
  connue au plus tard la dernière année), l'évolution, avec l'avertissement de comparabilité ;
- la réalisation des engagements liés (ceux de ses objectifs et de ses enjeux) : taux par partenaire,
  par enjeu et par quartier ; un engagement compte s'il a été confirmé (cahier signé) ;
- les moyens mobilisés (bilans annuels acceptés de la période) au regard des moyens engagés pour les
  mêmes années ;
- les retours d'expérience publiés et les décisions des instances qui s'y rapportent, avec leur suivi.

Tout est lu en un nombre fixe de requêtes pour toute l'évaluation, puis réparti en Python.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from cdv.commitments.enums import CommitmentScope, CommitmentStatus
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.indicators import computations, selectors
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.monitoring.enums import PUBLIC_MEETING_KINDS
from cdv.monitoring.feedback import published_feedback
from cdv.monitoring.models import Decision, Feedback, ProgressReport
from cdv.plan.models import Action, Objective
from cdv.territories.models import Territory, heavy_fields

# Colonnes lourdes d'un quartier (contour, emprise, codes des communes) : le rapport n'en lit que le
# nom et la clé. Un vrai contour pèse des dizaines de kilo-octets, relus pour chaque engagement.


def light_qpvs() -> Prefetch:
    """Les quartiers d'engagements (``prefetch_related``), sans leurs colonnes lourdes."""
    return Prefetch("qpvs", queryset=Territory.objects.defer(*heavy_fields()))


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass
class Realisation:
    """Réalisation d'un ensemble d'engagements confirmés."""

    label: str
    engaged: int = 0
    done: int = 0
    partly_done: int = 0
    not_done: int = 0
    abandoned: int = 0
    ongoing: int = 0

    def add(self, status: str) -> None:
        self.engaged += 1
        if status == CommitmentStatus.DONE:
            self.done += 1
        elif status == CommitmentStatus.PARTLY_DONE:
            self.partly_done += 1
        elif status == CommitmentStatus.NOT_DONE:
            self.not_done += 1
        elif status == CommitmentStatus.ABANDONED:
            self.abandoned += 1
        else:
            self.ongoing += 1

    @property
    def rate(self) -> Decimal | None:
        """Part des engagements réalisés en tout ou partie, en %."""
        return _pct(self.done + self.partly_done, self.engaged)

    @property
    def full_rate(self) -> Decimal | None:
        return _pct(self.done, self.engaged)


@dataclass
class Means:
    committed_fte: Decimal = Decimal(0)
    committed_eur: Decimal = Decimal(0)
    mobilised_fte: Decimal = Decimal(0)
    mobilised_eur: Decimal = Decimal(0)

    @property
    def fte_ratio(self) -> Decimal | None:
        return _pct(self.mobilised_fte, self.committed_fte)

    @property
    def eur_ratio(self) -> Decimal | None:
        return _pct(self.mobilised_eur, self.committed_eur)


@dataclass
class IndicatorEvidence:
    indicator: Indicator
    start: selectors.PeriodSummary | None
    end: selectors.PeriodSummary | None
    change: computations.Change | None  # évolution de l'ensemble des QPV
    gap_change: Decimal | None  # évolution de l'écart en valeur absolue, en points (négatif : il se réduit)

    @property
    def warning(self) -> str:
        return self.indicator.comparability_note


@dataclass
class QuestionEvidence:
    question: object
    indicators: list[IndicatorEvidence] = field(default_factory=list)
    overall: Realisation = field(default_factory=lambda: Realisation("Ensemble"))
    by_partner: list[Realisation] = field(default_factory=list)
    by_enjeu: list[Realisation] = field(default_factory=list)
    by_qpv: list[Realisation] = field(default_factory=list)
    means: Means = field(default_factory=Means)
    feedback: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    commitment_ids: set[int] = field(default_factory=set)


def _window(summaries, start_year, end_year):
    """La dernière valeur connue au plus tard au début, et au plus tard à la fin de la période."""
    annual = [s for s in summaries if s.qpv_value is not None]
    before = [s for s in annual if s.year <= start_year]
    start = before[-1] if before else next((s for s in annual if s.year <= end_year), None)
    within = [s for s in annual if s.year <= end_year]
    end = within[-1] if within else None
    if start is not None and end is not None and (end.year, end.quarter) <= (start.year, start.quarter):
        end = None  # une seule mesure : pas d'évolution à montrer
    return start, end


def indicator_evidence(contract, indicators, start_year, end_year) -> dict[int, IndicatorEvidence]:
    populations = selectors.contract_qpv_populations(contract)
    values = defaultdict(list)
    queryset = selectors.with_territory(IndicatorValue.objects.filter(indicator__in=indicators))
    for value in queryset.order_by("year", "quarter"):
        values[value.indicator_id].append(value)
    result = {}
    for indicator in indicators:
        summaries = selectors.summaries(contract, indicator, values[indicator.pk], populations)
        start, end = _window(summaries, start_year, end_year)
        change = gap_change = None
        if start is not None and end is not None:
            change = computations.change(end.qpv_value, start.qpv_value)
            if start.gap is not None and end.gap is not None:
                gap_change = abs(end.gap.points) - abs(start.gap.points)
        result[indicator.pk] = IndicatorEvidence(indicator, start, end, change, gap_change)
    return result


def _linked_ids():
    """Les engagements et actions cités par un retour ou une décision : seuls leurs numéros servent,
    lus sans leurs autres colonnes ni le tri par défaut (jointures jusqu'au contrat)."""
    return (
        Prefetch("commitments", queryset=Commitment.objects.only("pk").order_by()),
        Prefetch("actions", queryset=Action.objects.only("pk").order_by()),
    )


def assemble(evaluation) -> list[QuestionEvidence]:
    contract = evaluation.contract
    years = range(evaluation.period_start, evaluation.period_end + 1)
    questions = list(
        evaluation.questions.prefetch_related(
            "enjeux", Prefetch("objectives", queryset=Objective.objects.select_related("enjeu"))
        ).order_by("number")
    )

    commitments = list(
        Commitment.objects.published()
        .filter(contract=contract)
        .select_related("partner", "objective__enjeu")
        .prefetch_related(light_qpvs())
        .only(
            "status",
            "scope",
            "action_id",
            "partner__name",
            "objective__id",
            "objective__enjeu__id",
            "objective__enjeu__number",
            "objective__enjeu__title",
        )
    )
    committed = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for m in CommitmentMeans.objects.filter(commitment__in=[c.pk for c in commitments], year__in=years):
        committed[m.commitment_id][0] += m.fte or 0
        committed[m.commitment_id][1] += m.amount_eur or 0
    mobilised = defaultdict(lambda: [Decimal(0), Decimal(0)])
    reports = (
        ProgressReport.objects.for_contract(contract).accepted().filter(campaign__year__in=years)
    ).only("commitment_id", "fte_actual", "amount_actual")
    for r in reports:
        mobilised[r.commitment_id][0] += r.fte_actual or 0
        mobilised[r.commitment_id][1] += r.amount_actual or 0

    enjeu_ids = {e.pk for q in questions for e in q.enjeux.all()}
    indicators = list(Indicator.objects.filter(contract=contract, enjeu__in=enjeu_ids).order_by("name"))
    indicator_data = indicator_evidence(contract, indicators, evaluation.period_start, evaluation.period_end)

    feedback = list(
        published_feedback(Feedback.objects.all(), contract)
        .select_related("enjeu", "partner")
        .prefetch_related(*_linked_ids())
        .order_by("-created_at")
    )
    decisions = list(  # celles des instances publiques (COPIL) : le rapport adopté sera publié
        Decision.objects.filter(meeting__contract=contract, meeting__kind__in=PUBLIC_MEETING_KINDS)
        .select_related("meeting")
        .prefetch_related(*_linked_ids())
        .order_by("meeting__date", "id")
    )

    result = []
    for q in questions:
        q_enjeux = {e.pk for e in q.enjeux.all()}
        q_objectives = {o.pk for o in q.objectives.all()}
        related = [
            c for c in commitments if c.objective_id in q_objectives or c.objective.enjeu_id in q_enjeux
        ]
        evidence = QuestionEvidence(question=q, commitment_ids={c.pk for c in related})
        partners, enjeux, qpvs = {}, {}, {}
        general = Realisation("Engagements de portée générale (tous les quartiers)")
        for c in related:
            evidence.overall.add(c.status)
            partners.setdefault(c.partner_id, Realisation(c.partner.name)).add(c.status)
            enjeu = c.objective.enjeu
            enjeux.setdefault(enjeu.number, Realisation(f"{enjeu.number}. {enjeu.title}")).add(c.status)
            if c.scope == CommitmentScope.QPV:
                for qpv in c.qpvs.all():
                    qpvs.setdefault(qpv.name, Realisation(qpv.name)).add(c.status)
            else:
                general.add(c.status)
            fte, eur = committed[c.pk]
            evidence.means.committed_fte += fte
            evidence.means.committed_eur += eur
            fte, eur = mobilised[c.pk]
            evidence.means.mobilised_fte += fte
            evidence.means.mobilised_eur += eur
        evidence.by_partner = sorted(partners.values(), key=lambda r: r.label)
        evidence.by_enjeu = [enjeux[k] for k in sorted(enjeux)]
        evidence.by_qpv = [qpvs[k] for k in sorted(qpvs)] + ([general] if general.engaged else [])
        evidence.indicators = [indicator_data[i.pk] for i in indicators if i.enjeu_id in q_enjeux]
        action_ids = {c.action_id for c in related if c.action_id}
        evidence.feedback = [
            f
            for f in feedback
            if f.enjeu_id in q_enjeux
            or any(x.pk in evidence.commitment_ids for x in f.commitments.all())
            or any(a.pk in action_ids for a in f.actions.all())
        ]
        evidence.decisions = [
            d
            for d in decisions
            if any(x.pk in evidence.commitment_ids for x in d.commitments.all())
            or any(a.pk in action_ids for a in d.actions.all())
        ]
        result.append(evidence)
    return result
