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
"""

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
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend
from django.test import override_settings

from config.settings.base import backup_storage_from_env, database_from_env, default_storage_from_env
from tests.sqlite_files import copy_session_database

ROOT = Path(settings.BASE_DIR)
IS_SQLITE = connection.vendor == "sqlite"
IS_POSTGRES = connection.vendor == "postgresql"
only_sqlite = pytest.mark.skipif(not IS_SQLITE, reason="SQLite seulement (la suite tourne sur PostgreSQL)")
# Les tables sauvegardées puis comparées sont celles des données de référence et de la démonstration.
pytestmark = pytest.mark.demo
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


@pytest.fixture
def command(django_db_blocker):
    """``command(*args, database_url=…, media_root=…, env=…)`` : la commande ``manage.py`` dans ce
    processus (``instance``) ; renvoie sa sortie. Un refus lève la ``CommandError`` de la commande."""

    def run(*args, database_url: str, media_root: Path, env=None) -> str:
        out = io.StringIO()
        with django_db_blocker.unblock(), instance(database_url=database_url, media_root=media_root, env=env):
            call_command(*args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


@pytest.fixture(scope="module")
def session_database(demo_data, django_db_blocker, tmp_path_factory):
    """La base de la session de tests (référence et démonstration), copiée une fois dans un fichier
    pour le module : aucun test n'y ajoute rien, chacun en prend une copie (``copy_test_database``)."""
    with django_db_blocker.unblock():
        return copy_session_database(tmp_path_factory.mktemp("session") / "session.sqlite3")


@pytest.fixture
def copy_test_database(session_database):
    """Copie la base de la session de tests dans un fichier (copie d'octets de celle du module)."""

    return lambda target: Path(shutil.copyfile(session_database, target))


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


# --- Stockage objet S3 -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """Un émulateur S3 local (moto en mode serveur, sur 127.0.0.1) que les commandes joignent ;
    un pour le module : chaque test y crée ses propres seaux, aux noms distincts."""
    import socket
    import time

    import boto3

    moto_server = Path(sys.executable).parent / "moto_server"
    if not moto_server.exists():
        pytest.skip("moto_server absent (requirements-dev.txt)")
    tmp_path = tmp_path_factory.mktemp("moto")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "moto.log", "wb")  # refermé à la fin du fixture
    process = subprocess.Popen([str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_S3_REGION_NAME": "us-east-1",
    }
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    try:
        for _ in range(100):
            try:
                client.list_buckets()
                break
            except Exception:  # noqa: BLE001 - le serveur démarre encore
                time.sleep(0.1)
        else:
            raise AssertionError("moto_server n'a pas démarré : " + (tmp_path / "moto.log").read_text())
        yield client, env
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def bucket_objects(client, bucket: str) -> dict[str, bytes]:
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", ()):
            found[entry["Key"]] = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
    return found


@only_sqlite
def test_backup_and_restore_cover_every_object_of_the_s3_storage(
    copy_test_database, command, tmp_path, s3_server
):
    client, s3_env = s3_server
    source = tmp_path / "source.sqlite3"
    copy_test_database(source)
    client.create_bucket(Bucket="source")
    objects = {
        "bilans/2025/piece-jointe.pdf": b"%PDF-1.4 faux bilan\n",
        "georef/0123abcd/resultat.csv": os.urandom(9 * 1024 * 1024),  # envoyé en plusieurs parties
        "prive/imports-indicateurs/3/" + "a" * 64: b"indicateur;valeur\n",
        "grants/actes/acte signé é.pdf": b"%PDF-1.4 acte\n",
    }
    for key, data in objects.items():
        client.put_object(Bucket="source", Key=key, Body=data)
    local = tmp_path / "media-local"  # le disque local n'est pas le stockage quand le seau est réglé
    write_media(local)
    archive = tmp_path / "sauvegarde.tar.gz"

    def run(*args, bucket, database):
        env = {**s3_env, "AWS_STORAGE_BUCKET_NAME": bucket}
        return command(*args, database_url=f"sqlite:///{database}", media_root=local, env=env)

    run("backup", "-o", str(archive), bucket="source", database=source)
    manifest = archive_manifest(archive)
    assert set(manifest["files"]) == {"database.sqlite3", *(f"media/{key}" for key in objects)}
    assert manifest["media_files"] == len(objects)
    with tarfile.open(archive) as tar:
        for key, data in objects.items():
            assert tar.extractfile(f"media/{key}").read() == data
            assert manifest["files"][f"media/{key}"]["sha256"] == hashlib.sha256(data).hexdigest()

    client.create_bucket(Bucket="restored")
    restored = tmp_path / "restored.sqlite3"
    result = run("restore", str(archive), bucket="restored", database=restored)
    assert "fichiers téléversés restaurés : 4" in result
    assert bucket_objects(client, "restored") == objects
    assert sqlite_snapshot(restored) == sqlite_snapshot(source)

    # Un seau déjà rempli n'est pas écrasé sans --force ; avec --force, il est remplacé.
    client.put_object(Bucket="restored", Key="autre/instance.txt", Body=b"autre")
    again = tmp_path / "again.sqlite3"
    with pytest.raises(CommandError) as refused:
        run("restore", str(archive), bucket="restored", database=again)
    assert "le seau S3 restored n'est pas vide" in str(refused.value) and "--force" in str(refused.value)
    assert "autre/instance.txt" in bucket_objects(client, "restored")
    run("restore", str(archive), "--force", bucket="restored", database=again)
    assert bucket_objects(client, "restored") == objects
    assert read_media(local) == {
        "bilans/2025/piece-jointe.pdf": b"%PDF-1.4 faux bilan\n",
        "reminders/campagne-1/a.envoye": b"",
    }


@only_sqlite
def test_backup_archives_go_to_their_own_bucket_and_restore_from_it(
    copy_test_database, command, tmp_path, s3_server, monkeypatch
):
    """« backup --stockage » range l'archive dans le seau des sauvegardes (BACKUP_BUCKET_NAME), pas
    sur le disque de la machine qui l'a faite ; « restore --stockage » la reprend de là, depuis
    n'importe quelle machine."""
    client, s3_env = s3_server
    source = tmp_path / "source.sqlite3"
    copy_test_database(source)
    for bucket in ("fichiers", "sauvegardes", "fichiers-restaures"):
        client.create_bucket(Bucket=bucket)
    client.put_object(Bucket="fichiers", Key="bilans/piece.pdf", Body=b"%PDF-1.4 piece\n")
    workdir = tmp_path / "machine-a"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # la machine où la commande tourne

    def run(*args, bucket, database):
        env = {
            **s3_env,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "BACKUP_BUCKET_NAME": "sauvegardes",
            "BACKUP_DIR": str(tmp_path / "jamais-utilise"),
        }
        database_url = f"sqlite:///{database}"
        media = tmp_path / "media-local"
        return command(*args, database_url=database_url, media_root=media, env=env)

    with pytest.raises(CommandError) as refused:
        run("backup", "--stockage", "-o", "x.tar.gz", bucket="fichiers", database=source)
    assert "pas les deux" in str(refused.value)

    run("backup", "--stockage", bucket="fichiers", database=source)
    assert list(workdir.iterdir()) == []  # rien sur le disque de la machine
    assert not (tmp_path / "jamais-utilise").exists()
    names = list(bucket_objects(client, "sauvegardes"))
    assert len(names) == 1 and names[0].startswith("sauvegarde-cdv-") and names[0].endswith(".tar.gz")
    assert "bilans/piece.pdf" not in names and list(bucket_objects(client, "fichiers")) == [
        "bilans/piece.pdf"
    ]

    with pytest.raises(CommandError) as missing:
        run("restore", "--stockage", "absente.tar.gz", bucket="fichiers-restaures", database=source)
    assert "Aucune archive « absente.tar.gz »" in str(missing.value)

    restored = tmp_path / "restored.sqlite3"
    result = run("restore", "--stockage", names[0], bucket="fichiers-restaures", database=restored)
    assert "fichiers téléversés restaurés : 1" in result
    assert bucket_objects(client, "fichiers-restaures") == {"bilans/piece.pdf": b"%PDF-1.4 piece\n"}
    assert sqlite_snapshot(restored) == sqlite_snapshot(source)
