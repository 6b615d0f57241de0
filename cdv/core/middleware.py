"""En-tête ``Server-Timing`` : temps passé en base, nombre de requêtes SQL et durée de chaque réponse.

Exemple : ``Server-Timing: db;dur=3.4;desc="12 requetes SQL", app;dur=18.9``. Les durées sont en
millisecondes (syntaxe W3C Server Timing : ``nom;dur=…;desc="…"``, métriques séparées par des
virgules ; description en ASCII, sans accent, comme tout en-tête HTTP). ``app`` est la durée
totale de la requête dans Django, base comprise. Les outils de développement des navigateurs
l'affichent dans l'onglet « Réseau », et le banc d'essai ``bench/pages.py`` le relève.

Le comptage passe par ``connection.execute_wrapper`` : il marche avec ``DEBUG`` désactivé et ne
garde aucune requête en mémoire. À placer en tête de ``MIDDLEWARE`` pour mesurer toute la requête
(sessions et authentification comprises). ``db`` mesure l'exécution des requêtes (``execute``) :
sous SQLite, une requête qui renvoie beaucoup de lignes s'exécute en partie pendant leur lecture,
qui n'est pas comptée ; ``app`` la contient.

Réponse en flux (``StreamingHttpResponse``) : l'en-tête part avant le contenu, il ne compte donc
que ce qui précède le premier octet (``desc="avant le flux"`` sur ``app``) ; le flux lui-même est
rendu tel quel, sans être lu ni mis en mémoire.

Qui le reçoit : tout le monde si ``DEBUG`` ou ``CDV_SERVER_TIMING`` (banc d'essai) ; sinon seulement
les membres de l'équipe (``is_staff``) et les super-utilisateurs. Jamais un visiteur en production :
le nombre de requêtes lui dirait si un objet caché existe (une 404 ne coûte pas autant de requêtes
qu'une page refusée après lecture de l'objet).
"""

import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connections


class QueryTimer:
    """Enveloppe d'exécution SQL : compte les requêtes et additionne leur durée."""

    __slots__ = ("count", "seconds")

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def server_timing_value(*, db_ms: float, queries: int, app_ms: float, streaming: bool = False) -> str:
    label = f"{queries} requete{'s' if queries > 1 else ''} SQL"  # en-tête HTTP : ASCII seulement
    app = f"app;dur={app_ms:.1f}"
    if streaming:
        app += ';desc="avant le flux"'
    return f'db;dur={db_ms:.1f};desc="{label}", {app}'


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timer = QueryTimer()
        started = time.perf_counter()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(timer))
            response = self.get_response(request)
        value = server_timing_value(
            db_ms=timer.seconds * 1000,
            queries=timer.count,
            app_ms=(time.perf_counter() - started) * 1000,
            streaming=response.streaming,
        )
        if not self.shown_to(request):
            return response
        existing = response.headers.get("Server-Timing")
        response.headers["Server-Timing"] = f"{existing}, {value}" if existing else value
        return response

    @staticmethod
    def shown_to(request) -> bool:
        if settings.DEBUG or getattr(settings, "CDV_SERVER_TIMING", False):
            return True
        user = getattr(request, "user", None)  # sans cookie de session : aucune requête SQL
        return bool(user is not None and user.is_authenticated and (user.is_staff or user.is_superuser))
