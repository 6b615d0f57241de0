"""Pages publiques : accueil, contrats, quartiers, enjeux, actions, partenaires, recherche, carte."""

from django.urls import path

from ..views import pages, public, qpv

urlpatterns = [
    path("", public.home, name="home"),
    path("contrats/", public.contract_list, name="contracts"),
    path("contrats/<slug:slug>/", public.contract_home, name="contract"),
    path("contrats/<slug:slug>/quartiers/<str:code>/", qpv.qpv_page, name="qpv"),
    path("contrats/<slug:slug>/enjeux/<slug:enjeu_slug>/", pages.enjeu_page, name="enjeu"),
    path("contrats/<slug:slug>/actions/<int:pk>/", pages.action_page, name="action"),
    path("contrats/<slug:slug>/partenaires/", pages.partner_list, name="partners"),
    path("contrats/<slug:slug>/partenaires/<slug:partner_slug>/", pages.partner_page, name="partner"),
    path("contrats/<slug:slug>/recherche/", pages.search, name="search"),
    path("contrats/<slug:slug>/carte/", pages.map_page, name="map"),
    path("contrats/<slug:slug>/carte.geojson", pages.map_geojson, name="map_geojson"),
    path("accessibilite/", pages.accessibility, name="accessibility"),
    path("contrats/<slug:slug>/lisibilite/", pages.readability_fragment, name="readability"),
]
