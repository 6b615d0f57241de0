from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "cdv.territories"
    verbose_name = "Territoires"
