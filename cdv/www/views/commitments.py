"""Espace partenaire : engagements, cycle de vie, confirmation du cahier."""

from collections import OrderedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cdv.commitments import abilities, services
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.contracts.abilities import contract_abilities
from cdv.core.pagecache import public_page
from cdv.plan.models import Action, Enjeu, Objective
from cdv.territories.models import Territory

from ..forms.commitments import CloseForm, CommitmentForm, ConfirmCahierForm, ReturnForm
from ..history import Related, history_in_words
from .helpers import add_service_errors, get_commitment, get_contract, get_partner, require


def _years(contract):
    return range(contract.start_year, contract.end_year + 1)


def _commitments_of(contract, partner):
    return (
        Commitment.objects.for_contract(contract)
        .of_partner(partner)
        .select_related("objective__enjeu", "action")
        .prefetch_related(Prefetch("qpvs", queryset=Territory.objects.only("code", "name")), "means")
        .order_by("objective__enjeu__number", "objective__number", "id")
    )


@login_required
def partner_space(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    require(
        contract_abilities(request.user, contract)["view_internals"],
        "Cet espace est réservé aux membres du contrat.",
    )
    # Le non-publié d'un partenaire n'est lu que par lui, les pilotes et les évaluateurs.
    commitments = list(
        abilities.visible_commitments(request.user, _commitments_of(contract, partner), contract)
    )
    by_enjeu = OrderedDict((e.pk, (e, [])) for e in Enjeu.objects.for_contract(contract))
    by_qpv = {}
    for c in commitments:
        by_enjeu[c.objective.enjeu_id][1].append(c)
        for q in c.qpvs.all():
            by_qpv.setdefault(q, []).append(c)
    summary = services.cahier_summary(contract=contract, partner=partner)
    return render(
        request,
        "commitments/partner_space.html",
        {
            "contract": contract,
            "partner": partner,
            "by_enjeu": [v for v in by_enjeu.values()],
            "by_qpv": sorted(by_qpv.items(), key=lambda item: item[0].name),
            "general": [c for c in commitments if not c.qpvs.all()],
            "can_manage": abilities.can_manage_cahier(request.user, contract, partner),
            "to_confirm_count": len(summary["to_confirm"]),
            "count": len(commitments),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def commitment_create(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    require(
        abilities.can_create_commitment(request.user, contract, partner),
        "Vous ne pouvez pas créer d'engagement pour ce partenaire.",
    )
    form = CommitmentForm(
        request.POST or None, contract=contract, years=_years(contract), initial={"scope": "QPV"}
    )
    form.enable_action_refresh(reverse("www:action_options", args=[contract.slug]))
    if request.method == "POST" and form.is_valid():
        try:
            commitment = services.create_commitment(
                user=request.user,
                contract=contract,
                partner=partner,
                data=form.data_fields(),
                qpvs=form.cleaned_data["qpvs"],
                means=form.means(),
                indicators=form.cleaned_data["indicators"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Engagement enregistré en brouillon.")
            return redirect("www:commitment", slug=contract.slug, pk=commitment.pk)
    return render(
        request,
        "commitments/form.html",
        {"contract": contract, "partner": partner, "form": form, "commitment": None},
    )


def _add_errors(form, error):
    add_service_errors(form, error)


@public_page
@require_http_methods(["GET"])
def commitment_detail(request, slug, pk):
    contract = get_contract(request, slug)
    commitment, rights = get_commitment(request, contract, pk)
    history = []
    if rights["view_history"]:
        records = list(commitment.history.select_related("history_user").order_by("-history_date")[:50])
        history = history_in_words(
            records, model=Commitment, related=_history_related(), skip={"version", "updated_at"}
        )
        _add_means_changes(commitment, history)
    return render(
        request,
        "commitments/detail.html",
        {
            "contract": contract,
            "commitment": commitment,
            "rights": rights,
            "means": commitment.means.all(),
            "qpvs": commitment.qpvs.only("code", "name"),
            "indicators": commitment.indicators.all(),
            "amendments": commitment.amendments.select_related("author") if rights["view_history"] else [],
            "history": history,
            "return_form": ReturnForm(),
            "close_form": CloseForm(),
        },
    )


def _history_related():
    """Les liens d'un engagement nommés dans son historique : quartiers, indicateurs, objectif et
    action, partenaire, et la personne qui a confirmé (par son nom, « compte supprimé » une fois
    anonymisée, jamais son numéro)."""
    from cdv.indicators.models import Indicator
    from cdv.partners.models import Partner
    from cdv.users.models import User

    return {
        "qpvs": Related("territory", Territory.objects.only("name")),
        "indicators": Related("indicator", Indicator.objects.only("name")),
        "objective": Related(None, Objective.objects.select_related("enjeu"), by_str=True),
        "action": Related(None, Action.objects.select_related("objective__enjeu"), by_str=True),
        "partner": Related(None, Partner.objects.only("name")),
        "confirmed_by": Related(None, User.objects.all(), by_str=True),
    }


def _add_means_changes(commitment, history):
    """Les moyens ont leur propre historique : chaque changement (année, nature, ETP et euros) est
    rattaché à l'enregistrement de l'engagement qui l'a produit (le dernier qui le précède)."""
    if not history:
        return
    records = CommitmentMeans.history.filter(commitment_id=commitment.pk).order_by(
        "history_date", "history_id"
    )
    last = {}
    for row in records:
        before = last.get(row.id)
        last[row.id] = row
        old = (
            services.means_text(before.fte, before.amount_eur) if before and row.history_type != "+" else None
        )
        new = services.means_text(row.fte, row.amount_eur) if row.history_type != "-" else None
        zero = services.means_text(0, 0)
        if (old or zero) == (new or zero):
            continue
        owner = next((item for item in history if item["record"].history_date <= row.history_date), None)
        if owner is not None:
            label = services.state_label(services.means_key(row.year, row.funding))
            owner["changes"].append((label, old or zero, new or zero))


@login_required
@require_http_methods(["GET", "POST"])
def commitment_edit(request, slug, pk):
    contract = get_contract(request, slug)
    commitment, rights = get_commitment(request, contract, pk, ability="edit")
    years = _years(contract)
    needs_amendment = commitment.needs_amendment
    conflict, status = None, 200
    if request.method == "POST":
        data, clashes = _apply_choices(request.POST, contract, years)
        form = CommitmentForm(data, contract=contract, years=years)
        if form.is_valid():
            fields = {
                "data": form.data_fields(),
                "qpvs": form.cleaned_data["qpvs"],
                "means": form.means(),
                "indicators": form.cleaned_data["indicators"],
            }
            base = form.loaded_base()
            unchosen = [key for key in clashes if data.get(f"keep_{key}") not in {"mine", "theirs"}]
            if unchosen and base is not None:
                pending = services.unresolved_choices(
                    commitment=commitment, saved=base, keys=unchosen, **fields
                )
                if pending.rows:
                    conflict = pending
                    for row in pending.rows:
                        form.add_error(None, f"Choisissez la valeur à garder pour « {row.label} ».")
            if conflict is None:
                try:
                    services.update_commitment(
                        user=request.user,
                        commitment=commitment,
                        expected_version=form.cleaned_data["version"] or 0,
                        amendment_reason=form.cleaned_data["amendment_reason"] or "",
                        base=base,
                        **fields,
                    )
                except services.ConflictError as error:
                    conflict, status = error, 409
                    commitment.refresh_from_db()
                    form = CommitmentForm(_merged_data(data, error), contract=contract, years=years)
                except ValidationError as error:
                    _add_errors(form, error)
                else:
                    messages.success(request, "Modifications enregistrées.")
                    return redirect("www:commitment", slug=contract.slug, pk=commitment.pk)
    else:
        form = CommitmentForm(
            initial=CommitmentForm.initial_for(commitment, years), contract=contract, years=years
        )
    form.enable_action_refresh(reverse("www:action_options", args=[contract.slug]))
    return render(
        request,
        "commitments/form.html",
        {
            "contract": contract,
            "partner": commitment.partner,
            "form": form,
            "commitment": commitment,
            "needs_amendment": needs_amendment,
            "conflict": conflict,
            "conflict_rows": _conflict_rows(conflict, form),
        },
        status=status,
    )


def _apply_choices(post, contract, years):
    """Après un conflit, « garder la valeur enregistrée » remet dans la saisie la valeur de l'autre
    personne (celle de l'état chargé, signé) ; renvoie la saisie et les champs à trancher."""
    data = post.copy()
    clashes = [key for key in data.get("clashes", "").split(",") if services.is_state_key(key)]
    base = CommitmentForm(data, contract=contract, years=years).loaded_base()
    if base is not None:
        for key in clashes:
            if data.get(f"keep_{key}") == "theirs":
                _put(data, CommitmentForm.data_for_state({key: services.state_value(base, key)}))
    return data, clashes


def _put(data, values):
    for name, value in values.items():
        if isinstance(value, list):
            data.setlist(name, value)
        else:
            data[name] = value


def _merged_data(posted, conflict):
    """La saisie à remontrer après un conflit : les champs que seule l'autre personne a changés
    prennent sa valeur ; la version et l'état chargé deviennent ceux enregistrés."""
    data = posted.copy()
    for name in [name for name in data if name.startswith("keep_")]:
        del data[name]
    for row in conflict.rows:
        if row.kind == services.THEIRS:
            _put(
                data, CommitmentForm.data_for_state({row.key: services.state_value(conflict.merged, row.key)})
            )
    data["version"] = str(conflict.commitment.version)
    data["base"] = CommitmentForm.sign_base(conflict.theirs)
    data["clashes"] = ",".join(conflict.clashes)
    return data


def _conflict_rows(conflict, form):
    """Lignes du tableau de conflit, avec le choix déjà coché pour les champs à trancher."""
    if conflict is None:
        return []
    return [{"row": row, "choice": form.data.get(f"keep_{row.key}", "")} for row in conflict.rows]


TRANSITIONS = {
    "proposer": ("propose", "Engagement proposé au pilote."),
    "valider": ("validate", "Engagement validé."),
    "renvoyer": ("return", "Engagement renvoyé au partenaire."),
    "demarrer": ("start", "Engagement démarré."),
    "clore": ("close", "Engagement clos."),
    "supprimer": ("delete", "Brouillon supprimé."),
}


@login_required
@require_POST
def commitment_transition(request, slug, pk, transition):
    contract = get_contract(request, slug)
    if transition not in TRANSITIONS:
        raise PermissionDenied("Action inconnue.")
    ability, done = TRANSITIONS[transition]
    commitment, rights = get_commitment(request, contract, pk, ability=ability)
    try:
        if ability == "propose":
            services.propose(user=request.user, commitment=commitment)
        elif ability == "validate":
            services.validate(user=request.user, commitment=commitment)
        elif ability == "return":
            form = ReturnForm(request.POST)
            comment = form.data.get("comment", "")
            services.return_to_partner(user=request.user, commitment=commitment, comment=comment)
        elif ability == "start":
            services.start(user=request.user, commitment=commitment)
        elif ability == "close":
            services.close(
                user=request.user,
                commitment=commitment,
                outcome=request.POST.get("outcome", ""),
                reason=request.POST.get("reason", ""),
            )
        elif ability == "delete":
            partner_slug = commitment.partner.slug
            services.delete_draft(user=request.user, commitment=commitment)
            messages.success(request, done)
            return redirect("www:partner_space", slug=contract.slug, partner_slug=partner_slug)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    target = request.POST.get("next") or reverse(
        "www:commitment", kwargs={"slug": contract.slug, "pk": commitment.pk}
    )
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("www:commitment", kwargs={"slug": contract.slug, "pk": commitment.pk})
    return redirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def confirm_cahier(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    require(
        abilities.can_manage_cahier(request.user, contract, partner),
        "Seul le référent du partenaire (ou le pilote) confirme son cahier d'engagements.",
    )
    summary = services.cahier_summary(contract=contract, partner=partner)
    form = ConfirmCahierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = services.confirm_cahier(
                user=request.user,
                contract=contract,
                partner=partner,
                signatory_name=form.cleaned_data["signatory_name"],
                signatory_role=form.cleaned_data["signatory_role"],
                confirmed=form.cleaned_data["agree"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Cahier d'engagements confirmé : {len(confirmed)} engagement(s).")
            return redirect("www:partner_space", slug=contract.slug, partner_slug=partner.slug)
    return render(
        request,
        "commitments/confirm.html",
        {"contract": contract, "partner": partner, "summary": summary, "form": form, "statuses": S},
    )


@login_required
def action_options(request, slug):
    """Fragment htmx : les actions de l'objectif choisi, pour la liste « Action » du formulaire."""
    contract = get_contract(request, slug)
    require(contract_abilities(request.user, contract)["view_internals"], "Réservé aux membres du contrat.")
    # L'objectif vient de la requête : un numéro mal formé (ou d'un autre contrat) ne donne aucune action.
    objective = request.GET.get("objective", "")
    objective_id = (
        int(objective) if objective.isascii() and objective.isdigit() and len(objective) < 19 else 0
    )
    actions = Action.objects.for_contract(contract).active().filter(objective_id=objective_id)
    return render(request, "commitments/_action_options.html", {"actions": actions})
