"""Appel à projets : les actes attributifs (arrêté, convention, CPO) de chaque ligne votée.

Droits par ``cdv/grants/abilities.py`` (``follow_up_abilities``, ``follow_up_call_abilities``,
``act_template_abilities``), écritures par ``cdv/grants/services/acts.py``, documents par
``cdv/grants/acts.py``. Un objet invisible répond 404, un acte interdit sur un objet visible 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cdv.core import filestore
from cdv.grants.abilities import (
    act_of,
    act_template_abilities,
    application_abilities,
    follow_up_abilities,
    follow_up_call_abilities,
    funder_manager,
)
from cdv.grants.acts import act_filename, build_act_docx, build_act_pdf, kind_for, kind_label, template_of
from cdv.grants.enums import ActKind, EventKind
from cdv.grants.errors import ConflictError
from cdv.grants.models import ActTemplate, Application, ApplicationEvent, CallFunder, FunderLine
from cdv.grants.services import acts as services
from cdv.partners.models import Partner

from ..forms.grants_acts import ActTemplateForm, SignedActForm
from .grants_instruction import _call, _conflict_rows
from .helpers import add_service_errors, confirmed_act, get_contract, require

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _line(request, slug, year, pk, line_pk, ability="view"):
    """(contrat, appel, dossier, ligne, droits) : dossier ou ligne invisible → 404, ``ability``
    refusée → 403."""
    contract, call, _ = _call(request, slug, year, None)
    application = (
        Application.objects.filter(call=call, pk=pk)
        .select_related("call__contract", "partner", "enjeu", "objective", "action")
        .prefetch_related(
            "qpvs",
            Prefetch(
                "funder_lines",
                queryset=FunderLine.objects.select_related("funder__partner", "act").prefetch_related(
                    "instalments"
                ),
            ),
        )
        .first()
    )
    line = None
    if application is not None:
        line = next((li for li in application.funder_lines.all() if li.pk == line_pk), None)
    rights = follow_up_abilities(request.user, line) if line is not None else None
    if rights is None or not rights["view"]:
        raise Http404("Aucune subvention accordée de ce dossier ne porte ce numéro.")
    require(rights[ability], "Vous ne pouvez pas faire cela sur l'acte de ce financeur.")
    return contract, call, application, line, rights


def _application_url(request, contract, call, application):
    """La page du dossier de la personne : celle de l'association, ou celle de l'instruction."""
    own = application_abilities(request.user, application)["own"]
    name = "www:application" if own else "www:application_instruction"
    return reverse(name, args=[contract.slug, call.year, application.pk])


def _act(line):
    act = act_of(line)
    if act is not None:
        act.line = line
    return act


@login_required
@require_http_methods(["GET", "POST"])
def line_act(request, slug, year, pk, line_pk):
    contract, call, application, line, rights = _line(request, slug, year, pk, line_pk)
    if request.method == "POST":
        require(
            rights["prepare_act"],
            "Seuls les instructeurs de ce financeur préparent son acte, tant qu'il n'est pas signé.",
        )
        try:
            act = services.prepare_act(user=request.user, line=line)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, f"Acte {act.reference} préparé ({kind_label(act.kind)}) : téléchargez-le."
            )
        return redirect("www:line_act", contract.slug, call.year, application.pk, line.pk)
    act = _act(line)
    events = (
        ApplicationEvent.objects.filter(
            application=application,
            funder=line.funder,
            kind__in=[EventKind.ACT_PREPARED, EventKind.ACT_SIGNED],
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )
    planned = ActKind(act.kind if act else kind_for(line.voted_amount, application.years))
    return render(
        request,
        "grants/acts/line_act.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "line": line,
            "act": act,
            "planned_kind": planned,
            "rights": rights,
            "follow": follow_up_call_abilities(request.user, call),
            "events": events,
            "back_url": _application_url(request, contract, call, application),
            "instalments": list(line.instalments.all()),
        },
    )


def _document(request, slug, year, pk, line_pk, fmt):
    contract, call, application, line, rights = _line(request, slug, year, pk, line_pk, "download_act")
    act = _act(line)
    template = template_of(act)
    if fmt == "docx":
        return _download(build_act_docx(act, template), DOCX, act_filename(act, "docx"))
    return _download(build_act_pdf(act, template), "application/pdf", act_filename(act, "pdf"))


@login_required
def act_docx(request, slug, year, pk, line_pk):
    return _document(request, slug, year, pk, line_pk, "docx")


@login_required
def act_pdf(request, slug, year, pk, line_pk):
    return _document(request, slug, year, pk, line_pk, "pdf")


@login_required
@require_http_methods(["GET", "POST"])
def act_sign(request, slug, year, pk, line_pk):
    contract, call, application, line, rights = _line(request, slug, year, pk, line_pk, "sign_act")
    act = _act(line)
    if request.method == "POST":
        form = SignedActForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.sign_act(
                    user=request.user,
                    line=line,
                    signed_on=data["signed_on"],
                    uploaded=data["file"],
                    version=data["version"],
                    replace=data["confirm_replace"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"L'acte signé {act.reference} est déposé : l'association en est prévenue."
                )
                return redirect("www:line_act", contract.slug, call.year, application.pk, line.pk)
    else:
        form = SignedActForm(initial={"version": act.version})
    return render(
        request,
        "grants/acts/sign.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "line": line,
            "act": act,
            "form": form,
        },
    )


@login_required
def act_signed_file(request, slug, year, pk, line_pk):
    contract, call, application, line, rights = _line(request, slug, year, pk, line_pk, "download_act")
    act = _act(line)
    if act.signed_on is None or not act.signed_file:
        raise Http404("L'acte signé n'est pas encore déposé.")
    try:
        handle = filestore.open_stream(act.signed_file.storage, act.signed_file.name)
    except FileNotFoundError as error:
        raise Http404("Le fichier de l'acte signé est introuvable.") from error
    response = filestore.stream_response(
        handle,
        as_attachment=True,
        filename=act_filename(act, "pdf").replace(".pdf", "-signe.pdf"),
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------------------------------------
# Le tableau des actes d'un appel


def _state(act):
    if act is None:
        return "À préparer"
    if act.signed_on:
        return f"Signé le {act.signed_on:%d/%m/%Y}"
    return "Préparé"


@login_required
@require_http_methods(["GET", "POST"])
def call_acts(request, slug, year):
    contract, call, _ = _call(request, slug, year, None)
    follow = follow_up_call_abilities(request.user, call)
    require(follow["view_follow_up"], "Le tableau des actes est réservé aux financeurs et au pilote.")
    managed = {
        f.partner_id for f in call.funders.all() if funder_manager(request.user, contract.pk, f.partner_id)
    }
    batch = request.method == "POST" or request.GET.get("preparer") == "tous"
    if batch:
        require(bool(managed), "Seuls les instructeurs d'un financeur préparent ses actes.")
        missing = services.missing_act_lines(request.user, call)
        error = None
        if request.method == "POST":
            error = confirmed_act(
                request,
                lambda: services.prepare_missing_acts(user=request.user, call=call),
                unchecked="Cochez « Je confirme » pour préparer ces actes.",
                done=f"{len(missing)} acte(s) préparé(s).",
            )
            if error is None:
                return redirect("www:call_acts", contract.slug, call.year)
        counts = {}
        for line in missing:
            label = ActKind(kind_for(line.voted_amount, line.application.years)).label
            counts[label] = counts.get(label, 0) + 1
        return render(
            request,
            "grants/acts/prepare_all.html",
            {
                "contract": contract,
                "call": call,
                "missing": missing,
                "counts": sorted(counts.items()),
                "error": error,
            },
        )
    lines = (
        FunderLine.objects.for_call(call)
        .voted()
        .filter(voted_amount__gt=0)
        .select_related("application__partner", "funder__partner", "act")
        .order_by("funder__order", "funder_id", "application__number", "pk")
    )
    if not follow["view_all_funders"]:
        lines = lines.filter(funder__partner_id__in=managed)
    rows = []
    for line in lines:
        act = act_of(line)
        kind = act.kind if act else kind_for(line.voted_amount, line.application.years)
        rows.append(
            {
                "line": line,
                "act": act,
                "kind": ActKind(kind).label,
                "state": _state(act),
                "mine": line.funder.partner_id in managed,
            }
        )
    return render(
        request,
        "grants/acts/call_acts.html",
        {
            "contract": contract,
            "call": call,
            "rows": rows,
            "can_prepare": bool(managed),
            "missing_count": sum(1 for r in rows if r["act"] is None and r["mine"]),
        },
    )


# ---------------------------------------------------------------------------------------------
# Les modèles d'acte des financeurs


def _funder_partners(contract):
    return Partner.objects.filter(
        pk__in=CallFunder.objects.filter(call__contract=contract).values("partner_id")
    ).order_by("name")


@login_required
def act_templates(request, slug):
    contract = get_contract(request, slug)
    rows = []
    templates = {t.partner_id: t for t in ActTemplate.objects.filter(contract=contract)}
    for partner in _funder_partners(contract):
        rights = act_template_abilities(request.user, contract, partner)
        if rights["view"]:
            rows.append({"partner": partner, "template": templates.get(partner.pk), "rights": rights})
    if not rows:
        raise Http404("Aucun modèle d'acte à consulter dans ce contrat.")
    return render(request, "grants/acts/templates.html", {"contract": contract, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def act_template_edit(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = _funder_partners(contract).filter(slug=partner_slug).first()
    rights = act_template_abilities(request.user, contract, partner) if partner else None
    if rights is None or not rights["view"]:
        raise Http404("Ce partenaire n'a pas de modèle d'acte que vous puissiez consulter.")
    require(rights["edit"], "Vous ne pouvez pas modifier le modèle d'acte de ce financeur.")
    template = ActTemplate.objects.filter(contract=contract, partner=partner).first()
    conflict, conflict_rows, status = None, [], 200
    if request.method == "POST":
        form = ActTemplateForm(request.POST)
        if form.is_valid():
            try:
                services.save_act_template(
                    user=request.user,
                    contract=contract,
                    partner=partner,
                    version=form.cleaned_data["version"],
                    data=form.cleaned_data,
                )
            except ConflictError as error:
                conflict, status = error, 409
                conflict_rows = _conflict_rows(error, form)
                posted = request.POST.copy()
                posted["version"] = str(error.obj.version)
                form = ActTemplateForm(posted)
                form.is_valid()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Modèle d'acte de {partner} enregistré.")
                return redirect("www:act_templates", contract.slug)
    else:
        initial = {"version": template.version if template else None}
        if template:
            initial.update({name: getattr(template, name) for name in services.TEMPLATE_FIELDS})
        form = ActTemplateForm(initial=initial)
    return render(
        request,
        "grants/acts/template_form.html",
        {
            "contract": contract,
            "partner": partner,
            "template": template,
            "form": form,
            "conflict": conflict,
            "conflict_rows": conflict_rows,
        },
        status=status,
    )
