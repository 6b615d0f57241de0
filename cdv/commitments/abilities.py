"""Ce qu'une personne peut faire d'un engagement : seule source de vérité pour les vues, htmx,
les exports et l'API. Un refus se traduit par 404 si l'objet n'est pas même visible, 403 sinon."""

from cdv.users.roles import (
    is_editor_for,
    is_pilot,
    partners_read_by,
    reads_all_partners,
    reads_partner_internals,
)

from .enums import EDITABLE_BY_PARTNER, FINAL_STATUSES, PUBLIC_STATUSES, RECORDING_STATUSES
from .enums import CommitmentStatus as S


def can_create_commitment(user, contract, partner) -> bool:
    return is_pilot(user, contract) or is_editor_for(user, contract, partner.pk)


def partner_takes_part(contract, partner) -> bool:
    """Le partenaire a une place dans le contrat : signataire, rôle de quelqu'un à son nom, ou déjà
    des engagements. Un engagement ne se crée que pour un tel partenaire (pages et API) : même un
    pilote n'engage pas, en devinant son identifiant, une organisation étrangère au contrat."""
    return (
        partner.signatures.filter(contract=contract).exists()
        or partner.memberships.filter(contract=contract).exists()
        or partner.commitments.filter(contract=contract).exists()
    )


def can_record_indicator_value(user, commitment) -> bool:
    """Enregistrer une valeur d'indicateur au titre de cet engagement (géoréférencement) : pilote ou
    référent de son partenaire, engagement validé, confirmé ou en cours. Quelles valeurs : voir
    ``cdv.georef.services`` (jamais la série officielle, jamais la valeur de quelqu'un d'autre)."""
    contract_id = commitment.contract_id
    actor = is_pilot(user, contract_id) or is_editor_for(user, contract_id, commitment.partner_id)
    return actor and commitment.status in RECORDING_STATUSES


def can_manage_cahier(user, contract, partner) -> bool:
    """Confirmer le cahier, téléverser le modèle XLSX : pilote ou référent du partenaire."""
    return can_create_commitment(user, contract, partner)


def commitment_abilities(user, commitment) -> dict[str, bool]:
    contract_id = commitment.contract_id
    pilot = is_pilot(user, contract_id)
    owner = is_editor_for(user, contract_id, commitment.partner_id)
    internal = reads_partner_internals(user, contract_id, commitment.partner_id)
    status = commitment.status
    actor = pilot or owner
    return {
        "view": internal or status in PUBLIC_STATUSES,
        # L'historique montre les versions en préparation : même règle que le non-publié.
        "view_history": internal,
        "edit": (pilot and status not in FINAL_STATUSES) or (owner and status in EDITABLE_BY_PARTNER),
        "delete": actor and status == S.DRAFT,
        "propose": actor and status in {S.DRAFT, S.RETURNED},
        "validate": pilot and status == S.PROPOSED,
        "return": pilot and status in {S.PROPOSED, S.VALIDATED},
        "confirm": actor and status == S.VALIDATED,
        "start": actor and status == S.CONFIRMED,
        "close": actor and status in {S.CONFIRMED, S.IN_PROGRESS},
    }


def visible_commitments(user, queryset, contract):
    """Engagements d'un contrat visibles par ``user`` : le publié, plus le non-publié des partenaires
    dont il est référent ou lecteur ; tout pour les pilotes et les évaluateurs."""
    from django.db.models import Q

    queryset = queryset.filter(contract=contract)
    if reads_all_partners(user, contract):
        return queryset
    own = partners_read_by(user, contract)
    if own:
        return queryset.filter(Q(status__in=PUBLIC_STATUSES) | Q(partner_id__in=own))
    return queryset.filter(status__in=PUBLIC_STATUSES)
