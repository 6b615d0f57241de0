"""Lectures composées du suivi annuel : ce que les pages assemblent à partir de plusieurs requêtes
(le tableau de complétude d'une campagne). Les vues appellent ces fonctions et affichent."""

from collections import Counter

from django.db.models import Prefetch, Sum
from django.urls import reverse

from cdv.commitments.models import CommitmentMeans
from cdv.indicators.enums import Scope
from cdv.indicators.models import IndicatorValue
from cdv.plan.models import Enjeu
from cdv.territories.models import Territory

from . import abilities
from .enums import ReportState
from .models import ProgressReport


class Group:
    """Une ligne du tableau de complétude : un partenaire, un enjeu ou un quartier."""

    def __init__(self, label, url=None):
        self.label, self.url = label, url
        self.counts = Counter()
        self.reports = []
        self.late = 0

    def add(self, report, late):
        self.counts[report.state] += 1
        self.reports.append(report)
        self.late += late

    @property
    def total(self):
        return len(self.reports)

    @property
    def draft(self):
        return self.counts[ReportState.DRAFT]

    @property
    def submitted(self):
        return self.counts[ReportState.SUBMITTED]

    @property
    def accepted(self):
        return self.counts[ReportState.ACCEPTED]

    @property
    def returned(self):
        return self.counts[ReportState.RETURNED]


def completeness(campaign, today):
    """Comptes et listes par partenaire, par enjeu et par quartier : trois requêtes, quelle que soit
    la taille de la campagne (bilans, quartiers des engagements, enjeux)."""
    contract = campaign.contract
    reports = list(
        ProgressReport.objects.for_campaign(campaign)
        .select_related("partner", "commitment__objective__enjeu")
        .prefetch_related(Prefetch("commitment__qpvs", queryset=Territory.objects.only("code", "name")))
        .order_by("partner__name", "commitment__title", "pk")
    )
    enjeux = list(Enjeu.objects.for_contract(contract).order_by("number"))
    totals = Group("Tous les bilans")
    by_partner, by_qpv = {}, {}
    by_enjeu = {e.pk: Group(f"{e.number}. {e.title}") for e in enjeux}
    general = Group("Portée générale (tous les quartiers)")
    for report in reports:
        report.campaign = campaign
        late = report.is_late_on(today)
        report.is_late = late
        totals.add(report, late)
        partner = report.partner
        if partner.pk not in by_partner:
            url = reverse("www:review_partner", args=[contract.slug, campaign.year, partner.slug])
            by_partner[partner.pk] = Group(partner.name, url)
        by_partner[partner.pk].add(report, late)
        enjeu = report.commitment.objective.enjeu
        by_enjeu.setdefault(enjeu.pk, Group(f"{enjeu.number}. {enjeu.title}")).add(report, late)
        qpvs = list(report.commitment.qpvs.all())
        for qpv in qpvs:
            by_qpv.setdefault(qpv.pk, Group(qpv.name)).add(report, late)
        if not qpvs:
            general.add(report, late)
    qpv_rows = sorted(by_qpv.values(), key=lambda g: g.label)
    if general.total:
        qpv_rows.append(general)
    partner_rows = list(by_partner.values())
    return {
        "totals": totals,
        "by_partner": partner_rows,
        "by_enjeu": list(by_enjeu.values()),
        "by_qpv": qpv_rows,
        "late_partners": [g for g in partner_rows if g.late],
        "to_review": [r for r in reports if r.state == ReportState.SUBMITTED],
        "done_pct": round(100 * (totals.submitted + totals.accepted) / totals.total) if totals.total else 0,
    }


def planned_means(report, year) -> dict:
    """Les moyens prévus au cahier pour l'année du bilan : ``fte`` et ``amount`` (sommes)."""
    return CommitmentMeans.objects.filter(commitment_id=report.commitment_id, year=year).aggregate(
        fte=Sum("fte"), amount=Sum("amount_eur")
    )


def report_indicator_slots(report, year) -> list:
    """Les cases « valeur d'indicateur » du bilan : chaque indicateur de l'engagement, par quartier
    de l'engagement (ou pour l'ensemble des QPV du contrat s'il est de portée générale).

    Chaque case : (indicateur, territoire, valeur connue, origine si la valeur a été saisie ailleurs
    et ne se remplace donc pas depuis ce bilan, sinon None)."""
    commitment = report.commitment
    indicators = list(commitment.indicators.order_by("name"))
    if not indicators:
        return []
    territories = list(commitment.qpvs.order_by("name")) if commitment.scope == "QPV" else [None]
    existing = {
        (v.indicator_id, v.territory_id): v
        for v in IndicatorValue.objects.annual()
        .filter(indicator__in=indicators, year=year)
        .filter(scope=Scope.CONTRACT_QPVS if territories == [None] else Scope.TERRITORY)
    }
    slots = []
    for indicator in indicators:
        for territory in territories:
            value = existing.get((indicator.pk, territory.pk if territory else None))
            locked_by = None
            if abilities.value_locked_for_report(report, value):
                locked_by = value.comment.strip().rstrip(".") or "par une autre source"
            slots.append((indicator, territory, value.value if value else None, locked_by))
    return slots
