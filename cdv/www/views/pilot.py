"""Vues du pilote : tableau des engagements, file de validation, invitations."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods

from cdv.commitments import selectors
from cdv.commitments import services as commitment_services
from cdv.commitments.enums import CommitmentStatus as S
from cdv.contracts import services as contract_services
from cdv.contracts.abilities import contract_abilities
from cdv.partners.models import Partner
from cdv.users import services as user_services
from cdv.users.models import Invitation

from ..forms.accounts import InvitationForm
from ..forms.pilot import AddPartnerForm, NewPartnerForm
from .helpers import get_contract, require

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
    status_filter = request.GET.get("etat", "")
    partner_filter = request.GET.get("partenaire", "")
    matrix = selectors.pilot_matrix(contract, status=status_filter, partner_slug=partner_filter)
    return render(
        request,
        "pilot/dashboard.html",
        {
            "contract": contract,
            "enjeux": matrix.enjeux,
            "partner_rows": matrix.partner_rows,
            "qpv_rows": matrix.qpv_rows,
            "queue": matrix.queue,
            "not_confirmed": matrix.not_confirmed,
            "status_choices": S.choices,
            "status_filter": status_filter,
            "partner_filter": partner_filter,
            "all_partners": matrix.all_partners,
            "rights": rights,
            "total": matrix.total,
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
    # Les quartiers de la liste sans leur contour (le libellé n'en lit que le niveau, le nom, le code).
    qpvs = contract.qpvs.only("code", "name", "kind").order_by("name")
    form = InvitationForm(request.POST if bound else None, partners=partners, qpvs=qpvs)
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
        context["sent"] = Invitation.objects.for_contract(contract).select_related("partner", "qpv")[:100]
        return render(request, "pilot/invitations.html", context, status=422)
    if bound and form.is_valid():
        try:
            user_services.invite(
                inviter=request.user,
                contract=contract,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                partner=form.cleaned_data["partner"],
                qpv=form.cleaned_data["qpv"],
                request=request,
            )
        except ValidationError as error:
            for field, errs in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, f"Invitation envoyée à {form.cleaned_data['email']}.")
            return redirect("www:invitations", slug=contract.slug)
    context["sent"] = Invitation.objects.for_contract(contract).select_related("partner", "qpv")[:100]
    return render(request, "pilot/invitations.html", context)
