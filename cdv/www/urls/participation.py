"""Participation : retours d'expérience, modération, instances et décisions."""

from django.urls import path

from ..views import participation

urlpatterns = [
    path("contrats/<slug:slug>/retours/", participation.feedback_list, name="feedback_list"),
    path("contrats/<slug:slug>/retours/nouveau/", participation.feedback_create, name="feedback_create"),
    path("contrats/<slug:slug>/retours/mes-retours/", participation.my_feedback, name="my_feedback"),
    path("contrats/<slug:slug>/retours/moderation/", participation.moderation, name="moderation"),
    path(
        "contrats/<slug:slug>/retours/<int:pk>/modifier/", participation.feedback_edit, name="feedback_edit"
    ),
    path(
        "contrats/<slug:slug>/retours/<int:pk>/moderer/",
        participation.feedback_moderate,
        name="feedback_moderate",
    ),
    path("contrats/<slug:slug>/instances/", participation.meeting_list, name="meetings"),
    path("contrats/<slug:slug>/instances/nouvelle/", participation.meeting_create, name="meeting_create"),
    path("contrats/<slug:slug>/instances/<int:pk>/", participation.meeting_detail, name="meeting"),
    path(
        "contrats/<slug:slug>/instances/<int:pk>/modifier/", participation.meeting_edit, name="meeting_edit"
    ),
    path(
        "contrats/<slug:slug>/instances/<int:pk>/decisions/nouvelle/",
        participation.decision_create,
        name="decision_create",
    ),
    path("contrats/<slug:slug>/decisions/", participation.decisions_to_follow, name="decisions"),
    path(
        "contrats/<slug:slug>/decisions/<int:pk>/modifier/", participation.decision_edit, name="decision_edit"
    ),
]
