"""Les fichiers de la plateforme passent tous par l'API de stockage de Django.

Le stockage est le disque local (``MEDIA_ROOT``) ou, quand ``AWS_STORAGE_BUCKET_NAME`` est
définie, un stockage objet compatible S3 partagé par tous les serveurs (config/settings/base.py).
Aucun code ne lit donc un chemin local (``FieldFile.path``) : il ouvre, enregistre, liste et
efface par le stockage. Les gros fichiers circulent par morceaux (``CHUNK``), jamais entiers en
mémoire : ``open_stream`` lit un objet S3 au fil du corps de la réponse (le fichier de
django-storages, lui, le téléchargerait d'abord en entier), ``copy_to_local`` le recopie dans un
fichier temporaire, ``stream_response`` l'envoie au navigateur après les contrôles d'accès.
"""

import os
import shutil
import sys
from pathlib import Path

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse

CHUNK = 1024 * 1024


def is_object_storage(storage) -> bool:
    # Un stockage S3 a déjà chargé son module : sans lui, rien à importer (boto3 coûte près d'une
    # seconde à chaque commande, sauvegarde comprise, sur une instance au disque local).
    klass = storage.__class__  # pour ``default_storage`` (paresseux), crée d'abord le stockage
    module = sys.modules.get("storages.backends.s3")
    return module is not None and issubclass(klass, module.S3Storage)


class ObjectStream:
    """Lecture au fil de l'eau d'un objet S3 (corps de la réponse GetObject) : ``read(n)`` ne
    garde que ``n`` octets en mémoire. ``size`` : la taille de l'objet ; ``modified`` : sa date."""

    def __init__(self, body, size: int, modified=None):
        self.body, self.size, self.modified = body, size, modified

    def read(self, size=-1):
        return self.body.read(None if size is None or size < 0 else size)

    def close(self):
        self.body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_stream(storage, name: str):
    """Ouvre ``name`` en lecture binaire, à lire par morceaux ; ``FileNotFoundError`` s'il manque."""
    if not is_object_storage(storage):
        return storage.open(name, "rb")
    from botocore.exceptions import ClientError
    from storages.utils import clean_name

    key = storage._normalize_name(clean_name(name))
    try:
        response = storage.connection.meta.client.get_object(Bucket=storage.bucket_name, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
            raise FileNotFoundError(f"Fichier absent du stockage : {name}") from error
        raise
    return ObjectStream(
        response["Body"], int(response.get("ContentLength") or 0), response.get("LastModified")
    )


def copy_to_local(storage, name: str, target: Path) -> Path:
    """Recopie ``name`` dans le fichier local ``target`` (un fichier temporaire), par morceaux."""
    with open_stream(storage, name) as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink, CHUNK)
    return target


def stream_response(handle, **kwargs) -> FileResponse:
    """``FileResponse`` d'un fichier ouvert par ``open_stream`` (taille annoncée, envoi par morceaux)."""
    response = FileResponse(handle, **kwargs)
    response.block_size = CHUNK
    size = getattr(handle, "size", None)
    if "Content-Length" not in response and size is not None:
        response["Content-Length"] = str(size)
    return response


def walk(storage, top: str = ""):
    """Les noms de tous les fichiers du stockage sous ``top`` (récursif, triés par dossier).

    Sur disque local, les liens symboliques sont ignorés (rien hors de ``MEDIA_ROOT``) ; dans un
    seau S3, une seule liste paginée (pas une requête par « dossier »)."""
    if is_object_storage(storage):
        yield from _walk_bucket(storage, top)
        return
    local = isinstance(storage, FileSystemStorage)
    try:
        directories, files = storage.listdir(top)
    except FileNotFoundError:
        return
    for name in sorted(files):
        full = f"{top}/{name}" if top else name
        if local and os.path.islink(storage.path(full)):
            continue
        yield full
    for directory in sorted(directories):
        full = f"{top}/{directory}" if top else directory
        if local and os.path.islink(storage.path(full)):
            continue
        yield from walk(storage, full)


def _walk_bucket(storage, top: str):
    from storages.utils import clean_name

    location = storage.location.strip("/")
    prefix = storage._normalize_name(clean_name(top)) if top else location
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    paginator = storage.connection.meta.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=storage.bucket_name, Prefix=prefix):
        for entry in page.get("Contents", ()):
            key = entry["Key"]
            if key.endswith("/"):  # « dossier » vide créé par un autre outil
                continue
            yield key[len(location) + 1 :] if location else key
