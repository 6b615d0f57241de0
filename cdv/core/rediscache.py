"""Le cache commun à plusieurs serveurs (``REDIS_URL``) : le ``RedisCache`` de Django, qui ne fait pas
tomber le site quand Redis ne répond plus.

Redis ne garde ici que ce qui se recalcule (pages publiques et leur génération, carte SVG,
compteurs des limites d'appels). Arrêté ou injoignable, il se comporte comme un cache vide : une
lecture ne trouve rien, une écriture est oubliée, un compteur vaut 1 (l'appel passe), et un
avertissement part au journal. Pour que chaque requête ne paie pas le délai de connexion, cette
connexion au cache cesse d'interroger Redis pendant ``PAUSE_SECONDS`` après une panne, puis
réessaie. Une erreur qui n'est pas une panne (commande refusée…) n'est pas cachée.

Une écriture faite pendant la panne ne change pas la génération : les pages gardées avant la panne
peuvent être resservies, au plus ``CDV_PUBLIC_CACHE_SECONDS`` secondes, au retour de Redis.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 10


class ForgivingRedisCacheClient(RedisCacheClient):
    paused_until = 0.0

    def _call(self, name, fallback, *args):
        if time.monotonic() < self.paused_until:
            return fallback
        try:
            return getattr(super(), name)(*args)
        except (self._lib.exceptions.ConnectionError, self._lib.exceptions.TimeoutError) as error:
            self.paused_until = time.monotonic() + PAUSE_SECONDS
            logger.warning(
                "Redis ne répond pas (%s) : cache vide pendant %s s, le site continue sans lui.",
                error,
                PAUSE_SECONDS,
            )
            return fallback

    def add(self, key, value, timeout):
        return self._call("add", False, key, value, timeout)

    def get(self, key, default):
        return self._call("get", default, key, default)

    def set(self, key, value, timeout):
        return self._call("set", None, key, value, timeout)

    def touch(self, key, timeout):
        return self._call("touch", False, key, timeout)

    def delete(self, key):
        return self._call("delete", False, key)

    def get_many(self, keys):
        return self._call("get_many", {}, keys)

    def has_key(self, key):
        return self._call("has_key", False, key)

    def incr(self, key, delta):
        return self._call("incr", delta, key, delta)

    def set_many(self, data, timeout):
        return self._call("set_many", None, data, timeout)

    def delete_many(self, keys):
        return self._call("delete_many", None, keys)

    def clear(self):
        return self._call("clear", False)


class SharedRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache``, sans panne visible (voir le module)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ForgivingRedisCacheClient
