from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "cdv.partners"
    verbose_name = "Partenaires"
