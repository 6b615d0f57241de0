"""Ce qu'une personne peut faire d'un contrat : la seule source de vérité.

Les vues, l'API et les exports demandent ``contract_abilities(user, contract)`` ou filtrent par
``contract_queryset_for(user, qs)``, jamais un test de rôle écrit à la main.
"""

from cdv.users.enums import Role

from .enums import ContractStatus


def _roles(user, contract) -> set[str]:
    if not user.is_authenticated:
        return set()
    cache = getattr(user, "_contract_roles", None)
    if cache is None:
        cache = {}
        for contract_id, role in user.memberships.values_list("contract_id", "role"):
            cache.setdefault(contract_id, set()).add(role)
        user._contract_roles = cache
    return cache.get(contract.pk, set())


def contract_abilities(user, contract) -> dict[str, bool]:
    roles = _roles(user, contract)
    is_admin = user.is_authenticated and user.is_superuser
    is_public = contract.status != ContractStatus.PREPARING
    pilot = is_admin or Role.PILOT in roles
    return {
        "view": is_public or pilot or bool(roles),
        "view_unpublished": pilot or bool(roles),
        "edit": pilot,
        "manage_members": pilot,
        "edit_plan": pilot,
    }


def contract_queryset_for(user, queryset):
    if user.is_authenticated and user.is_superuser:
        return queryset
    public = queryset.public()
    if not user.is_authenticated:
        return public
    member_of = user.memberships.values("contract_id")
    return queryset.filter(pk__in=public.values("pk")) | queryset.filter(pk__in=member_of)


def piloted_contract_ids(user) -> set[int]:
    """Contrats dont ``user`` est pilote (rôle explicite) ; mis en cache sur l'objet user.

    Le back-office d'un pilote se limite à ces contrats (``cdv.core.adminscope``) ; un opérateur de
    l'instance (superutilisateur) n'y passe pas : il voit tout."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_piloted_contract_ids", None)
    if cached is None:
        cached = set(user.memberships.filter(role=Role.PILOT).values_list("contract_id", flat=True))
        user._piloted_contract_ids = cached
    return cached
