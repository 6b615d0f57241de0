"""URLconf des tests des pages d'erreur : le site, plus une page qui plante."""

from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def broken(request):
    raise RuntimeError("panne de démonstration")


urlpatterns = [path("panne-de-test/", broken), *site_urlpatterns]
