"""Instances (COPIL, comités techniques, instances de quartier) et décisions à suivre.

Les droits et les écritures vivent dans ``cdv.monitoring.meetings`` ; ces vues cherchent toujours l'objet
dans le contrat de l'URL (invisible → 404, interdit → 403).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.commitments.models import Commitment
from cdv.contracts.abilities import contract_abilities
from cdv.core.pagecache import public_page
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Decision, Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action

from ..forms.meetings import DecisionForm, MeetingForm
from .helpers import add_service_errors, get_contract, get_in_contract, require


def _get_meeting(request, contract, pk, ability="view"):
    return get_in_contract(
        request,
        Meeting.objects.for_contract(contract).select_related("qpv"),
        pk,
        mt.meeting_abilities,
        ability,
        missing="Aucune instance de ce contrat ne porte ce numéro.",
        forbidden="Seul un pilote du contrat modifie ses instances et ses décisions.",
    )


def _get_decision(request, contract, pk, ability="view"):
    return get_in_contract(
        request,
        Decision.objects.for_contract(contract).select_related("meeting"),
        pk,
        mt.decision_abilities,
        ability,
        missing="Aucune décision de ce contrat ne porte ce numéro.",
        forbidden="Seul un pilote du contrat modifie une décision et son suivi.",
    )


def _decision_links(user, contract):
    """Actions et engagements liés aux décisions : les engagements que la personne peut lire."""
    commitments = Commitment.objects.only("pk", "title", "status", "contract_id").visible_to(user, contract)
    return [
        Prefetch("actions", queryset=Action.objects.only("code", "title").order_by("code")),
        Prefetch("commitments", queryset=commitments),
    ]


@public_page
@require_http_methods(["GET"])
def meeting_list(request, slug):
    contract = get_contract(request, slug)
    user = request.user
    meetings = list(
        Meeting.objects.visible_to(user, contract)
        .select_related("qpv")
        .annotate(
            decision_count=Count("decisions", distinct=True),
        )
        .order_by("-date", "-id")
    )
    return render(
        request,
        "participation/meeting_list.html",
        {
            "contract": contract,
            "meetings": meetings,
            "can_manage": mt.can_manage_meetings(user, contract),
            "is_member": contract_abilities(user, contract)["view_internals"],
        },
    )


@public_page
@require_http_methods(["GET"])
def meeting_detail(request, slug, pk):
    contract = get_contract(request, slug)
    meeting, rights = _get_meeting(request, contract, pk)
    today = timezone.localdate()
    decisions = list(
        meeting.decisions.all()
        .select_related("owner")
        .prefetch_related(*_decision_links(request.user, contract))
        .order_by("id")
    )
    for d in decisions:
        d.late = mt.is_late(d, today)
    return render(
        request,
        "participation/meeting_detail.html",
        {
            "contract": contract,
            "meeting": meeting,
            "rights": rights,
            "participants": meeting.participants.only("name").order_by("name"),
            "decisions": decisions,
            "today": today,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request, slug):
    contract = get_contract(request, slug)
    require(mt.can_manage_meetings(request.user, contract), "Seul un pilote du contrat crée une instance.")
    form = MeetingForm(request.POST or None, contract=contract, initial={"kind": MeetingKind.COPIL})
    if request.method == "POST" and form.is_valid():
        try:
            meeting = mt.create_meeting(
                user=request.user,
                contract=contract,
                data=form.data_fields(),
                participants=form.cleaned_data["participants"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Instance enregistrée.")
            return redirect("www:meeting", slug=contract.slug, pk=meeting.pk)
    return render(
        request, "participation/meeting_form.html", {"contract": contract, "form": form, "meeting": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, slug, pk):
    contract = get_contract(request, slug)
    meeting, _ = _get_meeting(request, contract, pk, ability="edit")
    if request.method == "POST":
        form = MeetingForm(request.POST, contract=contract)
        if form.is_valid():
            try:
                mt.update_meeting(
                    user=request.user,
                    meeting=meeting,
                    data=form.data_fields(),
                    participants=form.cleaned_data["participants"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Instance modifiée.")
                return redirect("www:meeting", slug=contract.slug, pk=meeting.pk)
    else:
        form = MeetingForm(initial=MeetingForm.initial_for(meeting), contract=contract)
    return render(
        request, "participation/meeting_form.html", {"contract": contract, "form": form, "meeting": meeting}
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_create(request, slug, pk):
    contract = get_contract(request, slug)
    meeting, _ = _get_meeting(request, contract, pk, ability="add_decision")
    form = DecisionForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            mt.create_decision(
                user=request.user,
                meeting=meeting,
                data=form.data_fields(),
                actions=form.cleaned_data["actions"],
                commitments=form.cleaned_data["commitments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Décision enregistrée.")
            return redirect("www:meeting", slug=contract.slug, pk=meeting.pk)
    return render(
        request,
        "participation/decision_form.html",
        {"contract": contract, "form": form, "meeting": meeting, "decision": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_edit(request, slug, pk):
    contract = get_contract(request, slug)
    decision, _ = _get_decision(request, contract, pk, ability="edit")
    if request.method == "POST":
        form = DecisionForm(request.POST, contract=contract)
        if form.is_valid():
            try:
                mt.update_decision(
                    user=request.user,
                    decision=decision,
                    data=form.data_fields(),
                    actions=form.cleaned_data["actions"],
                    commitments=form.cleaned_data["commitments"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Décision et suivi enregistrés.")
                return redirect("www:meeting", slug=contract.slug, pk=decision.meeting_id)
    else:
        form = DecisionForm(initial=DecisionForm.initial_for(decision), contract=contract)
    return render(
        request,
        "participation/decision_form.html",
        {"contract": contract, "form": form, "meeting": decision.meeting, "decision": decision},
    )


@public_page
@require_http_methods(["GET"])
def decisions_to_follow(request, slug):
    """Décisions ouvertes jusqu'à leur clôture : porteur, échéance, retard dit en toutes lettres."""
    contract = get_contract(request, slug)
    user = request.user
    today = timezone.localdate()
    decisions = mt.decisions_to_follow(user, contract)
    owners = list(
        Partner.objects.filter(pk__in=decisions.exclude(owner=None).values("owner")).only("name", "slug")
    )
    owner_filter = request.GET.get("porteur", "")
    chosen = next((p for p in owners if p.slug == owner_filter), None)
    if chosen:
        decisions = decisions.filter(owner=chosen)
    decisions = list(decisions[:500])
    for d in decisions:
        d.late = mt.is_late(d, today)
    return render(
        request,
        "participation/decisions.html",
        {
            "contract": contract,
            "decisions": decisions,
            "late_count": sum(1 for d in decisions if d.late),
            "owners": owners,
            "owner_filter": chosen.slug if chosen else "",
            "can_manage": mt.can_manage_meetings(user, contract),
            "is_member": contract_abilities(user, contract)["view_internals"],
            "today": today,
        },
    )
