"""Réglage gunicorn des nœuds du test de grappe : chaque worker meurt avec son maître (un maître tué
par SIGKILL ne laisse pas ses workers servir encore une demi-minute)."""

from tests.cluster.harness import _die_with_parent


def post_fork(server, worker):
    _die_with_parent()
