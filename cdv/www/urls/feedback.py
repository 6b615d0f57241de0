"""Retours d'expérience : dépôt, « mes retours », modération, liste publique."""

from django.urls import path

from ..views import feedback

urlpatterns = [
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
]
