"""Appel à projets : le compte-rendu financier d'un projet financé (côté association).

L'association le saisit (trois chemins), remplit le budget réalisé, peut calculer la part de ses
bénéficiaires habitant un QPV d'après leurs adresses, puis le transmet ; qui prend part à
l'instruction du dossier le lit (et le PDF CERFA 15059). Droits : ``report_abilities`` ; écritures :
``cdv.grants.services.reports``. Le dossier d'une autre association donne 404 ; une modification
par qui ne fait que lire, 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cdv.core.figures import french_number
from cdv.grants.abilities import report_abilities
from cdv.grants.blocking import report_due_date
from cdv.grants.enums import DocumentKind, ReportPath
from cdv.grants.errors import ConflictError
from cdv.grants.followup import granted_lines
from cdv.grants.models import Application, FunderLine, PartnerDocument
from cdv.grants.report_pdf import build_report_pdf
from cdv.grants.services import applications as application_services
from cdv.grants.services import reports as services

from ..forms.grants_reports import BeneficiariesForm, ReportBudgetForm, ReportForm, SubmitReportForm
from .grants_instruction import _conflict_rows
from .helpers import add_service_errors, get_contract, require

MISSING = "Aucun compte-rendu visible pour ce dossier."
READ_ONLY = (
    "Vous ne pouvez pas modifier ce compte-rendu : seule l'association le saisit, tant qu'il n'est pas "
    "transmis (ou quand un financeur demande des modifications)."
)


def _resolve(request, slug, year, pk, ability="view"):
    """(contrat, dossier, compte-rendu ou None, droits) ; 404 si le compte-rendu n'est pas visible,
    403 si ``ability`` est refusée."""
    contract = get_contract(request, slug)
    application = (
        Application.objects.filter(call__contract=contract, call__year=year, pk=pk)
        .select_related("call__contract", "partner")
        .prefetch_related(
            Prefetch("funder_lines", FunderLine.objects.select_related("funder__partner", "act")),
            "qpvs",
            "budget_lines",
        )
        .first()
    )
    if application is None:
        raise Http404(MISSING)
    report = services.report_of(application)
    rights = report_abilities(request.user, application, report)
    if not rights["view"]:
        raise Http404(MISSING)
    require(rights[ability], READ_ONLY)
    return contract, application, report, rights


def _ctx(contract, application, report, rights, **extra):
    context = {
        "contract": contract,
        "call": application.call,
        "application": application,
        "report": report,
        "rights": rights,
        "due_date": report.due_date if report else report_due_date(application),
        "grants": granted_lines(application),
    }
    context.update(extra)
    return context


def _keep_input(form_class, request, error, added=None, **kwargs):
    """Le formulaire garde la saisie et prend la version enregistrée : renvoyé tel quel, il
    enregistre la saisie en connaissance de cause (rien n'est perdu). ``added`` : la pièce déposée
    avec ce formulaire, cochée pour le prochain envoi (le fichier, lui, n'est pas redemandé)."""
    posted = request.POST.copy()
    posted["version"] = str(error.obj.version)
    if added is not None:
        posted.appendlist("documents", str(added.pk))
    form = form_class(posted, None, **kwargs)
    form.is_valid()
    return form


@login_required
@require_http_methods(["GET", "POST"])
def report(request, slug, year, pk):
    contract, application, report, rights = _resolve(request, slug, year, pk)
    documents = PartnerDocument.objects.of_partner(application.partner).filter(kind=DocumentKind.REPORT_PIECE)
    conflict, conflict_rows, status = None, [], 200
    if request.method == "POST":
        require(rights["edit"], READ_ONLY)
        form = ReportForm(request.POST, request.FILES, documents=documents)
        if form.is_valid():
            chosen, added = list(form.cleaned_data["documents"]), None
            try:
                if form.cleaned_data.get("new_file"):
                    added = application_services.upload_document(
                        user=request.user,
                        call=application.call,
                        partner=application.partner,
                        kind=DocumentKind.REPORT_PIECE,
                        uploaded=form.cleaned_data["new_file"],
                    )
                    chosen.append(added)
                services.save_report(
                    user=request.user,
                    application=application,
                    version=form.cleaned_data.get("version"),
                    data=form.report_data(),
                    documents=chosen,
                )
            except ConflictError as error:
                conflict, status = error, 409
                form = _keep_input(ReportForm, request, error, added, documents=documents)
                conflict_rows = _conflict_rows(error, form)
            except ValidationError as error:
                add_service_errors(form, error, {"file": "new_file"})
            else:
                messages.success(request, "Le compte-rendu est enregistré (il n'est pas encore transmis).")
                return redirect("www:report", contract.slug, year, application.pk)
    else:
        form = ReportForm(initial=ReportForm.initial_of(report, application), documents=documents)
    return render(
        request,
        "grants/reports/report.html",
        _ctx(
            contract,
            application,
            report,
            rights,
            form=form,
            conflict=conflict,
            conflict_rows=conflict_rows,
            missing=services.checklist(report) if rights["edit"] else [],
            report_documents=list(report.documents.all()) if report else [],
            paths=ReportPath,
        ),
        status=status,
    )


def _budget_rows(report, planned):
    """Les lignes à montrer en lecture : celles enregistrées, sinon le prévu seul."""
    if report is not None and report.budget_lines.all():
        return [
            {
                "title": services.PlannedRow(line.account, line.label, line.planned_amount).title,
                "planned": line.planned_amount,
                "actual": line.actual_amount,
                "percent": services.variance_percent(line.planned_amount, line.actual_amount),
                "explanation": line.explanation,
                "is_charge": line.account in services.CHARGE_ACCOUNTS,
            }
            for line in report.budget_lines.all()
        ]
    return [
        {"title": row.title, "planned": row.planned, "actual": None, "is_charge": row.is_charge}
        for row in planned
    ]


@login_required
@require_http_methods(["GET", "POST"])
def report_budget(request, slug, year, pk):
    contract, application, report, rights = _resolve(request, slug, year, pk)
    planned = services.planned_rows(application)
    conflict, conflict_rows, status = None, [], 200
    if request.method == "POST":
        require(rights["edit"], READ_ONLY)
        form = ReportBudgetForm(request.POST, planned=planned)
        if form.is_valid():
            try:
                services.save_report_budget(
                    user=request.user,
                    application=application,
                    version=form.cleaned_data.get("version"),
                    lines=form.lines(),
                )
            except ConflictError as error:
                conflict, status = error, 409
                form = _keep_input(ReportBudgetForm, request, error, planned=planned)
                conflict_rows = _conflict_rows(error, form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Le budget réalisé est enregistré.")
                return redirect("www:report_budget", contract.slug, year, application.pk)
        triples = form.actual_triples()
    else:
        form = ReportBudgetForm(initial=ReportBudgetForm.initial_of(report), planned=planned)
        triples = [
            (row.account, row.planned, form.initial.get(f"actual_{o}")) for o, row in enumerate(planned)
        ]
    return render(
        request,
        "grants/reports/budget.html",
        _ctx(
            contract,
            application,
            report,
            rights,
            form=form,
            conflict=conflict,
            conflict_rows=conflict_rows,
            totals=services.budget_summary(triples),
            read_rows=_budget_rows(report, planned),
            limit=services.REPORT_VARIANCE_LIMIT,
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_beneficiaries(request, slug, year, pk):
    contract, application, report, rights = _resolve(request, slug, year, pk)
    conflict, conflict_rows, status = None, [], 200
    form = BeneficiariesForm(initial={"version": report.version if report else 0})
    if request.method == "POST":
        require(rights["edit"], READ_ONLY)
        if request.POST.get("oublier"):
            try:
                services.forget_computed_share(user=request.user, application=application)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(request, "La part calculée est retirée : la part déclarée s'applique.")
            return redirect("www:report_beneficiaries", contract.slug, year, application.pk)
        form = BeneficiariesForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                saved = services.compute_beneficiaries_share(
                    user=request.user,
                    application=application,
                    version=form.cleaned_data.get("version"),
                    uploaded=form.cleaned_data["file"],
                )
            except ConflictError as error:
                conflict, status = error, 409
                # Le fichier n'est jamais gardé : il faut le déposer de nouveau, en connaissance de cause.
                form = BeneficiariesForm(initial={"version": error.obj.version})
                conflict_rows = _conflict_rows(error, form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Part des bénéficiaires habitant un QPV : {french_number(saved.qpv_share, '%')}, sur "
                    f"{saved.located_count} ligne(s) localisée(s). Le fichier n'a pas été gardé.",
                )
                return redirect("www:report_beneficiaries", contract.slug, year, application.pk)
    return render(
        request,
        "grants/reports/beneficiaries.html",
        _ctx(
            contract,
            application,
            report,
            rights,
            form=form,
            conflict=conflict,
            conflict_rows=conflict_rows,
            max_rows=services.BENEFICIARIES_MAX_ROWS,
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_submit(request, slug, year, pk):
    contract, application, report, rights = _resolve(request, slug, year, pk, "edit")
    missing = services.checklist(report)
    form = SubmitReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirm"]:
            form.add_error("confirm", "Cochez « Je confirme » pour transmettre : rien n'a été transmis.")
        else:
            try:
                services.submit_report(user=request.user, application=application)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    "Le compte-rendu est transmis aux financeurs : il n'est plus modifiable, sauf si l'un "
                    "d'eux demande des modifications.",
                )
                return redirect("www:report", contract.slug, year, application.pk)
    return render(
        request,
        "grants/reports/submit.html",
        _ctx(contract, application, report, rights, form=form, missing=missing),
    )


@login_required
def report_pdf(request, slug, year, pk):
    contract, application, report, rights = _resolve(request, slug, year, pk, "download_pdf")
    report.application = application
    response = HttpResponse(build_report_pdf(report), content_type="application/pdf")
    name = application.number or application.pk
    response["Content-Disposition"] = f'inline; filename="compte-rendu-{name}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
