"""Réglages de la suite de tests (SQLite, ou PostgreSQL avec DATABASE_URL)."""

import hashlib
import os
import sys
from pathlib import Path

# Code compilé : si l'environnement interdit d'écrire les .pyc à côté des sources
# (PYTHONDONTWRITEBYTECODE), la suite les garde quand même, mais hors des sources, dans
# .pytest-db/pycache/ (ignoré par git) ; sans quoi chaque lancement recompile tout le projet et ce
# qu'il importe après ce module (≈ 0,8 s de processeur par fichier de tests lancé seul).
if sys.dont_write_bytecode:
    sys.pycache_prefix = str(Path(__file__).resolve().parents[2] / ".pytest-db" / "pycache")
    sys.dont_write_bytecode = False

from .dev import *  # noqa: F403
from .dev import BASE_DIR, DATABASES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Boîte en mémoire (mail.outbox), sauf pour les serveurs des tests navigateur, qui écrivent chaque
# courriel dans EMAIL_FILE_PATH pour que le test le lise.
if not os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tâches de fond exécutées sur-le-champ, dans le processus des tests.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Aucun test ne sort de la machine : un port fermé (les tests du géocodeur lancent un faux BAN).
BAN_BASE_URL = "http://127.0.0.1:9"
BAN_BACKOFF = 0.01
# Chaque test voit l'état présent de la base ; le cache des pages publiques a ses propres tests.
CDV_PUBLIC_CACHE_SECONDS = 0
# En-tête Server-Timing sur toutes les réponses (ses propres tests le coupent).
CDV_SERVER_TIMING = True
# L'index des contours est gardé sur disque à côté de la base gardée (.pytest-db/, ignoré par git) :
# un lancement le relit (quelques centièmes de seconde) au lieu de le construire (0,5 s) ; son empreinte
# suit les contours de la base. Les tests du moteur (tests/georef/test_georef_engine.py) le coupent
# et choisissent leur propre dossier pour les tests du cache.
GEOREF_CACHE_DIR = str(BASE_DIR / ".pytest-db" / "georef")
# Les tests de l'avis des conseils citoyens bâtissent une ou deux réponses ; le seuil (5 par défaut)
# a ses propres tests (tests/evaluation/test_council_visibility.py), qui le fixent eux-mêmes.
EVALUATION_MIN_ANSWERS = 1


def _test_database_key() -> str:
    """Empreinte de cette copie du dépôt et de ce qui décide du schéma (modèles, migrations, paquets).

    La suite garde sa base entre deux lancements (``--reuse-db``, créée depuis les modèles avec
    ``--nomigrations``) : un schéma modifié, ou une autre copie du dépôt, donne une autre base.
    """
    digest = hashlib.sha256(str(BASE_DIR).encode())
    for pattern in ("cdv/*/models.py", "cdv/*/models/*.py", "cdv/*/migrations/*.py", "requirements.txt"):
        for path in sorted(BASE_DIR.glob(pattern)):
            digest.update(str(path.relative_to(BASE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# SQLite : un fichier de .pytest-db/ (ignoré par git ; tests/conftest.py crée le dossier et efface les
# bases des schémas précédents) ; PostgreSQL : test_<base>_<empreinte>.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    TEST_DATABASE_NAME = str(BASE_DIR / ".pytest-db" / f"test-{_test_database_key()}.sqlite3")
else:
    TEST_DATABASE_NAME = f"test_{DATABASES['default']['NAME']}_{_test_database_key()}"
DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}

# SQLite : un cache de pages de 64 Mio au lieu de 2 (la base gardée en fait une dizaine). À la fin de
# chaque test, Django vérifie les clés étrangères de toute la base (PRAGMA foreign_key_check, les
# contraintes étant différées) : avec le cache par défaut, chaque vérification relit le fichier
# (≈ 2,8 ms de processeur, dont la moitié en appels système), avec celui-ci ≈ 1,1 ms.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"]["init_command"] += " PRAGMA cache_size=-65536;"
