"""CORS : les ressources publiques en lecture se lisent depuis un autre site (carte, tableau de bord).

Reçoivent ``Access-Control-Allow-Origin: *``, sans ``Access-Control-Allow-Credentials`` :

- les GET et HEAD de l'API (``/api/v1/…``), toutes des lectures publiques pour qui n'est pas
  identifié ;
- les fichiers de données ouvertes d'un contrat (``/contrats/<slug>/donnees/<ressource>.<format>``),
  dont ``datapackage.json``, les contours de la carte (``/contrats/<slug>/carte.geojson``),
  l'agenda public (``agenda.ics``, pas l'adresse personnelle avec ``?cle=``) et le fil
  (``actualites.atom``).

Seulement pour un appel anonyme : sans en-tête ``Authorization`` ni session connectée (un
navigateur n'envoie de toute façon pas ses cookies à ``*``). Une requête de contrôle préalable
(``OPTIONS`` avec ``Access-Control-Request-Method: GET`` ou ``HEAD``) sur ces adresses reçoit
204 ; elle n'autorise ni autre méthode ni l'en-tête ``Authorization``, et les pages HTML, les
écritures et les appels identifiés ne reçoivent aucun en-tête CORS. Même réponse avec ou sans
``Origin`` : un cache partagé peut la resservir à tous.
"""

import re

from django.http import HttpResponse

READ_METHODS = {"GET", "HEAD"}
PUBLIC_PATHS = re.compile(
    r"^/(?:api/v1/.*"
    r"|contrats/[-\w]+/donnees/[-\w]+\.[a-z]+"
    r"|contrats/[-\w]+/carte\.geojson"
    r"|contrats/[-\w]+/(?:agenda\.ics|actualites\.atom))$"
)
ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = ("accept", "accept-language", "content-language", "if-none-match", "if-modified-since")
EXPOSE_HEADERS = "ETag, Content-Disposition, Content-Language, Retry-After"
MAX_AGE = "86400"


def is_public_read_path(path: str) -> bool:
    return bool(PUBLIC_PATHS.match(path))


def _anonymous(request) -> bool:
    if request.headers.get("Authorization") or request.GET.get("cle"):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def _preflight_allowed(request) -> bool:
    method = request.headers.get("Access-Control-Request-Method", "").upper()
    if method not in READ_METHODS:
        return False
    asked = request.headers.get("Access-Control-Request-Headers", "")
    names = {name.strip().lower() for name in asked.split(",") if name.strip()}
    return names <= set(ALLOW_HEADERS)


class PublicCorsMiddleware:
    """À placer après ``AuthenticationMiddleware`` et avant le cache des pages publiques, pour que
    les réponses resservies du cache reçoivent aussi l'en-tête."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_public_read_path(request.path_info):
            return self.get_response(request)
        if request.method == "OPTIONS" and "Origin" in request.headers:
            if not _preflight_allowed(request):
                return self.get_response(request)
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response["Access-Control-Allow-Headers"] = ", ".join(ALLOW_HEADERS)
            response["Access-Control-Max-Age"] = MAX_AGE
            return response
        response = self.get_response(request)
        if request.method in READ_METHODS and _anonymous(request):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
