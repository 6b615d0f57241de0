"""Exploitation : création d'un contrat par l'opérateur de la plateforme."""

from django.urls import path

from ..views import operator

urlpatterns = [
    path("exploitation/contrats/nouveau/", operator.new_contract, name="new_contract"),
]
