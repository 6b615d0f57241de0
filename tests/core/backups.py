"""Ce que partagent les tests de la sauvegarde et de la restauration (test_backup.py : SQLite et
PostgreSQL ; test_backup_s3.py : le stockage objet S3) : la commande ``manage.py`` dans un autre
processus (``manage``) ou dans celui-ci (``instance``, fixture ``command``), la base de la session
copiée une fois par fichier (fixtures ``session_database``, ``copy_test_database``), l'empreinte
d'une base SQLite et les fichiers téléversés d'essai."""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend
from django.test import override_settings

from config.settings.base import backup_storage_from_env, database_from_env, default_storage_from_env
from tests.sqlite_files import copy_session_database

ROOT = Path(settings.BASE_DIR)
IS_SQLITE = connection.vendor == "sqlite"
IS_POSTGRES = connection.vendor == "postgresql"
only_sqlite = pytest.mark.skipif(not IS_SQLITE, reason="SQLite seulement (la suite tourne sur PostgreSQL)")
only_postgres = pytest.mark.skipif(
    not IS_POSTGRES, reason="PostgreSQL seulement (la suite tourne sur SQLite)"
)


def manage(
    *args, database_url: str, media_root: Path, check=True, env=None, cwd=ROOT
) -> subprocess.CompletedProcess:
    """``manage.py`` dans un autre processus, sur la base et le dossier de fichiers donnés (``env`` :
    variables en plus, par exemple celles du seau S3 ; ``cwd`` : la machine où la commande tourne)."""
    env = {**os.environ, **(env or {}), "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} : code {result.returncode}\n{result.stderr}")
    return result


@contextmanager
def instance(*, database_url: str, media_root: Path, env=None):
    """Ce processus réglé comme ``manage(…)`` règle le sous-processus : base ``database_url``,
    dossier de fichiers ``media_root``, stockages (fichiers, sauvegardes) des variables ``env``. La
    base et les stockages sont ceux que config/settings/base.py tire de ces variables ; la base de
    la session de tests est remise en place à la fin."""
    variables = {**(env or {}), "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root)}
    with mock.patch.dict(os.environ, variables):
        database = connections.configure_settings({DEFAULT_DB_ALIAS: database_from_env()})[DEFAULT_DB_ALIAS]
        storages = {
            **settings.STORAGES,
            "default": default_storage_from_env(),
            "backups": backup_storage_from_env(),
        }
        wrapper = load_backend(database["ENGINE"]).DatabaseWrapper(database, DEFAULT_DB_ALIAS)
        original = connections[DEFAULT_DB_ALIAS]
        connections[DEFAULT_DB_ALIAS] = wrapper
        try:
            with override_settings(MEDIA_ROOT=Path(media_root), STORAGES=storages):
                yield
        finally:
            wrapper.close()
            connections[DEFAULT_DB_ALIAS] = original


@pytest.fixture(name="command")
def command_fixture(django_db_blocker):
    """``command(*args, database_url=…, media_root=…, env=…)`` : la commande ``manage.py`` dans ce
    processus (``instance``) ; renvoie sa sortie. Un refus lève la ``CommandError`` de la commande."""

    def run(*args, database_url: str, media_root: Path, env=None) -> str:
        out = io.StringIO()
        with django_db_blocker.unblock(), instance(database_url=database_url, media_root=media_root, env=env):
            call_command(*args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


@pytest.fixture(scope="module", name="session_database")
def session_database_fixture(demo_data, django_db_blocker, tmp_path_factory):
    """La base de la session de tests (référence et démonstration), copiée une fois dans un fichier
    pour le module : aucun test n'y ajoute rien, chacun en prend une copie (``copy_test_database``)."""
    with django_db_blocker.unblock():
        return copy_session_database(tmp_path_factory.mktemp("session") / "session.sqlite3")


@pytest.fixture(name="copy_test_database")
def copy_test_database_fixture(session_database):
    """Copie la base de la session de tests dans un fichier (copie d'octets de celle du module)."""

    return lambda target: Path(shutil.copyfile(session_database, target))


def sqlite_snapshot(path: Path) -> dict:
    """Schéma, puis pour chaque table : nombre de lignes et SHA-256 des lignes triées."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        schema = sorted(
            conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        )
        tables = [name for (type_, name, _) in schema if type_ == "table"]
        result = {"schema": schema}
        for table in [*tables, "sqlite_sequence"]:
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return result
    finally:
        conn.close()


def archive_manifest(path: Path) -> dict:
    with tarfile.open(path) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def write_media(root: Path) -> dict[str, bytes]:
    files = {"bilans/2025/piece-jointe.pdf": b"%PDF-1.4 faux bilan\n", "reminders/campagne-1/a.envoye": b""}
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return files


def read_media(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
