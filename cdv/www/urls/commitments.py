"""Espace partenaire : engagements, cahier d'engagements (PDF, tableur, téléversement), compilation."""

from django.urls import path

from ..views import commitments, documents
from . import converters  # noqa: F401  (enregistre « docfmt » avant les path() qui s'en servent)

urlpatterns = [
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/engagements/",
        commitments.partner_space,
        name="partner_space",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/engagements/nouveau/",
        commitments.commitment_create,
        name="commitment_create",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/cahier/confirmer/",
        commitments.confirm_cahier,
        name="confirm_cahier",
    ),
    path("contrats/<slug:slug>/engagements/<int:pk>/", commitments.commitment_detail, name="commitment"),
    path("contrats/<slug:slug>/actions-par-objectif/", commitments.action_options, name="action_options"),
    path(
        "contrats/<slug:slug>/engagements/<int:pk>/modifier/",
        commitments.commitment_edit,
        name="commitment_edit",
    ),
    path(
        "contrats/<slug:slug>/engagements/<int:pk>/<slug:transition>/",
        commitments.commitment_transition,
        name="commitment_transition",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/cahier.<docfmt:fmt>",
        documents.cahier,
        name="cahier",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/modele.xlsx",
        documents.template,
        name="cahier_template",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/televerser/",
        documents.upload,
        name="cahier_upload",
    ),
    path("contrats/<slug:slug>/cahiers.<docfmt:fmt>", documents.compilation, name="compilation"),
]
