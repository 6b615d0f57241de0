"""Connexion des agents publics par ProConnect (OpenID Connect), facultative.

Activée par PROCONNECT_ENABLED=1 et les variables PROCONNECT_* (voir docs/operations.md). Seules
les personnes déjà invitées (compte existant, même adresse) peuvent se connecter ainsi : les
rôles viennent des invitations, jamais du fournisseur d'identité.

Second facteur (voir docs/decisions/0005-proconnect-2fa.md) : une personne qui a activé le code
TOTP le saisit aussi après ProConnect (même étape « www:login_code » qu'après le mot de passe),
sauf si l'ID token atteste que le fournisseur d'identité a déjà fait une authentification à
plusieurs facteurs : claim ``acr`` parmi ``PROCONNECT_MFA_ACR_VALUES``, ou claim ``amr`` qui
contient ``mfa`` (ou un code à usage unique avec une autre méthode). Seul l'ID token, signé et lié
à notre ``nonce``, compte : jamais la réponse userinfo.
"""

import json
import logging

import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import totp
from .models import User

logger = logging.getLogger(__name__)

# Demandé à ProConnect dans l'appel à /authorize : le claim « amr » (méthodes d'authentification)
# n'est mis dans l'ID token que sur demande ; « acr » y est toujours.
ID_TOKEN_CLAIMS = {"id_token": {"amr": {"essential": True}}}
# Valeurs « amr » (RFC 8176, documentation ProConnect) : « mfa » suffit ; un code à usage unique
# (« otp », « totp ») compte s'il accompagne une autre méthode (« pwd », « mail »…) : seul, il
# peut n'être qu'un code reçu par courriel à la place du mot de passe.
MFA_AMR = "mfa"
OTP_AMR = frozenset({"otp", "totp"})


def idp_did_mfa(id_token_claims) -> bool:
    """L'ID token atteste-t-il une authentification à plusieurs facteurs chez le fournisseur ?"""
    acr = id_token_claims.get("acr")
    if isinstance(acr, str) and acr in set(settings.PROCONNECT_MFA_ACR_VALUES):
        return True
    amr = id_token_claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    methods = {str(method).strip().lower() for method in amr if isinstance(method, str)}
    if MFA_AMR in methods:
        return True
    return bool(methods & OTP_AMR) and len(methods) >= 2


class ProConnectBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        """Un échange refusé par le fournisseur (code invalide, jeton mal signé, réseau) est un
        échec de connexion, pas une erreur serveur."""
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation) as error:
            logger.warning("Connexion ProConnect refusée : %s", error)
            return None

    def get_or_create_user(self, access_token, id_token, payload):
        """``payload`` : les claims de l'ID token, signature et nonce vérifiés."""
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            user.proconnect_mfa = idp_did_mfa(payload or {})
        return user

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


class ProConnectRequestView(OIDCAuthenticationRequestView):
    def get_extra_params(self, request):
        return {
            "claims": json.dumps(ID_TOKEN_CLAIMS, separators=(",", ":")),
            **super().get_extra_params(request),
        }


class ProConnectCallbackView(OIDCAuthenticationCallbackView):
    def login_success(self):
        user = self.user
        current = getattr(self.request, "user", None)
        already_in = current is not None and current.is_authenticated and current == user
        if already_in or not user.totp_enabled or getattr(user, "proconnect_mfa", False):
            # Pas de second facteur sur la plateforme, ou déjà fait chez le fournisseur d'identité.
            # (Un pilote sans second facteur alors qu'il est imposé est ensuite envoyé vers son
            # activation par cdv.core.security, comme après un mot de passe.)
            return super().login_success()
        # ProConnect sans double authentification : le code de l'application est demandé, comme
        # après un mot de passe ; la personne n'est pas connectée avant.
        if current is not None and current.is_authenticated:
            auth.logout(self.request)  # pas d'autre compte qui resterait connecté en attendant
        totp.start_pending_login(self.request, user=user, backend=user.backend, next_url=self.success_url)
        return redirect("www:login_code")


def _enabled():
    if not getattr(settings, "OIDC_ENABLED", False):
        raise Http404("La connexion ProConnect n'est pas activée sur cette plateforme.")


def proconnect_login(request):
    _enabled()
    return ProConnectRequestView.as_view()(request)


def proconnect_callback(request):
    _enabled()
    return ProConnectCallbackView.as_view()(request)
