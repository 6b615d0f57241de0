"""Connexion, invitation, espace personnel."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cdv.users import services as user_services
from cdv.users.models import ApiToken, Membership

from ..forms import AcceptInvitationForm


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    invitation = user_services.find_invitation(token)
    if invitation is None or not invitation.is_usable:
        return render(request, "accounts/invitation_invalid.html", status=410 if invitation else 404)
    if request.user.is_authenticated and request.user.email == invitation.email:
        if request.method == "POST":
            user_services.accept_invitation(invitation=invitation, user=request.user)
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
    if request.method == "POST" and request.POST.get("token_action") == "create":
        try:
            _, new_key = user_services.create_api_token(user=request.user, name=request.POST.get("name", ""))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    elif request.method == "POST" and request.POST.get("token_action") == "revoke":
        updated = ApiToken.objects.filter(user=request.user, pk=request.POST.get("token")).update(
            revoked=True
        )
        if updated:
            messages.success(request, "Jeton révoqué.")
        return redirect("www:my_space")
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("contract", "partner")
        .order_by("contract__title", "role")
    )
    tokens = ApiToken.objects.filter(user=request.user, revoked=False)
    return render(
        request, "accounts/my_space.html", {"memberships": memberships, "tokens": tokens, "new_key": new_key}
    )


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"proconnect_enabled": settings.OIDC_ENABLED}
