"""Le site servi par la requête en cours, pour les liens des notifications envoyées par courriel.

Les services métier ne reçoivent pas la requête ; ce middleware la garde le temps de la réponse
(variable de contexte, propre à chaque requête) pour que ``cdv.core.links.absolute_url`` fasse
pointer les liens vers l'hôte réellement servi (déjà vérifié par ALLOWED_HOSTS). Hors requête
(commande, cron), les liens pointent vers ``SITE_URL``.
"""

from contextvars import ContextVar

current_request: ContextVar = ContextVar("cdv_current_request", default=None)


class CurrentRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
