"""Journal de sécurité (logger ``cdv.security``) et second facteur imposé aux pilotes.

Le journal note les connexions réussies et échouées, les déconnexions, les verrouillages
(django-axes) et les refus (403, et 404 d'une personne connectée ou d'une écriture : un objet
protégé introuvable pour elle). Chaque ligne porte l'identifiant numérique du compte, jamais son
adresse, et une adresse IP tronquée (/24 en IPv4, /48 en IPv6) : de quoi instruire un incident sans
constituer un fichier de personnes. Jamais de mot de passe, de jeton ni de code.

Les récepteurs de signaux ne font que journaliser : aucune règle métier ici.
"""

import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse

from .clientip import client_ip

logger = logging.getLogger("cdv.security")

# Paramètres d'URL secrets (liens d'invitation, de réinitialisation) : jamais journalisés.
SECRET_URL_KWARGS = {"token", "uidb64"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def truncated_ip(request) -> str:
    """L'adresse du client (cdv.core.clientip), tronquée : 203.0.113.0/24, 2001:db8:1::/48 ; « ? »
    si illisible."""
    raw = (client_ip(request) or "") if request is not None else ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "?"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def account_id(user) -> str:
    pk = getattr(user, "pk", None)
    return str(pk) if pk is not None and getattr(user, "is_authenticated", False) else "anonyme"


def without_secrets(request, text: str) -> str:
    """``text`` sans les jetons secrets de l'URL de la requête (invitation, réinitialisation)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if name in SECRET_URL_KWARGS and value:
                text = text.replace(str(value), "…")
    return text


def logged_path(request) -> str:
    """Le chemin demandé, sans les jetons secrets qu'il peut contenir."""
    return without_secrets(request, request.path)


def _account_for_email(email) -> str:
    from cdv.users.models import User

    if not email:
        return "inconnu"
    pk = User.objects.filter(email__iexact=str(email).strip()).values_list("pk", flat=True).first()
    return str(pk) if pk is not None else "inconnu"


@receiver(user_logged_in, dispatch_uid="cdv_security_logged_in")
def log_login(sender, request, user, **kwargs):
    backend = getattr(user, "backend", "") or ""
    method = "proconnect" if "ProConnect" in backend else "mot de passe"
    second = " + second facteur" if getattr(user, "totp_enabled", False) and method != "proconnect" else ""
    logger.info(
        "connexion réussie compte=%s méthode=%s%s ip=%s", user.pk, method, second, truncated_ip(request)
    )


@receiver(user_logged_out, dispatch_uid="cdv_security_logged_out")
def log_logout(sender, request, user, **kwargs):
    logger.info("déconnexion compte=%s ip=%s", account_id(user), truncated_ip(request))


@receiver(user_login_failed, dispatch_uid="cdv_security_login_failed")
def log_login_failure(sender, credentials, request=None, **kwargs):
    # Les identifiants reçus contiennent l'adresse saisie et le mot de passe (masqué par Django) :
    # seul le numéro du compte visé, s'il existe, est écrit.
    reason = (credentials or {}).get("reason", "identifiants refusés")
    logger.warning(
        "échec de connexion compte=%s motif=%s ip=%s",
        _account_for_email((credentials or {}).get("username")),
        reason,
        truncated_ip(request),
    )


def connect_axes_signals():
    try:
        from axes.signals import user_locked_out
    except ImportError:  # pragma: no cover - axes est une dépendance
        return

    @receiver(user_locked_out, dispatch_uid="cdv_security_locked_out", weak=False)
    def log_lockout(sender, request, username=None, ip_address=None, **kwargs):
        logger.warning(
            "compte verrouillé après trop d'échecs compte=%s ip=%s",
            _account_for_email(username),
            truncated_ip(request),
        )


def two_factor_missing(request) -> bool:
    """Un pilote sans second facteur alors que la plateforme l'impose."""
    user = request.user
    if not (settings.REQUIRE_2FA_FOR_PILOTS and user.is_authenticated) or user.totp_enabled:
        return False
    from cdv.users.abilities import second_factor_required

    return second_factor_required(user)


class SecurityMiddleware:
    """Journalise les refus ; impose le second facteur aux pilotes si REQUIRE_2FA_FOR_PILOTS."""

    exempt_names = {"www:two_factor", "www:logout", "www:my_data", "www:delete_account"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self.is_refusal(request, response.status_code):
            logger.warning(
                "accès refusé statut=%s méthode=%s chemin=%s compte=%s ip=%s",
                response.status_code,
                request.method,
                logged_path(request),
                account_id(getattr(request, "user", None)),
                truncated_ip(request),
            )
        return response

    @staticmethod
    def is_refusal(request, status) -> bool:
        """403 toujours ; 404 d'une personne connectée ou d'une écriture (objet protégé deviné)."""
        if status == 403:
            return True
        if status != 404:
            return False
        user = getattr(request, "user", None)
        return request.method not in SAFE_METHODS or bool(user is not None and user.is_authenticated)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.REQUIRE_2FA_FOR_PILOTS or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.exempt_names:
            return None
        if not two_factor_missing(request):
            return None
        logger.info("second facteur exigé compte=%s chemin=%s", request.user.pk, logged_path(request))
        if request.path.startswith("/api/"):
            return HttpResponseForbidden(
                '{"detail": "Activez le second facteur dans « Mon espace » avant d\'utiliser l\'API."}',
                content_type="application/json",
            )
        return redirect(reverse("www:two_factor") + "?exige=1")
