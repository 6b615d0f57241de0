"""Pilotage du contrat : tableau de bord, invitations, journal d'audit."""

from django.urls import path

from ..views import audit, pilot

urlpatterns = [
    path("contrats/<slug:slug>/pilotage/journal/", audit.audit_log, name="audit"),
    path("contrats/<slug:slug>/pilotage/", pilot.dashboard, name="dashboard"),
    path("contrats/<slug:slug>/pilotage/invitations/", pilot.invitations, name="invitations"),
]
