from django.contrib.auth import views as auth_views
from django.urls import path, register_converter, reverse_lazy

from cdv.users import oidc
from cdv.users.forms import PasswordResetForm

from .views import (
    accounts,
    audit,
    commitments,
    documents,
    evaluation,
    feedback,
    georef,
    indicator_import,
    indicators,
    meetings,
    notifications,
    opendata,
    operator,
    pages,
    pilot,
    plan,
    public,
    qpv,
    review,
    yearly,
)


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
    path("contrats/", public.contract_list, name="contracts"),
    path("contrats/<slug:slug>/", public.contract_home, name="contract"),
    path("contrats/<slug:slug>/indicateurs/", indicators.indicators_page, name="indicators"),
    path(
        "contrats/<slug:slug>/indicateurs/importer/",
        indicator_import.indicator_import,
        name="indicator_import",
    ),
    path(
        "contrats/<slug:slug>/indicateurs/importer/<str:token>/",
        indicator_import.indicator_import_preview,
        name="indicator_import_preview",
    ),
    path("contrats/<slug:slug>/indicateurs/<slug:code>/", indicators.indicator_page, name="indicator"),
    path("contrats/<slug:slug>/quartiers/<str:code>/", qpv.qpv_page, name="qpv"),
    path("contrats/<slug:slug>/enjeux/<slug:enjeu_slug>/", pages.enjeu_page, name="enjeu"),
    path("contrats/<slug:slug>/actions/<int:pk>/", pages.action_page, name="action"),
    path("contrats/<slug:slug>/partenaires/", pages.partner_list, name="partners"),
    path("contrats/<slug:slug>/partenaires/<slug:partner_slug>/", pages.partner_page, name="partner"),
    path("contrats/<slug:slug>/recherche/", pages.search, name="search"),
    path("contrats/<slug:slug>/carte/", pages.map_page, name="map"),
    path("contrats/<slug:slug>/carte.geojson", pages.map_geojson, name="map_geojson"),
    path("accessibilite/", pages.accessibility, name="accessibility"),
    path("contrats/<slug:slug>/lisibilite/", pages.readability_fragment, name="readability"),
    # Données ouvertes
    path("contrats/<slug:slug>/donnees/", opendata.index, name="opendata"),
    path("contrats/<slug:slug>/donnees/datapackage.json", opendata.datapackage, name="datapackage"),
    path("contrats/<slug:slug>/donnees/<slug:resource>.<str:fmt>", opendata.download, name="opendata_file"),
    # Géoréférencement
    path("exploitation/contrats/nouveau/", operator.new_contract, name="new_contract"),
    path("georeferencement/", georef.georef_home, name="georef"),
    path("georeferencement/traitements/<int:pk>/", georef.georef_job, name="georef_job"),
    path("georeferencement/traitements/<int:pk>/etat/", georef.georef_job_status, name="georef_job_status"),
    path("georeferencement/traitements/<int:pk>/resultat/", georef.georef_download, name="georef_download"),
    path("georeferencement/traitements/<int:pk>/indicateur/", georef.georef_record, name="georef_record"),
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
    path("proconnect/connexion/", oidc.proconnect_login, name="proconnect_login"),
    path("connexion/code/", accounts.login_code, name="login_code"),
    path("espace/", accounts.my_space, name="my_space"),
    path("espace/second-facteur/", accounts.two_factor, name="two_factor"),
    path("espace/notifications/", notifications.my_notifications, name="notifications"),
    path("espace/mes-donnees.json", accounts.my_data, name="my_data"),
    path("espace/supprimer-mon-compte/", accounts.delete_account, name="delete_account"),
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
    # Journal d'audit
    path("contrats/<slug:slug>/pilotage/journal/", audit.audit_log, name="audit"),
    # Pilotage
    path("contrats/<slug:slug>/pilotage/", pilot.dashboard, name="dashboard"),
    path("contrats/<slug:slug>/pilotage/invitations/", pilot.invitations, name="invitations"),
    # Éditeur du plan d'action (pilotes)
    path("contrats/<slug:slug>/pilotage/plan/", plan.outline, name="plan"),
    path("contrats/<slug:slug>/pilotage/plan/export.xlsx", plan.export, name="plan_export"),
    path("contrats/<slug:slug>/pilotage/plan/import/", plan.import_page, name="plan_import"),
    path("contrats/<slug:slug>/pilotage/plan/enjeux/nouveau/", plan.enjeu_form, name="plan_enjeu_create"),
    path("contrats/<slug:slug>/pilotage/plan/enjeux/<int:pk>/", plan.enjeu_form, name="plan_enjeu_edit"),
    path(
        "contrats/<slug:slug>/pilotage/plan/enjeux/<int:enjeu_pk>/objectifs/nouveau/",
        plan.objective_form,
        name="plan_objective_create",
    ),
    path(
        "contrats/<slug:slug>/pilotage/plan/objectifs/<int:pk>/",
        plan.objective_form,
        name="plan_objective_edit",
    ),
    path(
        "contrats/<slug:slug>/pilotage/plan/objectifs/<int:objective_pk>/actions/nouvelle/",
        plan.action_form,
        name="plan_action_create",
    ),
    path("contrats/<slug:slug>/pilotage/plan/actions/<int:pk>/", plan.action_form, name="plan_action_edit"),
    path(
        "contrats/<slug:slug>/pilotage/plan/<str:kind>/<int:pk>/<str:direction>/deplacer/",
        plan.move,
        name="plan_move",
    ),
    path(
        "contrats/<slug:slug>/pilotage/plan/<str:kind>/<int:pk>/archiver/", plan.archive, name="plan_archive"
    ),
    path(
        "contrats/<slug:slug>/pilotage/plan/<str:kind>/<int:pk>/restaurer/", plan.restore, name="plan_restore"
    ),
    path(
        "contrats/<slug:slug>/pilotage/plan/<str:kind>/<int:pk>/supprimer/", plan.delete, name="plan_delete"
    ),
    path(
        "contrats/<slug:slug>/pilotage/plan/<str:kind>/<int:pk>/historique/",
        plan.history,
        name="plan_history",
    ),
    # Retours d'expérience et instances
    path("contrats/<slug:slug>/retours/", feedback.feedback_list, name="feedback_list"),
    path("contrats/<slug:slug>/retours/nouveau/", feedback.feedback_create, name="feedback_create"),
    path("contrats/<slug:slug>/retours/mes-retours/", feedback.my_feedback, name="my_feedback"),
    path("contrats/<slug:slug>/retours/moderation/", feedback.moderation, name="moderation"),
    path("contrats/<slug:slug>/retours/<int:pk>/modifier/", feedback.feedback_edit, name="feedback_edit"),
    path(
        "contrats/<slug:slug>/retours/<int:pk>/moderer/",
        feedback.feedback_moderate,
        name="feedback_moderate",
    ),
    path("contrats/<slug:slug>/instances/", meetings.meeting_list, name="meetings"),
    path("contrats/<slug:slug>/instances/nouvelle/", meetings.meeting_create, name="meeting_create"),
    path("contrats/<slug:slug>/instances/<int:pk>/", meetings.meeting_detail, name="meeting"),
    path("contrats/<slug:slug>/instances/<int:pk>/modifier/", meetings.meeting_edit, name="meeting_edit"),
    path(
        "contrats/<slug:slug>/instances/<int:pk>/decisions/nouvelle/",
        meetings.decision_create,
        name="decision_create",
    ),
    path("contrats/<slug:slug>/decisions/", meetings.decisions_to_follow, name="decisions"),
    path("contrats/<slug:slug>/decisions/<int:pk>/modifier/", meetings.decision_edit, name="decision_edit"),
    # Évaluation : mi-parcours et finale, questionnaires des conseils citoyens, avenants
    path("contrats/<slug:slug>/evaluations/", evaluation.evaluation_list, name="evaluations"),
    path("contrats/<slug:slug>/evaluations/avenants/", evaluation.amendments, name="amendments"),
    path("contrats/<slug:slug>/evaluations/<slug:kind>/", evaluation.evaluation_detail, name="evaluation"),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questions/<int:number>/jugement/",
        evaluation.judgement_save,
        name="evaluation_judgement",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/recommandations/",
        evaluation.recommendation_create,
        name="evaluation_recommendation",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/figer/",
        evaluation.evaluation_freeze,
        name="evaluation_freeze",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/adopter/",
        evaluation.evaluation_adopt,
        name="evaluation_adopt",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/rapport.<str:fmt>",
        evaluation.evaluation_document,
        name="evaluation_document",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/versions/<int:version>/rapport.<str:fmt>",
        evaluation.version_document,
        name="evaluation_version_document",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/versions/<int:version>/contenu.json",
        evaluation.version_json,
        name="evaluation_version_json",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questionnaires/",
        evaluation.questionnaire_list,
        name="questionnaires",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questionnaires/<str:code>/",
        evaluation.questionnaire_page,
        name="questionnaire",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questionnaires/<str:code>/papier/",
        evaluation.questionnaire_paper,
        name="questionnaire_paper",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questionnaires/<str:code>/etat/",
        evaluation.questionnaire_status,
        name="questionnaire_status",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questionnaires/<str:code>/questionnaire.pdf",
        evaluation.questionnaire_pdf,
        name="questionnaire_pdf",
    ),
    path(
        "contrats/<slug:slug>/evaluations/<slug:kind>/questionnaires/<str:code>/resultats/",
        evaluation.questionnaire_results,
        name="questionnaire_results",
    ),
    # Suivi annuel : campagnes de bilan, bilans des partenaires, examen par le pilote
    path("contrats/<slug:slug>/suivi/", review.campaigns, name="review_campaigns"),
    path("contrats/<slug:slug>/suivi/<int:year>/", review.campaign_dashboard, name="review_campaign"),
    path("contrats/<slug:slug>/suivi/<int:year>/clore/", review.close_campaign, name="review_close"),
    path("contrats/<slug:slug>/suivi/<int:year>/relancer/", notifications.remind, name="review_remind"),
    path("contrats/<slug:slug>/suivi/<int:year>/figer/", yearly.freeze, name="review_freeze"),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/instantane.json", yearly.snapshot_file, name="review_snapshot"
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilan-annuel.pdf", yearly.annual_report, name="annual_report"
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/partenaires/<slug:partner_slug>/",
        review.partner_reports,
        name="review_partner",
    ),
    path("contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/", review.report_page, name="review_report"),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/accepter/",
        review.accept_report,
        name="review_accept",
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/renvoyer/",
        review.return_report,
        name="review_return",
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/pieces/<int:attachment_pk>/",
        review.attachment_download,
        name="review_attachment",
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/pieces/<int:attachment_pk>/retirer/",
        review.attachment_delete,
        name="review_attachment_delete",
    ),
]
