"""Ce que partagent les bancs qui chargent un serveur (pages.py, load.py) : un gunicorn lancé et
arrêté par le script, un port libre, le centile des latences, la description de la machine."""

import http.client
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Une clé par lancement du banc, partagée par ses processus (serveurs et commandes).
SECRET = secrets.token_urlsafe(64)


def production_env(database_url: str, workdir: Path, **extra: str) -> dict:
    """L'environnement d'un processus Django du banc : réglages de production, sans HTTPS (serveur
    local), base ``database_url``, fichiers statiques, cache et fichiers déposés sous ``workdir``."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        DEBUG="0",
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
        STATIC_ROOT=str(workdir / "staticfiles"),
        MEDIA_ROOT=str(workdir / "media"),
        CDV_CACHE_DIR=str(workdir / "cache"),
        CDV_SERVER_TIMING="1",  # le banc relève le nombre de requêtes de chaque page
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", "/", headers={"Host": "127.0.0.1"})
        connection.getresponse().read()
        return True
    finally:
        connection.close()


class Server:
    """Un gunicorn (workers synchrones) lancé par le script, prêt quand « / » répond, arrêté par
    son identifiant de processus."""

    def __init__(self, app: str, env: dict, workers: int, log: Path, pythonpath: Path = ROOT):
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--timeout=120",
            f"--pythonpath={pythonpath}",
            f"--error-logfile={log}",
            "--log-level=warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn s'est arrêté au démarrage (voir {log}).")
            try:
                _answers(self.port)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn ne répond pas après 60 s.")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def percentile(values: list[float], p: float) -> float | None:
    """Centile ``p`` d'une liste triée (rang le plus proche), None si elle est vide."""
    if not values:
        return None
    rank = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[rank]


def machine() -> str:
    memory = ""
    try:
        kib = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 1024 / 1024:.0f} Gio"
    except (OSError, StopIteration, ValueError):
        pass
    import gunicorn

    return (
        f"{os.cpu_count()} cœurs{memory}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, gunicorn {gunicorn.__version__}"
    )
