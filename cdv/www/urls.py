from django.contrib.auth import views as auth_views
from django.urls import path, register_converter, reverse_lazy

from cdv.users import oidc

from .views import accounts, commitments, documents, indicators, pilot, public


class DocumentFormat:
    regex = "pdf|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(DocumentFormat, "docfmt")

app_name = "www"

urlpatterns = [
    path("", public.home, name="home"),
    path("contrats/<slug:slug>/", public.contract_home, name="contract"),
    path("contrats/<slug:slug>/indicateurs/", indicators.indicators_page, name="indicators"),
    # Comptes
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
    path("proconnect/connexion/", oidc.proconnect_login, name="proconnect_login"),
    path("espace/", accounts.my_space, name="my_space"),
    # Espace partenaire et engagements
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/engagements/",
        commitments.partner_space,
        name="partner_space",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/engagements/nouveau/",
        commitments.commitment_create,
        name="commitment_create",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/cahier/confirmer/",
        commitments.confirm_cahier,
        name="confirm_cahier",
    ),
    path("contrats/<slug:slug>/engagements/<int:pk>/", commitments.commitment_detail, name="commitment"),
    path("contrats/<slug:slug>/actions-par-objectif/", commitments.action_options, name="action_options"),
    path(
        "contrats/<slug:slug>/engagements/<int:pk>/modifier/",
        commitments.commitment_edit,
        name="commitment_edit",
    ),
    path(
        "contrats/<slug:slug>/engagements/<int:pk>/<slug:transition>/",
        commitments.commitment_transition,
        name="commitment_transition",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/cahier.<docfmt:fmt>",
        documents.cahier,
        name="cahier",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/modele.xlsx",
        documents.template,
        name="cahier_template",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/televerser/",
        documents.upload,
        name="cahier_upload",
    ),
    path("contrats/<slug:slug>/cahiers.<docfmt:fmt>", documents.compilation, name="compilation"),
    # Pilotage
    path("contrats/<slug:slug>/pilotage/", pilot.dashboard, name="dashboard"),
    path("contrats/<slug:slug>/pilotage/invitations/", pilot.invitations, name="invitations"),
]
