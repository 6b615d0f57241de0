"""Appel à projets : le comité des financeurs.

- ``programmation`` : le tableau dossiers × financeurs (demandé, proposé, simulé, voté), les totaux
  par financeur face à son enveloppe, par enjeu, par quartier, la part en QPV ; le pilote y simule
  chaque ligne (htmx) ; membres du comité et instructeurs le lisent ;
- ``programmation_xlsx`` : le même tableau en classeur ;
- ``simulate_line`` : POST d'une simulation ; en htmx, renvoie la ligne et les totaux à jour ;
- ``vote`` : page de confirmation (ce qui reste incomplet), puis enregistrement du vote.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cdv.grants.abilities import call_abilities, funder_line_abilities
from cdv.grants.models import Call, FunderLine
from cdv.grants.programmation import build_programmation, row_of
from cdv.grants.services import committee as services

from ..forms.grants_committee import SimulationForm, VoteForm
from .helpers import add_service_errors, get_contract, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get_call(request, slug, year, ability="view_programmation"):
    contract = get_contract(request, slug)
    call = Call.objects.filter(contract=contract, year=year).select_related("contract").first()
    if call is None:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    rights = call_abilities(request.user, call)
    require(rights[ability], "Vous n'avez pas accès à la programmation de cet appel.")
    return contract, call, rights


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _context(contract, call, rights, programmation, **extra):
    return {
        "contract": contract,
        "call": call,
        "rights": rights,
        "p": programmation,
        "can_simulate": rights["simulate"],
        "simulate_prefix": reverse("www:simulate_line", args=[contract.slug, call.year, 0]).removesuffix(
            "0/simulation/"
        ),
        **extra,
    }


def programmation(request, slug, year):
    contract, call, rights = _get_call(request, slug, year)
    table = build_programmation(call)
    filters = {
        "enjeu": _int(request.GET.get("enjeu")),
        "qpv": _int(request.GET.get("qpv")),
        "funder": _int(request.GET.get("financeur")),
    }
    rows = table.filtered(**filters)
    return render(
        request,
        "grants/committee/programmation.html",
        _context(
            contract,
            call,
            rights,
            table,
            rows=rows,
            filters=filters,
            filtered=any(filters.values()),
            qpv_choices=sorted({q for r in table.rows for q in r.qpvs}, key=lambda q: q[1]),
        ),
    )


def programmation_xlsx(request, slug, year):
    # openpyxl n'est chargé qu'au premier classeur demandé.
    from cdv.grants.programmation_xlsx import build_programmation_xlsx

    contract, call, rights = _get_call(request, slug, year, "export")
    content = build_programmation_xlsx(call, build_programmation(call))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="programmation-{contract.slug}-{call.year}.xlsx"'
    return response


@require_POST
def simulate_line(request, slug, year, line_pk):
    contract, call, rights = _get_call(request, slug, year)
    line = (
        FunderLine.objects.filter(pk=line_pk, application__call=call)
        .select_related("application__call", "funder")
        .first()
    )
    if line is None:
        raise Http404("Aucune ligne de cet appel ne porte ce numéro.")
    require(funder_line_abilities(request.user, line)["simulate"], "Seul le pilote simule, avant le vote.")
    form = SimulationForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.simulate_line(
                user=request.user,
                line=line,
                choice=form.cleaned_data["choice"],
                amount=form.cleaned_data["amount"],
            )
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
    else:
        error = " ".join(e for errs in form.errors.values() for e in errs)
    if not request.htmx:
        if error:
            messages.error(request, f"Ligne non simulée : {error}")
        return redirect(
            reverse("www:programmation", args=[contract.slug, call.year]) + f"#ligne-{line.application_id}"
        )
    table, row = row_of(call, line.pk)
    return render(
        request,
        "grants/committee/_simulated.html",
        _context(
            contract, call, rights, table, row_list=[row] if row else [], error=error, error_line=line.pk
        ),
    )


@require_http_methods(["GET", "POST"])
def vote(request, slug, year):
    contract, call, rights = _get_call(request, slug, year)
    if call.committee_held_at is not None:
        messages.info(request, "Le vote de ce comité est déjà enregistré.")
        return redirect("www:programmation", contract.slug, call.year)
    require(rights["vote"], "Seul le pilote enregistre le vote du comité, l'appel publié.")
    form = VoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.record_vote(
                user=request.user,
                call=call,
                decision_date=form.cleaned_data["decision_date"],
                reference_prefix=form.cleaned_data["reference_prefix"],
            )
        except ValidationError as refusal:
            add_service_errors(form, refusal)
        else:
            messages.success(
                request, f"Vote enregistré : {count} ligne(s) décidée(s) ; les associations sont prévenues."
            )
            return redirect("www:programmation", contract.slug, call.year)
    table = build_programmation(call)
    return render(
        request,
        "grants/committee/vote.html",
        _context(
            contract,
            call,
            rights,
            table,
            form=form,
            missing=table.not_simulated,
            filing_open=call.is_open_on(timezone.localdate()),
        ),
        status=422 if request.method == "POST" else 200,
    )
