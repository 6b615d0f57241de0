from django.apps import AppConfig


class WwwConfig(AppConfig):
    name = "cdv.www"
    verbose_name = "Site web"
