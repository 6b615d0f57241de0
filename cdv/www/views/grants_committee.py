"""Appel à projets : le comité des financeurs.

À FAIRE : vues encore en chantier (404 en attendant)."""

from django.http import Http404


def programmation(request, slug, year):
    raise Http404("Page en préparation.")


def programmation_xlsx(request, slug, year):
    raise Http404("Page en préparation.")


def simulate_line(request, slug, year, line_pk):
    raise Http404("Page en préparation.")


def vote(request, slug, year):
    raise Http404("Page en préparation.")
