"""Adresses absolues des liens envoyés par courriel.

Depuis une requête, le lien pointe vers le site réellement servi (hôte et port de la requête, déjà
vérifiés par ALLOWED_HOSTS) ; sans requête (commande, tâche de fond), vers ``SITE_URL``.
"""

from django.conf import settings


def absolute_url(path: str, request=None) -> str:
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL + path
