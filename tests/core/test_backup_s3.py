"""Sauvegarde et restauration avec le stockage objet S3 : l'archive porte chaque objet du seau des
fichiers téléversés (y compris en plusieurs parties), la restauration les remet dans un seau vide (pas
dans un seau rempli, sans --force), et « --stockage » range l'archive dans le seau des sauvegardes et
l'y reprend. Contre un émulateur S3 local (moto en mode serveur), sur des copies de la base de la
session. Les commandes et les bases : backups.py ; SQLite et PostgreSQL : test_backup.py."""

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError

from .backups import archive_manifest, only_sqlite, read_media, sqlite_snapshot, write_media

# isort: split
from .backups import command_fixture, copy_test_database_fixture, session_database_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.demo


# --- Stockage objet S3 -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """Un émulateur S3 local (moto en mode serveur, sur 127.0.0.1) que les commandes joignent ;
    un pour le module : chaque test y crée ses propres seaux, aux noms distincts."""
    import socket
    import time

    import boto3

    moto_server = Path(sys.executable).parent / "moto_server"
    if not moto_server.exists():  # moto est épinglé : son absence est une installation cassée, pas un saut
        pytest.fail(
            f"{moto_server} absent : moto et son serveur sont épinglés dans requirements-dev.txt"
            " (make install-dev)"
        )
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
