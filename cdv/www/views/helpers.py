"""Résolution sûre des objets d'une URL : le contrat d'abord, puis l'objet dans ce contrat.

Un identifiant venu de la requête n'est jamais cru : un objet hors du contrat, ou invisible pour
la personne, donne 404 ; un objet visible mais une action interdite donne 403.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404

from cdv.commitments import abilities
from cdv.commitments.models import Commitment
from cdv.contracts.abilities import contract_abilities
from cdv.contracts.models import Contract
from cdv.partners.models import Partner
from cdv.territories.models import heavy_fields


def get_contract(request, slug):
    # Le droit « view » suffit : un contrat qu'il accorde est toujours dans ``visible_to(user)``
    # (public, ou la personne y a un rôle, ou elle est opératrice). Filtrer aussi la requête par
    # ``visible_to`` (deux sous-requêtes) ne retirait rien et coûtait à chaque page.
    contract = Contract.objects.filter(slug=slug).select_related("epci").defer(*heavy_fields("epci")).first()
    if contract is None or not contract_abilities(request.user, contract)["view"]:
        raise Http404("Aucun contrat accessible ne porte cet identifiant.")
    return contract


def get_partner(contract, partner_slug):
    """Un partenaire qui a une place dans ce contrat (signataire, participant, membre ou engagé)."""
    partner = get_object_or_404(Partner, slug=partner_slug)
    if not abilities.partner_takes_part(contract, partner):
        raise Http404("Ce partenaire ne prend pas part à ce contrat.")
    return partner


def get_in_contract(
    request, queryset, pk, rights_of, ability="view", *, missing: str, forbidden: str, then_prefetch=()
):
    """L'objet ``pk`` de ``queryset`` (déjà restreint au contrat de l'URL) et ce que la personne peut
    en faire : absent ou invisible → 404 (``missing``), visible mais ``ability`` refusée → 403.

    ``queryset`` précharge ce que lit ``rights_of`` ; ``then_prefetch`` (préchargements de la page)
    n'est fait qu'une fois les droits accordés : un refus ne les paie pas."""
    obj = queryset.filter(pk=pk).first()
    rights = rights_of(request.user, obj) if obj is not None else None
    if rights is None or not rights["view"]:
        raise Http404(missing)
    require(rights[ability], forbidden)
    if then_prefetch:
        prefetch_related_objects([obj], *then_prefetch)
    return obj, rights


def get_commitment(request, contract, pk, ability="view"):
    return get_in_contract(
        request,
        Commitment.objects.for_contract(contract).select_related(
            "partner", "objective__enjeu", "action", "contract", "confirmed_by"
        ),
        pk,
        abilities.commitment_abilities,
        ability,
        missing="Aucun engagement de ce contrat ne porte ce numéro.",
        forbidden="Vous n'avez pas le droit de faire cela sur cet engagement.",
    )


def require(condition: bool, message: str):
    if not condition:
        raise PermissionDenied(message)


def add_service_errors(form, error, field_map=None):
    """Reporte l'erreur d'un service sur le formulaire : sous son champ s'il existe, sinon en tête."""
    if hasattr(error, "error_dict"):
        for field, errs in error.message_dict.items():
            field = (field_map or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, error.messages)


def confirmed_act(request, act, *, unchecked: str, done: str) -> str | None:
    """Un acte irréversible soumis depuis sa page de confirmation : sans la case « Je confirme »
    cochée, rien n'est fait et le message ``unchecked`` est rendu (la page se réaffiche avec lui) ;
    sinon ``act()`` est appelé, ses refus deviennent des messages d'erreur, sa réussite ``done``,
    et la vue redirige (None)."""
    if request.POST.get("confirm") != "oui":
        return unchecked
    try:
        act()
    except ValidationError as refusal:
        for message in refusal.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return None
