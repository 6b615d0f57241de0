"""Appel à projets : échéancier, versements et retards de paiement."""

from django.http import Http404


def line_payments(request, slug, year, pk, line_pk):
    raise Http404("Pas encore disponible.")


def payment_cancel(request, slug, year, pk, line_pk, payment_pk):
    raise Http404("Pas encore disponible.")


def call_payments(request, slug, year):
    raise Http404("Pas encore disponible.")


def call_payments_xlsx(request, slug, year):
    raise Http404("Pas encore disponible.")
