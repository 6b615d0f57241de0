"""Appel à projets : l'appel (montage par le pilote sur la plateforme, page publique).

Droits : ``cdv.grants.abilities.call_abilities`` (un appel en préparation est introuvable, 404,
pour qui n'est pas pilote ; une page de montage est interdite, 403, à qui voit l'appel sans le
piloter). Les écritures passent par ``cdv.grants.services.calls``."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.core.pagecache import public_page
from cdv.grants import selectors_calls as selectors
from cdv.grants.abilities import (
    applicant_partners_of,
    call_abilities,
    contract_call_abilities,
    follow_up_call_abilities,
)
from cdv.grants.blocking import blocking_message, missing_reports
from cdv.grants.errors import ConflictError, GrantsError
from cdv.grants.models import Call, CallFunder, FunderLine
from cdv.grants.services import calls as services
from cdv.partners.models import Partner
from cdv.plan.models import Objective

from ..forms.grants_calls import (
    CallForm,
    CallRulesForm,
    CopyForm,
    CriterionFormSet,
    DocumentFormSet,
    FunderFormSet,
)
from .helpers import add_service_errors, confirmed_act, get_contract, require

FORBIDDEN = "Seul le pilote du contrat monte l'appel à projets."


def get_call(request, contract, year, ability="view", then_prefetch=()):
    """L'appel ``year`` du contrat et les droits de la personne : invisible → 404, acte refusé → 403.
    ``then_prefetch`` : ce que lit la page, préchargé une fois les droits accordés."""
    call = Call.objects.for_contract(contract).filter(year=year).first()
    rights = call_abilities(request.user, call) if call is not None else None
    if rights is None or not rights["view"]:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    require(rights[ability], FORBIDDEN)
    call.contract = contract
    if then_prefetch:
        prefetch_related_objects([call], *then_prefetch)
    return call, rights


def _call_url(call, name="www:call"):
    return reverse(name, kwargs={"slug": call.contract.slug, "year": call.year})


@require_http_methods(["GET"])
def call_list(request, slug):
    contract = get_contract(request, slug)
    contract_rights = contract_call_abilities(request.user, contract)
    calls = Call.objects.for_contract(contract)
    if not contract_rights["view_all"]:
        calls = calls.published()
    calls = list(selectors.calls_with_counts(calls))
    totals = selectors.envelope_totals([c.pk for c in calls]) if calls else {}
    for call in calls:
        call.envelope_total = totals.get(call.pk)
        call.rights = call_abilities(request.user, call)
    return render(
        request,
        "grants/calls/list.html",
        {
            "contract": contract,
            "calls": calls,
            "rights": contract_rights,
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def call_create(request, slug):
    contract = get_contract(request, slug)
    require(contract_call_abilities(request.user, contract)["create"], FORBIDDEN)
    if request.method == "POST":
        form = CallForm(request.POST, creating=True)
        if form.is_valid():
            try:
                call = services.create_call(
                    user=request.user, contract=contract, year=form.cleaned_data["year"], values=form.values()
                )
            except GrantsError as error:
                add_service_errors(form, error)
            else:
                call.contract = contract
                messages.success(
                    request,
                    "Appel créé (en préparation) : inscrivez ses financeurs, puis ses règles et pièces.",
                )
                return redirect(_call_url(call, "www:call_funders"))
    else:
        form = CallForm(creating=True, initial={"year": timezone.localdate().year + 1})
    return render(request, "grants/calls/form.html", {"contract": contract, "form": form, "call": None})


@require_http_methods(["GET", "POST"])
def call_edit(request, slug, year):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year, "edit")
    conflict, status = None, 200
    if request.method == "POST":
        form = CallForm(request.POST, instance=call)
        if form.is_valid():
            try:
                services.update_call(
                    user=request.user, call=call, version=form.cleaned_data["version"], values=form.values()
                )
            except ConflictError as error:
                conflict, status = error, 409
                # Rien n'est perdu : la saisie reste dans le formulaire, qui part désormais de la
                # version enregistrée ; l'enregistrer de nouveau remplace, en connaissance de cause.
                data = request.POST.copy()
                data["version"] = str(error.obj.version)
                form = CallForm(data, instance=call)
                form.is_valid()
            except GrantsError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Appel enregistré.")
                return redirect(_call_url(call))
    else:
        form = CallForm(instance=call, initial={"version": call.version})
    return render(
        request,
        "grants/calls/form.html",
        {"contract": contract, "form": form, "call": call, "conflict": conflict, "rights": rights},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def call_funders(request, slug, year):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year, "edit")
    partners = Partner.objects.taking_part_in(contract).only("pk", "name").order_by("name")
    funders = list(call.funders.select_related("partner"))
    used = set(FunderLine.objects.filter(funder__call=call).values_list("funder__partner_id", flat=True))
    service_errors = []
    if request.method == "POST":
        formset = FunderFormSet(request.POST, prefix="financeurs", row_kwargs={"partners": partners})
        if formset.is_valid():
            try:
                services.set_funders(user=request.user, call=call, funders=formset.rows())
            except GrantsError as error:
                service_errors = error.messages
            else:
                messages.success(request, "Financeurs et enveloppes enregistrés.")
                return redirect(_call_url(call, "www:call_funders"))
    else:
        initial = [
            {
                "partner": f.partner_id,
                "kind": f.kind,
                "label": f.label,
                "envelope": f.envelope,
                "siret": f.partner.siret,
            }
            for f in funders
        ]
        formset = FunderFormSet(prefix="financeurs", initial=initial, row_kwargs={"partners": partners})
    return render(
        request,
        "grants/calls/funders.html",
        {
            "contract": contract,
            "call": call,
            "formset": formset,
            "funders": funders,
            "used": used,
            "service_errors": service_errors,
            "total": sum((f.envelope for f in funders), 0),
        },
    )


@require_http_methods(["GET", "POST"])
def call_settings(request, slug, year):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year, "edit")
    conflict, status = None, 200
    if request.method == "POST":
        rules = CallRulesForm(request.POST, contract=contract)
        documents = DocumentFormSet(request.POST, prefix="pieces")
        criteria = CriterionFormSet(request.POST, prefix="criteres")
        if rules.is_valid() & documents.is_valid() & criteria.is_valid():
            try:
                with transaction.atomic():  # tout ou rien : un refus n'enregistre aucune partie
                    services.update_call(
                        user=request.user,
                        call=call,
                        version=rules.cleaned_data["version"],
                        values=rules.values(),
                        eligible_enjeux=rules.cleaned_data["eligible_enjeux"],
                        eligible_objectives=rules.cleaned_data["eligible_objectives"],
                        eligible_qpvs=rules.cleaned_data["eligible_qpvs"],
                    )
                    services.set_required_documents(user=request.user, call=call, documents=documents.rows())
                    services.set_criteria(user=request.user, call=call, criteria=criteria.rows())
            except ConflictError as error:
                conflict, status = error, 409
                data = request.POST.copy()
                data["version"] = str(error.obj.version)
                rules = CallRulesForm(data, contract=contract)
                rules.is_valid()
            except GrantsError as error:
                add_service_errors(rules, error)
            else:
                messages.success(request, "Règles, pièces et grille de notation enregistrées.")
                return redirect(_call_url(call))
    else:
        rules = CallRulesForm(contract=contract, initial=CallRulesForm.initial_for(call))
        documents = DocumentFormSet(
            prefix="pieces",
            initial=[
                {"kind": d.kind, "label": d.label, "required": d.required}
                for d in call.required_documents.all()
            ],
        )
        criteria = CriterionFormSet(
            prefix="criteres",
            initial=[
                {"pk": c.pk, "label": c.label, "description": c.description, "scale_max": c.scale_max}
                for c in call.criteria.all()
            ],
        )
    return render(
        request,
        "grants/calls/settings.html",
        {
            "contract": contract,
            "call": call,
            "rules": rules,
            "documents": documents,
            "criteria": criteria,
            "conflict": conflict,
        },
        status=status,
    )


def _confirm(request, slug, year, ability, act, template, done):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year, ability)
    error = None
    if request.method == "POST":
        error = confirmed_act(
            request,
            lambda: act(user=request.user, call=call),
            unchecked="Cochez « Je confirme » pour continuer : rien n'a été fait.",
            done=done,
        )
        if error is None:
            return redirect(_call_url(call))
    return render(
        request,
        template,
        {"contract": contract, "call": call, "gaps": selectors.publication_gaps(call), "error": error},
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def call_publish(request, slug, year):
    return _confirm(
        request,
        slug,
        year,
        "publish",
        services.publish_call,
        "grants/calls/publish.html",
        "Appel publié : sa page est publique, les associations déposent pendant la fenêtre de dépôt.",
    )


@require_http_methods(["GET", "POST"])
def call_archive(request, slug, year):
    return _confirm(
        request,
        slug,
        year,
        "archive",
        services.archive_call,
        "grants/calls/archive.html",
        "Appel archivé : il n'est plus modifiable.",
    )


@require_http_methods(["GET", "POST"])
def call_copy(request, slug, year):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year, "copy")
    if request.method == "POST":
        form = CopyForm(request.POST)
        if form.is_valid():
            try:
                new = services.copy_call(user=request.user, call=call, year=form.cleaned_data["year"])
            except GrantsError as error:
                add_service_errors(form, error)
            else:
                new.contract = contract
                messages.success(
                    request,
                    f"Appel {new.year} créé en préparation à partir de celui de {call.year} : "
                    "vérifiez son calendrier, ses enveloppes et ses règles avant de le publier.",
                )
                return redirect(_call_url(new, "www:call_edit"))
    else:
        form = CopyForm(initial={"year": call.year + 1})
    return render(request, "grants/calls/copy.html", {"contract": contract, "call": call, "form": form})


@require_http_methods(["GET"])
def call_drafts(request, slug, year):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year, "view_drafts")
    rows = selectors.drafts_by_partner(call)
    return render(
        request,
        "grants/calls/drafts.html",
        {"contract": contract, "call": call, "rows": rows, "total": sum(r["count"] for r in rows)},
    )


@public_page
@require_http_methods(["GET"])
def call_page(request, slug, year):
    contract = get_contract(request, slug)
    page = [
        Prefetch("funders", queryset=CallFunder.objects.select_related("partner")),
        "required_documents",
        "criteria",
        "eligible_enjeux",
        Prefetch("eligible_objectives", queryset=Objective.objects.select_related("enjeu")),
        "eligible_qpvs",
    ]
    call, rights = get_call(request, contract, year, "view", then_prefetch=page)
    funders = list(call.funders.all())
    qpvs = list(call.eligible_qpvs.all()) or list(contract.qpvs.only("pk", "name", "code").order_by("name"))
    applicant_partners = []
    if request.user.is_authenticated and rights["apply"]:
        applicant_partners = list(
            Partner.objects.filter(pk__in=applicant_partners_of(request.user, contract.pk))
            .only("pk", "name", "slug")
            .order_by("name")
        )
        for partner in applicant_partners:  # un compte-rendu manquant bloque le dépôt
            missing = missing_reports(partner, call)
            partner.report_block = blocking_message(missing) if missing else ""
    return render(
        request,
        "grants/calls/page.html",
        {
            "contract": contract,
            "call": call,
            "rights": rights,
            "follow": follow_up_call_abilities(request.user, call),
            "funders": funders,
            "total": sum((f.envelope for f in funders), 0),
            "qpvs": sorted(qpvs, key=lambda q: q.name),
            "all_qpvs": not call.eligible_qpvs.all(),
            "enjeux": sorted(call.eligible_enjeux.all(), key=lambda e: e.number),
            "objectives": sorted(call.eligible_objectives.all(), key=lambda o: (o.enjeu.number, o.number)),
            "meetings": [line for line in call.info_meetings.splitlines() if line.strip()],
            "applicant_partners": applicant_partners,
            "gaps": selectors.publication_gaps(call) if rights["publish"] else [],
            "today": timezone.localdate(),
            "open": call.is_open_on(timezone.localdate()),
        },
    )
