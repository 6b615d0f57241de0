from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cdv.core"
    verbose_name = "Commun"

    def ready(self):
        # Après l'autodécouverte des admin.py (django.contrib.admin vient en tête d'INSTALLED_APPS).
        from .adminfrench import frenchify_admin_site
        from .adminscope import scope_admin_site

        scope_admin_site()
        frenchify_admin_site()
