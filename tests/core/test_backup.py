"""Sauvegarde et restauration (`manage.py backup`, `restore`) : l'aller-retour rend chaque table intacte.

Les commandes tournent contre des bases à part, réglées comme le serait une autre instance :

- SQLite : la base de la session de tests (données de référence et démonstration) est
  copiée dans un fichier ; on la sauvegarde, on restaure l'archive dans un fichier neuf, puis on
  compare chaque table ligne à ligne (nombre de lignes et empreinte des lignes triées) ;
- PostgreSQL (quand la suite tourne sur PostgreSQL) : la base de test est sauvegardée par pg_dump,
  restaurée dans une seconde base créée pour l'occasion, et comparée de même.

La commande réelle (``manage.py`` dans un autre processus) fait la sauvegarde commune, la
restauration dans une base vide et le refus d'écraser une base non vide (code de sortie non nul,
message sur la sortie d'erreur). Les autres cas appellent les mêmes commandes dans ce processus
(``call_command``, dans ``instance``), avec les réglages que ``manage.py`` prendrait des mêmes
variables d'environnement (config/settings/base.py) : un refus y est la ``CommandError`` dont
``manage.py`` écrit le message avant de sortir en erreur. Chaque sous-processus coûte le démarrage
de Python et de Django (≈ 1 s).

Ce qu'ils partagent avec test_backup_s3.py (le stockage objet S3) est dans backups.py.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError
from django.db import connection

from .backups import (
    archive_manifest,
    manage,
    only_postgres,
    only_sqlite,
    read_media,
    sqlite_snapshot,
    write_media,
)

# isort: split
from .backups import command_fixture, copy_test_database_fixture, session_database_fixture  # noqa: F401 (fixtures)

# Les tables sauvegardées puis comparées sont celles des données de référence et de la démonstration.
pytestmark = pytest.mark.demo


@pytest.fixture(scope="module")
def sqlite_backup(session_database, tmp_path_factory):
    """Une sauvegarde (``manage.py backup``) d'une copie de la base de la session et de deux fichiers
    téléversés, faite une fois : les tests SQLite la restaurent chacun dans leurs propres bases et
    dossiers, sans jamais modifier ni la source ni l'archive."""
    root = tmp_path_factory.mktemp("sauvegarde")
    source = Path(shutil.copyfile(session_database, root / "source.sqlite3"))
    media = root / "media"
    files = write_media(media)
    archive = root / "sauvegarde.tar.gz"
    result = manage("backup", "-o", str(archive), database_url=f"sqlite:///{source}", media_root=media)
    return SimpleNamespace(source=source, media=media, files=files, archive=archive, stdout=result.stdout)


@only_sqlite
def test_sqlite_backup_then_restore_into_empty_database_is_identical(sqlite_backup, tmp_path):
    source, files, archive = sqlite_backup.source, sqlite_backup.files, sqlite_backup.archive
    assert "Sauvegarde écrite" in sqlite_backup.stdout

    manifest = archive_manifest(archive)
    assert manifest["format"] == "cdv-backup" and manifest["format_version"] == 1
    assert manifest["engine"] == "sqlite" and manifest["database_member"] == "database.sqlite3"
    assert manifest["django_version"] and manifest["app_version"] and manifest["created_at"]
    assert set(manifest["files"]) == {"database.sqlite3", *(f"media/{name}" for name in files)}
    snapshot = sqlite_snapshot(source)
    assert manifest["tables"]["territories_territory"] == snapshot["territories_territory"][0] > 1500
    with tarfile.open(archive) as tar:
        for name, entry in manifest["files"].items():
            assert hashlib.sha256(tar.extractfile(name).read()).hexdigest() == entry["sha256"]

    restored, restored_media = tmp_path / "restored.sqlite3", tmp_path / "media-restored"
    result = manage("restore", str(archive), database_url=f"sqlite:///{restored}", media_root=restored_media)
    assert "Sauvegarde restaurée" in result.stdout

    after = sqlite_snapshot(restored)
    assert after.keys() == snapshot.keys()
    different = [table for table in snapshot if snapshot[table] != after[table]]
    assert different == [], f"tables différentes après restauration : {different}"
    assert read_media(restored_media) == files


@only_sqlite
def test_restore_refuses_a_non_empty_database_without_force(
    sqlite_backup, copy_test_database, command, tmp_path
):
    source, archive = sqlite_backup.source, sqlite_backup.archive
    media = tmp_path / "media"
    media.mkdir()

    # La cible a déjà des données (une autre instance) : refus, rien ne change.
    target = tmp_path / "target.sqlite3"
    copy_test_database(target)
    with sqlite3.connect(target) as conn:
        conn.execute("DELETE FROM territories_territory_parents")
    before = sqlite_snapshot(target)
    refused = manage(
        "restore", str(archive), database_url=f"sqlite:///{target}", media_root=media, check=False
    )
    assert refused.returncode != 0
    assert "la base n'est pas vide" in refused.stderr and "--force" in refused.stderr
    assert sqlite_snapshot(target) == before

    command("restore", str(archive), "--force", database_url=f"sqlite:///{target}", media_root=media)
    assert sqlite_snapshot(target) == sqlite_snapshot(source)


def rewrite_archive(source: Path, target: Path, change) -> None:
    """Recopie l'archive en passant chaque membre (nom, octets) par ``change`` (compression la plus
    rapide : la restauration lit n'importe quel niveau)."""
    with tarfile.open(source) as tar_in, tarfile.open(target, "w:gz", compresslevel=1) as tar_out:
        for member in tar_in.getmembers():
            data = tar_in.extractfile(member).read()
            name, data = change(member.name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar_out.addfile(info, io.BytesIO(data))


@only_sqlite
def test_restore_refuses_an_altered_archive_and_another_engine(sqlite_backup, command, tmp_path):
    media, archive = sqlite_backup.media, sqlite_backup.archive
    target, target_media = tmp_path / "target.sqlite3", tmp_path / "media-target"

    checked = command(
        "restore", str(archive), "--check", database_url=f"sqlite:///{target}", media_root=media
    )
    assert "Archive intacte" in checked

    altered = tmp_path / "alteree.tar.gz"
    rewrite_archive(
        archive, altered, lambda name, data: (name, b"%PDF-1.4 autre" if name.endswith(".pdf") else data)
    )
    with pytest.raises(CommandError) as refused:
        command("restore", str(altered), database_url=f"sqlite:///{target}", media_root=target_media)
    assert "Empreinte SHA-256 différente" in str(refused.value)

    def pretend_postgres(name, data):
        if name == "database.sqlite3":
            return "database.pgdump", data
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["engine"], manifest["database_member"] = "postgresql", "database.pgdump"
            manifest["files"]["database.pgdump"] = manifest["files"].pop("database.sqlite3")
            return name, json.dumps(manifest).encode()
        return name, data

    other = tmp_path / "postgres.tar.gz"
    rewrite_archive(archive, other, pretend_postgres)
    with pytest.raises(CommandError) as refused:
        command("restore", str(other), database_url=f"sqlite:///{target}", media_root=target_media)
    assert "vient d'une base PostgreSQL" in str(refused.value)
    assert "dumpdata" in str(refused.value)
    assert not target_media.exists()  # rien n'a été écrit


# --- PostgreSQL ----------------------------------------------------------------------------------


def pg_url(settings_dict: dict, name: str) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{name}"


def pg_connect(settings_dict: dict, name: str):
    import psycopg

    return psycopg.connect(
        dbname=name,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=True,
    )


def pg_snapshot(settings_dict: dict, name: str) -> dict:
    with pg_connect(settings_dict, name) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY (current_schemas(false)) "
            "ORDER BY 1, 2"
        ).fetchall()
        result = {}
        for schema, table in tables:
            rows = [r[0] for r in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" AS t ORDER BY 1')]
            result[f"{schema}.{table}"] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = ANY (current_schemas(false)) ORDER BY 1, 2"
        ).fetchall()
        result["_columns"] = columns
        return result


@only_postgres
def test_postgresql_backup_then_restore_into_empty_database_is_identical(db, tmp_path):
    settings_dict = connection.settings_dict
    source = settings_dict["NAME"]  # la base de test : données de référence et démonstration, validées
    restored = f"{source}_restore_{os.getpid()}"
    media = tmp_path / "media"
    files = write_media(media)
    archive = tmp_path / "sauvegarde.tar.gz"
    manage("backup", "-o", str(archive), database_url=pg_url(settings_dict, source), media_root=media)
    manifest = archive_manifest(archive)
    assert manifest["engine"] == "postgresql" and manifest["database_member"] == "database.pgdump"

    with pg_connect(settings_dict, "postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        restored_media = tmp_path / "media-restored"
        url = pg_url(settings_dict, restored)
        result = manage("restore", str(archive), database_url=url, media_root=restored_media)
        assert "Sauvegarde restaurée" in result.stdout
        before, after = pg_snapshot(settings_dict, source), pg_snapshot(settings_dict, restored)
        assert before.keys() == after.keys()
        different = [table for table in before if before[table] != after[table]]
        assert different == [], f"tables différentes après restauration : {different}"
        assert before["public.territories_territory"][0] > 1500
        assert read_media(restored_media) == files

        refused = manage("restore", str(archive), database_url=url, media_root=restored_media, check=False)
        assert refused.returncode != 0 and "la base n'est pas vide" in refused.stderr
        manage("restore", str(archive), "--force", database_url=url, media_root=restored_media)
        assert pg_snapshot(settings_dict, restored) == before
    finally:
        with pg_connect(settings_dict, "postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
