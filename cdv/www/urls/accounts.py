"""Comptes : connexion, mot de passe, invitation, ProConnect, espace personnel."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from cdv.users import proconnect_urls
from cdv.users.forms import PasswordResetForm

from ..views import accounts, notifications

urlpatterns = [
    path(
        "connexion/",
        accounts.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/oublie/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            form_class=PasswordResetForm,
            success_url=reverse_lazy("www:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "mot-de-passe/envoye/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("www:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/modifie/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("invitation/<str:token>/", accounts.accept_invitation, name="invitation"),
    path("proconnect/connexion/", proconnect_urls.proconnect_login, name="proconnect_login"),
    path("connexion/code/", accounts.login_code, name="login_code"),
    path("espace/", accounts.my_space, name="my_space"),
    path("espace/second-facteur/", accounts.two_factor, name="two_factor"),
    path("espace/notifications/", notifications.my_notifications, name="notifications"),
    path("espace/mes-donnees.json", accounts.my_data, name="my_data"),
    path("espace/supprimer-mon-compte/", accounts.delete_account, name="delete_account"),
]
