"""Appel à projets : examen des comptes-rendus par les financeurs, suivi et blocages.

- ``report_review`` : l'instructeur de chaque financeur qui a voté un montant lit le compte-rendu
  transmis (budget réalisé à côté du prévu, écarts, part QPV et son origine) et l'accepte ou demande
  des modifications ; le pilote le lit sans l'examiner ;
- ``call_reports`` : les comptes-rendus des projets financés par l'appel (pilote : tous ;
  instructeur : ceux de ses financeurs), filtres, comptes par état, retards ;
- ``call_blocks`` / ``call_block_lift`` : les associations bloquées pour l'appel faute de
  compte-rendu, et la levée du blocage par le pilote, avec une raison.

Droits : ``report_abilities`` et ``follow_up_call_abilities`` (cdv/grants/abilities.py) ;
écritures : ``cdv/grants/services/report_review.py``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.grants import selectors_reports
from cdv.grants.abilities import call_abilities, follow_up_call_abilities, report_abilities
from cdv.grants.blocking import (
    due_date_of,
    missing_reports,
    missing_reports_by_partner,
    report_of,
)
from cdv.grants.enums import (
    CHARGE_ACCOUNTS,
    REPORT_VARIANCE_LIMIT,
    ReportPath,
    ReportStatus,
)
from cdv.grants.followup import granted_lines
from cdv.grants.models import (
    Application,
    Call,
    CallFunder,
    FunderLine,
    ReportBlockLift,
    ReportBudgetLine,
    ReportReview,
)
from cdv.grants.services import report_review as services
from cdv.partners.models import Partner

from ..forms.grants_report_review import NOT_STARTED, LiftForm, ReportsFilterForm, ReviewForm
from .helpers import add_service_errors, get_contract, require

FORBIDDEN_REPORTS = (
    "Les comptes-rendus de l'appel se lisent par le pilote et les instructeurs des financeurs."
)
FORBIDDEN_BLOCKS = "Seul le pilote du contrat voit et lève les blocages, sur un appel publié."


def _call(request, slug, year, ability):
    """L'appel (invisible → 404) et les droits de suite ; ``ability`` refusée → 403."""
    contract = get_contract(request, slug)
    call = (
        Call.objects.for_contract(contract)
        .filter(year=year)
        .prefetch_related(Prefetch("funders", queryset=CallFunder.objects.select_related("partner")))
        .first()
    )
    if call is None or not call_abilities(request.user, call)["view"]:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    call.contract = contract
    follow = follow_up_call_abilities(request.user, call)
    require(follow[ability], FORBIDDEN_BLOCKS if ability == "lift_blocks" else FORBIDDEN_REPORTS)
    return contract, call, follow


# ---------------------------------------------------------------------------------------------
# L'examen d'un compte-rendu


@dataclass
class BudgetRow:
    line: ReportBudgetLine
    difference: Decimal
    variance: Decimal | None  # en %, None si rien n'était prévu

    @property
    def over_limit(self) -> bool:
        if self.variance is None:
            return bool(self.line.actual_amount)
        return abs(self.variance) > REPORT_VARIANCE_LIMIT


def budget_rows(lines) -> dict:
    """Le budget réalisé à côté du prévu, ligne par ligne, avec l'écart (en € et en %)."""
    charges, income = [], []
    for line in lines:
        difference = line.actual_amount - line.planned_amount
        variance = (
            (difference * 100 / line.planned_amount).quantize(Decimal("0.1")) if line.planned_amount else None
        )
        row = BudgetRow(line=line, difference=difference, variance=variance)
        (charges if line.account in CHARGE_ACCOUNTS else income).append(row)

    def total(rows, attr):
        return sum((getattr(r.line, attr) for r in rows), Decimal("0"))

    return {
        "charges": charges,
        "income": income,
        "charges_planned": total(charges, "planned_amount"),
        "charges_actual": total(charges, "actual_amount"),
        "income_planned": total(income, "planned_amount"),
        "income_actual": total(income, "actual_amount"),
        "limit": REPORT_VARIANCE_LIMIT,
    }


def _application(request, contract, year, pk):
    application = (
        Application.objects.filter(call__contract=contract, call__year=year, pk=pk)
        .select_related("call", "partner", "final_report__submitted_by")
        .prefetch_related(
            Prefetch("funder_lines", FunderLine.objects.select_related("funder__partner")), "qpvs"
        )
        .first()
    )
    if application is None:
        raise Http404("Aucun dossier visible de cet appel ne porte ce numéro.")
    application.call.contract = contract
    return application


@login_required
@require_http_methods(["GET", "POST"])
def report_review(request, slug, year, pk):
    contract = get_contract(request, slug)
    application = _application(request, contract, year, pk)
    report = report_of(application)
    rights = report_abilities(request.user, application, report)
    if not rights["view"]:
        raise Http404("Aucun dossier visible de cet appel ne porte ce numéro.")
    require(
        rights["view_review"],
        "L'examen des comptes-rendus est réservé au pilote et aux instructeurs des financeurs.",
    )
    funders = services.reviewable_funders(request.user, application)
    form = None
    if rights["review"] and funders:
        form = ReviewForm(request.POST or None, funders=funders, initial={"version": report.version})
    if request.method == "POST":
        require(
            form is not None,
            "Vous n'examinez pas ce compte-rendu (il n'est pas transmis, ou pas à votre financeur).",
        )
        if form.is_valid():
            funder = next(f for f in funders if f.pk == form.cleaned_data["funder"])
            try:
                services.review_report(
                    user=request.user,
                    report=report,
                    funder=funder,
                    decision=form.cleaned_data["decision"],
                    comment=form.cleaned_data["comment"],
                    version=form.cleaned_data["version"],
                )
            except PermissionDenied as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Votre examen au nom de {funder.partner} est enregistré ; l'association est prévenue.",
                )
                return redirect("www:report_review", contract.slug, year, application.pk)
    transmitted = report is not None and report.status != ReportStatus.DRAFT
    context = {
        "contract": contract,
        "call": application.call,
        "application": application,
        "report": report,
        "transmitted": transmitted,
        "due_date": due_date_of(application),
        "rights": rights,
        "form": form,
    }
    if transmitted:
        reviews = list(
            ReportReview.objects.filter(report=report).select_related("reviewer", "funder__partner")
        )
        current = services.current_reviews(report, reviews)
        context.update(
            budget=budget_rows(ReportBudgetLine.objects.filter(report=report)),
            documents=list(report.documents.all()),
            funder_rows=[
                {"line": line, "review": current.get(line.funder_id)} for line in granted_lines(application)
            ],
            history=list(reversed(reviews)),
            paths=ReportPath,
        )
    return render(request, "grants/review/report.html", context)


# ---------------------------------------------------------------------------------------------
# Les comptes-rendus d'un appel


@login_required
@require_http_methods(["GET"])
def call_reports(request, slug, year):
    contract, call, follow = _call(request, slug, year, "view_reports")
    funders = list(call.funders.all())
    form = ReportsFilterForm(request.GET or None, funders=funders)
    today = timezone.localdate()
    rows = selectors_reports.report_rows(request.user, call, today=today)
    counts = {NOT_STARTED: 0, **dict.fromkeys(ReportStatus.values, 0)}
    for row in rows:
        counts[row["status"]] += 1
    late_count = sum(1 for row in rows if row["late"])
    shown = rows
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            shown = [r for r in shown if r["status"] == data["status"]]
        if data["funder"]:
            shown = [r for r in shown if any(line.funder_id == data["funder"] for line, _ in r["funders"])]
        if data["late"]:
            shown = [r for r in shown if r["late"]]
        if data["q"]:
            needle = data["q"].strip().lower()
            shown = [
                r
                for r in shown
                if needle in r["application"].title.lower() or needle in r["application"].partner.name.lower()
            ]
    labels = {NOT_STARTED: "Pas commencé", **dict(ReportStatus.choices)}
    return render(
        request,
        "grants/review/call_reports.html",
        {
            "contract": contract,
            "call": call,
            "follow": follow,
            "form": form,
            "rows": shown,
            "total": len(rows),
            "counts": [(labels[key], count) for key, count in counts.items()],
            "late_count": late_count,
            "today": today,
        },
    )


# ---------------------------------------------------------------------------------------------
# Les blocages


@login_required
@require_http_methods(["GET"])
def call_blocks(request, slug, year):
    contract, call, follow = _call(request, slug, year, "lift_blocks")
    blocked = missing_reports_by_partner(call)
    rows = sorted(
        ({"partner": items[0].application.partner, "missing": items} for items in blocked.values()),
        key=lambda row: row["partner"].name,
    )
    lifts = (
        ReportBlockLift.objects.filter(call=call)
        .select_related("partner", "lifted_by")
        .order_by("-lifted_at")
    )
    return render(
        request,
        "grants/review/call_blocks.html",
        {"contract": contract, "call": call, "rows": rows, "lifts": lifts},
    )


@login_required
@require_http_methods(["GET", "POST"])
def call_block_lift(request, slug, year, partner_slug):
    contract, call, follow = _call(request, slug, year, "lift_blocks")
    partner = get_object_or_404(Partner, slug=partner_slug)
    missing = missing_reports(partner, call)
    if not missing:
        raise Http404("Cette association n'est pas bloquée pour cet appel.")
    form = LiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lift_block(
                user=request.user, call=call, partner=partner, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Le blocage de {partner} est levé pour cet appel : elle peut y déposer."
            )
            return redirect("www:call_blocks", contract.slug, call.year)
    return render(
        request,
        "grants/review/block_lift.html",
        {"contract": contract, "call": call, "partner": partner, "missing": missing, "form": form},
    )
