"""Retours d'expérience : dépôt, « mes retours », modération, liste publique.

Les droits et les écritures vivent dans ``cdv.monitoring.feedback`` ; ces vues cherchent toujours l'objet
dans le contrat de l'URL (invisible → 404, interdit → 403).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cdv.commitments.models import Commitment
from cdv.core.pagecache import public_page
from cdv.monitoring import feedback as fb
from cdv.monitoring.models import Feedback
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu
from cdv.territories.models import Territory

from ..forms.feedback import FeedbackForm, contract_qpvs
from .helpers import add_service_errors, get_contract, get_in_contract, require

PAGE_SIZE = 30


def _get_feedback(request, contract, pk, ability="view"):
    return get_in_contract(
        request,
        Feedback.objects.for_contract(contract).select_related("partner"),
        pk,
        fb.feedback_abilities,
        ability,
        missing="Aucun retour de ce contrat ne porte ce numéro.",
        forbidden="Vous n'avez pas le droit de faire cela sur ce retour.",
    )


def _public_commitments():
    return Prefetch(
        "commitments",
        queryset=Commitment.objects.published().only("pk", "title", "contract_id"),
    )


def _feedback_queryset(public=True):
    return (
        Feedback.objects.select_related("partner", "enjeu")
        .prefetch_related(
            Prefetch("qpvs", queryset=Territory.objects.only("code", "name").order_by("name")),
            Prefetch("actions", queryset=Action.objects.only("code", "title").order_by("code")),
            _public_commitments()
            if public
            else Prefetch("commitments", queryset=Commitment.objects.only("title")),
            "indicators",
        )
        .order_by("-created_at", "-id")
    )


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@public_page
@require_http_methods(["GET"])
def feedback_list(request, slug):
    """Les retours publiés du contrat, pour tous ; filtres par quartier et par enjeu."""
    contract = get_contract(request, slug)
    qpvs = list(contract_qpvs(contract))
    enjeux = list(Enjeu.objects.for_contract(contract))
    queryset = _feedback_queryset().for_contract(contract).published()
    qpv_code = request.GET.get("quartier", "")
    enjeu_number = request.GET.get("enjeu", "")
    chosen_qpv = next((q for q in qpvs if q.code == qpv_code), None)
    chosen_enjeu = next((e for e in enjeux if str(e.number) == enjeu_number), None)
    if chosen_qpv:
        queryset = queryset.filter(qpvs=chosen_qpv)
    if chosen_enjeu:
        queryset = queryset.filter(enjeu=chosen_enjeu)
    page = _page(request, queryset)
    user = request.user
    pilot = fb.can_moderate(user, contract)
    return render(
        request,
        "participation/feedback_list.html",
        {
            "contract": contract,
            "page": page,
            "items": [(f, fb.public_attribution(f)) for f in page.object_list],
            "qpvs": qpvs,
            "enjeux": enjeux,
            "qpv_filter": chosen_qpv.code if chosen_qpv else "",
            "enjeu_filter": str(chosen_enjeu.number) if chosen_enjeu else "",
            "can_post": fb.can_post_feedback(user, contract),
            "pending_count": Feedback.objects.for_contract(contract).pending().count() if pilot else None,
        },
    )


def _posting_partners(user, contract):
    ids = fb.posting_partner_ids(user, contract)
    partners = {p.pk: p for p in Partner.objects.filter(pk__in=ids)}
    return [partners[pk] for pk in ids if pk in partners]


@login_required
@require_http_methods(["GET", "POST"])
def feedback_create(request, slug):
    contract = get_contract(request, slug)
    require(
        fb.can_post_feedback(request.user, contract),
        "Seuls les membres du contrat peuvent déposer un retour d'expérience.",
    )
    pilot = fb.can_moderate(request.user, contract)
    form = FeedbackForm(
        request.POST or None,
        contract=contract,
        user=request.user,
        partners=_posting_partners(request.user, contract),
        pilot=pilot,
    )
    if request.method == "POST" and form.is_valid():
        try:
            fb.post_feedback(
                user=request.user,
                contract=contract,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                partner=form.cleaned_data.get("partner") or form.only_partner,
                **form.links(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Merci ! Votre retour est enregistré ; il sera publié après relecture par le pilote."
            )
            return redirect("www:my_feedback", slug=contract.slug)
    return render(
        request,
        "participation/feedback_form.html",
        {"contract": contract, "form": form, "feedback": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def feedback_edit(request, slug, pk):
    contract = get_contract(request, slug)
    feedback, _ = _get_feedback(request, contract, pk, ability="edit")
    if request.method == "POST":
        form = FeedbackForm(request.POST, contract=contract, user=request.user)
        if form.is_valid():
            try:
                fb.update_feedback(
                    user=request.user,
                    feedback=feedback,
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                    **form.links(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Votre retour est modifié ; il attend toujours la modération.")
                return redirect("www:my_feedback", slug=contract.slug)
    else:
        form = FeedbackForm(initial=FeedbackForm.initial_for(feedback), contract=contract, user=request.user)
    return render(
        request,
        "participation/feedback_form.html",
        {"contract": contract, "form": form, "feedback": feedback},
    )


@login_required
@require_http_methods(["GET"])
def my_feedback(request, slug):
    contract = get_contract(request, slug)
    require(
        fb.can_post_feedback(request.user, contract),
        "Cette page est réservée aux membres du contrat qui déposent des retours.",
    )
    queryset = _feedback_queryset(public=False).for_contract(contract).filter(author=request.user)
    page = _page(request, queryset)
    return render(
        request,
        "participation/my_feedback.html",
        {
            "contract": contract,
            "page": page,
            "items": [(f, fb.public_attribution(f)) for f in page.object_list],
        },
    )


def _moderation_page(request, contract, errors=None, status=200, error_field="motif", drafts=None):
    pending = list(
        _feedback_queryset(public=False)
        .for_contract(contract)
        .pending()
        .select_related("author")
        .order_by("created_at", "id")[:100]
    )
    published = list(
        _feedback_queryset(public=False)
        .for_contract(contract)
        .published()
        .select_related("author", "redacted_by")
        .order_by("-moderated_at", "-id")[:20]
    )
    errors = errors or {}
    drafts = drafts or {}
    for f in pending + published:
        f.error = errors.get(f.pk, "")
        f.error_field = error_field if f.error else ""
        f.draft = drafts.get(f.pk, f.text)
    return render(
        request,
        "participation/moderation.html",
        {
            "contract": contract,
            "pending": pending,
            "published": published,
            "errors": errors,
            "error_field": error_field,
            "pending_total": Feedback.objects.for_contract(contract).pending().count(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def moderation(request, slug):
    contract = get_contract(request, slug)
    require(
        fb.can_moderate(request.user, contract), "Seul un pilote du contrat modère les retours d'expérience."
    )
    return _moderation_page(request, contract)


@login_required
@require_POST
def feedback_moderate(request, slug, pk):
    contract = get_contract(request, slug)
    require(
        fb.can_moderate(request.user, contract), "Seul un pilote du contrat modère les retours d'expérience."
    )
    feedback, _ = _get_feedback(request, contract, pk)
    decision = request.POST.get("decision", "")
    try:
        if decision == "publier":
            fb.publish_feedback(user=request.user, feedback=feedback, text=request.POST.get("text"))
            messages.success(request, "Retour publié : il est maintenant visible du public.")
        elif decision == "refuser":
            fb.reject_feedback(user=request.user, feedback=feedback, reason=request.POST.get("reason", ""))
            messages.success(request, "Retour non publié ; son auteur verra le motif.")
        else:
            messages.error(request, "Choisissez de publier ou de ne pas publier ce retour.")
    except ValidationError as error:
        text = " ".join(error.messages)
        if decision == "publier":
            draft = request.POST.get("text", feedback.text)
            return _moderation_page(
                request,
                contract,
                errors={feedback.pk: text},
                error_field="texte",
                drafts={feedback.pk: draft},
            )
        return _moderation_page(request, contract, errors={feedback.pk: text}, status=200)
    return redirect("www:moderation", slug=contract.slug)
