"""Un stockage objet S3 simulé dans le processus (moto) pour les tests : ``s3_storage``.

Le fixture démarre moto, crée le seau et fait de ``STORAGES["default"]`` le S3Storage de
django-storages (``override_settings`` recharge ``default_storage``, dont dépendent les champs
fichier des modèles). ``MEDIA_ROOT`` pointe vers un dossier vide : les tests vérifient que rien
n'y est écrit.
"""

import functools
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import override_settings

BUCKET = "cdv-tests"


@pytest.fixture
def s3_storage(tmp_path, monkeypatch):
    import boto3
    import moto

    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(variable, "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    media = tmp_path / "media-local"
    media.mkdir()
    with mock.patch("botocore.session.create_loader", _shared_loader), moto.mock_aws():
        boto3.client("s3", region_name="eu-west-3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        storages = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "region_name": "eu-west-3",
                    "default_acl": None,
                    "file_overwrite": False,
                },
            },
        }
        with override_settings(STORAGES=storages, MEDIA_ROOT=media):
            assert default_storage.__class__.__name__ == "S3Storage"
            yield S3Bucket(boto3.client("s3", region_name="eu-west-3"), media)


@functools.cache
def _shared_loader(search_path_string=None):
    """Le chargeur des descriptions de services AWS (fichiers JSON de botocore), un par processus.

    Chaque session boto3 (celle des tests, celle que S3Storage ouvre pour chaque stockage) en crée
    un neuf et relit les mêmes fichiers (points d'accès, modèle S3 : 0,2 s et 100 000 objets à
    chaque fois) ; partagé, il les lit une fois. botocore partage déjà un chargeur entre les clients
    d'une même session : les descriptions lues ne sont pas modifiées."""
    from botocore.loaders import create_loader

    return create_loader(search_path_string)


class S3Bucket:
    """Le seau simulé : ``objects()`` rend {clé: contenu} ; ``media_root`` doit rester vide."""

    def __init__(self, client, media_root):
        self.client, self.media_root = client, media_root

    def objects(self) -> dict[str, bytes]:
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for entry in page.get("Contents", ()):
                body = self.client.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"]
                found[entry["Key"]] = body.read()
        return found

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=key, Body=data)

    def local_files(self) -> list[str]:
        return sorted(p.relative_to(self.media_root).as_posix() for p in self.media_root.rglob("*"))
