"""Appel à projets : import des dossiers et décisions d'un export de Dauphin (pilote)."""

from django.http import Http404


def call_import(request, slug, year):
    raise Http404("Pas encore disponible.")
