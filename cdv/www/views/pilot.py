"""Vues du pilote : tableau des engagements, file de validation, invitations."""

from collections import Counter, defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods

from cdv.commitments import abilities
from cdv.commitments import services as commitment_services
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu
from cdv.users import services as user_services
from cdv.users.models import Invitation

from ..forms import InvitationForm
from .helpers import get_contract, require

NOT_CONFIRMED = {S.DRAFT, S.PROPOSED, S.RETURNED, S.VALIDATED}


BULK_DONE = {"valider": ("validate", "validé"), "renvoyer": ("return", "renvoyé")}


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request, slug):
    contract = get_contract(request, slug)
    require(
        abilities.reads_all_partners(request.user, contract),
        "Le tableau de pilotage et la file de validation sont réservés aux pilotes et aux évaluateurs.",
    )
    bulk = {"errors": [], "selected": set(), "comment": ""}
    if request.method == "POST":
        require(
            abilities.is_pilot(request.user, contract),
            "Seul un pilote du contrat valide ou renvoie des engagements.",
        )
        chosen = request.POST.getlist("engagements")
        comment = request.POST.get("comment", "")
        action, done = BULK_DONE.get(request.POST.get("action", ""), ("", ""))
        try:
            changed = commitment_services.bulk_transition(
                user=request.user, contract=contract, commitment_ids=chosen, action=action, comment=comment
            )
        except ValidationError as error:
            bulk = {"errors": error.messages, "selected": set(chosen), "comment": comment}
        else:
            n = len(changed)
            messages.success(request, f"{n} engagement{pluralize(n)} {done}{pluralize(n)}.")
            return redirect(request.get_full_path())
    enjeux = list(Enjeu.objects.filter(contract=contract))
    commitments = Commitment.objects.filter(contract=contract).select_related("partner", "objective__enjeu")
    status_filter = request.GET.get("etat", "")
    partner_filter = request.GET.get("partenaire", "")
    if status_filter in S.values:
        commitments = commitments.filter(status=status_filter)
    if partner_filter:
        commitments = commitments.filter(partner__slug=partner_filter)
    commitments = list(commitments.prefetch_related("qpvs"))

    partner_matrix = defaultdict(lambda: defaultdict(Counter))
    qpv_matrix = defaultdict(lambda: defaultdict(Counter))
    partners, qpvs = {}, {}
    for c in commitments:
        enjeu_id = c.objective.enjeu_id
        partners[c.partner_id] = c.partner
        partner_matrix[c.partner_id][enjeu_id][c.status] += 1
        for q in c.qpvs.all():
            qpvs[q.pk] = q
            qpv_matrix[q.pk][enjeu_id][c.status] += 1

    def rows(matrix, objects):
        result = []
        for key, obj in sorted(objects.items(), key=lambda item: item[1].name):
            cells = []
            for enjeu in enjeux:
                counter = matrix[key][enjeu.pk]
                statuses = sorted((S(status).label, n) for status, n in counter.items())
                cells.append({"total": sum(counter.values()), "statuses": statuses})
            result.append((obj, cells))
        return result

    queue = [c for c in commitments if c.status == S.PROPOSED]
    late = sorted({c.partner for c in commitments if c.status in NOT_CONFIRMED}, key=lambda p: p.name)
    return render(
        request,
        "pilot/dashboard.html",
        {
            "contract": contract,
            "enjeux": enjeux,
            "partner_rows": rows(partner_matrix, partners),
            "qpv_rows": rows(qpv_matrix, qpvs),
            "queue": queue,
            "not_confirmed": late,
            "status_choices": S.choices,
            "status_filter": status_filter,
            "partner_filter": partner_filter,
            "all_partners": Partner.objects.filter(commitments__contract=contract)
            .distinct()
            .order_by("name"),
            "is_pilot": abilities.is_pilot(request.user, contract),
            "total": len(commitments),
            "bulk": bulk,
        },
        status=422 if bulk["errors"] else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request, slug):
    contract = get_contract(request, slug)
    require(abilities.is_pilot(request.user, contract), "Seul un pilote du contrat invite des personnes.")
    partners = Partner.objects.order_by("name")
    form = InvitationForm(request.POST or None, partners=partners)
    if request.method == "POST" and form.is_valid():
        try:
            user_services.invite(
                inviter=request.user,
                contract=contract,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                partner=form.cleaned_data["partner"],
            )
        except ValidationError as error:
            for field, errs in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, f"Invitation envoyée à {form.cleaned_data['email']}.")
            return redirect("www:invitations", slug=contract.slug)
    sent = Invitation.objects.filter(contract=contract).select_related("partner")[:100]
    return render(request, "pilot/invitations.html", {"contract": contract, "form": form, "sent": sent})
