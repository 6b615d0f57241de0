"""Ce qu'une personne peut faire d'un contrat : la seule source de vérité.

Les vues, l'API et les exports demandent ``contract_abilities(user, contract)`` ou filtrent par
``contract_queryset_for(user, qs)``, jamais un test de rôle écrit à la main.
"""

from cdv.users import roles
from cdv.users.roles import is_member, is_operator, is_pilot, reads_all_partners

from .enums import ContractStatus


def contract_abilities(user, contract) -> dict[str, bool]:
    """Droits sur un contrat et sur ce qui s'y décide au niveau du contrat (pilotage, plan,
    invitations, campagnes, journal) ; les objets du contrat ont leur propre fonction."""
    pilot = is_pilot(user, contract)
    member = is_member(user, contract)
    return {
        "view": contract.status != ContractStatus.PREPARING or member,
        # Pages réservées aux membres du contrat (quel que soit leur rôle).
        "view_internals": member,
        # Tableau de pilotage, file de validation, bilan annuel, instantané : pilotes et évaluateurs.
        "steer": reads_all_partners(user, contract),
        "review_commitments": pilot,
        "invite": pilot,
        "edit_plan": pilot,
        "view_audit": pilot,
        "import_indicators": pilot,
        "manage_review": pilot,
        "moderate_feedback": pilot,
    }


def contract_queryset_for(user, queryset):
    if is_operator(user):
        return queryset
    public = queryset.public()
    if not user.is_authenticated:
        return public
    member_of = user.memberships.values("contract_id")
    return queryset.filter(pk__in=public.values("pk")) | queryset.filter(pk__in=member_of)


def piloted_contract_ids(user) -> set[int]:
    """Contrats dont ``user`` est pilote (rôle explicite).

    Le back-office d'un pilote se limite à ces contrats (``cdv.core.adminscope``) ; un opérateur de
    l'instance (superutilisateur) n'y passe pas : il voit tout."""
    return roles.piloted_contract_ids(user)
