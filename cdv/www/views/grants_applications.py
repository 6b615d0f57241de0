"""Appel à projets : les dossiers côté association.

À FAIRE : vues encore en chantier (404 en attendant)."""

from django.http import Http404


def partner_applications(request, slug, partner_slug):
    raise Http404("Page en préparation.")


def partner_identity(request, slug, partner_slug):
    raise Http404("Page en préparation.")


def partner_documents(request, slug, partner_slug):
    raise Http404("Page en préparation.")


def application_create(request, slug, year, partner_slug):
    raise Http404("Page en préparation.")


def application_detail(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_project(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_budget(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_documents(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_submit(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_withdraw(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_delete(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_answer(request, slug, year, pk):
    raise Http404("Page en préparation.")


def application_receipt(request, slug, year, pk):
    raise Http404("Page en préparation.")
