"""Réglages de la suite de tests (SQLite, ou PostgreSQL avec DATABASE_URL)."""

import os

from .dev import *  # noqa: F403

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
# L'index des contours n'est pas gardé sur disque (pas d'écriture dans le dépôt) ; les tests du cache
# de l'index choisissent leur propre dossier.
GEOREF_CACHE_DIR = None
# Les tests de l'avis des conseils citoyens bâtissent une ou deux réponses ; le seuil (5 par défaut)
# a ses propres tests (tests/test_council_visibility.py), qui le fixent eux-mêmes.
EVALUATION_MIN_ANSWERS = 1
