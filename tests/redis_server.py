"""Un vrai serveur Redis, lancé pour les tests sur 127.0.0.1 (port libre, rien d'écrit sur le disque).

``redis-server`` vient du paquet Debian (la CI l'installe, .ci/run). Absent : les tests qui en ont
besoin sont sautés, sauf avec ``CDV_REQUIRE_REDIS=1`` (la CI), où ils échouent.
"""

import os
import shutil
import socket
import subprocess
import time

import pytest


def required() -> bool:
    return os.environ.get("CDV_REQUIRE_REDIS", "").strip().lower() in {"1", "true", "yes", "oui", "on"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """``with RedisServer() as redis:`` → ``redis.url`` (``redis://127.0.0.1:<port>/0``)."""

    def __init__(self):
        self.process = None
        self.port = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            reason = "redis-server absent (paquet Debian redis-server ; la CI l'installe)"
            if required():
                pytest.fail(f"{reason} ; obligatoire avec CDV_REQUIRE_REDIS=1.")
            pytest.skip(reason)
        for _attempt in range(3):  # un port libre peut être pris entre-temps par un autre programme
            self.port = _free_port()
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                if _answers(self.port):
                    return self
                time.sleep(0.05)
            self._stop()
        pytest.fail("redis-server n'a pas démarré")

    def _stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __exit__(self, *exc):
        self._stop()
