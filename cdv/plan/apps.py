from django.apps import AppConfig


class PlanConfig(AppConfig):
    name = "cdv.plan"
    verbose_name = "Plan d'action (enjeux, objectifs, actions)"
