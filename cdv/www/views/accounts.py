"""Connexion (et second facteur), invitation, espace personnel, mes données."""

import json
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cdv.contracts.abilities import state_view_abilities
from cdv.contracts.homes import role_homes
from cdv.core.security import two_factor_missing
from cdv.users import privacy, totp
from cdv.users import services as user_services
from cdv.users.abilities import can_hold_api_tokens, second_factor_required
from cdv.users.forms import LoginForm
from cdv.users.models import ApiToken, Membership, User

from ..forms.accounts import AcceptInvitationForm
from .evaluation import KIND_SLUGS

# Connexion en deux temps : après le mot de passe (ou une connexion ProConnect sans double
# authentification, voir cdv/users/oidc.py), la session garde (au plus 5 minutes) le compte en
# attente du code ; 5 codes faux ramènent à la connexion (et comptent comme des échecs axes).
PENDING_KEY = totp.PENDING_KEY
SETUP_KEY = "cdv_2fa_setup"
PENDING_SECONDS = 300
MAX_CODE_ATTEMPTS = 5
API_TOKENS_REFUSED = (
    "Les jetons d'API sont réservés aux pilotes, aux référents et lecteurs partenaires et aux "
    "évaluateurs : votre rôle n'utilise pas l'API."
)


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    invitation = user_services.find_invitation(token)
    if invitation is None or not invitation.is_usable:
        return render(request, "accounts/invitation_invalid.html", status=410 if invitation else 404)
    if request.user.is_authenticated and request.user.email == invitation.email:
        if request.method == "POST":
            try:
                user_services.accept_invitation(invitation=invitation, user=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "Invitation acceptée : votre nouveau rôle est actif.")
            return redirect("www:my_space")
        return render(request, "accounts/invitation_existing.html", {"invitation": invitation})
    from cdv.users.models import User

    if User.objects.filter(email=invitation.email).exists():
        return render(
            request, "accounts/invitation_existing.html", {"invitation": invitation, "must_login": True}
        )
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_services.accept_invitation(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Bienvenue ! Votre compte est créé.")
            return redirect("www:my_space")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def my_space(request):
    new_key = None
    can_use_api = can_hold_api_tokens(request.user)
    if request.method == "POST" and request.POST.get("token_action") == "create":
        if not can_use_api:
            raise PermissionDenied(API_TOKENS_REFUSED)
        try:
            _, new_key = user_services.create_api_token(user=request.user, name=request.POST.get("name", ""))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    elif request.method == "POST" and request.POST.get("token_action") == "revoke":
        # Le numéro vient du formulaire : on ne révoque que l'un de ses propres jetons, et un
        # numéro qui n'est pas le sien (ou pas un nombre) est un refus clair, pas une erreur 500.
        token_id = request.POST.get("token", "")
        updated = 0
        if token_id.isascii() and token_id.isdigit() and len(token_id) < 19:
            updated = ApiToken.objects.filter(user=request.user, pk=int(token_id)).update(revoked=True)
        if not updated:
            raise Http404("Aucun de vos jetons d'API ne porte ce numéro.")
        messages.success(request, "Jeton révoqué.")
        return redirect("www:my_space")
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("contract", "partner", "qpv")
        .order_by("contract__title", "role")
    )
    tokens = list(ApiToken.objects.filter(user=request.user, revoked=False))
    homes = role_homes(request.user, list(memberships), today=timezone.localdate())
    for home in homes:
        evaluation = home.get("evaluation") or (home.get("todo") or {}).get("evaluation")
        if evaluation is not None:
            evaluation.url_kind = KIND_SLUGS.get(evaluation.kind, "")
        for questionnaire in home.get("questionnaires", ()):
            questionnaire.url_kind = KIND_SLUGS.get(questionnaire.evaluation.kind, "")
    return render(
        request,
        "accounts/my_space.html",
        {
            "homes": homes,
            "can_use_api": can_use_api,
            "tokens": tokens,
            "new_key": new_key,
            "two_factor_required": two_factor_missing(request),
            "state_view": state_view_abilities(request.user),
        },
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"proconnect_enabled": settings.OIDC_ENABLED}

    def form_valid(self, form):
        user = form.get_user()
        if not user.totp_enabled:
            return super().form_valid(form)
        # Mot de passe juste : la connexion attend encore le code de l'application.
        totp.start_pending_login(
            self.request, user=user, backend=user.backend, next_url=self.get_success_url()
        )
        return redirect("www:login_code")


def _restart_login(request, message):
    request.session.pop(PENDING_KEY, None)
    messages.error(request, message)
    return redirect("www:login")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    """Deuxième temps de la connexion : le code à six chiffres de l'application d'authentification."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return redirect("www:login")
    if time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return _restart_login(request, "Le délai pour saisir le code est passé : reconnectez-vous.")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or not user.totp_enabled:
        return _restart_login(request, "Reconnectez-vous.")
    error = None
    if request.method == "POST":
        if totp.verify(user=user, code=request.POST.get("code")):
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=pending["backend"])
            return redirect(pending["next"])
        pending["attempts"] = pending.get("attempts", 0) + 1
        request.session[PENDING_KEY] = pending
        # Compte comme un échec de connexion : journal et limitation des tentatives (axes).
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.email, "reason": "second facteur"},
            request=request,
        )
        if getattr(request, "axes_locked_out", False):
            request.session.pop(PENDING_KEY, None)
            return render(request, "accounts/lockout.html", status=429)
        if pending["attempts"] >= MAX_CODE_ATTEMPTS:
            return _restart_login(request, "Trop de codes incorrects : reconnectez-vous.")
        error = "Code incorrect ou expiré. Saisissez le code affiché maintenant par l'application."
    return render(request, "accounts/login_code.html", {"error": error}, status=200 if not error else 400)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Activer ou retirer le second facteur (code TOTP d'une application d'authentification)."""
    user = request.user
    errors = {}
    if request.method == "POST" and request.POST.get("action") == "enable" and not user.totp_enabled:
        secret = request.session.get(SETUP_KEY, "")
        try:
            totp.enable(user=user, secret=secret, code=request.POST.get("code"))
        except ValidationError as error:
            errors = error.message_dict
        else:
            request.session.pop(SETUP_KEY, None)
            messages.success(request, "Second facteur activé : il sera demandé à chaque connexion.")
            return redirect("www:my_space")
    elif request.method == "POST" and request.POST.get("action") == "disable" and user.totp_enabled:
        if two_factor_missing_if_disabled(request):
            messages.error(request, "Le second facteur est obligatoire pour les pilotes ici.")
            return redirect("www:two_factor")
        try:
            totp.disable(user=user, password=request.POST.get("password", ""), code=request.POST.get("code"))
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(request, "Second facteur retiré.")
            return redirect("www:my_space")
    context = {"errors": errors, "required": request.GET.get("exige") == "1" or two_factor_missing(request)}
    if not user.totp_enabled:
        secret = request.session.get(SETUP_KEY) or totp.new_secret()
        request.session[SETUP_KEY] = secret
        context |= {"secret": secret, "uri": totp.provisioning_uri(user, secret)}
    return render(request, "accounts/two_factor.html", context, status=400 if errors else 200)


def two_factor_missing_if_disabled(request) -> bool:
    return second_factor_required(request.user)


@login_required
@never_cache
@require_GET
def my_data(request):
    """Toutes mes données personnelles, en JSON (droit d'accès et de portabilité)."""
    data = privacy.export_data(request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="mes-donnees-{stamp}.json"'
    return response


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """Supprimer mon compte : mes contributions restent, sans mon nom."""
    error = None
    if request.method == "POST":
        if request.POST.get("confirm") != "oui":
            error = "Cochez la case pour confirmer la suppression."
        else:
            try:
                privacy.delete_account(
                    user=request.user,
                    password=request.POST.get("password", ""),
                    email=request.POST.get("email", ""),
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                logout(request)
                messages.success(request, "Compte supprimé. Vos contributions restent, sans votre nom.")
                return redirect("www:home")
    return render(
        request,
        "accounts/delete_account.html",
        {"error": error, "has_password": request.user.has_usable_password()},
        status=400 if error else 200,
    )
