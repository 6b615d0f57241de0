"""Réglages de développement : `make run` les utilise."""

import os

from .base import *  # noqa: F403
from .base import backup_storage_from_env, default_storage_from_env, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-change-me-in-production"
STORAGES = {
    "default": default_storage_from_env(),
    "backups": backup_storage_from_env(),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# En développement, runserver sert les fichiers statiques ; WhiteNoise ne sert qu'en production.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
