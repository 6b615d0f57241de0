from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "cdv.monitoring"
    verbose_name = "Suivi annuel"
