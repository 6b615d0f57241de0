"""Appel à projets : la page publique des projets financés par un appel."""

from django.http import Http404


def call_results(request, slug, year):
    raise Http404("Pas encore disponible.")
