"""En-têtes de cache HTTP de l'API, posés une fois pour toutes les opérations (``install``).

- Réponse 200 à un GET anonyme : ``Cache-Control: public, max-age=300`` ; un cache partagé (proxy,
  CDN) peut la garder cinq minutes.
- Réponse à un appel authentifié (jeton ``Authorization`` ou session connectée), écriture, erreur :
  ``Cache-Control: private, no-store`` ; les données d'un partenaire ne finissent jamais dans un
  cache partagé.
- Toute réponse 200 à un GET porte un ``ETag`` fort (empreinte SHA-256 du corps) : un client qui
  renvoie cette valeur dans ``If-None-Match`` reçoit ``304 Not Modified`` sans corps.
- Toute réponse porte ``Vary: Authorization, Cookie``.

Le module protège aussi la base contre le caractère nul (U+0000), que PostgreSQL refuse dans une
chaîne : un paramètre qui en contient reçoit 422 avant d'atteindre une requête. Dans un corps JSON,
chaque champ déclaré le refuse (``cdv.api.fields.Body`` : 422 nommant le champ) ; un champ inconnu
est ignoré, contenu compris. Le document OpenAPI le déclare (``fields.declare_no_nul``).
"""

import hashlib
from functools import wraps

from django.http import JsonResponse
from django.utils.cache import get_conditional_response, patch_vary_headers

PUBLIC_MAX_AGE = 300
PUBLIC_CACHE_CONTROL = f"public, max-age={PUBLIC_MAX_AGE}"
PRIVATE_CACHE_CONTROL = "private, no-store"
VARY = ("Authorization", "Cookie")
CACHEABLE_METHODS = {"GET", "HEAD"}


def is_personal(request) -> bool:
    """L'appel porte-t-il une identité (jeton ou session connectée) ? Sa réponse est alors privée."""
    if request.headers.get("Authorization"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def strong_etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest() + '"'


def _has_nul(request, kwargs) -> bool:
    values = [*kwargs.values(), *request.GET.keys()]
    values += [v for _, vs in request.GET.lists() for v in vs]
    return any(isinstance(v, str) and "\x00" in v for v in values)


def apply_cache_headers(request, response):
    patch_vary_headers(response, VARY)
    cacheable = (
        request.method in CACHEABLE_METHODS
        and response.status_code == 200
        and not getattr(response, "streaming", False)
    )
    if not cacheable:
        response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL if is_personal(request) else PUBLIC_CACHE_CONTROL
    response["ETag"] = strong_etag(response.content)
    # 304 si If-None-Match cite cet ETag (Django recopie Cache-Control, ETag et Vary).
    return get_conditional_response(request, etag=response["ETag"], response=response)


def http_cache(run):
    """Décorateur d'opération django-ninja (mode « view ») : garde du caractère nul, puis en-têtes."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        if _has_nul(request, kwargs):
            response = JsonResponse(
                {"detail": "Requête invalide — le caractère nul (U+0000) n'est admis dans aucune valeur."},
                status=422,
            )
        else:
            response = run(request, *args, **kwargs)
        return apply_cache_headers(request, response)

    return wrapper


def install(api) -> None:
    api.add_decorator(http_cache, mode="view")
