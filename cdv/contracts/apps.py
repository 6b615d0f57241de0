from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "cdv.contracts"
    verbose_name = "Contrats de ville"
