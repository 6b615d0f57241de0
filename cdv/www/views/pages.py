"""Pages publiques : enjeu, action, partenaire, recherche, carte, accessibilité (à écrire)."""

from django.http import Http404


def enjeu_page(request, slug, enjeu_slug):
    raise Http404


def action_page(request, slug, pk):
    raise Http404


def partner_list(request, slug):
    raise Http404


def partner_page(request, slug, partner_slug):
    raise Http404


def search(request, slug):
    raise Http404


def map_page(request, slug):
    raise Http404


def map_geojson(request, slug):
    raise Http404


def accessibility(request):
    raise Http404
