from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "cdv.users"
    verbose_name = "Personnes et rôles"

    def ready(self):
        # Journal de sécurité : connexions, déconnexions, échecs, verrouillages (journalisation seule).
        from cdv.core import security

        security.connect_axes_signals()
