"""Appel à projets : l'instruction des dossiers.

À FAIRE : vues encore en chantier (404 en attendant)."""

from django.http import Http404


def queue(request, slug, year):
    raise Http404("Page en préparation.")


def application_instruction(request, slug, year, pk):
    raise Http404("Page en préparation.")


def funder_line_edit(request, slug, year, pk, line_pk):
    raise Http404("Page en préparation.")


def quartier_opinion(request, slug, year, pk):
    raise Http404("Page en préparation.")


def scores_edit(request, slug, year, pk):
    raise Http404("Page en préparation.")


def request_info(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_pdf(request, slug, year, pk):
    raise Http404("Page en préparation.")
