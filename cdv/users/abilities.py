"""Ce qu'une personne peut faire de ses propres outils de compte (jetons d'API)."""

from .enums import Role

# Rôles qui se servent de l'API (scripts d'import, tableaux de bord, évaluation) : eux seuls ont des
# jetons. Un membre de conseil citoyen agit par les pages (retours, questionnaire de son quartier).
API_ROLES = {Role.PILOT, Role.EDITOR, Role.READER, Role.EVALUATOR}


def can_hold_api_tokens(user) -> bool:
    """Créer (et voir la rubrique) des jetons d'API : un rôle qui utilise l'API, ou l'opérateur."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    from .models import Membership

    return Membership.objects.filter(user=user, role__in=API_ROLES).exists()
