"""Réglages de production : clé secrète, hôtes et base viennent de l'environnement.

Variables : SECRET_KEY (obligatoire), ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, DATABASE_URL,
SECURE_HSTS_SECONDS (défaut 31536000), SECURE_SSL_REDIRECT (défaut vrai), EMAIL_URL… ;
voir docs/operations.md.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, REDIS_CACHE, REDIS_URL, SECRET_KEY, env_bool

DEBUG = False
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY doit être définie dans l'environnement (au moins 50 caractères aléatoires)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Cache partagé par les processus de gunicorn d'une même machine (pages publiques, carte SVG, limites
# de l'API) : un répertoire local, créé au besoin. Plusieurs machines : un cache commun (Redis…).
CACHES = {
    "default": REDIS_CACHE
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("CDV_CACHE_DIR", str(BASE_DIR / "var" / "cache")),
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}
