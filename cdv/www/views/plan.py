"""Éditeur du plan d'action, pour les pilotes du contrat : enjeux → objectifs → actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cdv.contracts.abilities import contract_abilities
from cdv.partners.models import Partner
from cdv.plan import services
from cdv.plan.models import Action, Enjeu, Objective
from cdv.territories.models import Territory

from ..forms.plan import ActionForm, EnjeuForm, ObjectiveForm
from ..history import Related, history_in_words
from .helpers import add_service_errors, confirmed_act, get_contract, require

KINDS = {"objectif": Objective, "action": Action}
DENIED = "Seul un pilote du contrat modifie le plan d'action."


def _pilot_contract(request, slug):
    contract = get_contract(request, slug)
    require(contract_abilities(request.user, contract)["edit_plan"], DENIED)
    return contract


def _item(contract, kind, pk):
    model = KINDS.get(kind)
    if model is None:
        raise Http404("Type d'élément inconnu.")
    scope = {"enjeu__contract": contract} if model is Objective else {"objective__enjeu__contract": contract}
    item = model.objects.filter(pk=pk, **scope).first()
    if item is None:
        raise Http404("Aucun élément de ce plan ne porte ce numéro.")
    return item


def _outline_url(contract):
    return reverse("www:plan", args=[contract.slug])


@login_required
@require_http_methods(["GET"])
def outline(request, slug):
    contract = _pilot_contract(request, slug)
    actions = Action.objects.prefetch_related("qpvs").select_related("pilot_partner")
    objectives = Objective.objects.prefetch_related(Prefetch("actions", queryset=actions))
    enjeux = list(
        Enjeu.objects.for_contract(contract)
        .order_by("number")
        .prefetch_related(Prefetch("objectives", queryset=objectives.order_by("number")))
    )
    for enjeu in enjeux:
        for objective in enjeu.objectives.all():
            objective.enjeu = enjeu
            objective.ordered = sorted(objective.actions.all(), key=lambda a: services._code_number(a.code))
    return render(request, "plan/outline.html", {"contract": contract, "enjeux": enjeux})


def _form_page(request, contract, form, title, save):
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Le plan d'action est enregistré.")
            return redirect("www:plan", slug=contract.slug)
    if request.method == "POST":
        status = 422
    return render(
        request, "plan/form.html", {"contract": contract, "form": form, "title": title}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def enjeu_form(request, slug, pk=None):
    contract = _pilot_contract(request, slug)
    enjeu = None
    if pk is not None:
        enjeu = Enjeu.objects.for_contract(contract).filter(pk=pk).first()
        if enjeu is None:
            raise Http404("Aucun enjeu de ce contrat ne porte ce numéro.")
    initial = {k: getattr(enjeu, k) for k in EnjeuForm.base_fields} if enjeu else None
    form = EnjeuForm(request.POST or None, initial=initial)

    def save(data):
        if enjeu:
            services.update_enjeu(enjeu=enjeu, **data)
        else:
            services.create_enjeu(contract=contract, **data)

    return _form_page(
        request, contract, form, f"Modifier l'enjeu {enjeu}" if enjeu else "Ajouter un enjeu", save
    )


@login_required
@require_http_methods(["GET", "POST"])
def objective_form(request, slug, enjeu_pk=None, pk=None):
    contract = _pilot_contract(request, slug)
    objective = _item(contract, "objectif", pk) if pk is not None else None
    enjeu = objective.enjeu if objective else Enjeu.objects.for_contract(contract).filter(pk=enjeu_pk).first()
    if enjeu is None:
        raise Http404("Aucun enjeu de ce contrat ne porte ce numéro.")
    initial = {k: getattr(objective, k) for k in ObjectiveForm.base_fields} if objective else None
    form = ObjectiveForm(request.POST or None, initial=initial)

    def save(data):
        if objective:
            services.update_objective(objective=objective, **data)
        else:
            services.create_objective(enjeu=enjeu, **data)

    title = f"Modifier l'objectif {objective.code}" if objective else f"Ajouter un objectif à l'enjeu {enjeu}"
    return _form_page(request, contract, form, title, save)


@login_required
@require_http_methods(["GET", "POST"])
def action_form(request, slug, objective_pk=None, pk=None):
    contract = _pilot_contract(request, slug)
    action = _item(contract, "action", pk) if pk is not None else None
    objective = action.objective if action else _item(contract, "objectif", objective_pk)
    initial = None
    if action:
        initial = {
            k: getattr(action, k)
            for k in ActionForm.base_fields
            if k not in {"all_qpvs", "qpvs", "contributors"}
        }
        initial["all_qpvs"] = action.scope == "METROPOLE"
        initial["qpvs"] = list(action.qpvs.all())
        initial["contributors"] = list(action.contributors.all())
    form = ActionForm(request.POST or None, initial=initial, contract=contract)

    def save(data):
        if action:
            services.update_action(action=action, **data)
        else:
            services.create_action(objective=objective, **data)

    title = f"Modifier l'action {action.code}" if action else f"Ajouter une action à l'objectif {objective}"
    return _form_page(request, contract, form, title, save)


@login_required
@require_POST
def move(request, slug, kind, pk, direction):
    contract = _pilot_contract(request, slug)
    item = _item(contract, kind, pk)
    step = -1 if direction == "monter" else 1
    if kind == "objectif":
        services.move_objective(objective=item, direction=step)
    else:
        services.move_action(action=item, direction=step)
    return redirect(_outline_url(contract) + f"#{kind}-{item.pk}")


@login_required
@require_POST
def archive(request, slug, kind, pk):
    contract = _pilot_contract(request, slug)
    item = _item(contract, kind, pk)
    services.archive(item=item)
    messages.success(request, f"« {item} » est archivé : il n'apparaît plus sur les pages publiques.")
    return redirect(_outline_url(contract))


@login_required
@require_POST
def restore(request, slug, kind, pk):
    contract = _pilot_contract(request, slug)
    item = _item(contract, kind, pk)
    services.restore(item=item)
    messages.success(request, f"« {item} » est restauré.")
    return redirect(_outline_url(contract))


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, slug, kind, pk):
    contract = _pilot_contract(request, slug)
    item = _item(contract, kind, pk)
    error = None
    if request.method == "POST":
        error = confirmed_act(
            request,
            lambda: services.delete(item=item),
            unchecked="Cochez « Je confirme » pour supprimer.",
            done=f"« {item} » est supprimé.",
        )
        if error is None:
            return redirect(_outline_url(contract))
    return render(
        request,
        "plan/delete.html",
        {"contract": contract, "item": item, "references": services.references(item), "error": error},
        status=422 if error else 200,
    )


@login_required
@require_http_methods(["GET"])
def history(request, slug, kind, pk):
    contract = _pilot_contract(request, slug)
    item = _item(contract, kind, pk)
    records = list(item.history.select_related("history_user").order_by("-history_date")[:50])
    related = {
        "qpvs": Related("territory", Territory.objects.only("name")),
        "contributors": Related("partner", Partner.objects.only("name")),
        "pilot_partner": Related(None, Partner.objects.only("name")),
    }
    rows = history_in_words(records, model=type(item), related=related, date_format="%d/%m/%Y")
    return render(request, "plan/history.html", {"contract": contract, "item": item, "history": rows})


@login_required
@require_http_methods(["GET"])
def export(request, slug):
    from cdv.plan.spreadsheet import export_plan_xlsx  # openpyxl chargé au premier classeur

    contract = _pilot_contract(request, slug)
    response = HttpResponse(
        export_plan_xlsx(contract=contract),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="plan-{contract.slug}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request, slug):
    from cdv.plan.spreadsheet import import_plan_xlsx  # openpyxl chargé au premier classeur

    contract = _pilot_contract(request, slug)
    errors, report, status = [], None, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = ["Choisissez le fichier XLSX du plan à importer."]
        else:
            try:
                report = import_plan_xlsx(
                    contract=contract,
                    fileobj=upload,
                    filename=upload.name,
                    dry_run=request.POST.get("confirm") != "oui",
                )
            except ValidationError as error:
                errors = error.messages
        if errors:
            status = 422
        elif request.POST.get("confirm") == "oui":
            messages.success(request, f"Import terminé : {report.summary}")
            return redirect("www:plan", slug=contract.slug)
    return render(
        request,
        "plan/import.html",
        {"contract": contract, "errors": errors, "report": report},
        status=status,
    )
