"""Pages d'erreur 404 et 500 en français, même avec ``DEBUG`` (``make run``).

Sans ``DEBUG``, Django rend déjà nos gabarits ``404.html`` et ``500.html``. Avec ``DEBUG``, il
montrerait ses pages techniques en anglais (liste des URL, trace) : ce middleware les remplace par
les nôtres, et l'erreur 500 reste écrite avec sa trace dans la console (journal ``django.request``).
Un développeur qui veut les pages techniques de Django les demande explicitement :
``TECHNICAL_ERROR_PAGES=1`` (réglage du même nom).
"""

import logging
import sys

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponseServerError
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger("django.request")


def _active() -> bool:
    return settings.DEBUG and not getattr(settings, "TECHNICAL_ERROR_PAGES", False)


class FrenchErrorPagesMiddleware:
    """À placer en dernier dans MIDDLEWARE : il voit les exceptions des vues avant les autres."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Aucune URL ne correspond : Django a rendu sa page technique (la vue n'a jamais été appelée).
        if response.status_code == 404 and request.resolver_match is None and _active():
            return defaults.page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if not _active():
            return None
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, (PermissionDenied, BadRequest, SuspiciousOperation)):
            return None  # 403 (déjà notre page) et 400 : Django s'en charge
        logger.error(
            "Internal Server Error: %s", request.path, exc_info=sys.exc_info(), extra={"status_code": 500}
        )
        return HttpResponseServerError(render_to_string("500.html"))
