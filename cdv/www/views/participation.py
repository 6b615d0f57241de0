"""Retours d'expérience (dépôt, « mes retours », modération, liste publique), instances (COPIL,
comités techniques, instances de quartier) et décisions à suivre.

Les droits et les écritures vivent dans ``cdv.monitoring.feedback`` et ``cdv.monitoring.meetings`` ;
ces vues cherchent toujours l'objet dans le contrat de l'URL (invisible → 404, interdit → 403).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cdv.commitments.abilities import PUBLIC_STATUSES, can_read_contract_internals, visible_commitments
from cdv.commitments.models import Commitment
from cdv.core.pagecache import public_page
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu
from cdv.territories.models import Territory

from .helpers import add_service_errors, get_contract, require

PAGE_SIZE = 30
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- Formulaires -------------------------------------------------------------------------------


def _add_errors(form, error):
    add_service_errors(form, error)


def _qpvs_of(contract):
    return contract.qpvs.only("code", "name", "kind").order_by("name")


def _commitments_of(contract, user):
    """Les engagements qu'on peut lier à un retour : ceux que la personne peut lire."""
    return (
        visible_commitments(user, Commitment.objects.all(), contract)
        .select_related("partner")
        .order_by("partner__name", "id")
    )


class FeedbackForm(forms.Form):
    partner = forms.ModelChoiceField(
        label="Au nom de",
        queryset=Partner.objects.none(),
        required=False,
        help_text="Le public voit l'organisation, jamais votre nom.",
    )
    kind = forms.ChoiceField(label="Nature du retour", choices=FeedbackKind.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label="Votre retour",
        max_length=fb.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": fb.TEXT_MAX}),
        help_text=f"{fb.TEXT_MAX} caractères au plus. Ne citez personne : le retour sera lu par le public.",
    )
    qpvs = forms.ModelMultipleChoiceField(
        label="Quartiers concernés (facultatif)",
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    enjeu = forms.ModelChoiceField(label="Enjeu (facultatif)", queryset=Enjeu.objects.none(), required=False)
    actions = forms.ModelMultipleChoiceField(
        label="Actions concernées (facultatif)",
        queryset=Action.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    commitments = forms.ModelMultipleChoiceField(
        label="Engagements concernés (facultatif)",
        queryset=Commitment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    indicators = forms.ModelMultipleChoiceField(
        label="Indicateurs concernés (facultatif)",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, contract, user, partners=None, pilot=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qpvs"].queryset = _qpvs_of(contract)
        self.fields["enjeu"].queryset = Enjeu.objects.filter(contract=contract)
        self.fields["actions"].queryset = Action.objects.for_contract(contract).order_by("code")
        self.fields["commitments"].queryset = _commitments_of(contract, user)
        self.fields["indicators"].queryset = contract.indicators.order_by("name")
        self.only_partner = None
        if partners is None:  # modification : le partenaire ne change pas
            del self.fields["partner"]
        elif len(partners) == 1 and not pilot:
            self.only_partner = partners[0]
            del self.fields["partner"]
        elif not partners:
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = Partner.objects.filter(pk__in=[p.pk for p in partners])
            self.fields["partner"].required = not pilot
            self.fields["partner"].empty_label = "— le pilotage du contrat —" if pilot else "— choisir —"

    def links(self) -> dict:
        data = self.cleaned_data
        return {
            "qpvs": data["qpvs"],
            "enjeu": data["enjeu"],
            "actions": data["actions"],
            "commitments": data["commitments"],
            "indicators": data["indicators"],
        }

    @staticmethod
    def initial_for(feedback) -> dict:
        return {
            "kind": feedback.kind,
            "text": feedback.text,
            "qpvs": list(feedback.qpvs.all()),
            "enjeu": feedback.enjeu_id,
            "actions": list(feedback.actions.all()),
            "commitments": list(feedback.commitments.all()),
            "indicators": list(feedback.indicators.all()),
        }


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label="Instance", choices=MeetingKind.choices)
    title = forms.CharField(label="Intitulé", max_length=200)
    date = forms.DateField(label="Date", widget=DATE_WIDGET)
    qpv = forms.ModelChoiceField(
        label="Quartier (instance de quartier seulement)",
        queryset=Territory.objects.none(),
        required=False,
    )
    participants = forms.ModelMultipleChoiceField(
        label="Partenaires présents",
        queryset=Partner.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agenda = forms.CharField(label="Ordre du jour", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    minutes = forms.CharField(
        label="Compte rendu",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "Le compte rendu d'un COPIL est public ; celui des autres instances est réservé aux membres."
        ),
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qpv"].queryset = _qpvs_of(contract)
        self.fields["participants"].queryset = mt.contract_partners(contract).only("name")

    def data_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in mt.MEETING_FIELDS}

    @staticmethod
    def initial_for(meeting) -> dict:
        return {
            "kind": meeting.kind,
            "title": meeting.title,
            "date": meeting.date,
            "qpv": meeting.qpv_id,
            "participants": list(meeting.participants.all()),
            "agenda": meeting.agenda,
            "minutes": meeting.minutes,
        }


class DecisionForm(forms.Form):
    text = forms.CharField(label="Décision", widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(label="Porteur", queryset=Partner.objects.none(), required=False)
    due_on = forms.DateField(label="Échéance", required=False, widget=DATE_WIDGET)
    status = forms.ChoiceField(label="Suivi", choices=DecisionStatus.choices, initial=DecisionStatus.OPEN)
    follow_up = forms.CharField(
        label="Où en est-on ?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Obligatoire pour abandonner une décision. Faite ou abandonnée, elle sort des décisions à suivre."
        ),
    )
    actions = forms.ModelMultipleChoiceField(
        label="Actions liées",
        queryset=Action.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    commitments = forms.ModelMultipleChoiceField(
        label="Engagements liés",
        queryset=Commitment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = mt.contract_partners(contract).only("name")
        self.fields["actions"].queryset = Action.objects.for_contract(contract).order_by("code")
        # Le formulaire d'une décision est celui du pilote, qui lit tous les engagements du contrat.
        self.fields["commitments"].queryset = (
            Commitment.objects.filter(contract=contract)
            .select_related("partner")
            .order_by("partner__name", "id")
        )

    def data_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in mt.DECISION_FIELDS}

    @staticmethod
    def initial_for(decision) -> dict:
        return {
            "text": decision.text,
            "owner": decision.owner_id,
            "due_on": decision.due_on,
            "status": decision.status,
            "follow_up": decision.follow_up,
            "actions": list(decision.actions.all()),
            "commitments": list(decision.commitments.all()),
        }


# --- Lecture des objets d'une URL --------------------------------------------------------------


def _get_feedback(request, contract, pk, ability="view"):
    feedback = Feedback.objects.filter(contract=contract, pk=pk).select_related("partner").first()
    if feedback is None:
        raise Http404("Aucun retour de ce contrat ne porte ce numéro.")
    rights = fb.feedback_abilities(request.user, feedback)
    if not rights["view"]:
        raise Http404("Aucun retour de ce contrat ne porte ce numéro.")
    require(rights[ability], "Vous n'avez pas le droit de faire cela sur ce retour.")
    return feedback, rights


def _get_meeting(request, contract, pk, ability="view"):
    meeting = Meeting.objects.filter(contract=contract, pk=pk).select_related("qpv").first()
    if meeting is None:
        raise Http404("Aucune instance de ce contrat ne porte ce numéro.")
    rights = mt.meeting_abilities(request.user, meeting)
    if not rights["view"]:
        raise Http404("Aucune instance de ce contrat ne porte ce numéro.")
    require(rights[ability], "Seul un pilote du contrat modifie ses instances et ses décisions.")
    return meeting, rights


def _get_decision(request, contract, pk, ability="view"):
    decision = Decision.objects.filter(meeting__contract=contract, pk=pk).select_related("meeting").first()
    if decision is None:
        raise Http404("Aucune décision de ce contrat ne porte ce numéro.")
    rights = mt.decision_abilities(request.user, decision)
    if not rights["view"]:
        raise Http404("Aucune décision de ce contrat ne porte ce numéro.")
    require(rights[ability], "Seul un pilote du contrat modifie une décision et son suivi.")
    return decision, rights


def _public_commitments():
    return Prefetch(
        "commitments",
        queryset=Commitment.objects.filter(status__in=PUBLIC_STATUSES).only("pk", "title", "contract_id"),
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


# --- Retours d'expérience ----------------------------------------------------------------------


@public_page
@require_http_methods(["GET"])
def feedback_list(request, slug):
    """Les retours publiés du contrat, pour tous ; filtres par quartier et par enjeu."""
    contract = get_contract(request, slug)
    qpvs = list(_qpvs_of(contract))
    enjeux = list(Enjeu.objects.filter(contract=contract))
    queryset = fb.published_feedback(_feedback_queryset(), contract)
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
            "pending_count": Feedback.objects.filter(contract=contract, moderation=Moderation.PENDING).count()
            if pilot
            else None,
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
            _add_errors(form, error)
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
                _add_errors(form, error)
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
    queryset = _feedback_queryset(public=False).filter(contract=contract, author=request.user)
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
        .filter(contract=contract, moderation=Moderation.PENDING)
        .select_related("author")
        .order_by("created_at", "id")[:100]
    )
    published = list(
        _feedback_queryset(public=False)
        .filter(contract=contract, moderation=Moderation.PUBLISHED)
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
            "pending_total": Feedback.objects.filter(
                contract=contract, moderation=Moderation.PENDING
            ).count(),
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


# --- Instances et décisions --------------------------------------------------------------------


def _decision_links(user, contract):
    """Actions et engagements liés aux décisions : les engagements que la personne peut lire."""
    commitments = visible_commitments(
        user, Commitment.objects.only("pk", "title", "status", "contract_id"), contract
    )
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
        mt.visible_meetings(user, Meeting.objects.all(), contract)
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
            "is_member": can_read_contract_internals(user, contract),
        },
    )


@public_page
@require_http_methods(["GET"])
def meeting_detail(request, slug, pk):
    contract = get_contract(request, slug)
    meeting, rights = _get_meeting(request, contract, pk)
    today = timezone.localdate()
    decisions = list(
        Decision.objects.filter(meeting=meeting)
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
            _add_errors(form, error)
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
                _add_errors(form, error)
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
            _add_errors(form, error)
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
                _add_errors(form, error)
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
            "is_member": can_read_contract_internals(user, contract),
            "today": today,
        },
    )
