"""Données ouvertes : index, datapackage et fichiers de chaque ressource."""

from django.urls import path

from ..views import opendata

urlpatterns = [
    path("contrats/<slug:slug>/donnees/", opendata.index, name="opendata"),
    path("contrats/<slug:slug>/donnees/datapackage.json", opendata.datapackage, name="datapackage"),
    path("contrats/<slug:slug>/donnees/<slug:resource>.<str:fmt>", opendata.download, name="opendata_file"),
]
