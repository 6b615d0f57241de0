"""Données ouvertes d'un contrat : fichiers CSV, JSON, XLSX, GeoJSON et Data Package (à écrire)."""

from django.http import Http404


def index(request, slug):
    raise Http404


def datapackage(request, slug):
    raise Http404


def download(request, slug, resource, fmt):
    raise Http404
