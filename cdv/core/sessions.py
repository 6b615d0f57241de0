"""Sessions prolongées par l'activité, sans écriture à chaque requête.

Une session expire après ``SESSION_COOKIE_AGE`` secondes sans activité (``SESSION_IDLE_MINUTES``).
Django sait la prolonger à chaque requête (``SESSION_SAVE_EVERY_REQUEST``), mais c'est alors une
écriture en base et un nouveau cookie à chaque page vue, refus compris : la première source
d'écritures d'une instance chargée (docs/operations.md).

Ce middleware remplace celui de Django et ne prolonge la session que si elle ne l'a pas été depuis
``SESSION_RENEW_SECONDS`` secondes (60 par défaut) : au plus une écriture par minute et par
personne connectée. L'inactivité reste comptée à la minute près : la session expire entre
``SESSION_COOKIE_AGE - SESSION_RENEW_SECONDS`` et ``SESSION_COOKIE_AGE`` secondes après la dernière
requête. Une session modifiée par la requête (connexion, message…) est enregistrée comme avant, et
datée. Un visiteur sans session n'en reçoit pas.
"""

import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware

# Date (secondes depuis l'époque Unix) du dernier prolongement, gardée dans la session elle-même.
RENEWED_AT = "_cdv_renewed_at"


def now() -> int:
    return int(time.time())


class IdleSessionMiddleware(SessionMiddleware):
    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and response.status_code < 500 and not session.is_empty():
            renewed = session.get(RENEWED_AT)  # lit la session (un visiteur connecté l'a déjà lue)
            moment = now()
            due = (
                not isinstance(renewed, int)
                or not 0 <= moment - renewed < settings.SESSION_RENEW_SECONDS  # horloge reculée : prolonger
            )
            # Relue, une session périmée (cookie d'une session disparue) est vide : on n'en crée pas.
            if (due or session.modified) and not session.is_empty():
                session[RENEWED_AT] = moment
        return super().process_response(request, response)
