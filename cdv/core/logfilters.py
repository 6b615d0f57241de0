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
        from cdv.core.security import SECRET_URL_KWARGS, SecurityMiddleware

        if status is not None and SecurityMiddleware.is_refusal(request, status):
            return False
        match = getattr(request, "resolver_match", None)
        secrets = [
            str(value)
            for name, value in (match.kwargs.items() if match is not None else ())
            if name in SECRET_URL_KWARGS and value
        ]
        if secrets:

            def masked(text):
                for secret in secrets:
                    text = text.replace(secret, "…")
                return text

            record.msg = masked(str(record.msg))
            record.args = tuple(masked(arg) if isinstance(arg, str) else arg for arg in record.args or ())
        return True
