"""Les migrations, appliquées à une base vide, donnent le schéma que la suite crée depuis les modèles.

La suite crée sa base sans migrations (``--nomigrations``, voir tests/conftest.py) : ce test, seul,
les applique toutes, dans un processus à part (base SQLite en mémoire), comme ``manage.py migrate``
sur une installation neuve. ``makemigrations --check`` (make test) garde, lui, les migrations à jour
des modèles.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent.parent

MIGRATE_AND_DESCRIBE = """
import json
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", interactive=False, verbosity=0)
from tests.core.test_migrations import describe
print(json.dumps(describe(connection)))
"""


def describe(conn) -> dict:
    """Tables des modèles, et pour chacune ses colonnes (nom, NULL permis)."""
    with conn.cursor() as cursor:
        return {
            table: sorted(
                [column.name, bool(column.null_ok)]
                for column in conn.introspection.get_table_description(cursor, table)
            )
            for table in sorted(conn.introspection.django_table_names(only_existing=True))
        }


@pytest.mark.django_db
def test_all_migrations_apply_to_an_empty_database_and_give_the_models_schema():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "sqlite://:memory:",
    }
    result = subprocess.run(
        [sys.executable, "-c", MIGRATE_AND_DESCRIBE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    migrated = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(migrated) > 30  # toutes les applications, pas une base restée vide
    assert migrated == describe(connection)
