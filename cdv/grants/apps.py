from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "cdv.grants"
    verbose_name = "Appel à projets"
