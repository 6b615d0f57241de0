from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "cdv.users"
    verbose_name = "Personnes et rôles"
