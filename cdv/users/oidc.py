"""Connexion des agents publics par ProConnect (OpenID Connect), facultative.

Activée par PROCONNECT_ENABLED=1 et les variables PROCONNECT_* (voir docs/operations.md). Seules
les personnes déjà invitées (compte existant, même adresse) peuvent se connecter ainsi : les
rôles viennent des invitations, jamais du fournisseur d'identité.
"""

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .models import User

logger = logging.getLogger(__name__)


class ProConnectBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        """Un échange refusé par le fournisseur (code invalide, jeton mal signé, réseau) est un
        échec de connexion, pas une erreur serveur."""
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation) as error:
            logger.warning("Connexion ProConnect refusée : %s", error)
            return None

    def verify_claims(self, claims):
        return bool(claims.get("email"))

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip().lower()
        return User.objects.filter(email=email, is_active=True) if email else User.objects.none()

    def update_user(self, user, claims):
        changed = []
        if not user.first_name and claims.get("given_name"):
            user.first_name = claims["given_name"][:150]
            changed.append("first_name")
        if not user.last_name and claims.get("usual_name"):
            user.last_name = claims["usual_name"][:150]
            changed.append("last_name")
        if changed:
            user.save(update_fields=changed)
        return user


def _enabled():
    if not getattr(settings, "OIDC_ENABLED", False):
        raise Http404("La connexion ProConnect n'est pas activée sur cette plateforme.")


def proconnect_login(request):
    _enabled()
    return OIDCAuthenticationRequestView.as_view()(request)


def proconnect_callback(request):
    _enabled()
    return OIDCAuthenticationCallbackView.as_view()(request)
