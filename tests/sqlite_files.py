"""Copier la base SQLite de la session de tests dans un fichier, pour un sous-processus.

Le test tourne dans une transaction : l'API de sauvegarde de SQLite y attendrait sans fin ;
``iterdump`` (schéma tel quel, puis chaque ligne) lit simplement la base, y compris ce que le test
vient d'y ajouter.
"""

import sqlite3
from pathlib import Path

from django.db import connection


def copy_session_database(target: Path) -> Path:
    connection.ensure_connection()
    script = "\n".join(connection.connection.iterdump())
    destination = sqlite3.connect(target)
    try:
        destination.executescript(script)
    finally:
        destination.close()
    return target
