from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cdv.api"
    verbose_name = "API"
