"""Évaluation : mi-parcours et finale, questionnaires des conseils citoyens, avenants."""

from django.urls import path

from ..views import evaluation

urlpatterns = [
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
]
