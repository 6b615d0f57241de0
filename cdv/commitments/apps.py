from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "cdv.commitments"
    verbose_name = "Engagements des partenaires"
