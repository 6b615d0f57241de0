"""Éditeur du plan d'action (pilotes) : enjeux, objectifs, actions, export et import."""

from django.urls import path

from ..views import plan

urlpatterns = [
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
]
