"""Appel à projets : les dossiers côté association (espace AAP, identité, pièces, dossier en
étapes, budget CERFA, dépôt, retrait, réponse aux compléments, récépissé PDF).

Les vues orchestrent : droits dans ``cdv.grants.abilities``, écritures dans
``cdv.grants.services.applications``. Le dossier d'une autre association donne 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.grants.abilities import application_abilities, call_abilities, partner_space_abilities
from cdv.grants.blocking import blocking_message, missing_reports
from cdv.grants.errors import ConflictError
from cdv.grants.followup import follow_up_of
from cdv.grants.models import (
    Application,
    ApplicationEvent,
    Call,
    CallFunder,
    FunderLine,
    InfoRequest,
    PartnerDocument,
)
from cdv.grants.receipts import build_receipt_pdf, receipt_filename
from cdv.grants.selectors_instruction import qpvs_lookup
from cdv.grants.services import applications as services
from cdv.partners.models import Partner

from ..forms.grants_applications import (
    AnswerForm,
    AttachForm,
    BudgetForm,
    CreateForm,
    IdentityForm,
    ProjectForm,
    SubmitForm,
    UploadForm,
)
from .helpers import add_service_errors, get_contract, get_in_contract, require

# ---------------------------------------------------------------------------------------------
# Résolution sûre


def _own_partner(request, contract, partner_slug):
    """L'association dont la personne est référente dans ce contrat ; sinon 404."""
    partner = get_object_or_404(Partner, slug=partner_slug)
    if not partner_space_abilities(request.user, contract.pk, partner)["view"]:
        raise Http404("Aucune association dont vous êtes référent ne porte cet identifiant.")
    return partner


def _application_queryset(contract, year):
    return (
        Application.objects.filter(call__contract=contract, call__year=year)
        .select_related("call__contract", "partner", "enjeu", "objective", "action", "submitted_by")
        .prefetch_related(
            Prefetch("funder_lines", FunderLine.objects.select_related("funder__partner")),
            qpvs_lookup(),
        )
    )


def _get_application(request, slug, year, pk, ability="view"):
    contract = get_contract(request, slug)
    application, rights = get_in_contract(
        request,
        _application_queryset(contract, year),
        pk,
        application_abilities,
        ability,
        missing="Aucun dossier visible de cet appel ne porte ce numéro.",
        forbidden="Vous ne pouvez pas faire cela sur ce dossier.",
        then_prefetch=["budget_lines"],  # les droits ne lisent pas le budget
    )
    return contract, application, rights


def _ctx(contract, application, rights, **extra):
    context = {
        "contract": contract,
        "call": application.call,
        "application": application,
        "rights": rights,
        "totals": services.budget_totals(application),
    }
    context.update(extra)
    return context


def _show_conflict(form, error: ConflictError) -> None:
    """Le formulaire garde la saisie, liste chaque champ en conflit et prend la version
    enregistrée : renvoyé tel quel, il enregistre la saisie (rien n'est perdu)."""
    form.data = form.data.copy()
    form.data["version"] = error.obj.version
    form.add_error(None, _conflict_message(error))


def _conflict_message(error: ConflictError) -> list[str]:
    return [str(error)] + [
        f"{label} : enregistré « {theirs} », votre saisie « {mine} »"
        for _, label, theirs, mine in error.changes
    ]


# ---------------------------------------------------------------------------------------------
# L'espace AAP de l'association


def partner_applications(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = _own_partner(request, contract, partner_slug)
    today = timezone.localdate()
    calls = list(Call.objects.for_contract(contract).published().order_by("-year"))
    open_calls = [c for c in calls if c.is_open_on(today)]
    for call in open_calls:  # un compte-rendu manquant bloque le dépôt (cdv/grants/blocking.py)
        missing = missing_reports(partner, call, today=today)
        call.report_block = blocking_message(missing) if missing else ""
    applications = list(
        Application.objects.for_contract(contract)
        .of_partner(partner)
        .select_related("call")
        .prefetch_related(Prefetch("funder_lines", FunderLine.objects.select_related("funder__partner")))
        .order_by("-call__year", "status", "-updated_at")
    )
    drafts = [a for a in applications if a.is_draft]
    others = [a for a in applications if not a.is_draft]
    renewable = [a for a in applications if a.is_submitted]
    return render(
        request,
        "grants/applications/partner_applications.html",
        {
            "contract": contract,
            "partner": partner,
            "open_calls": open_calls,
            "drafts": drafts,
            "others": others,
            "renewable": renewable,
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
def partner_identity(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = _own_partner(request, contract, partner_slug)
    form = IdentityForm(request.POST or None, instance=Partner.objects.get(pk=partner.pk))
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data.get(f) for f in services.IDENTITY_FIELDS}
        try:
            services.update_partner_identity(
                user=request.user, contract_id=contract.pk, partner=partner, data=data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "L'identité de l'association est enregistrée.")
            return redirect("www:partner_identity", contract.slug, partner.slug)
    return render(
        request,
        "grants/applications/partner_identity.html",
        {"contract": contract, "partner": partner, "form": form},
    )


@require_http_methods(["GET", "POST"])
def partner_documents(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = _own_partner(request, contract, partner_slug)
    call = Call.objects.for_contract(contract).order_by("-year").first()
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and request.POST.get("delete"):
        document = get_object_or_404(PartnerDocument, partner=partner, pk=request.POST["delete"])
        try:
            services.delete_document(user=request.user, call=call, document=document)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, "La pièce est retirée.")
        return redirect("www:partner_documents", contract.slug, partner.slug)
    if request.method == "POST" and form.is_valid():
        require(call is not None, "Aucun appel à projets dans ce contrat.")
        try:
            services.upload_document(
                user=request.user,
                call=call,
                partner=partner,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "La pièce est ajoutée : elle servira à tous vos dossiers.")
            return (
                redirect(request.GET.get("retour") or request.path)
                if _safe(request)
                else redirect(request.path)
            )
    documents = PartnerDocument.objects.of_partner(partner).order_by("kind", "-uploaded_at")
    return render(
        request,
        "grants/applications/partner_documents.html",
        {"contract": contract, "partner": partner, "form": form, "documents": documents},
    )


def _safe(request) -> bool:
    target = request.GET.get("retour") or ""
    return target.startswith("/") and not target.startswith("//")


# ---------------------------------------------------------------------------------------------
# Le dossier


@require_http_methods(["GET", "POST"])
def application_create(request, slug, year, partner_slug):
    contract = get_contract(request, slug)
    partner = _own_partner(request, contract, partner_slug)
    call = get_object_or_404(Call.objects.for_contract(contract).select_related("contract"), year=year)
    if not call_abilities(request.user, call)["apply"]:
        messages.error(
            request, "Le dépôt n'est pas ouvert sur cet appel : aucun dossier ne peut y être créé."
        )
        return redirect("www:partner_applications", contract.slug, partner.slug)
    previous = (
        Application.objects.for_contract(contract)
        .of_partner(partner)
        .exclude(call=call)
        .renewable()
        .select_related("call")
        .order_by("-call__year", "number")
    )
    initial = {}
    if request.GET.get("reprendre", "").isdigit():
        initial["renewal_of"] = int(request.GET["reprendre"])
    form = CreateForm(request.POST or None, previous=previous, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.create_application(
                user=request.user,
                call=call,
                partner=partner,
                renewal_of=form.cleaned_data["renewal_of"],
                title=form.cleaned_data["title"] or "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, "Le brouillon est créé : il n'est pas déposé tant que vous ne le déposez pas."
            )
            return redirect("www:application_project", contract.slug, call.year, application.pk)
    return render(
        request,
        "grants/applications/create.html",
        {"contract": contract, "partner": partner, "call": call, "form": form},
    )


def application_detail(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk)
    events = (
        ApplicationEvent.objects.filter(application=application).select_related("actor", "funder__partner")
        if rights["view_history"]
        else []
    )
    info_requests = InfoRequest.objects.filter(application=application).select_related("funder__partner")
    return render(
        request,
        "grants/applications/detail.html",
        _ctx(
            contract,
            application,
            rights,
            events=events,
            info_requests=info_requests,
            documents=application.documents.all(),
            missing=services.checklist(application) if rights["edit"] else [],
            owner=rights["own"],
            follow_up=follow_up_of(request.user, application) if application.call.committee_held_at else None,
        ),
    )


@require_http_methods(["GET", "POST"])
def application_project(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk, "edit")
    form = ProjectForm(
        request.POST or None, call=application.call, initial=ProjectForm.initial_of(application)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(
                user=request.user,
                application=application,
                version=form.cleaned_data.get("version"),
                data=form.project_data(),
                qpvs=list(form.cleaned_data["qpvs"]),
            )
        except ConflictError as error:
            _show_conflict(form, error)
        except ValidationError as error:
            add_service_errors(form, error, {"summary": "summary_plain"})
        else:
            messages.success(request, "Le projet est enregistré (brouillon, non déposé).")
            return redirect("www:application_project", contract.slug, year, application.pk)
    return render(request, "grants/applications/project.html", _ctx(contract, application, rights, form=form))


@require_http_methods(["GET", "POST"])
def application_budget(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk, "edit")
    funders = CallFunder.objects.filter(call=application.call).select_related("partner")
    form = BudgetForm(
        request.POST or None,
        funders=funders,
        years=application.years,
        initial=BudgetForm.initial_of(application),
    )
    if request.method == "POST" and (request.htmx or request.POST.get("apercu")):
        form.is_valid()
        return render(request, "grants/applications/_budget_totals.html", {"preview": form.preview_totals()})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_budget(
                user=request.user,
                application=application,
                version=form.cleaned_data.get("version"),
                lines=form.lines(),
                requests=form.requests(),
            )
        except ConflictError as error:
            _show_conflict(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Le budget est enregistré (brouillon, non déposé).")
            return redirect("www:application_budget", contract.slug, year, application.pk)
    preview = form.preview_totals() if form.is_bound else None
    return render(
        request,
        "grants/applications/budget.html",
        _ctx(contract, application, rights, form=form, preview=preview),
    )


@require_http_methods(["GET", "POST"])
def application_documents(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk, "edit")
    documents = PartnerDocument.objects.of_partner(application.partner).order_by("kind", "-uploaded_at")
    form = AttachForm(
        request.POST or None,
        documents=documents,
        initial={"version": application.version, "documents": list(application.documents.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.attach_documents(
                user=request.user,
                application=application,
                version=form.cleaned_data.get("version"),
                documents=list(form.cleaned_data["documents"]),
            )
        except ConflictError as error:
            _show_conflict(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Les pièces jointes sont enregistrées.")
            return redirect("www:application_documents", contract.slug, year, application.pk)
    required = application.call.required_documents.all()
    return render(
        request,
        "grants/applications/documents.html",
        _ctx(contract, application, rights, form=form, required=required, has_documents=documents.exists()),
    )


@require_http_methods(["GET", "POST"])
def application_submit(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk, "edit")
    missing = services.checklist(application)
    initial = {"sworn_name": application.partner.legal_representative}
    form = SubmitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_application(
                user=request.user,
                application=application,
                sworn_name=form.cleaned_data["sworn_name"],
                sworn_statement=form.cleaned_data["sworn_statement"],
                republican_contract=form.cleaned_data["republican_contract"],
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            application.refresh_from_db()
            messages.success(
                request,
                f"Votre dossier est déposé sous le numéro {application.number}. Le récépissé vous est envoyé "
                "par courriel.",
            )
            return redirect("www:application", contract.slug, year, application.pk)
    return render(
        request,
        "grants/applications/submit.html",
        _ctx(contract, application, rights, form=form, missing=missing),
    )


def _confirm_page(request, slug, year, pk, *, ability, act, template, done, redirect_to):
    contract, application, rights = _get_application(request, slug, year, pk, ability)
    error = None
    if request.method == "POST":
        if request.POST.get("confirm") != "oui":
            error = "Cochez « Je confirme » pour continuer : rien n'a été fait."
        else:
            try:
                act(application, request.POST.get("reason", "")[:500])
            except ValidationError as refusal:
                error = " ".join(refusal.messages)
            else:
                messages.success(request, done)
                return redirect_to(contract, application)
    return render(request, template, _ctx(contract, application, rights, error=error))


@require_http_methods(["GET", "POST"])
def application_withdraw(request, slug, year, pk):
    return _confirm_page(
        request,
        slug,
        year,
        pk,
        ability="withdraw",
        act=lambda a, reason: services.withdraw_application(user=request.user, application=a, reason=reason),
        template="grants/applications/withdraw.html",
        done="Le dossier est retiré : il ne sera pas instruit.",
        redirect_to=lambda c, a: redirect("www:application", c.slug, year, a.pk),
    )


@require_http_methods(["GET", "POST"])
def application_delete(request, slug, year, pk):
    return _confirm_page(
        request,
        slug,
        year,
        pk,
        ability="delete",
        act=lambda a, reason: services.delete_draft(user=request.user, application=a),
        template="grants/applications/delete.html",
        done="Le brouillon est supprimé.",
        redirect_to=lambda c, a: redirect("www:partner_applications", c.slug, a.partner.slug),
    )


@require_http_methods(["GET", "POST"])
def application_answer(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk)
    require(rights["answer"], "Aucune demande de compléments n'attend de réponse.")
    questions = InfoRequest.objects.filter(application=application, answered_at__isnull=True).select_related(
        "funder__partner"
    )
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_info_request(
                user=request.user, application=application, answer=form.cleaned_data["answer"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Votre réponse est envoyée et le dossier est de nouveau déposé.")
            return redirect("www:application", contract.slug, year, application.pk)
    return render(
        request,
        "grants/applications/answer.html",
        _ctx(contract, application, rights, form=form, questions=questions),
    )


def application_receipt(request, slug, year, pk):
    contract, application, rights = _get_application(request, slug, year, pk, "download_pdf")
    if not application.number:
        raise Http404("Un brouillon n'a pas de récépissé : il n'est pas déposé.")
    response = HttpResponse(build_receipt_pdf(application), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(application)}"'
    return response
