"""Indicateurs : pages publiques et import de valeurs par les pilotes."""

from django.urls import path

from ..views import indicator_import, indicators

urlpatterns = [
    path("contrats/<slug:slug>/indicateurs/", indicators.indicators_page, name="indicators"),
    path(
        "contrats/<slug:slug>/indicateurs/importer/",
        indicator_import.indicator_import,
        name="indicator_import",
    ),
    path(
        "contrats/<slug:slug>/indicateurs/importer/<str:token>/",
        indicator_import.indicator_import_preview,
        name="indicator_import_preview",
    ),
    path("contrats/<slug:slug>/indicateurs/<slug:code>/", indicators.indicator_page, name="indicator"),
]
