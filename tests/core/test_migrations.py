"""Les migrations, appliquées à une base vide, donnent le schéma que la suite crée depuis les modèles.

La suite crée sa base sans migrations (``--nomigrations``, voir tests/conftest.py) : ce test, seul,
les applique toutes, dans un processus à part (base SQLite en mémoire), comme ``manage.py migrate``
sur une installation neuve. ``makemigrations --check`` (make test) garde, lui, les migrations à jour
des modèles.

Appliquer les 89 migrations coûte ≈ 25 s de calcul (Django reconstruit l'état des modèles à chaque
opération). Le schéma obtenu ne dépend que de ce qui est lu pendant ce calcul : il est gardé dans
.pytest-db/ (comme la base de la suite) sous une empreinte de tout ce que les migrations peuvent
lire — fichiers de migrations de chaque application installée, code Python de cdv/ et de config/,
réglages qui choisissent les applications, paquets installés et leurs versions, version de Python,
fichiers lus par une migration de données (marqueurs de relance sous MEDIA_ROOT), ce fichier.
Toute modification de l'un d'eux refait le calcul ; ``--create-db`` le refait toujours.
La comparaison avec le schéma des modèles, elle, a lieu à chaque lancement.
"""

import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CACHE_DIR = BASE_DIR / ".pytest-db"

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


def migrations_fingerprint() -> str:
    """Empreinte de tout ce que ``migrate`` lit pour bâtir le schéma d'une base neuve."""
    from django.apps import apps
    from django.conf import settings

    digest = hashlib.sha256(sys.version.encode())
    digest.update(MIGRATE_AND_DESCRIBE.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(os.environ.get("DJANGO_SETTINGS_MODULE", "").encode())
    for setting in ("INSTALLED_APPS", "AUTH_USER_MODEL", "DEFAULT_AUTO_FIELD"):
        digest.update(f"{setting}={getattr(settings, setting, None)!r}".encode())
    distributions = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()
    )
    digest.update("\n".join(distributions).encode())
    files = {path for pattern in ("cdv/**/*.py", "config/**/*.py") for path in BASE_DIR.glob(pattern)}
    for app in apps.get_app_configs():  # migrations des applications tierces (Django, simple-history…)
        files.update(Path(app.path).glob("migrations/**/*.py"))
    # Fichiers que lit une migration de données (notifications 0004 : marqueurs de relance).
    files.update(Path(settings.MEDIA_ROOT, "reminders").rglob("*.envoye"))
    for path in sorted(files):
        if "__pycache__" not in path.parts:
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def apply_all_migrations() -> dict:
    """Toutes les migrations sur une base SQLite en mémoire, dans un autre processus ; son schéma."""
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
    return json.loads(result.stdout.strip().splitlines()[-1])


def migrated_schema(fresh: bool) -> dict:
    """Le schéma des migrations appliquées, gardé sous son empreinte (recalculé si ``fresh``)."""
    cached = CACHE_DIR / f"migrated-schema-{migrations_fingerprint()}.json"
    if not fresh and cached.exists():
        return json.loads(cached.read_text("utf-8"))
    migrated = apply_all_migrations()
    CACHE_DIR.mkdir(exist_ok=True)
    for old in CACHE_DIR.glob("migrated-schema-*.json"):
        old.unlink(missing_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}")
    partial.write_text(json.dumps(migrated), "utf-8")
    partial.replace(cached)  # jamais de fichier à moitié écrit sous le nom définitif
    return migrated


@pytest.mark.django_db
def test_all_migrations_apply_to_an_empty_database_and_give_the_models_schema(request):
    migrated = migrated_schema(fresh=request.config.getoption("create_db"))
    assert len(migrated) > 30  # toutes les applications, pas une base restée vide
    assert migrated == describe(connection)


def test_the_restore_knows_the_same_migrations_as_django():
    """La restauration lit les noms des migrations sur les fichiers, sans les importer
    (cdv.core.backup.known_migrations) : la liste est celle du chargeur de Django, migration par
    migration, sinon une sauvegarde serait refusée à tort ou acceptée d'une version plus récente."""
    from django.db.migrations.loader import MigrationLoader

    from cdv.core.backup import known_migrations

    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert known_migrations() == {f"{app}.{name}" for app, name in loader.disk_migrations}
