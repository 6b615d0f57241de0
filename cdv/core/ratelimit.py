"""Limite d'appels par adresse IP, en fenêtre fixe, dans le cache Django (partagé par les processus,
et par tous les serveurs avec ``REDIS_URL`` : le compte est commun et atomique, voir :func:`_count`).

``rate`` s'écrit « nombre/période » : ``30/m``, ``5/s``, ``1000/h``, ``10000/d``. L'adresse est
celle de :func:`cdv.core.clientip.client_ip` (jamais un ``X-Forwarded-For`` non vérifié).
"""

import time

from django.core.cache import cache

from .clientip import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERIOD_LABELS = {"s": "seconde", "m": "minute", "h": "heure", "d": "jour"}


def parse_rate(rate) -> tuple[int, int, str]:
    """(nombre, période en secondes, nom de la période) ; « 30/m » → (30, 60, « minute »)."""
    count, _, unit = str(rate).partition("/")
    unit = unit.strip().lower()[:1] or "m"
    return int(count), PERIODS.get(unit, 60), PERIOD_LABELS.get(unit, "minute")


def rate_limited(request, *, scope: str, rate) -> int | None:
    """Compte un appel ; secondes à attendre si la limite est dépassée, ``None`` si l'appel passe."""
    if not rate:
        return None
    count, period, _ = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"cdv-limite:{scope}:{client_ip(request) or 'inconnu'}:{window}"
    used = _count(key, period + 1)
    if used <= count:
        return None
    return max(1, int((window + 1) * period - now) + 1)


def _count(key: str, timeout: int) -> int:
    """Ajoute un appel au compteur ``key`` et rend le total.

    Seulement ``add`` (crée s'il n'existe pas) et ``incr`` : deux opérations atomiques sur un cache
    partagé par plusieurs serveurs (Redis : SET NX, INCR) ; jamais de lecture suivie d'une écriture,
    qui perdrait les appels comptés entre-temps par un autre serveur. Si le compteur disparaît entre
    les deux (éviction), on recommence sans écraser ce qu'un autre a compté ; un cache qui ne garde
    rien laisse passer l'appel.
    """
    for _ in range(3):
        if cache.add(key, 1, timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # évincé entre add et incr
            continue
    return 1
