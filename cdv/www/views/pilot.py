"""Vues du pilote : tableau des engagements, file de validation, invitations."""

from collections import Counter, defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods

from cdv.commitments import services as commitment_services
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.contracts import services as contract_services
from cdv.contracts.abilities import contract_abilities
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu
from cdv.users import services as user_services
from cdv.users.models import Invitation

from ..forms.accounts import InvitationForm
from ..forms.pilot import AddPartnerForm, NewPartnerForm
from .helpers import get_contract, require

NOT_CONFIRMED = {S.DRAFT, S.PROPOSED, S.RETURNED, S.VALIDATED}


BULK_DONE = {"valider": ("validate", "validé"), "renvoyer": ("return", "renvoyé")}


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request, slug):
    contract = get_contract(request, slug)
    rights = contract_abilities(request.user, contract)
    require(
        rights["steer"],
        "Le tableau de pilotage et la file de validation sont réservés aux pilotes et aux évaluateurs.",
    )
    bulk = {"errors": [], "selected": set(), "comment": ""}
    if request.method == "POST":
        require(
            rights["review_commitments"],
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
            "rights": rights,
            "total": len(commitments),
            "bulk": bulk,
        },
        status=422 if bulk["errors"] else 200,
    )


SEARCH_LIMIT = 20


def _partner_action(request, contract):
    """Ajout d'un partenaire au contrat (existant ou nouveau) ; (formulaire en erreur ou None, réponse)."""
    action = request.POST.get("action")
    form = (
        AddPartnerForm(request.POST, contract=contract, prefix="ajout")
        if action == "add_partner"
        else NewPartnerForm(request.POST, prefix="nouveau")
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "add_partner":
                partner = data["partner"]
                contract_services.add_partner_to_contract(
                    user=request.user, contract=contract, partner=partner, kind=data["kind"]
                )
            else:
                partner = contract_services.create_partner_in_contract(
                    user=request.user,
                    contract=contract,
                    name=data["name"],
                    kind=data["kind"],
                    siret=data["siret"],
                    place=data["place"],
                )
        except ValidationError as error:
            for field, errs in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(
                request,
                f"« {partner.name} » prend désormais part au contrat : vous pouvez inviter des personnes "
                "en son nom.",
            )
            return form, redirect("www:invitations", slug=contract.slug)
    return form, None


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request, slug):
    contract = get_contract(request, slug)
    require(
        contract_abilities(request.user, contract)["invite"],
        "Seul un pilote du contrat invite des personnes.",
    )
    add_form = new_form = None
    if request.method == "POST" and request.POST.get("action") in {"add_partner", "create_partner"}:
        failed, response = _partner_action(request, contract)
        if response is not None:
            return response
        if isinstance(failed, AddPartnerForm):
            add_form = failed
        else:
            new_form = failed
    # Seuls les partenaires qui prennent part au contrat : jamais toute l'instance.
    taking_part = Partner.objects.taking_part_in(contract)
    partners = taking_part.order_by("name")
    bound = request.method == "POST" and add_form is None and new_form is None
    form = InvitationForm(request.POST if bound else None, partners=partners)
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()[:100]
    found = []
    if query:
        found = list(
            Partner.objects.search(query)
            .exclude(pk__in=taking_part.values("pk"))
            .order_by("name")[:SEARCH_LIMIT]
        )
    context = {
        "contract": contract,
        "form": form,
        "query": query,
        "found": found,
        "search_limit": SEARCH_LIMIT,
        "add_form": add_form or AddPartnerForm(contract=contract, prefix="ajout"),
        "new_form": new_form or NewPartnerForm(prefix="nouveau", initial={"name": query}),
    }
    if add_form is not None or new_form is not None:
        context["sent"] = Invitation.objects.filter(contract=contract).select_related("partner")[:100]
        return render(request, "pilot/invitations.html", context, status=422)
    if bound and form.is_valid():
        try:
            user_services.invite(
                inviter=request.user,
                contract=contract,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                partner=form.cleaned_data["partner"],
                request=request,
            )
        except ValidationError as error:
            for field, errs in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, f"Invitation envoyée à {form.cleaned_data['email']}.")
            return redirect("www:invitations", slug=contract.slug)
    context["sent"] = Invitation.objects.filter(contract=contract).select_related("partner")[:100]
    return render(request, "pilot/invitations.html", context)
