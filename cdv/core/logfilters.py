"""Filtres du journal, posés par ``LOGGING`` (config/settings/base.py).

Chargé pendant la configuration du journal, avant les applications : rien d'autre ne s'importe ici
au chargement du module."""

import logging


class RequestLogFilter(logging.Filter):
    """Le journal ``django.request``, où Django écrit chaque réponse 4xx et 5xx.

    - Un refus que ``SecurityMiddleware`` journalise déjà (403 ; 404 d'une personne connectée ou
      d'une écriture), avec le compte, le chemin masqué et l'adresse tronquée, n'y est pas répété
      avec sa trace de pile.
    - Les jetons secrets d'un chemin (invitation, réinitialisation du mot de passe) y sont masqués,
      comme dans le journal de sécurité : « Not Found: /invitation/… ».
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        status = getattr(record, "status_code", None)
        if request is None:
            return True
        from cdv.core.security import SecurityMiddleware, without_secrets

        if status is not None and SecurityMiddleware.is_refusal(request, status):
            return False
        record.msg = without_secrets(request, str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(without_secrets(request, a) if isinstance(a, str) else a for a in record.args)
        return True
