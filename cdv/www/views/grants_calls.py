"""Appel à projets : l'appel (montage par le pilote, page publique).

À FAIRE : vues encore en chantier (404 en attendant)."""

from django.http import Http404


def call_list(request, slug):
    raise Http404("Page en préparation.")


def call_create(request, slug):
    raise Http404("Page en préparation.")


def call_page(request, slug, year):
    raise Http404("Page en préparation.")


def call_edit(request, slug, year):
    raise Http404("Page en préparation.")


def call_funders(request, slug, year):
    raise Http404("Page en préparation.")


def call_settings(request, slug, year):
    raise Http404("Page en préparation.")


def call_publish(request, slug, year):
    raise Http404("Page en préparation.")


def call_archive(request, slug, year):
    raise Http404("Page en préparation.")


def call_copy(request, slug, year):
    raise Http404("Page en préparation.")


def call_drafts(request, slug, year):
    raise Http404("Page en préparation.")
