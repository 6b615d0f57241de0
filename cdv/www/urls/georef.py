"""Géoréférencement : envoi d'un fichier d'adresses, suivi et résultat du traitement."""

from django.urls import path

from ..views import georef

urlpatterns = [
    path("georeferencement/", georef.georef_home, name="georef"),
    path("georeferencement/traitements/<int:pk>/", georef.georef_job, name="georef_job"),
    path("georeferencement/traitements/<int:pk>/etat/", georef.georef_job_status, name="georef_job_status"),
    path("georeferencement/traitements/<int:pk>/resultat/", georef.georef_download, name="georef_download"),
    path("georeferencement/traitements/<int:pk>/indicateur/", georef.georef_record, name="georef_record"),
]
