"""Suivi annuel : campagnes de bilan, bilans des partenaires, examen par le pilote, relances, instantané."""

from django.urls import path

from ..views import notifications, review, yearly

urlpatterns = [
    path("contrats/<slug:slug>/suivi/", review.campaigns, name="review_campaigns"),
    path("contrats/<slug:slug>/suivi/<int:year>/", review.campaign_dashboard, name="review_campaign"),
    path("contrats/<slug:slug>/suivi/<int:year>/clore/", review.close_campaign, name="review_close"),
    path("contrats/<slug:slug>/suivi/<int:year>/relancer/", notifications.remind, name="review_remind"),
    path("contrats/<slug:slug>/suivi/<int:year>/figer/", yearly.freeze, name="review_freeze"),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/instantane.json", yearly.snapshot_file, name="review_snapshot"
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilan-annuel.pdf", yearly.annual_report, name="annual_report"
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/partenaires/<slug:partner_slug>/",
        review.partner_reports,
        name="review_partner",
    ),
    path("contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/", review.report_page, name="review_report"),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/accepter/",
        review.accept_report,
        name="review_accept",
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/renvoyer/",
        review.return_report,
        name="review_return",
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/pieces/<int:attachment_pk>/",
        review.attachment_download,
        name="review_attachment",
    ),
    path(
        "contrats/<slug:slug>/suivi/<int:year>/bilans/<int:pk>/pieces/<int:attachment_pk>/retirer/",
        review.attachment_delete,
        name="review_attachment_delete",
    ),
]
