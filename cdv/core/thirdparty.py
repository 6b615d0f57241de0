"""Applications tierces nommées en français dans le back-office (INSTALLED_APPS pointe ici).

Fichier à part : dans ``apps.py``, plusieurs AppConfig empêcheraient Django de choisir ``CoreConfig``.
"""

from axes.apps import AppConfig as AxesAppConfig
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(AxesAppConfig):
    """django-axes, nommé en français dans le back-office."""

    verbose_name = "Sécurité des connexions"


class TasksDatabaseConfig(TasksAppConfig):
    """django-tasks-db, nommé en français dans le back-office."""

    verbose_name = "Tâches de fond"

    def ready(self):
        super().ready()
        # Noms affichés seulement : ``original_attrs`` (ce que lisent les migrations) ne change pas,
        # donc aucune migration d'une application tierce n'est demandée.
        model = self.get_model("DBTaskResult")
        model._meta.verbose_name = "résultat d'une tâche"
        model._meta.verbose_name_plural = "résultats des tâches"
