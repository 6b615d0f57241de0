"""Instances (COPIL, comités, instances de quartier) et décisions à suivre."""

from django.urls import path

from ..views import meetings

urlpatterns = [
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
]
