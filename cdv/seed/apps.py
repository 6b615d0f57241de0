from django.apps import AppConfig


class SeedConfig(AppConfig):
    name = "cdv.seed"
    verbose_name = "Démonstration et jeu synthétique"
