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
nombre fixe de requêtes, quel que soit le nombre de dossiers ; pour plusieurs années
(``calls_figures``), les mêmes requêtes groupées par appel, quel que soit le nombre d'années.

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


def _by_key(rows, group, keys) -> dict:
    """Les lignes d'une requête groupée, réparties par ``group`` (la clé de l'appel ; None : une
    seule part), dans leur ordre ; la clé est retirée de chaque ligne."""
    parts = {key: [] for key in keys}
    for row in rows:
        key = row.pop(group) if group else None
        if key in parts:
            parts[key].append(row)
    return parts


def _totals_by_key(queryset, group, keys, aggregates: dict) -> dict:
    """``aggregate(**aggregates)`` pour chaque part : une seule requête (groupée par ``group``).
    Une part sans ligne vaut ce que vaut ``aggregate`` sur un ensemble vide (0 pour un compte, None
    pour une somme)."""
    if not group:
        return {None: queryset.aggregate(**aggregates)}
    empty = {name: 0 if isinstance(agg, Count) else None for name, agg in aggregates.items()}
    parts = _by_key(queryset.values(group).annotate(**aggregates).order_by(), group, keys)
    return {key: rows[0] if rows else dict(empty) for key, rows in parts.items()}


def _figures(contract, calls, today) -> dict:
    """Les chiffres des appels ``calls`` (un QuerySet d'appels), pris ensemble : neuf requêtes au plus."""
    return _figures_by(contract, calls, today, [None])[None]


def _figures_by(contract, calls, today, keys) -> dict:
    """Les chiffres de chacun des appels ``calls`` : ``{clé de l'appel: chiffres}`` pour chaque clé de
    ``keys`` ; ``keys == [None]`` : les appels pris ensemble. Neuf requêtes au plus, quel que soit le
    nombre d'appels : chacune est groupée par appel (``group``) au lieu d'être refaite par appel."""
    group = None if keys == [None] else "call"
    line_group = group and "application__call"
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
    grouped = (group,) if group else ()
    line_grouped = (line_group,) if line_group else ()

    # 1. Par portée (QPV / tout le territoire) : la part des montants votés en QPV.
    by_scope = {
        key: {row["scope"]: row for row in rows}
        for key, rows in _by_key(
            applications.values(*grouped, "scope").annotate(**aggregates), group, keys
        ).items()
    }
    # 2. Associations et projets, au total.
    counts = _totals_by_key(
        applications,
        group,
        keys,
        {
            "associations_submitted": Count("partner", distinct=True, filter=submitted_app),
            "associations_funded": Count("partner", distinct=True, filter=Q(app_funded=True)),
            "projects_submitted": Count("pk", filter=submitted_app),
            "projects_funded": Count("pk", filter=Q(app_funded=True)),
        },
    )
    # 3. Par enjeu.
    enjeux = {}
    for key, rows in _by_key(
        applications.values(*grouped, "enjeu", "enjeu__number", "enjeu__title")
        .annotate(**aggregates)
        .order_by("enjeu__number"),
        group,
        keys,
    ).items():
        enjeux[key] = [
            _row(
                f"{row['enjeu__number']}. {row['enjeu__title']}" if row["enjeu"] else NO_ENJEU_LABEL,
                row,
                number=row["enjeu__number"],
            )
            for row in rows
        ]
        enjeux[key].sort(key=lambda r: (r["number"] is None, r["number"] or 0))
    # 4. Par financeur (le partenaire : le même d'une année à l'autre).
    line_paid = (
        Payment.objects.filter(line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    funders = {
        key: [_row(row["funder__partner__name"], row) for row in rows]
        for key, rows in _by_key(
            FunderLine.objects.filter(application__call__in=calls)
            .order_by()
            .values(*line_grouped, "funder__partner", "funder__partner__name")
            .annotate(
                requested=Sum("requested_amount", filter=~Q(application__status__in=NOT_SUBMITTED)),
                voted=Sum("voted_amount", filter=_voted_line_q()),
                paid=Sum(_money(Subquery(line_paid))),
                submitted=Count(
                    "application", distinct=True, filter=~Q(application__status__in=NOT_SUBMITTED)
                ),
                funded=Count("application", distinct=True, filter=_voted_line_q()),
            )
            .order_by("funder__partner__name"),
            line_group,
            keys,
        ).items()
    }
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
        key: {row["territory"]: row for row in rows}
        for key, rows in _by_key(
            through.objects.filter(application__call__in=calls, application__scope=ProjectScope.QPV)
            .annotate(
                n=share, app_requested=t_requested, app_voted=t_voted, app_paid=t_paid, app_funded=t_funded
            )
            .order_by()
            .values(*line_grouped, "territory")
            .annotate(
                requested=Sum(models.F("app_requested") / models.F("n"), filter=submitted_through),
                voted=Sum(models.F("app_voted") / models.F("n")),
                paid=Sum(models.F("app_paid") / models.F("n")),
                submitted=Count("pk", filter=submitted_through),
                funded=Count("pk", filter=Q(app_funded=True)),
            ),
            line_group,
            keys,
        ).items()
    }
    # 6. Les quartiers du contrat (un quartier sans projet garde sa ligne, à zéro).
    contract_qpvs = list(contract.qpvs.order_by("name").only("pk", "code", "name"))
    qpv_rows = {}
    for key in keys:
        qpv_rows[key] = [
            _row(qpv.name, _decimal_values(per_qpv[key].pop(qpv.pk, {})), code=qpv.code)
            for qpv in contract_qpvs
        ]
    gone = {pk for key in keys for pk in per_qpv[key]}
    if gone:  # des quartiers cités par des projets mais sortis du contrat depuis
        from cdv.territories.models import Territory

        names = dict(Territory.objects.filter(pk__in=gone).values_list("pk", "name"))
        for key in keys:
            for pk, values in sorted(per_qpv[key].items(), key=lambda item: names.get(item[0], "")):
                qpv_rows[key].append(_row(names.get(pk, "Quartier"), _decimal_values(values), code=""))
    # 7. Des projets « en QPV » sans quartier indiqué : une ligne à part, pour que le compte y soit.
    unplaced = _totals_by_key(
        applications.filter(scope=ProjectScope.QPV, qpvs__isnull=True), group, keys, aggregates
    )
    # 8. Comptes-rendus des projets financés.
    overdue_end = _months_before(today, REPORT_DUE_MONTHS)
    received = Q(final_report__status__in=RECEIVED)
    past_due = Q(final_report__due_date__lt=today) | Q(final_report__isnull=True, end_date__lt=overdue_end)
    reports = _totals_by_key(
        applications.filter(app_funded=True),
        group,
        keys,
        {
            "due": Count("pk"),
            "received": Count("pk", filter=received),
            "accepted": Count("pk", filter=Q(final_report__status=ReportStatus.ACCEPTED)),
            "changes_requested": Count("pk", filter=Q(final_report__status=ReportStatus.CHANGES_REQUESTED)),
            "missing": Count("pk", filter=past_due & ~received),
        },
    )

    result = {}
    for key in keys:
        if unplaced[key]["submitted"] or unplaced[key]["funded"]:
            qpv_rows[key].append(_row(NO_QPV_LABEL, unplaced[key], code=""))
        scopes = by_scope[key]
        whole = _row(WHOLE_LABEL, scopes.get(ProjectScope.WHOLE, {}), code="")
        totals = {
            k: sum((row.get(k) or ZERO for row in scopes.values()), ZERO).quantize(CENT) for k in AMOUNTS
        }
        qpv_voted = (scopes.get(ProjectScope.QPV, {}).get("voted") or ZERO).quantize(CENT)
        result[key] = {
            "totals": totals,
            "funders": funders[key],
            "enjeux": enjeux[key],
            "qpvs": qpv_rows[key],
            "whole_territory": whole,
            "scope": {
                "qpv_voted": qpv_voted,
                "whole_voted": whole["voted"],
                "qpv_share": _pct(qpv_voted, totals["voted"]),
                "whole_share": _pct(whole["voted"], totals["voted"]),
            },
            "counts": counts[key],
            "reports": reports[key],
            "paid_share": _pct(totals["paid"], totals["voted"]),
        }
    return result


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
    # Chaque année : les mêmes requêtes groupées par appel, pas refaites année par année.
    by_call = _figures_by(contract, calls, today, [pk for pk, _, _, _ in found]) if found else {}
    per_year = []
    for pk, year, title, status in found:
        figures = by_call[pk]
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
