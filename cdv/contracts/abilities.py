"""Ce qu'une personne peut faire d'un contrat : la seule source de vérité.

Les vues, l'API et les exports demandent ``contract_abilities(user, contract)`` ou filtrent par
``contract_queryset_for(user, qs)``, jamais un test de rôle écrit à la main.
"""

from django.db.models import Q

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
    if not user.is_authenticated:
        return queryset.public()
    from .models import PUBLIC

    # Publics ou dont ``user`` est membre : une seule condition plutôt que l'union de deux requêtes
    # (chaque page d'un contrat passe par ici) ; mêmes contrats.
    member_of = user.memberships.values("contract_id")
    return queryset.filter(PUBLIC | Q(pk__in=member_of))


def piloted_contract_ids(user) -> set[int]:
    """Contrats dont ``user`` est pilote (rôle explicite).

    Le back-office d'un pilote se limite à ces contrats (``cdv.core.adminscope``) ; un opérateur de
    l'instance (superutilisateur) n'y passe pas : il voit tout."""
    return roles.piloted_contract_ids(user)


# --- Vue de l'État : lecture inter-contrats (cdv/contracts/state_view.py) ----------------------


def state_view_abilities(user) -> dict[str, bool]:
    """La vue de l'État : la lire (lecture inter-contrats accordée au nom d'un partenaire) ; accorder
    ou retirer cette lecture (l'opérateur de l'instance seul : elle ouvre des contrats dont aucun
    pilote ne répond seul)."""
    return {
        "view": bool(roles.cross_contract_partner_ids(user)),
        "grant": is_operator(user),
    }


def state_view_partner_ids(user) -> set[int]:
    """Les partenaires dont ``user`` lit les contrats signés (vide : la vue lui est refusée)."""
    return set(roles.cross_contract_partner_ids(user))


def state_view_contracts(user, queryset):
    """Les contrats du tableau de l'État de ``user`` : exactement ceux que l'un de ses partenaires a
    signés (``Signatory`` de nature « signataire »), aucun autre ; rien sans lecture inter-contrats.
    Parmi eux, ceux que ``user`` voit (``contract_queryset_for``) : un contrat en préparation reste
    à ses membres, et chaque ligne du tableau mène à une page ouverte. Les partenaires viennent du
    compte, jamais de la requête."""
    from .enums import SignatoryKind
    from .models import Signatory

    partner_ids = state_view_partner_ids(user)
    if not partner_ids:
        return queryset.none()
    signed = Signatory.objects.filter(partner_id__in=partner_ids, kind=SignatoryKind.SIGNATORY)
    return contract_queryset_for(user, queryset).filter(pk__in=signed.values("contract_id"))
