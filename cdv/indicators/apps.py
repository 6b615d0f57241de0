from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "cdv.indicators"
    verbose_name = "Indicateurs"
