"""Ce qu'une personne peut faire de son compte : jetons d'API, second facteur, back-office et
création de contrats (liens de l'en-tête, ``account_rights`` dans les gabarits)."""

from django.conf import settings

from . import roles
from .enums import Role

# Rôles qui se servent de l'API (scripts d'import, tableaux de bord, évaluation) : eux seuls ont des
# jetons. Un membre de conseil citoyen agit par les pages (retours, questionnaire de son quartier).
API_ROLES = {Role.PILOT, Role.EDITOR, Role.READER, Role.EVALUATOR}


def can_hold_api_tokens(user) -> bool:
    """Créer (et voir la rubrique) des jetons d'API : un rôle qui utilise l'API, ou l'opérateur."""
    if not user.is_authenticated:
        return False
    return roles.is_operator(user) or roles.has_role_anywhere(user, API_ROLES)


def second_factor_required(user) -> bool:
    """``REQUIRE_2FA_FOR_PILOTS`` impose le second facteur à cette personne : pilote d'un contrat ou
    opérateur de l'instance (qu'elle l'ait déjà activé ou non)."""
    return bool(settings.REQUIRE_2FA_FOR_PILOTS and user.is_authenticated and roles.is_pilot_anywhere(user))


def account_abilities(user) -> dict[str, bool]:
    """Les liens du compte dans l'en-tête ; sans requête SQL (lu sur chaque page)."""
    return {
        "back_office": roles.uses_back_office(user),
        "create_contract": roles.is_operator(user),
    }
