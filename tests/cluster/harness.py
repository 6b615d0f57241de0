"""La grappe du test (tests/cluster) : PostgreSQL, Redis, un stockage S3 local (moto), puis deux
serveurs d'application (gunicorn, réglages de production) et deux exécuteurs de tâches
(``manage.py db_worker``), tous sur 127.0.0.1, chacun sur son port libre.

Chaque nœud (A, B) a son dossier de travail, son MEDIA_ROOT, son CDV_CACHE_DIR et sa boîte
d'envoi de courriels (EMAIL_FILE_PATH) : ce qui resterait sur le disque local d'un nœud se voit
comme un échec sur l'autre. Les fichiers statiques sont rassemblés une fois (``collectstatic``),
comme dans une image de déploiement, et servis par chaque nœud (WhiteNoise).

PostgreSQL : ``CDV_CLUSTER_PG_URL`` (adresse d'un serveur existant, ex.
``postgres://postgres@127.0.0.1:54329/postgres``) : une base neuve y est créée puis effacée ; sans
elle, un serveur PostgreSQL jetable est lancé (``initdb`` dans un dossier temporaire ; en root,
sous le compte ``postgres``). Chaque processus lancé meurt avec le processus des tests
(PR_SET_PDEATHSIG), même s'il est tué ; ``Cluster.stop`` arrête tout, dans l'ordre inverse.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
HOST = "127.0.0.1"
BUCKET = "cdv-grappe"
# Ce que le répartiteur de charge ajoute à chaque requête : la plateforme est servie en HTTPS.
FORWARDED = {"X-Forwarded-Proto": "https", "Host": HOST}
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Dans le processus fils, avant exec : SIGKILL quand le processus des tests disparaît."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Process:
    """Un processus lancé par la grappe, dans son propre groupe, journal dans un fichier."""

    def __init__(self, name: str, command: list[str], *, env: dict, cwd: Path, log: Path, user=None):
        self.name, self.command, self.log = name, command, log
        self.handle = open(log, "ab")  # fermé par stop()
        self.popen = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM au groupe (maître et ses fils), SIGKILL s'il traîne."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # les fils restés (workers de gunicorn), s'il y en a
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self.handle.close()


def wait_for(check, what: str, process: Process | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{what} : le processus s'est arrêté.\n{process.tail()}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} : pas prêt après {timeout} s.\n{process.tail() if process else ''}")


def retrying(start, attempts: int = 3) -> None:
    """Lance un service sur un port libre ; recommence sur un autre si un processus voisin a pris le
    port entre-temps (le service s'arrête aussitôt)."""
    for attempt in range(attempts):
        try:
            return start()
        except RuntimeError:
            if attempt == attempts - 1:
                raise


def _port_open(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=1):
        return True


def _http_ok(url: str, headers: dict | None = None) -> bool:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500


@dataclass
class Node:
    """Un nœud de la grappe : son environnement, son serveur gunicorn et son exécuteur de tâches."""

    name: str
    workdir: Path
    env: dict
    port: int = 0
    server: Process | None = None
    worker: Process | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def media_root(self) -> Path:
        return Path(self.env["MEDIA_ROOT"])

    @property
    def mail_dir(self) -> Path:
        return Path(self.env["EMAIL_FILE_PATH"])

    def manage(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        """Une commande ``manage.py`` lancée sur ce nœud (son environnement, son dossier de travail)."""
        result = subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_die_with_parent,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} ({self.name}) : {result.stderr[-4000:]}")
        return result

    def popen_manage(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [PYTHON, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )

    def start_server(self) -> None:
        retrying(self._start_server)

    def _start_server(self) -> None:
        self.port = free_port()
        self.server = Process(
            f"gunicorn {self.name}",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                f"--bind={HOST}:{self.port}",
                "--workers=2",
                "--worker-class=sync",
                "--timeout=60",
                "--graceful-timeout=5",
                f"--pythonpath={ROOT}",
                "--config=python:tests.cluster.gunicorn_conf",
                "--log-level=warning",
            ],
            env=self.env,
            cwd=self.workdir,
            log=self.workdir / "gunicorn.log",
        )
        try:
            wait_for(
                lambda: _http_ok(f"{self.url}/accessibilite/", FORWARDED),
                f"gunicorn {self.name}",
                self.server,
            )
        except RuntimeError:
            self.server.stop()
            raise

    def start_worker(self) -> None:
        self.worker = Process(
            f"db_worker {self.name}",
            [
                PYTHON,
                str(ROOT / "manage.py"),
                "db_worker",
                "--interval=0.2",
                "--no-reload",
                "--no-startup-delay",
                f"--worker-id=noeud-{self.name}-{os.getpid()}",
            ],
            env=self.env,
            cwd=self.workdir,
            log=self.workdir / "db_worker.log",
        )

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None:
                process.stop()


@dataclass
class Cluster:
    root: Path
    database_url: str = ""
    redis_port: int = 0
    s3_port: int = 0
    nodes: dict[str, Node] = field(default_factory=dict)
    world: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    _services: list[Process] = field(default_factory=list)
    _cleanups: list = field(default_factory=list)  # avant l'arrêt des services (base effacée)
    _late_cleanups: list = field(default_factory=list)  # après (dossiers de PostgreSQL)

    # --- Services partagés -------------------------------------------------------------------

    def _timed(self, label: str, started: float) -> None:
        self.timings[label] = round(time.monotonic() - started, 1)

    def start_postgres(self) -> None:
        started = time.monotonic()
        admin_url = os.environ.get("CDV_CLUSTER_PG_URL", "").strip()
        if not admin_url:
            admin_url = self._own_postgres()
        import psycopg

        name = f"cdv_grappe_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        self._cleanups.append(drop)
        parts = urlsplit(admin_url)
        self.database_url = urlunsplit(parts._replace(path=f"/{name}"))
        self._timed("postgresql", started)

    def _own_postgres(self) -> str:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        pgbin = Path(os.environ.get("CDV_CLUSTER_PGBIN") or (candidates[-1] if candidates else ""))
        if not (pgbin / "initdb").exists():
            raise RuntimeError(
                "PostgreSQL introuvable : installez-le (apt-get install postgresql) ou donnez "
                "CDV_CLUSTER_PG_URL (un serveur existant) ou CDV_CLUSTER_PGBIN."
            )
        user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuse de tourner en root
        data = Path(tempfile.mkdtemp(prefix="cdv-grappe-pg-"))
        self._late_cleanups.append(lambda: shutil.rmtree(data, ignore_errors=True))
        if user:
            shutil.chown(data, user)
        subprocess.run(
            [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            + ["--locale=C.UTF-8", "--no-sync"],
            check=True,
            capture_output=True,
            cwd=data,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            preexec_fn=_die_with_parent,
        )
        port = free_port()
        server = Process(
            "postgres",
            [str(pgbin / "postgres"), "-D", str(data), "-p", str(port), "-k", str(data)]
            + ["-c", f"listen_addresses={HOST}", "-c", "fsync=off", "-c", "max_connections=200"],
            env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            cwd=data,
            log=self.root / "postgres.log",
            user=user,
        )
        self._services.append(server)
        wait_for(lambda: _pg_ready(port), "PostgreSQL", server)
        return f"postgres://postgres@{HOST}:{port}/postgres"

    def start_redis(self) -> None:
        retrying(self._start_redis)

    def _start_redis(self) -> None:
        self.redis_port = free_port()
        work = self.root / "redis"
        work.mkdir(exist_ok=True)
        server = Process(
            "redis",
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.redis_port)]
            + ["--bind", HOST, "--save", "", "--appendonly", "no", "--dir", str(work)],
            env={"PATH": os.environ.get("PATH", "")},
            cwd=work,
            log=self.root / "redis.log",
        )
        self._services.append(server)
        wait_for(lambda: _port_open(self.redis_port), "Redis", server, timeout=20)

    def start_s3(self) -> None:
        retrying(self._start_s3)
        self.s3().create_bucket(Bucket=BUCKET)

    def _start_s3(self) -> None:
        self.s3_port = free_port()
        server = Process(
            "moto",
            [str(BIN / "moto_server"), "-H", HOST, "-p", str(self.s3_port)],
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(self.root)},
            cwd=self.root,
            log=self.root / "moto.log",
        )
        self._services.append(server)
        wait_for(lambda: _http_ok(f"http://{HOST}:{self.s3_port}/"), "S3 (moto)", server)

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://{HOST}:{self.s3_port}",
            aws_access_key_id="grappe",
            aws_secret_access_key="grappe-secret",
            region_name="us-east-1",
        )

    # --- Nœuds ---------------------------------------------------------------------------------

    def node_env(self, workdir: Path) -> dict:
        env = {
            key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS=HOST,
            DATABASE_URL=self.database_url,
            REDIS_URL=f"redis://{HOST}:{self.redis_port}/0",
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=f"http://{HOST}:{self.s3_port}",
            AWS_ACCESS_KEY_ID="grappe",
            AWS_SECRET_ACCESS_KEY="grappe-secret",
            AWS_S3_REGION_NAME="us-east-1",
            STATIC_ROOT=str(self.root / "static"),
            MEDIA_ROOT=str(workdir / "media"),
            CDV_CACHE_DIR=str(workdir / "cache"),
            GEOREF_CACHE_DIR=str(workdir / "georef-cache"),
            EMAIL_FILE_PATH=str(workdir / "courriels"),
            SITE_URL=f"https://{HOST}",
            BAN_BASE_URL="http://127.0.0.1:9",  # aucun appel au géocodeur : rien ne sort de la machine
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        return env

    def prepare_nodes(self) -> None:
        self.secret_key = secrets.token_urlsafe(64)
        for name in ("A", "B"):
            workdir = self.root / f"noeud-{name}"
            workdir.mkdir()
            self.nodes[name] = Node(name=name, workdir=workdir, env=self.node_env(workdir))

    def migrate_and_seed(self) -> None:
        """Migre la base neuve et y écrit le petit monde du test (seed.py) ; rassemble en même temps
        les fichiers statiques (indépendants de la base)."""
        node = self.nodes["A"]
        started = time.monotonic()
        static = node.popen_manage("collectstatic", "--noinput", "-v", "0")
        node.manage("migrate", "--noinput", "-v", "0")
        self._timed("migrate", started)
        result = subprocess.run(
            [PYTHON, str(Path(__file__).with_name("seed.py"))],
            env=node.env,
            cwd=node.workdir,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            preexec_fn=_die_with_parent,
        )
        if result.returncode != 0:
            raise RuntimeError(f"Données de la grappe : {result.stderr[-4000:]}")
        self.world = json.loads(result.stdout)
        _, errors = static.communicate(timeout=600)
        if static.returncode != 0:
            raise RuntimeError(f"collectstatic : {errors[-4000:]}")
        self._timed("migrate, seed, collectstatic", started)

    def start_nodes(self) -> None:
        started = time.monotonic()
        for node in self.nodes.values():
            node.start_server()
            node.start_worker()
        self._timed("app servers", started)

    def start(self) -> None:
        started = time.monotonic()
        self.start_postgres()
        self.start_redis()
        self.start_s3()
        self.prepare_nodes()
        self.migrate_and_seed()
        self.start_nodes()
        self._timed("total", started)

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        for service in reversed(self._services):
            service.stop()
        for cleanup in self._late_cleanups:
            cleanup()

    # --- Lectures directes de la base commune (vérifications des tests) ----------------------

    def sql(self, query: str, params=()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            return connection.execute(query, params).fetchall()

    def execute(self, query: str, params=()) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute(query, params)


def _pg_ready(port: int) -> bool:
    import psycopg

    try:
        psycopg.connect(f"postgres://postgres@{HOST}:{port}/postgres", connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False
