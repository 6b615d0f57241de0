"""Ce qu'une personne peut faire d'un engagement : seule source de vérité pour les vues, htmx,
les exports et l'API. Un refus se traduit par 404 si l'objet n'est pas même visible, 403 sinon."""

from cdv.users.enums import Role

from .enums import EDITABLE_BY_PARTNER, FINAL_STATUSES, PUBLIC_STATUSES, RECORDING_STATUSES
from .enums import CommitmentStatus as S


def memberships(user, contract) -> list[tuple[str, int | None]]:
    """Rôles (rôle, partenaire) de ``user`` dans ``contract`` ; mis en cache sur l'objet user."""
    if not user.is_authenticated or not hasattr(user, "memberships"):
        return []
    cache = getattr(user, "_memberships_cache", None)
    if cache is None:
        cache = {}
        for contract_id, role, partner_id in user.memberships.values_list(
            "contract_id", "role", "partner_id"
        ):
            cache.setdefault(contract_id, []).append((role, partner_id))
        user._memberships_cache = cache
    return cache.get(contract.pk if hasattr(contract, "pk") else contract, [])


def is_pilot(user, contract) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    return any(role == Role.PILOT for role, _ in memberships(user, contract))


def edits_for(user, contract, partner_id) -> bool:
    """Référent (rédaction) de ce partenaire dans ce contrat."""
    return any(role == Role.EDITOR and pid == partner_id for role, pid in memberships(user, contract))


def can_read_contract_internals(user, contract) -> bool:
    """Membre du contrat, quel que soit son rôle (pages réservées aux membres, sans le non-publié
    d'un partenaire : pour celui-ci, ``reads_partner_internals``)."""
    return is_pilot(user, contract) or bool(memberships(user, contract))


def is_evaluator(user, contract) -> bool:
    return any(role == Role.EVALUATOR for role, _ in memberships(user, contract))


# Rôles exercés au nom d'un partenaire qui lisent son non-publié (un membre de conseil citoyen, non).
PARTNER_READ_ROLES = {Role.EDITOR, Role.READER}


def reads_all_partners(user, contract) -> bool:
    """Pilote ou évaluateur : lit le non-publié de chaque partenaire (engagements en préparation,
    bilans et pièces jointes), le tableau de pilotage, la file de validation, le bilan annuel."""
    return is_pilot(user, contract) or is_evaluator(user, contract)


def partners_read_by(user, contract) -> set[int]:
    """Partenaires dont ``user`` est référent ou lecteur dans ``contract``."""
    return {pid for role, pid in memberships(user, contract) if role in PARTNER_READ_ROLES and pid}


def reads_partner_internals(user, contract, partner_id) -> bool:
    """Le non-publié de ce partenaire : le partenaire lui-même (référents et lecteurs), les pilotes et
    les évaluateurs ; jamais un autre partenaire, un membre de conseil citoyen ni le public."""
    return reads_all_partners(user, contract) or partner_id in partners_read_by(user, contract)


def can_create_commitment(user, contract, partner) -> bool:
    return is_pilot(user, contract) or edits_for(user, contract, partner.pk)


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
    actor = is_pilot(user, contract_id) or edits_for(user, contract_id, commitment.partner_id)
    return actor and commitment.status in RECORDING_STATUSES


def can_manage_cahier(user, contract, partner) -> bool:
    """Confirmer le cahier, téléverser le modèle XLSX : pilote ou référent du partenaire."""
    return can_create_commitment(user, contract, partner)


def commitment_abilities(user, commitment) -> dict[str, bool]:
    contract_id = commitment.contract_id
    pilot = is_pilot(user, contract_id)
    owner = edits_for(user, contract_id, commitment.partner_id)
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
