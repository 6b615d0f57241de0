"""Fichiers d'import de valeurs d'indicateurs gardés entre l'aperçu et la confirmation.

Le fichier téléversé est rangé dans le stockage des fichiers (disque local sous ``MEDIA_ROOT`` ou
stockage objet S3 partagé par les serveurs, voir ``cdv.core.filestore``) sous
``prive/imports-indicateurs/<contrat>/<jeton>``, où le jeton est l'empreinte SHA-256 de son
contenu : jamais un nom ni un chemin venu de la requête. À la confirmation, l'empreinte est
recalculée : un fichier modifié depuis l'aperçu est refusé. Les fichiers de plus d'un jour sont
effacés au téléversement suivant.
"""

import datetime
import hashlib
import re

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

IMPORT_DIR = ("prive", "imports-indicateurs")
TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")
KEEP_SECONDS = 24 * 3600


def _folder(contract) -> str:
    return "/".join((*IMPORT_DIR, str(int(contract.pk))))


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_upload(*, contract, data: bytes) -> str:
    """Range ``data`` pour ``contract`` ; rend son jeton (l'empreinte du contenu)."""
    folder = _folder(contract)
    _purge(folder)
    token = fingerprint(data)
    name = f"{folder}/{token}"
    # Le nom est l'empreinte du contenu : un fichier déjà rangé sous ce nom est le même.
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return token


def load_upload(*, contract, token: str) -> bytes | None:
    """Le contenu rangé sous ``token`` pour ``contract``, ou None (jeton malformé ou fichier absent)."""
    if not TOKEN_RE.match(token or ""):
        return None
    try:
        with default_storage.open(f"{_folder(contract)}/{token}", "rb") as handle:
            return handle.read()  # borné par la taille maximale d'un import (formulaire)
    except (FileNotFoundError, IsADirectoryError):
        return None


def discard_upload(*, contract, token: str) -> None:
    if TOKEN_RE.match(token or ""):
        default_storage.delete(f"{_folder(contract)}/{token}")


def _purge(folder: str) -> None:
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    limit = timezone.now() - datetime.timedelta(seconds=KEEP_SECONDS)
    for name in names:
        path = f"{folder}/{name}"
        try:
            if default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
        except (OSError, ValueError):
            continue
