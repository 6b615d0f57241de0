"""Marqueurs de fichier « fait une fois » : une relance n'est envoyée qu'une fois par personne, même
si deux tâches planifiées tournent en même temps (création exclusive du fichier)."""

import os
from pathlib import Path

from django.utils import timezone


def claim_once(path: Path) -> bool:
    """Crée le marqueur s'il n'existe pas ; faux s'il existait déjà (acte déjà fait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as marker:
        marker.write(timezone.now().isoformat())
    return True
