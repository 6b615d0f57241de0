"""Cache des réponses publiques : une page vue par tous est calculée une fois par minute, pas à chaque visite.

Une réponse est gardée quand la vue l'a déclarée identique pour tout le monde
(``Cache-Control: public``, posé par :func:`public_page` ou par l'API pour ses réponses publiques),
qu'elle vaut 200, qu'elle ne pose aucun cookie et qu'elle a été demandée en GET ou HEAD par un
visiteur sans cookie de session ni message en attente, sans en-tête ``Authorization``. Elle est
resservie aux visiteurs suivants dans le même cas pendant ``CDV_PUBLIC_CACHE_SECONDS`` secondes
(60 par défaut, 0 : pas de cache), sans lire la session ni la base.
Les personnes connectées ne passent jamais par ce cache : elles voient toujours l'état présent, et
ce qu'elles seules peuvent voir n'y entre pas.

Fraîcheur : toute écriture réussie faite par le site ou l'API (une requête POST, PUT, PATCH ou
DELETE d'une personne connectée ou munie d'un jeton, qui répond moins de 400) change la
« génération » du cache, qui fait partie de chaque clé : le public voit la modification dès la
requête suivante. Ce qui écrit hors du site (commandes
d'import, ``load_demo_data``…) apparaît au plus tard après ``CDV_PUBLIC_CACHE_SECONDS``. Pour que
la génération soit commune à tous les processus de gunicorn, le cache doit être partagé : c'est le
cas du cache sur fichiers des réglages de production (``CDV_CACHE_DIR``, une machine) et de Redis
(``REDIS_URL``, tous les serveurs : tests/core/test_shared_cache.py).

La clé tient compte du schéma et de l'hôte demandés (``Host``, parmi ``ALLOWED_HOSTS`` : des liens
absolus vers un hôte ne sont pas servis à un autre), du chemin, de la chaîne de requête et de
l'en-tête ``HX-Request`` (un fragment htmx n'est pas la page entière). Une réponse servie du
cache porte ``X-Cache: hit``.
"""

import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

GENERATION_KEY = "cdv:public-cache:generation"
SAFE_METHODS = {"GET", "HEAD"}
# En-têtes d'une réponse gardés avec elle (les autres sont reposés par les middlewares).
KEPT_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Content-Language", "Vary")


def ttl() -> int:
    return int(getattr(settings, "CDV_PUBLIC_CACHE_SECONDS", 60))


def public_page(view):
    """Décore une vue dont la réponse ne dépend que de l'URL pour une personne non connectée.

    La réponse porte alors ``Cache-Control: public, max-age=…`` (navigateurs et mandataires peuvent
    la garder aussi) et entre dans le cache des pages publiques ; pour une personne connectée elle
    est ``private`` et n'y entre pas.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.has_header("Cache-Control"):
            return response
        if request.user.is_authenticated:
            patch_cache_control(response, private=True)
        elif response.status_code == 200:
            patch_cache_control(response, public=True, max_age=ttl())
        return response

    return wrapper


def bump_generation() -> None:
    """Rend périmées toutes les réponses publiques gardées."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def _generation() -> str:
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        # add : deux processus qui démarrent ensemble gardent la même génération.
        cache.add(GENERATION_KEY, value, None)
        value = cache.get(GENERATION_KEY, value)
    return value


def _key(request) -> str:
    # Schéma et hôte : une page qui contient des liens absolus vers un hôte n'est pas servie à un autre.
    origin = f"{request.scheme}://{request.get_host()}"
    path = request.get_full_path()
    htmx = "1" if request.headers.get("HX-Request") else "0"
    digest = hashlib.sha256(f"{htmx}|{origin}|{path}".encode()).hexdigest()
    return f"cdv:public-cache:{_generation()}:{digest}"


class PublicPageCacheMiddleware:
    """Sert et garde les réponses publiques (voir le module).

    À placer après les middlewares qui posent des en-têtes de sécurité (``X-Frame-Options``…) :
    une réponse servie du cache repasse par eux.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = ttl()
        if request.method not in SAFE_METHODS:
            response = self.get_response(request)
            if seconds and response.status_code < 400 and self._identified(request):
                bump_generation()
            return response
        if not seconds or not self._anonymous(request):
            return self.get_response(request)
        key = _key(request)
        stored = cache.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Cache"] = "hit"
            if response.has_header("ETag"):  # If-None-Match : 304 sans corps, comme la vue
                return get_conditional_response(request, etag=response["ETag"], response=response)
            return response
        response = self.get_response(request)
        if self._storable(response):
            headers = [(name, response[name]) for name in KEPT_HEADERS if response.has_header(name)]
            cache.set(key, (response.content, headers), seconds)
            response["X-Cache"] = "miss"
        return response

    @staticmethod
    def _identified(request) -> bool:
        """Seules les personnes connectées (ou munies d'un jeton) écrivent : un envoi anonyme renvoyé
        vers la connexion, ou refusé, ne rend rien périmé."""
        user = getattr(request, "user", None)
        return "Authorization" in request.headers or bool(user is not None and user.is_authenticated)

    @staticmethod
    def _anonymous(request) -> bool:
        """Sans cookie de session ni de messages, ni jeton : personne de connecté, rien en attente.

        Décidé sur les cookies, sans lire la session : un visiteur ne coûte aucune requête SQL.
        """
        cookies = request.COOKIES
        return not (
            "Authorization" in request.headers
            or settings.SESSION_COOKIE_NAME in cookies
            or "messages" in cookies
        )

    @staticmethod
    def _storable(response) -> bool:
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        control = response.get("Cache-Control", "")
        directives = {part.strip().split("=")[0] for part in control.lower().split(",")}
        return "public" in directives and not directives & {"private", "no-store", "no-cache"}
