"""L'adresse IP du client, la même pour django-axes, le journal de sécurité et les limites d'appels.

Derrière ``CDV_TRUSTED_PROXY_COUNT`` mandataires de confiance (nginx, répartiteur…), chacun ajoute
à droite de ``X-Forwarded-For`` l'adresse qui lui a parlé : l'adresse du client est donc la N-ième
en partant de la droite. Tout ce qui est plus à gauche a été écrit par le client et peut être
forgé ; c'est pourquoi on ne lit jamais l'en-tête en entier. Sans mandataire configuré (0, le
défaut), l'en-tête est ignoré et seule ``REMOTE_ADDR`` compte : un visiteur ne peut pas se faire
passer pour un autre, ni se donner une adresse neuve à chaque requête.
"""

import ipaddress

from django.conf import settings


def proxy_count() -> int:
    try:
        return max(0, int(getattr(settings, "CDV_TRUSTED_PROXY_COUNT", 0) or 0))
    except (TypeError, ValueError):
        return 0


def _valid(text: str) -> str | None:
    text = (text or "").strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """L'adresse du client telle que le premier mandataire de confiance l'a vue (voir le module)."""
    meta = getattr(request, "META", None) or {}
    remote = meta.get("REMOTE_ADDR") or None
    count = proxy_count()
    if not count:
        return remote
    forwarded = [part.strip() for part in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return remote  # requête arrivée sans passer par le mandataire (sonde locale…)
    # Moins d'adresses que de mandataires : la plus à gauche est celle que le premier a vue.
    return _valid(forwarded[-min(count, len(forwarded))]) or remote
