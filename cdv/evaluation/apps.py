from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "cdv.evaluation"
    verbose_name = "Évaluation"
