"""Réglages communs. Tout ce qui dépend du déploiement vient de l'environnement."""

import importlib.util
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import xstatic.pkg.leaflet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Gabarits et fichiers de Swagger UI fournis par django-ninja, servis par nous (pas de CDN) : le
# paquet est trouvé sans être importé. « ninja » n'est pas dans INSTALLED_APPS : l'y mettre le
# chargerait (pydantic compris, 0,1 s) au démarrage de chaque commande ; cdv/api/urls.py rend la
# page de documentation avec ces gabarits (LocalSwagger).
NINJA_DIR = Path(importlib.util.find_spec("ninja").submodule_search_locations[0])


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Aucun script ne lit le cookie CSRF (le jeton est dans chaque formulaire ; ni htmx ni la doc de
# l'API ne le prennent dans document.cookie) : il reste hors de portée de JavaScript.
CSRF_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "simple_history",
    "cdv.core.thirdparty.AxesConfig",  # django-axes, nommé en français
    "mozilla_django_oidc",
    "csp",
    "django_tasks",
    "cdv.core.thirdparty.TasksDatabaseConfig",  # django-tasks-db, nommé en français
    "cdv.core",  # commandes backup et restore ; aucun modèle
    "cdv.users",
    "cdv.territories",
    "cdv.partners",
    "cdv.contracts",
    "cdv.plan",
    "cdv.commitments",
    "cdv.indicators",
    "cdv.monitoring",
    "cdv.evaluation",
    "cdv.grants",
    "cdv.notifications",
    "cdv.www",
    "cdv.api",
    "cdv.georef",
    "cdv.seed",  # démonstration et jeu synthétique ; dépend de toutes les applications
]

MIDDLEWARE = [
    "cdv.core.middleware.ServerTimingMiddleware",  # en tête : mesure toute la requête
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions de Django, prolongées au plus une fois par minute (cdv/core/sessions.py).
    "cdv.core.sessions.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # CORS des lectures publiques (API, données ouvertes) ; avant le cache des pages publiques.
    "cdv.core.cors.PublicCorsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Pages publiques servies du cache aux visiteurs (cdv/core/pagecache.py) ; après les en-têtes
    # de sécurité, qu'une réponse gardée reçoit aussi.
    "cdv.core.pagecache.PublicPageCacheMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Liens absolus des notifications vers le site servi (cdv/notifications/middleware.py).
    "cdv.notifications.middleware.CurrentRequestMiddleware",
    # Journal de sécurité (refus 403/404 des espaces protégés) et second facteur imposé aux pilotes.
    "cdv.core.security.SecurityMiddleware",
    # En dernier : verrouille un compte après trop d'échecs de connexion.
    "axes.middleware.AxesMiddleware",
    # Pages 404 et 500 en français même avec DEBUG (cdv/core/errorpages.py) ; voit les exceptions
    # des vues en premier.
    "cdv.core.errorpages.FrenchErrorPagesMiddleware",
]
# Avec DEBUG, les pages d'erreur techniques de Django (en anglais, avec la trace) seulement sur demande.
TECHNICAL_ERROR_PAGES = env_bool("TECHNICAL_ERROR_PAGES", False)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cdv" / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cdv.users.context_processors.account_rights",
            ],
            # « pluralize » et « date » à la française (0 et 1 au singulier, « 1er janvier »).
            "builtins": ["cdv.www.templatetags.french"],
        },
    },
]


def database_from_env():
    """SQLite par défaut (aucune installation), PostgreSQL via DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=0 if url.startswith("sqlite") else 60)
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        # WAL, attente sur verrou et transactions IMMEDIATE : plusieurs rédacteurs
        # simultanés ne reçoivent pas « database is locked » (Django ≥ 5.1).
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_URL : moteur non pris en charge ({engine}). Utilisez sqlite:// ou postgres://."
        )
    return config


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "www:login"
LOGIN_REDIRECT_URL = "www:my_space"
LOGOUT_REDIRECT_URL = "www:home"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Limitation des tentatives de connexion (django-axes) : 5 échecs pour un même couple
# adresse + IP verrouillent 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_MINUTES", "15")) / 60  # en heures
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # le formulaire de connexion nomme ainsi le champ courriel
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
# Mandataires de confiance devant Django (nginx, répartiteur…) : l'adresse du client est celle que
# le premier a ajoutée à X-Forwarded-For ; 0 (défaut) : l'en-tête est ignoré (cdv/core/clientip.py).
# Une seule règle pour django-axes, le journal de sécurité et les limites d'appels. AXES_PROXY_COUNT
# (ancien nom) est encore lu.
CDV_TRUSTED_PROXY_COUNT = int(
    os.environ.get("CDV_TRUSTED_PROXY_COUNT") or os.environ.get("AXES_PROXY_COUNT") or "0"
)
AXES_CLIENT_IP_CALLABLE = "cdv.core.clientip.client_ip"

# Session : expire après SESSION_IDLE_MINUTES d'inactivité (défaut 2 h). L'activité la prolonge, au
# plus une fois par SESSION_RENEW_SECONDS (une écriture par minute, pas par requête :
# cdv/core/sessions.py).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "120")) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Second facteur (TOTP, application d'authentification) : facultatif, ou imposé aux pilotes.
REQUIRE_2FA_FOR_PILOTS = env_bool("REQUIRE_2FA_FOR_PILOTS", False)
TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "Contrat de ville")

# ProConnect (OpenID Connect) pour les agents publics, facultatif.
OIDC_ENABLED = env_bool("PROCONNECT_ENABLED", False)
PROCONNECT_BASE_URL = os.environ.get("PROCONNECT_BASE_URL", "").rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("PROCONNECT_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("PROCONNECT_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{PROCONNECT_BASE_URL}/authorize"
OIDC_OP_TOKEN_ENDPOINT = f"{PROCONNECT_BASE_URL}/token"
OIDC_OP_USER_ENDPOINT = f"{PROCONNECT_BASE_URL}/userinfo"
OIDC_OP_JWKS_ENDPOINT = f"{PROCONNECT_BASE_URL}/jwks"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email given_name usual_name"
OIDC_CREATE_USER = False  # seules les personnes invitées se connectent
OIDC_TIMEOUT = 10
# Niveaux ProConnect (claim « acr » de l'ID token) qui attestent une authentification à plusieurs
# facteurs chez le fournisseur d'identité (documentation ProConnect « Forcer la double
# authentification ») : avec l'un d'eux (ou un claim « amr » qui contient « mfa »), la connexion
# ProConnect ne redemande pas le code de l'application d'authentification ; sinon, une personne
# qui a activé ce second facteur le saisit comme après un mot de passe (voir docs/security.md).
# Liste séparée par des virgules ; vide : le code est toujours demandé.
PROCONNECT_MFA_ACR_VALUES = env_list(
    "PROCONNECT_MFA_ACR_VALUES",
    "eidas2,eidas3,"
    "https://proconnect.gouv.fr/assurance/self-asserted-2fa,"
    "https://proconnect.gouv.fr/assurance/consistency-checked-2fa",
)
LOGIN_REDIRECT_URL_FAILURE = "/connexion/?proconnect=echec"
if OIDC_ENABLED:
    if not (PROCONNECT_BASE_URL and OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
        raise ImproperlyConfigured(
            "PROCONNECT_ENABLED demande PROCONNECT_BASE_URL, PROCONNECT_CLIENT_ID "
            "et PROCONNECT_CLIENT_SECRET."
        )
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "cdv.users.oidc.ProConnectBackend"]

# En-têtes de sécurité de chaque réponse (voir docs/security.md). La politique de contenu
# (django-csp) interdit tout script et tout style en ligne : scripts et feuilles de style viennent
# de nos fichiers statiques ; aucun CDN.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_form_action = ["'self'"]
if OIDC_ENABLED:
    # La connexion ProConnect est un lien (GET) puis des redirections vers le fournisseur ; son
    # origine est tout de même admise comme cible de formulaire, au cas où un navigateur appliquerait
    # form-action à une redirection qui suit un formulaire.
    _form_action.append("{0.scheme}://{0.netloc}".format(urlsplit(PROCONNECT_BASE_URL)))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": _form_action,
    }
}

# Invitations et réinitialisation de mot de passe.
INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", "14"))
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # 24 h
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "contrat-de-ville@localhost")
# Courriel : console par défaut, SMTP si EMAIL_HOST est défini.
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif os.environ.get("EMAIL_FILE_PATH"):
    # Un fichier par courriel dans ce dossier (recette, tests navigateur) : rien ne part.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Adresse publique de la plateforme, pour les liens envoyés par courriel.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Leaflet (carte publique) vient du paquet Python XStatic-Leaflet : servi par nous, aucun CDN.
STATICFILES_DIRS = [
    BASE_DIR / "cdv" / "static",
    ("leaflet", xstatic.pkg.leaflet.BASE_DIR),
    NINJA_DIR / "static",  # static/ninja/… : Swagger UI
]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))


def default_storage_from_env():
    """Où vont les fichiers téléversés et produits : le disque local (MEDIA_ROOT), ou un stockage
    objet compatible S3 quand AWS_STORAGE_BUCKET_NAME est définie (noms de variables de
    django-storages : AWS_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_S3_REGION_NAME). Les fichiers y restent privés (aucune ACL publique, pas d'URL signée
    donnée aux navigateurs) : ils sont téléchargés à travers la plateforme et ses contrôles d'accès.
    """
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return s3_storage(bucket)


def s3_storage(bucket):
    """Un seau compatible S3 (privé, sans ACL ; URL signées de 60 s seulement pour l'administration)."""
    options = {
        "bucket_name": bucket,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        # Un objet lu par storage.open() passe sur un fichier temporaire au-delà de 5 Mo (jamais
        # entier en mémoire) ; les gros fichiers passent par cdv.core.filestore (lecture au fil de l'eau).
        "max_memory_size": 5 * 1024 * 1024,
        "location": os.environ.get("AWS_LOCATION", ""),
    }
    for option, variable in (
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
        ("access_key", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "AWS_SECRET_ACCESS_KEY"),
        ("region_name", "AWS_S3_REGION_NAME"),
    ):
        if os.environ.get(variable):
            options[option] = os.environ[variable]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def backup_storage_from_env():
    """Où « manage.py backup --stockage » range ses archives : un seau à part (BACKUP_BUCKET_NAME,
    mêmes accès que le stockage objet), jamais celui des fichiers qu'elles sauvegardent ; sinon le
    dossier BACKUP_DIR (défaut var/sauvegardes)."""
    bucket = os.environ.get("BACKUP_BUCKET_NAME", "").strip()
    if not bucket:
        location = os.environ.get("BACKUP_DIR", str(BASE_DIR / "var" / "sauvegardes"))
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location, "base_url": None},
        }
    storage = s3_storage(bucket)
    storage["OPTIONS"]["location"] = ""
    return storage


STORAGES = {
    "default": default_storage_from_env(),
    "backups": backup_storage_from_env(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Cache : en mémoire du processus en développement ; sur fichiers en production (partagé par les
# processus de gunicorn, voir production.py). Les pages publiques vues sans être connecté y sont
# gardées CDV_PUBLIC_CACHE_SECONDS secondes au plus (0 : jamais) ; toute écriture faite par le site
# ou l'API les rend aussitôt périmées (cdv/core/pagecache.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Plusieurs serveurs : REDIS_URL (redis://hôte:6379/0) donne un cache commun à tous (pages publiques
# et leur génération, limites de débit, carte) ; production.py comme dev.py le prennent alors.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
REDIS_CACHE = {
    # Le RedisCache de Django, qui se comporte comme un cache vide si Redis ne répond plus.
    "BACKEND": "cdv.core.rediscache.SharedRedisCache",
    "LOCATION": REDIS_URL,
    "TIMEOUT": 300,
    "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "cdv"),
    "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
}
if REDIS_URL:
    CACHES = {"default": REDIS_CACHE}
CDV_PUBLIC_CACHE_SECONDS = int(os.environ.get("CDV_PUBLIC_CACHE_SECONDS", "60"))

# En-tête Server-Timing (requêtes SQL, durées) pour tous : en développement (DEBUG) ou si ce réglage
# est vrai (banc d'essai) ; sinon seulement pour l'équipe et les super-utilisateurs (cdv/core/middleware.py).
CDV_SERVER_TIMING = env_bool("CDV_SERVER_TIMING", False)

# Le contrat affiché à l'accueil quand l'instance en héberge plusieurs.
DEFAULT_CONTRACT_SLUG = os.environ.get("DEFAULT_CONTRACT_SLUG", "nantes-metropole-2024-2030")

# Données de référence livrées avec le dépôt (voir data/SOURCES.md).
REFERENCE_DATA_DIR = Path(os.environ.get("REFERENCE_DATA_DIR", BASE_DIR / "data" / "reference"))

# Tâches de fond (django-tasks, rétroportage du cadre « Tasks » de Django 6) : file en base de
# données, exécutée par `manage.py db_worker` (voir docs/georef-web.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Géoréférencement (« Est-ce en QPV ? ») : géocodeur de la Base Adresse Nationale et traitements.
BAN_BASE_URL = os.environ.get("BAN_BASE_URL", "https://api-adresse.data.gouv.fr").rstrip("/")
BAN_TIMEOUT = float(os.environ.get("BAN_TIMEOUT", "60"))  # secondes par requête
BAN_BATCH_SIZE = int(os.environ.get("BAN_BATCH_SIZE", "2000"))  # adresses par requête CSV
BAN_RETRIES = int(os.environ.get("BAN_RETRIES", "4"))  # nouveaux essais après une erreur passagère
BAN_BACKOFF = float(os.environ.get("BAN_BACKOFF", "1"))  # première attente (s), doublée à chaque essai
GEOREF_MAX_UPLOAD_MB = int(os.environ.get("GEOREF_MAX_UPLOAD_MB", "50"))
GEOREF_RETENTION_DAYS = int(os.environ.get("GEOREF_RETENTION_DAYS", "7"))
GEOREF_API_ADDRESS_RATE = os.environ.get("GEOREF_API_ADDRESS_RATE", "30/m")  # par adresse IP
# Recherche d'une adresse sur la page /georeferencement/ (sans connexion) : par adresse IP.
GEOREF_WEB_ADDRESS_RATE = os.environ.get("GEOREF_WEB_ADDRESS_RATE", "20/m")
# Quand une personne attend la page : délai par requête au géocodeur, et budget total (essais compris).
BAN_INTERACTIVE_TIMEOUT = float(os.environ.get("BAN_INTERACTIVE_TIMEOUT", "3"))
BAN_INTERACTIVE_BUDGET = float(os.environ.get("BAN_INTERACTIVE_BUDGET", "6"))
# Index des contours des QPV gardé sur disque entre deux processus (commande georef, tâches) : un
# fichier par géographie et par état des contours, reconstruit dès qu'un contour change. Vide : pas
# de cache sur disque (l'index est construit à chaque démarrage, 0,25 s).
GEOREF_CACHE_DIR = os.environ.get("GEOREF_CACHE_DIR", str(BASE_DIR / "var" / "georef")) or None

# Données personnelles : durées de conservation appliquées par `manage.py purge_personal_data`
# (voir docs/rgpd.md ; fichiers de géoréférencement : GEOREF_RETENTION_DAYS). 0 désactive la règle.
RETENTION_INACTIVE_ACCOUNTS_DAYS = int(os.environ.get("RETENTION_INACTIVE_ACCOUNTS_DAYS", "1095"))  # 3 ans
RETENTION_LOGIN_LOGS_DAYS = int(os.environ.get("RETENTION_LOGIN_LOGS_DAYS", "365"))
RETENTION_INVITATIONS_DAYS = int(os.environ.get("RETENTION_INVITATIONS_DAYS", "90"))

# Évaluation : l'avis du conseil citoyen d'un quartier ne s'affiche (pages, API, rapports, évaluation
# adoptée) qu'à partir de ce nombre de réponses ; en dessous, « résultats masqués ».
EVALUATION_MIN_ANSWERS = max(1, int(os.environ.get("EVALUATION_MIN_ANSWERS", "5")))

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
NINJA_PAGINATION_PER_PAGE = 100
NINJA_PAGINATION_MAX_LIMIT = 2000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"requests": {"()": "cdv.core.logfilters.RequestLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Réponses 4xx et 5xx : sans les refus que cdv.security journalise déjà, jetons masqués.
        "django.request": {"filters": ["requests"]},
        "axes": {"level": "WARNING"},
        # WeasyPrint annonce chaque étape et chaque page d'un PDF (INFO) : 25 lignes par document dans
        # le journal et la sortie des commandes. Ses avertissements (CSS non reconnue…) restent.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Connexions, déconnexions, verrouillages et refus : identifiant de compte, jamais l'adresse.
        "cdv.security": {"level": "INFO"},
    },
}
