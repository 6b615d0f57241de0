"""Les chiffres d'un appel à projets pour le bilan annuel et l'évaluation : où va l'argent.

``call_figures(contract, year)`` : l'appel de l'année ; ``calls_figures(contract, years)`` : ceux
de plusieurs années (l'évaluation), année par année et au total.

- demandé : les lignes des seuls dossiers déposés (ni brouillon ni retiré) ;
- voté : les seules lignes votées (état « Voté », montant > 0) ;
- versé : la somme des versements enregistrés sur les lignes ;
par financeur, par enjeu et par quartier (un projet de plusieurs QPV est réparti à parts égales
entre ses quartiers pour les montants, arrondis au centime ; il compte pour un projet entier dans
chacun), les projets de tout le territoire sur une ligne à part ; la part des montants votés pour
des projets en QPV ; le nombre d'associations et de projets (déposés, financés) ; les
comptes-rendus (à rendre, reçus, acceptés, manquants à échéance passée).

Tout est agrégé par la base (``annotate``/``aggregate``, sous-requêtes pour les versements) : un
nombre fixe de requêtes par appel, quel que soit le nombre de dossiers.

``public_figures`` retire ce que seul l'entourage du contrat lit : les montants demandés et versés
détaillés (par financeur, enjeu, quartier) ; restent leurs totaux et tout le voté.
"""

import copy
import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .enums import REPORT_DUE_MONTHS, ApplicationStatus, LineStatus, ProjectScope, ReportStatus
from .models import MONEY, Application, Call, FunderLine, Payment

ZERO = Decimal("0")
CENT = Decimal("0.01")
RECEIVED = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
NOT_SUBMITTED = (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN)
AMOUNTS = ("requested", "voted", "paid")
WHOLE_LABEL = "Tout le territoire du contrat"
NO_ENJEU_LABEL = "Sans enjeu rattaché"
NO_QPV_LABEL = "Quartier non précisé"


def _money(expression):
    return Coalesce(expression, ZERO, output_field=models.DecimalField(**MONEY))


def _voted_line_q(prefix=""):
    return Q(**{f"{prefix}status": LineStatus.VOTED, f"{prefix}voted_amount__gt": 0})


def _line_sums(outer="pk"):
    """Sous-requêtes : demandé, voté et versé d'un dossier (``outer`` : la clé du dossier)."""
    lines = FunderLine.objects.filter(application=OuterRef(outer)).order_by().values("application")
    requested = lines.annotate(s=Sum("requested_amount")).values("s")
    voted = lines.filter(_voted_line_q()).annotate(s=Sum("voted_amount")).values("s")
    paid = (
        Payment.objects.filter(line__application=OuterRef(outer))
        .order_by()
        .values("line__application")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    funded = FunderLine.objects.filter(_voted_line_q(), application=OuterRef(outer))
    return (
        _money(Subquery(requested)),
        _money(Subquery(voted)),
        _money(Subquery(paid)),
        Exists(funded),
    )


def _months_before(day: datetime.date, months: int) -> datetime.date:
    """Le même jour ``months`` mois plus tôt (le dernier du mois s'il n'existe pas : 31 → 30)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _row(label, values, **extra) -> dict:
    return {
        "label": label,
        **extra,
        "requested": (values.get("requested") or ZERO).quantize(CENT),
        "voted": (values.get("voted") or ZERO).quantize(CENT),
        "paid": (values.get("paid") or ZERO).quantize(CENT),
        "submitted": values.get("submitted") or 0,
        "funded": values.get("funded") or 0,
    }


def _figures(contract, calls, today) -> dict:
    """Les chiffres des appels ``calls`` (un QuerySet d'appels) : neuf requêtes au plus."""
    submitted_app = ~Q(status__in=NOT_SUBMITTED)
    requested, voted, paid, funded = _line_sums()
    applications = (
        Application.objects.filter(call__in=calls)
        .annotate(app_requested=requested, app_voted=voted, app_paid=paid, app_funded=funded)
        .order_by()
    )
    aggregates = {
        "requested": Sum("app_requested", filter=submitted_app),
        "voted": Sum("app_voted"),
        "paid": Sum("app_paid"),
        "submitted": Count("pk", filter=submitted_app),
        "funded": Count("pk", filter=Q(app_funded=True)),
    }

    # 1. Par portée (QPV / tout le territoire) : la part des montants votés en QPV.
    by_scope = {row["scope"]: row for row in applications.values("scope").annotate(**aggregates)}
    # 2. Associations et projets, au total.
    counts = applications.aggregate(
        associations_submitted=Count("partner", distinct=True, filter=submitted_app),
        associations_funded=Count("partner", distinct=True, filter=Q(app_funded=True)),
        projects_submitted=Count("pk", filter=submitted_app),
        projects_funded=Count("pk", filter=Q(app_funded=True)),
    )
    # 3. Par enjeu.
    enjeux = [
        _row(
            f"{row['enjeu__number']}. {row['enjeu__title']}" if row["enjeu"] else NO_ENJEU_LABEL,
            row,
            number=row["enjeu__number"],
        )
        for row in applications.values("enjeu", "enjeu__number", "enjeu__title")
        .annotate(**aggregates)
        .order_by("enjeu__number")
    ]
    enjeux.sort(key=lambda r: (r["number"] is None, r["number"] or 0))
    # 4. Par financeur (le partenaire : le même d'une année à l'autre).
    line_paid = (
        Payment.objects.filter(line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    funders = [
        _row(row["funder__partner__name"], row)
        for row in FunderLine.objects.filter(application__call__in=calls)
        .order_by()
        .values("funder__partner", "funder__partner__name")
        .annotate(
            requested=Sum("requested_amount", filter=~Q(application__status__in=NOT_SUBMITTED)),
            voted=Sum("voted_amount", filter=_voted_line_q()),
            paid=Sum(_money(Subquery(line_paid))),
            submitted=Count("application", distinct=True, filter=~Q(application__status__in=NOT_SUBMITTED)),
            funded=Count("application", distinct=True, filter=_voted_line_q()),
        )
        .order_by("funder__partner__name")
    ]
    # 5. Par quartier : chaque projet réparti à parts égales entre ses QPV.
    through = Application.qpvs.through
    share = Subquery(
        through.objects.filter(application_id=OuterRef("application_id"))
        .order_by()
        .values("application_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    t_requested, t_voted, t_paid, t_funded = _line_sums("application_id")
    submitted_through = ~Q(application__status__in=NOT_SUBMITTED)
    per_qpv = {
        row["territory"]: row
        for row in through.objects.filter(application__call__in=calls, application__scope=ProjectScope.QPV)
        .annotate(n=share, app_requested=t_requested, app_voted=t_voted, app_paid=t_paid, app_funded=t_funded)
        .order_by()
        .values("territory")
        .annotate(
            requested=Sum(models.F("app_requested") / models.F("n"), filter=submitted_through),
            voted=Sum(models.F("app_voted") / models.F("n")),
            paid=Sum(models.F("app_paid") / models.F("n")),
            submitted=Count("pk", filter=submitted_through),
            funded=Count("pk", filter=Q(app_funded=True)),
        )
    }
    # 6. Les quartiers du contrat (un quartier sans projet garde sa ligne, à zéro).
    qpv_rows = []
    for qpv in contract.qpvs.order_by("name").only("pk", "code", "name"):
        values = per_qpv.pop(qpv.pk, {})
        qpv_rows.append(_row(qpv.name, _decimal_values(values), code=qpv.code))
    if per_qpv:  # des quartiers cités par des projets mais sortis du contrat depuis
        from cdv.territories.models import Territory

        names = dict(Territory.objects.filter(pk__in=per_qpv).values_list("pk", "name"))
        for pk, values in sorted(per_qpv.items(), key=lambda item: names.get(item[0], "")):
            qpv_rows.append(_row(names.get(pk, "Quartier"), _decimal_values(values), code=""))
    # 7. Des projets « en QPV » sans quartier indiqué : une ligne à part, pour que le compte y soit.
    unplaced = applications.filter(scope=ProjectScope.QPV, qpvs__isnull=True).aggregate(**aggregates)
    if unplaced["submitted"] or unplaced["funded"]:
        qpv_rows.append(_row(NO_QPV_LABEL, unplaced, code=""))
    whole = _row(WHOLE_LABEL, by_scope.get(ProjectScope.WHOLE, {}), code="")
    # 8. Comptes-rendus des projets financés.
    overdue_end = _months_before(today, REPORT_DUE_MONTHS)
    received = Q(final_report__status__in=RECEIVED)
    past_due = Q(final_report__due_date__lt=today) | Q(final_report__isnull=True, end_date__lt=overdue_end)
    reports = applications.filter(app_funded=True).aggregate(
        due=Count("pk"),
        received=Count("pk", filter=received),
        accepted=Count("pk", filter=Q(final_report__status=ReportStatus.ACCEPTED)),
        changes_requested=Count("pk", filter=Q(final_report__status=ReportStatus.CHANGES_REQUESTED)),
        missing=Count("pk", filter=past_due & ~received),
    )

    totals = {
        key: sum((row.get(key) or ZERO for row in by_scope.values()), ZERO).quantize(CENT) for key in AMOUNTS
    }
    qpv_scope = by_scope.get(ProjectScope.QPV, {})
    qpv_voted = (qpv_scope.get("voted") or ZERO).quantize(CENT)
    return {
        "totals": totals,
        "funders": funders,
        "enjeux": enjeux,
        "qpvs": qpv_rows,
        "whole_territory": whole,
        "scope": {
            "qpv_voted": qpv_voted,
            "whole_voted": whole["voted"],
            "qpv_share": _pct(qpv_voted, totals["voted"]),
            "whole_share": _pct(whole["voted"], totals["voted"]),
        },
        "counts": counts,
        "reports": reports,
        "paid_share": _pct(totals["paid"], totals["voted"]),
    }


def _decimal_values(values: dict) -> dict:
    """Les sommes divisées reviennent de SQLite en flottants : en décimaux, au centime."""
    out = dict(values)
    for key in AMOUNTS:
        if out.get(key) is not None:
            out[key] = Decimal(str(out[key])).quantize(CENT)
    return out


def call_figures(contract, year: int, *, today: datetime.date | None = None) -> dict | None:
    """Les chiffres de l'appel à projets ``year`` du contrat ; None s'il n'y en a pas."""
    call = Call.objects.filter(contract=contract, year=year).only("pk", "title", "year", "status").first()
    if call is None:
        return None
    today = today or timezone.localdate()
    figures = _figures(contract, Call.objects.filter(pk=call.pk), today)
    figures.update(
        {"year": call.year, "title": call.title, "status": call.status, "as_of": today.isoformat()}
    )
    return figures


def calls_figures(contract, years, *, today: datetime.date | None = None) -> dict:
    """Les appels de plusieurs années : ``{"years": [chiffres de chaque appel], "totals": chiffres
    de l'ensemble}`` (les associations comptées une fois sur la période)."""
    today = today or timezone.localdate()
    years = list(years)
    calls = Call.objects.filter(contract=contract, year__in=years)
    found = list(calls.order_by("year").values_list("pk", "year", "title", "status"))
    per_year = []
    for pk, year, title, status in found:
        figures = _figures(contract, Call.objects.filter(pk=pk), today)
        figures.update({"year": year, "title": title, "status": status, "as_of": today.isoformat()})
        per_year.append(figures)
    totals = None
    if len(found) > 1:
        totals = _figures(contract, calls, today)
        totals.update({"years": [year for _, year, _, _ in found], "as_of": today.isoformat()})
    elif found:
        totals = per_year[0]
    return {"years": per_year, "totals": totals, "period": [min(years), max(years)] if years else []}


def public_figures(figures: dict | None) -> dict | None:
    """Ce qu'un document public montre : tout le voté ; le demandé et le versé en totaux seulement
    (jamais par financeur, enjeu ou quartier, encore moins par dossier)."""
    if figures is None:
        return None
    figures = copy.deepcopy(figures)
    for key in ("funders", "enjeux", "qpvs"):
        for row in figures.get(key, []):
            row.pop("requested", None)
            row.pop("paid", None)
    if figures.get("whole_territory"):
        figures["whole_territory"].pop("requested", None)
        figures["whole_territory"].pop("paid", None)
    figures["public"] = True
    return figures


def to_json(value):
    """Les chiffres en données simples (JSON) : les montants en chaînes décimales (« 1500.00 »)."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value
