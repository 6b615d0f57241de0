"""Appel à projets : l'instruction des dossiers par les financeurs, les correspondants de quartier
et les délégués du préfet (file, dossier, ligne de financeur, avis, notes, compléments, PDF).

Les vues orchestrent : droits par ``cdv/grants/abilities.py``, écritures par
``cdv/grants/services/instruction.py``, lectures par ``cdv/grants/selectors_instruction.py``."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.core.figures import french_number
from cdv.grants import selectors_instruction as selectors
from cdv.grants.abilities import application_abilities, call_abilities, funder_line_abilities, opinion_kinds
from cdv.grants.documents import build_application_pdf
from cdv.grants.enums import CHARGE_ACCOUNTS, INCOME_ACCOUNTS, ProjectScope
from cdv.grants.errors import ConflictError
from cdv.grants.followup import follow_up_of
from cdv.grants.models import Application, Call
from cdv.grants.services import instruction as services
from cdv.plan.models import Enjeu

from ..forms.grants_instruction import (
    FunderLineForm,
    InfoRequestForm,
    QuartierOpinionForm,
    QueueFilterForm,
    ScoresForm,
)
from .helpers import add_service_errors, get_contract, get_in_contract, require


def _call(request, slug, year, ability: str | None = "view"):
    """L'appel de l'année pour qui le voit ou prend part à son instruction (404 sinon), et ses
    droits ; ``ability`` (si donné) doit être accordé (403 sinon)."""
    contract = get_contract(request, slug)
    call = Call.objects.for_contract(contract).filter(year=year).select_related("contract").first()
    if call is None:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    rights = call_abilities(request.user, call)
    if not rights["view"] and not rights["view_queue"]:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    if ability is not None:
        require(rights[ability], "Vous ne prenez pas part à l'instruction de cet appel.")
    return contract, call, rights


def _application(request, call, pk, ability="view_instruction", then_prefetch=()):
    """Le dossier et ses droits (404, 403 comme ``get_in_contract``) ; ``then_prefetch`` : ce que
    la page lit en plus de ce que lisent les droits, préchargé une fois les droits accordés."""
    return get_in_contract(
        request,
        selectors.application_for_rights(Application.objects.filter(call=call)),
        pk,
        application_abilities,
        ability,
        missing="Aucun dossier de cet appel ne porte ce numéro.",
        forbidden="Vous ne pouvez pas faire cela sur ce dossier.",
        then_prefetch=then_prefetch,
    )


@login_required
def queue(request, slug, year):
    contract, call, _ = _call(request, slug, year, "view_queue")
    funders = list(call.funders.select_related("partner"))
    form = QueueFilterForm(
        request.GET or None,
        funders=funders,
        enjeux=Enjeu.objects.filter(contract=contract),
        qpvs=contract.qpvs.order_by("name"),
    )
    filters = selectors.QueueFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.QueueFilters(
            funder=next((f for f in funders if f.pk == data["funder"]), None),
            status=data["status"],
            enjeu_id=data["enjeu"],
            qpv_id=data["qpv"],
            min_amount=data["min_amount"],
            max_amount=data["max_amount"],
            late=data["late"],
        )
    today = timezone.localdate()
    applications = list(selectors.queue(request.user, call, filters, today=today))
    rows = []
    for application in applications:
        lines = list(application.funder_lines.all())
        if filters.funder is not None:
            lines = [line for line in lines if line.funder_id == filters.funder.pk]
        rows.append(
            {
                "application": application,
                "lines": lines,
                "late": any(selectors.is_line_late(line, call, today) for line in lines),
            }
        )
    return render(
        request,
        "grants/instruction/queue.html",
        {
            "contract": contract,
            "call": call,
            "form": form,
            "rows": rows,
            "counts": selectors.queue_counts(applications),
            "filters": filters,
        },
    )


def _budget(application):
    lines = list(application.budget_lines.all())
    charges = [b for b in lines if b.account in CHARGE_ACCOUNTS]
    income = [b for b in lines if b.account in INCOME_ACCOUNTS]
    funder_lines = list(application.funder_lines.all())
    charges_total = sum((b.amount for b in charges), 0)
    income_total = sum((b.amount for b in income), 0) + sum((f.requested_amount for f in funder_lines), 0)
    return {
        "charges": charges,
        "income": income,
        "charges_total": charges_total,
        "income_total": income_total,
        "requested_total": sum((f.requested_amount for f in funder_lines), 0),
        "difference": income_total - charges_total,
    }


def _opinion_targets(request, application):
    """[(quartier, avis)] que la personne peut donner sur ce dossier."""
    contract_id = application.call.contract_id
    if application.scope == ProjectScope.WHOLE:
        qpvs = list(application.call.contract.qpvs.all())
    else:
        qpvs = list(application.qpvs.all())
    return [(qpv, kind) for qpv in qpvs for kind in sorted(opinion_kinds(request.user, contract_id, qpv.pk))]


@login_required
def application_instruction(request, slug, year, pk):
    contract, call, _ = _call(request, slug, year)
    application, rights = _application(request, call, pk, then_prefetch=selectors.instruction_page_lookups())
    today = timezone.localdate()
    lines = [
        {
            "line": line,
            "rights": funder_line_abilities(request.user, line),
            "late": selectors.is_line_late(line, call, today),
        }
        for line in application.funder_lines.all()
    ]
    score_rows, score_average = selectors.score_summary(application)
    return render(
        request,
        "grants/instruction/application.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "rights": rights,
            "lines": lines,
            "budget": _budget(application),
            "score_rows": score_rows,
            "score_average": score_average,
            "can_give_opinion": rights["give_opinion"] and bool(_opinion_targets(request, application)),
            "follow_up": follow_up_of(request.user, application) if call.committee_held_at else None,
        },
    )


def _conflict_rows(error: ConflictError, form):
    """Chaque champ qui diffère : la valeur enregistrée par l'autre et la saisie, lisibles (libellé
    du choix, montant à la française)."""

    def shown(value, choices):
        if value in (None, ""):
            return ""
        if isinstance(value, Decimal):
            return french_number(value, "€")
        return choices.get(value, value)

    rows = []
    for field, label, saved, typed in error.changes:
        choices = dict(getattr(form.fields.get(field), "choices", []) or [])
        rows.append({"label": label, "saved": shown(saved, choices), "typed": shown(typed, choices)})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def funder_line_edit(request, slug, year, pk, line_pk):
    contract, call, _ = _call(request, slug, year)
    application, _ = _application(request, call, pk, "view")
    line = next((line for line in application.funder_lines.all() if line.pk == line_pk), None)
    if line is None:
        raise Http404("Ce dossier n'a pas cette ligne de financeur.")
    require(
        funder_line_abilities(request.user, line)["instruct"],
        "Seuls les instructeurs de ce financeur écrivent sa ligne, tant que le comité n'a pas voté.",
    )
    conflict, conflict_rows, status = None, [], 200
    if request.method == "POST":
        form = FunderLineForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_funder_line(
                    user=request.user,
                    line=line,
                    version=data["version"],
                    status=data["status"],
                    proposed_amount=data["proposed_amount"],
                    opinion=data["opinion"],
                    comment=data["comment"],
                )
            except ConflictError as error:
                conflict, status = error, 409
                conflict_rows = _conflict_rows(error, form)
                # Le formulaire garde la saisie ; sa version devient celle enregistrée : enregistrer
                # de nouveau remplace, en connaissance de cause, la version de l'autre personne.
                posted = request.POST.copy()
                posted["version"] = str(error.obj.version)
                form = FunderLineForm(posted)
                form.is_valid()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Ligne de {line.funder.partner} enregistrée.")
                return redirect(
                    "www:application_instruction", slug=contract.slug, year=call.year, pk=application.pk
                )
    else:
        form = FunderLineForm(
            initial={
                "version": line.version,
                "status": line.status,
                "proposed_amount": line.proposed_amount,
                "opinion": line.opinion,
                "comment": line.comment,
            }
        )
    return render(
        request,
        "grants/instruction/line_form.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "line": line,
            "form": form,
            "conflict": conflict,
            "conflict_rows": conflict_rows,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def quartier_opinion(request, slug, year, pk):
    contract, call, _ = _call(request, slug, year)
    application, _ = _application(request, call, pk, "give_opinion", [selectors.opinions_lookup()])
    targets = _opinion_targets(request, application)
    require(bool(targets), "Vous ne donnez d'avis pour aucun quartier de ce dossier.")
    existing = {(o.qpv_id, o.kind): o for o in application.quartier_opinions.all()}
    versions = {key: opinion.version for key, opinion in existing.items()}
    conflict, conflict_rows, status = None, [], 200
    if request.method == "POST":
        form = QuartierOpinionForm(request.POST, targets=targets, versions=versions)
        if form.is_valid():
            qpv, kind, version = form.chosen()
            try:
                services.give_quartier_opinion(
                    user=request.user,
                    application=application,
                    qpv=qpv,
                    kind=kind,
                    opinion=form.cleaned_data["opinion"],
                    comment=form.cleaned_data["comment"],
                    version=version,
                )
            except ConflictError as error:
                conflict, status = error, 409
                conflict_rows = _conflict_rows(error, form)
                posted = request.POST.copy()
                posted[form.version_field_of(qpv.pk, kind)] = str(error.obj.version)
                form = QuartierOpinionForm(posted, targets=targets, versions=versions)
                form.is_valid()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Avis enregistré.")
                return redirect(
                    "www:application_instruction", slug=contract.slug, year=call.year, pk=application.pk
                )
    else:
        qpv, kind = targets[0]
        current = existing.get((qpv.pk, kind))
        form = QuartierOpinionForm(
            initial={
                "target": f"{qpv.pk}:{kind}",
                "opinion": current.opinion if current else None,
                "comment": current.comment if current else "",
            },
            targets=targets,
            versions=versions,
        )
    return render(
        request,
        "grants/instruction/opinion_form.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "form": form,
            "existing": list(existing.values()),
            "conflict": conflict,
            "conflict_rows": conflict_rows,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def scores_edit(request, slug, year, pk):
    contract, call, _ = _call(request, slug, year)
    application, _ = _application(request, call, pk, "score", [selectors.scores_lookup()])
    criteria = list(call.criteria.all())
    if not criteria:
        raise Http404("Cet appel n'a pas de grille de notation.")
    mine = {s.criterion_id: s for s in application.scores.all() if s.author_id == request.user.pk}
    if request.method == "POST":
        form = ScoresForm(request.POST, criteria=criteria)
        if form.is_valid():
            try:
                services.save_scores(user=request.user, application=application, scores=form.scores())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Notes enregistrées.")
                return redirect(
                    "www:application_instruction", slug=contract.slug, year=call.year, pk=application.pk
                )
    else:
        initial = {}
        for criterion in criteria:
            score = mine.get(criterion.pk)
            initial[f"criterion_{criterion.pk}"] = score.value if score else None
            initial[f"comment_{criterion.pk}"] = score.comment if score else ""
        form = ScoresForm(initial=initial, criteria=criteria)
    return render(
        request,
        "grants/instruction/scores_form.html",
        {"contract": contract, "call": call, "application": application, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_info(request, slug, year, pk):
    contract, call, call_rights = _call(request, slug, year)
    application, _ = _application(request, call, pk, "request_info")
    funders = [
        line.funder
        for line in application.funder_lines.all()
        if funder_line_abilities(request.user, line)["instruct"]
    ]
    allow_none = call_rights["edit"]
    require(bool(funders) or allow_none, "Vous n'instruisez aucune ligne de ce dossier.")
    if request.method == "POST":
        form = InfoRequestForm(request.POST, funders=funders, allow_none=allow_none)
        if form.is_valid():
            funder = next((f for f in funders if f.pk == form.cleaned_data["funder"]), None)
            try:
                services.request_information(
                    user=request.user,
                    application=application,
                    funder=funder,
                    questions=form.cleaned_data["questions"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, "Le dossier est rendu à l'association : elle est prévenue par courriel."
                )
                return redirect(
                    "www:application_instruction", slug=contract.slug, year=call.year, pk=application.pk
                )
    else:
        form = InfoRequestForm(funders=funders, allow_none=allow_none)
    return render(
        request,
        "grants/instruction/request_info.html",
        {"contract": contract, "call": call, "application": application, "form": form},
    )


@login_required
def application_pdf(request, slug, year, pk):
    contract, call, _ = _call(request, slug, year)
    application, _ = _application(request, call, pk, "download_pdf", selectors.instruction_page_lookups())
    content = build_application_pdf(application)
    response = HttpResponse(content, content_type="application/pdf")
    name = application.number or f"brouillon-{application.pk}"
    response["Content-Disposition"] = f'inline; filename="dossier-{name}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
