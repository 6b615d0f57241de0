"""La vue de l'État : un tableau de tous les contrats qu'un partenaire a signés (lecture inter-contrats).

Une ligne par contrat : son département et sa région, le nombre de QPV, les engagements des cahiers
par état, la dernière campagne de suivi annuel, les évaluations, les écarts QPV / référence des
indicateurs communs aux contrats (même code), les montants votés de l'appel à projets par financeur.

Qui lit quoi : ``abilities.state_view_contracts`` (jamais un identifiant de la requête). Un nombre fixe
de requêtes SQL, quel que soit le nombre de contrats (``tests/contracts/test_state_view.py``).

Le département d'un contrat se lit dans le code de ses QPV 2024 (« QN044… » : Loire-Atlantique), à
défaut dans la ligne de son EPCI du référentiel national ; la région, dans ce même référentiel
(data/reference/epci_france.csv).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from cdv.commitments.enums import CommitmentStatus
from cdv.commitments.models import Commitment
from cdv.evaluation.enums import EvaluationKind
from cdv.evaluation.models import Evaluation
from cdv.grants.models import Call, FunderLine
from cdv.indicators.enums import Scope
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.indicators.selectors import summaries
from cdv.monitoring.models import ReviewCampaign
from cdv.territories.loaders import national_epcis

from .abilities import state_view_contracts
from .models import Contract

# Indicateurs communs montrés (les plus partagés d'abord) : deux colonnes suffisent à un tableau.
HEADLINE_INDICATORS = 2
ARTICLES = ("de la ", "de l'", "du ", "des ", "d'")


@functools.cache
def departments() -> dict[str, tuple[str, str]]:
    """{code du département : (nom, région)} d'après le référentiel national des EPCI."""
    result = {}
    for row in national_epcis().values():
        name = row["de_dep"]
        for article in ARTICLES:
            if name.startswith(article):
                name = name[len(article) :]
                break
        result.setdefault(row["code_dep"], (name, row["nom_region"]))
    return result


def department_of_qpv(code: str) -> str:
    """« QN04413M » → « 44 », « QN02A01M » → « 2A », « QN97101M » → « 971 »."""
    part = code[2:5]
    return part[1:] if part.startswith("0") else part


def department_label(code: str) -> str:
    name = departments().get(code, ("", ""))[0]
    return f"{name} ({code})" if name else code


@dataclass
class StateRow:
    contract: Contract
    department_codes: list[str]
    regions: list[str]
    qpv_count: int
    commitments: list[tuple[str, int]] = field(default_factory=list)  # (état, nombre), états présents
    commitment_total: int = 0
    campaign: dict | None = None  # year, status, done, total
    evaluations: list[tuple[str, str]] = field(default_factory=list)  # (nature, état)
    gaps: list = field(default_factory=list)  # une case par indicateur commun : PeriodSummary ou None
    funders: list[tuple[str, Decimal]] = field(default_factory=list)  # (financeur, voté)
    voted_total: Decimal = Decimal("0")

    @property
    def departments(self) -> str:
        return ", ".join(department_label(code) for code in self.department_codes)

    @property
    def commitments_label(self) -> str:
        return ", ".join(f"{label} : {n}" for label, n in self.commitments)

    @property
    def campaign_label(self) -> str:
        c = self.campaign
        if c is None:
            return "Aucune campagne"
        return f"{c['year']} — {c['status']} ; bilans transmis : {c['done']} sur {c['total']}"

    @property
    def evaluations_label(self) -> str:
        return " ; ".join(f"{kind} : {status}" for kind, status in self.evaluations) or "Aucune évaluation"

    @property
    def funders_label(self) -> str:
        from cdv.core.figures import french_number

        return " ; ".join(f"{name} : {french_number(amount)} €" for name, amount in self.funders)


@dataclass
class StateDashboard:
    rows: list[StateRow]
    headline: list[Indicator]  # un indicateur modèle par code commun (nom, unité)
    regions: list[str]  # les régions des contrats du partenaire (pour le filtre)
    department_codes: list[tuple[str, str]]  # (code, libellé) des contrats du partenaire
    aap_year: int | None
    aap_years: list[int]
    contract_count: int  # avant le filtre


def _locations(contract_ids) -> tuple[dict[int, dict[int, int | None]], dict[int, list[str]]]:
    """Par contrat : {QPV : population} et ses départements (une requête)."""
    through = Contract.qpvs.through
    populations, codes = {}, {}
    rows = through.objects.filter(contract_id__in=contract_ids).values_list(
        "contract_id", "territory_id", "territory__code", "territory__population"
    )
    for contract_id, territory_id, code, population in rows:
        populations.setdefault(contract_id, {})[territory_id] = population
        codes.setdefault(contract_id, set()).add(department_of_qpv(code))
    return populations, {cid: sorted(c) for cid, c in codes.items()}


def _commitments(contract_ids) -> dict[int, dict[str, int]]:
    counts = {}
    rows = (
        Commitment.objects.filter(contract_id__in=contract_ids)
        .order_by()
        .values_list("contract_id", "status")
        .annotate(n=Count("pk"))
    )
    for contract_id, status, n in rows:
        counts.setdefault(contract_id, {})[status] = n
    return counts


def _campaigns(contract_ids) -> dict[int, dict]:
    """La campagne de suivi la plus récente de chaque contrat, avec ses bilans transmis."""
    latest = {}
    for campaign in (
        ReviewCampaign.objects.filter(contract_id__in=contract_ids)
        .with_report_counts()
        .order_by("contract_id", "-year")
        .only("contract_id", "year", "status")
    ):
        latest.setdefault(
            campaign.contract_id,
            {
                "year": campaign.year,
                "status": campaign.get_status_display(),
                "done": campaign.done,
                "total": campaign.total,
            },
        )
    return latest


def _evaluations(contract_ids) -> dict[int, list[tuple[str, str]]]:
    order = {kind: i for i, kind in enumerate(EvaluationKind.values)}
    result = {}
    for evaluation in Evaluation.objects.filter(contract_id__in=contract_ids).only(
        "contract_id", "kind", "status"
    ):
        result.setdefault(evaluation.contract_id, []).append(evaluation)
    return {
        cid: [
            (e.get_kind_display(), e.get_status_display()) for e in sorted(items, key=lambda e: order[e.kind])
        ]
        for cid, items in result.items()
    }


def _headline_codes(contract_ids) -> list[str]:
    """Les codes d'indicateurs (des taux, seuls à avoir un écart) portés par le plus de contrats, au
    moins deux (un seul s'il n'y a qu'un contrat)."""
    shared = (
        Indicator.objects.filter(contract_id__in=contract_ids, rate_scale__isnull=False)
        .order_by()
        .values("code")
        .annotate(n=Count("contract", distinct=True))
        .order_by("-n", "code")
    )
    least = 2 if len(contract_ids) > 1 else 1
    return [row["code"] for row in shared[:HEADLINE_INDICATORS] if row["n"] >= least]


_VALUE_FIELDS = (
    "indicator_id",
    "scope",
    "territory_id",
    "territory__name",
    "year",
    "quarter",
    "value",
    "numerator",
    "denominator",
    "is_secret",
)


@dataclass
class _Value:
    """Ce que ``indicators.selectors.summaries`` lit d'une valeur, sans instancier des milliers de
    modèles (valeur et territoire) : le tiers du temps du tableau à l'échelle nationale."""

    indicator_id: int
    scope: str
    territory_id: int | None
    territory_name: str | None
    year: int
    quarter: int
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    is_secret: bool

    @property
    def territory(self):
        return _Named(self.territory_name or "")


@dataclass
class _Named:
    name: str


def _gaps(contracts, codes, populations) -> tuple[list[Indicator], dict[int, list]]:
    """Par contrat, pour chaque code commun : le résumé de la dernière période (QPV, référence, écart),
    calculé par ``indicators.selectors.summaries`` comme sur les pages du contrat (deux requêtes)."""
    if not codes:
        return [], {}
    by_id = {c.pk: c for c in contracts}
    # La dernière période connue pour la référence du contrat (par l'index unique indicateur,
    # territoire, période : quelques dizaines de lignes par indicateur, pas toute la série).
    last_reference = (
        IndicatorValue.objects.filter(
            indicator=OuterRef("pk"), scope=Scope.TERRITORY, territory_id=OuterRef("reference_id")
        )
        .order_by("-year", "-quarter")
        .annotate(period=F("year") * 10 + F("quarter"))
        .values("period")[:1]
    )
    indicators = list(
        Indicator.objects.filter(contract_id__in=by_id, code__in=codes)
        .annotate(reference_id=Coalesce("contract__reference_territory_id", "contract__epci_id"))
        .annotate(last=Subquery(last_reference))
        .order_by("contract_id", "code")
    )
    periods = {}
    for indicator in indicators:
        if indicator.last is not None:
            periods.setdefault(indicator.last, []).append(indicator.pk)
    values = {}
    if periods:
        at_last = Q()
        for last, ids in periods.items():
            at_last |= Q(indicator_id__in=ids, year=last // 10, quarter=last % 10)
        rows = IndicatorValue.objects.filter(at_last).order_by().values_list(*_VALUE_FIELDS)
        for row in rows:
            value = _Value(*row)
            values.setdefault(value.indicator_id, []).append(value)
    headline = {}
    result = {cid: [None] * len(codes) for cid in by_id}
    for indicator in indicators:
        headline.setdefault(indicator.code, indicator)
        contract = by_id[indicator.contract_id]
        found = summaries(contract, indicator, values.get(indicator.pk, []), populations.get(contract.pk, {}))
        result[contract.pk][codes.index(indicator.code)] = found[-1] if found else None
    return [headline[code] for code in codes if code in headline], result


def _aap_years(contract_ids) -> tuple[list[int], int | None]:
    """Les années des appels des contrats (la plus récente d'abord) et l'année montrée par défaut :
    la plus récente qui a des montants votés (un appel de l'année en cours, pas encore voté,
    n'afficherait que des tirets), à défaut la plus récente."""
    voted = FunderLine.objects.granted().filter(application__call_id=OuterRef("pk"))
    rows = (
        Call.objects.filter(contract_id__in=contract_ids)
        .annotate(has_votes=Exists(voted))
        .order_by("-year")
        .values_list("year", "has_votes")
    )
    years, voted_years = [], []
    for year, has_votes in rows:
        if year not in years:
            years.append(year)
        if has_votes and year not in voted_years:
            voted_years.append(year)
    default = voted_years[0] if voted_years else (years[0] if years else None)
    return years, default


def _voted_by_funder(contract_ids, year) -> dict[int, list[tuple[str, Decimal]]]:
    """Montants votés (lignes votées d'un montant non nul) de l'appel ``year``, par contrat et financeur."""
    result = {}
    if year is None:
        return result
    rows = (
        FunderLine.objects.granted()
        .filter(application__call__contract_id__in=contract_ids, application__call__year=year)
        .order_by()
        .values_list("application__call__contract_id", "funder__partner__name")
        .annotate(voted=Sum("voted_amount"))
        .order_by("application__call__contract_id", "-voted", "funder__partner__name")
    )
    for contract_id, name, voted in rows:
        result.setdefault(contract_id, []).append((name, voted))
    return result


def state_dashboard(
    user, *, region: str = "", department: str = "", aap_year: int | None = None
) -> StateDashboard:
    """Le tableau de l'État de ``user`` (ses contrats seulement), filtré par région ou département."""
    contracts = list(
        state_view_contracts(user, Contract.objects.all())
        .select_related("epci", "reference_territory")
        .defer(
            "epci__geometry",
            "epci__bbox",
            "epci__commune_codes",
            "reference_territory__geometry",
            "reference_territory__bbox",
            "reference_territory__commune_codes",
        )
        .annotate(qpv_count=Count("qpvs", distinct=True))
        .order_by("title")
    )
    all_ids = [c.pk for c in contracts]
    populations, dept_codes = _locations(all_ids)
    known = departments()
    for contract in contracts:
        codes = dept_codes.get(contract.pk)
        if not codes:
            row = national_epcis().get(contract.epci.code)
            codes = [row["code_dep"]] if row else []
        contract.department_codes = codes
        contract.regions = sorted({known[c][1] for c in codes if c in known})
    regions = sorted({r for c in contracts for r in c.regions})
    all_departments = sorted({d for c in contracts for d in c.department_codes})
    if region:
        contracts = [c for c in contracts if region in c.regions]
    if department:
        contracts = [c for c in contracts if department in c.department_codes]
    ids = [c.pk for c in contracts]
    commitments = _commitments(ids)
    campaigns = _campaigns(ids)
    evaluations = _evaluations(ids)
    headline, gaps = _gaps(contracts, _headline_codes(ids), populations)
    years, default_year = _aap_years(all_ids)
    year = aap_year if aap_year in years else default_year
    voted = _voted_by_funder(ids, year)
    rows = []
    for contract in contracts:
        counts = commitments.get(contract.pk, {})
        funders = voted.get(contract.pk, [])
        rows.append(
            StateRow(
                contract=contract,
                department_codes=contract.department_codes,
                regions=contract.regions,
                qpv_count=contract.qpv_count,
                commitments=[(s.label, counts[s.value]) for s in CommitmentStatus if counts.get(s.value)],
                commitment_total=sum(counts.values()),
                campaign=campaigns.get(contract.pk),
                evaluations=evaluations.get(contract.pk, []),
                gaps=[gaps.get(contract.pk, [None] * len(headline))[i] for i in range(len(headline))],
                funders=funders,
                voted_total=sum((amount for _, amount in funders), Decimal("0")),
            )
        )
    return StateDashboard(
        rows=rows,
        headline=headline,
        regions=regions,
        department_codes=[(code, department_label(code)) for code in all_departments],
        aap_year=year,
        aap_years=years,
        contract_count=len(all_ids),
    )


EURO = '#,##0.00 "€"'


def build_state_xlsx(dashboard: StateDashboard, *, base_url: str = "") -> bytes:
    """Le même tableau que la page, une ligne par contrat (openpyxl) : textes en cellules texte,
    nombres et montants en nombres, en-têtes en français (``cdv.core.spreadsheets``)."""
    from django.urls import reverse
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from cdv.core.spreadsheets import append_row, header_row, save_workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Contrats"
    labels = ["Contrat", "Adresse", "Département", "Région", "Statut", "QPV", "Engagements", "Par état"]
    widths = [40, 40, 24, 24, 16, 8, 12, 50]
    labels += ["Campagne de suivi annuel", "Évaluations"]
    widths += [40, 40]
    for indicator in dashboard.headline:
        labels += [
            f"{indicator.name} — QPV",
            f"{indicator.name} — référence",
            f"{indicator.name} — écart (points)",
        ]
        widths += [14, 14, 14]
        labels += [f"{indicator.name} — période"]
        widths += [14]
    year = dashboard.aap_year
    labels += [f"Appel à projets {year or ''} — voté (€)".replace("  ", " "), "Voté par financeur"]
    widths += [18, 60]
    header_row(sheet, labels, widths)
    for row in dashboard.rows:
        contract = row.contract
        values = [
            contract.title,
            base_url + reverse("www:contract", args=[contract.slug]),
            row.departments,
            ", ".join(row.regions),
            contract.get_status_display(),
            row.qpv_count,
            row.commitment_total,
            row.commitments_label,
            row.campaign_label,
            row.evaluations_label,
        ]
        for summary in row.gaps:
            if summary is None:
                values += [None, None, None, ""]
            else:
                values += [
                    summary.qpv_value,
                    summary.reference_value,
                    summary.gap.points if summary.gap else None,
                    summary.period_name,
                ]
        values += [row.voted_total, row.funders_label]
        append_row(sheet, values)
        sheet.cell(row=sheet.max_row, column=len(values) - 1).number_format = EURO
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(labels))}{max(sheet.max_row, 1)}"
    return save_workbook(workbook)
