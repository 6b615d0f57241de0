"""Appel à projets : le compte-rendu financier d'un projet financé (côté association)."""

from django.http import Http404


def report(request, slug, year, pk):
    raise Http404("Pas encore disponible.")


def report_budget(request, slug, year, pk):
    raise Http404("Pas encore disponible.")


def report_beneficiaries(request, slug, year, pk):
    raise Http404("Pas encore disponible.")


def report_submit(request, slug, year, pk):
    raise Http404("Pas encore disponible.")


def report_pdf(request, slug, year, pk):
    raise Http404("Pas encore disponible.")
