from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as BasePasswordResetForm
from django.contrib.auth.forms import UserChangeForm as BaseChangeForm
from django.contrib.auth.forms import UserCreationForm as BaseCreationForm
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import User


class UserCreationForm(BaseCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeForm(BaseChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PasswordResetForm(BasePasswordResetForm):
    """« Mot de passe oublié » : un compte sans mot de passe (invité pour ProConnect, ou créé sans)
    reçoit un courriel qui explique comment se connecter, au lieu de rien. La page de réponse est la
    même que le compte existe ou non."""

    def save(self, domain_override=None, use_https=False, request=None, **kwargs):
        super().save(domain_override=domain_override, use_https=use_https, request=request, **kwargs)
        email = self.cleaned_data["email"]
        for user in User.objects.filter(email__iexact=email, is_active=True):
            if user.has_usable_password():
                continue
            if request is not None:
                login_url = request.build_absolute_uri(reverse("www:login"))
            else:
                login_url = settings.SITE_URL + reverse("www:login")
            context = {"user": user, "login_url": login_url, "proconnect": settings.OIDC_ENABLED}
            send_mail(
                subject="Comment vous connecter à la plateforme du contrat de ville",
                message=render_to_string("accounts/password_reset_no_password_email.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )


class LoginForm(AuthenticationForm):
    """Connexion par courriel : le message d'échec de Django (« Saisissez un %(username)s… ») ferait
    « un adresse électronique »."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Saisissez une adresse électronique et un mot de passe valides. Attention : le mot "
        "de passe distingue majuscules et minuscules.",
    }
