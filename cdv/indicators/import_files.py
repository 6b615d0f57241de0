"""Fichiers d'import de valeurs d'indicateurs gardés entre l'aperçu et la confirmation.

Le fichier téléversé est rangé sous ``MEDIA_ROOT/prive/imports-indicateurs/<contrat>/<jeton>``, où le
jeton est l'empreinte SHA-256 de son contenu : jamais un nom ni un chemin venu de la requête. À la
confirmation, l'empreinte est recalculée : un fichier modifié depuis l'aperçu est refusé. Les
fichiers de plus d'un jour sont effacés au téléversement suivant.
"""

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from django.conf import settings

IMPORT_DIR = ("prive", "imports-indicateurs")
TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")
KEEP_SECONDS = 24 * 3600


def _folder(contract) -> Path:
    return Path(settings.MEDIA_ROOT).joinpath(*IMPORT_DIR, str(int(contract.pk)))


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_upload(*, contract, data: bytes) -> str:
    """Range ``data`` pour ``contract`` ; rend son jeton (l'empreinte du contenu)."""
    folder = _folder(contract)
    folder.mkdir(parents=True, exist_ok=True)
    _purge(folder)
    token = fingerprint(data)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".envoi-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, folder / token)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return token


def load_upload(*, contract, token: str) -> bytes | None:
    """Le contenu rangé sous ``token`` pour ``contract``, ou None (jeton malformé ou fichier absent)."""
    if not TOKEN_RE.match(token or ""):
        return None
    path = _folder(contract) / token
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def discard_upload(*, contract, token: str) -> None:
    if TOKEN_RE.match(token or ""):
        (_folder(contract) / token).unlink(missing_ok=True)


def _purge(folder: Path) -> None:
    limit = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue
