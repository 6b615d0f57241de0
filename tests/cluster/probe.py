"""Une tâche sonde pour le test « 200 tâches, chacune exécutée une fois » : chaque exécution ajoute
une ligne (clé de la tâche, exécuteur) à une table de relevé sans contrainte d'unicité, créée par le
test ; une tâche exécutée deux fois y laisse donc deux lignes. Rien de la plateforme n'en dépend.

``enqueue(N)`` (lancé par ``manage.py shell`` sur un nœud) met N sondes dans la file, d'un coup
(une transaction).
"""

import os
import time

from django.db import connection
from django_tasks import task

TABLE = "cluster_probe_run"


@task()
def record_run(key: int) -> int:
    time.sleep(0.02)  # assez long pour que les deux exécuteurs travaillent en même temps
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (key, pid) VALUES (%s, %s)", [key, os.getpid()])
    return key


def enqueue(count: int) -> None:
    from django.db import transaction

    with transaction.atomic():
        for key in range(count):
            record_run.enqueue(key)
