from django.apps import AppConfig


class GeorefConfig(AppConfig):
    name = "cdv.georef"
    verbose_name = "Géoréférencement"
    default_auto_field = "django.db.models.BigAutoField"
