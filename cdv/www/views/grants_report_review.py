"""Appel à projets : examen des comptes-rendus par les financeurs, suivi et blocages."""

from django.http import Http404


def report_review(request, slug, year, pk):
    raise Http404("Pas encore disponible.")


def call_reports(request, slug, year):
    raise Http404("Pas encore disponible.")


def call_blocks(request, slug, year):
    raise Http404("Pas encore disponible.")
