"""Qui appelle l'API : un jeton (Authorization: Bearer …), sinon la session du navigateur.

Une écriture par session exige le jeton CSRF, comme un formulaire ; un jeton invalide est refusé
(401) plutôt que traité comme un appel anonyme.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from ninja.errors import HttpError
from ninja.utils import check_csrf

from cdv.contracts.abilities import contract_abilities
from cdv.contracts.models import Contract
from cdv.users.services import user_for_api_key

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def api_user(request):
    """L'appelant, cherché une fois par requête : une écriture le demande à son authentification
    (``writer``) puis à ``visible_contract`` ; un refus n'est pas retenu (il lève)."""
    if not hasattr(request, "_cdv_api_user"):
        request._cdv_api_user = _find_api_user(request)
    return request._cdv_api_user


def _find_api_user(request):
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise HttpError(401, "En-tête Authorization attendu : « Bearer <jeton> ».")
        user = user_for_api_key(key.strip())
        if user is None:
            raise HttpError(401, "Jeton d'API inconnu ou révoqué.")
        if _second_factor_missing(user):
            raise HttpError(
                403,
                "Le second facteur est obligatoire pour les pilotes : activez-le dans « Mon espace » "
                "avant d'utiliser l'API, même avec un jeton créé auparavant.",
            )
        return user
    user = getattr(request, "user", None) or AnonymousUser()
    if request.method not in SAFE_METHODS and user.is_authenticated:
        if check_csrf(request) is not None:
            raise HttpError(403, "Jeton CSRF absent ou invalide : utilisez un jeton d'API pour les scripts.")
    return user


def _second_factor_missing(user) -> bool:
    """Pilote sans second facteur alors que REQUIRE_2FA_FOR_PILOTS l'impose. La session passe par
    ``SecurityMiddleware`` ; un jeton n'ouvre pas de session, il est donc vérifié ici, à chaque appel."""
    if not settings.REQUIRE_2FA_FOR_PILOTS or user.totp_enabled:
        return False
    from cdv.users.abilities import second_factor_required

    return second_factor_required(user)


def require_user(request):
    user = api_user(request)
    if not user.is_authenticated:
        raise HttpError(401, "Authentification requise : jeton d'API (Bearer) ou session.")
    return user


def writer(request):
    """Authentification d'une écriture, déclarée par ``auth=writer`` sur l'opération : django-ninja
    la fait passer avant la lecture du corps, si bien qu'un appel anonyme ou au jeton faux reçoit
    401 (ou 403 : CSRF, second facteur) sans la liste des champs attendus. L'appelant est ensuite
    ``request.auth``."""
    return require_user(request)


def caller(request):
    """Comme ``writer`` pour une opération ouverte à tous (POST /georef) : un jeton faux est refusé
    (401) avant la lecture du corps ; sans jeton, l'appelant est anonyme."""
    return api_user(request)


def visible_contract(request, slug):
    """(appelant, contrat) si le contrat est visible de l'appelant ; sinon 404, sans rien révéler."""
    user = api_user(request)
    # Le droit « view » suffit (un contrat qu'il accorde est dans ``visible_to(user)``) : voir
    # ``cdv.www.views.helpers.get_contract``.
    contract = Contract.objects.filter(slug=slug).first()
    if contract is None or not contract_abilities(user, contract)["view"]:
        raise HttpError(404, f"Aucun contrat accessible « {slug} ».")
    return user, contract
