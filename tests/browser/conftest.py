"""Tests navigateur : un vrai serveur, un vrai Chromium (celui de Debian), axe-core.

- Chromium : chemin dans ``CDV_CHROMIUM`` (défaut ``/usr/bin/chromium``). S'il manque, les tests
  sont sautés et le résumé du terminal le dit en grand ; avec ``CDV_REQUIRE_BROWSER=1`` (la CI),
  ils échouent.
- Serveur : une base SQLite temporaire (migrée, données de référence et démonstration), mise en
  cache entre deux lancements tant que migrations, données et chargeurs n'ont pas changé, puis
  ``manage.py runserver`` sur un port libre de 127.0.0.1, une fois pour toute la session.
"""

import email
import email.policy
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve().parent
BASE_DIR = HERE.parent.parent
CHROMIUM = os.environ.get("CDV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETTINGS = "config.settings.test"
DESKTOP = {"width": 1280, "height": 900}

_collected = pytest.StashKey[list]()
_skipped = pytest.StashKey[list]()


def browser_required() -> bool:
    return os.environ.get("CDV_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "oui", "on"}


def missing_browser_reason() -> str | None:
    """Pourquoi les tests navigateur ne peuvent pas tourner ici (None : ils le peuvent)."""
    path = Path(CHROMIUM)
    if not (path.is_file() and os.access(path, os.X_OK)):
        return f"Chromium introuvable ({CHROMIUM})"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright ou axe-playwright-python non installé ({error})"
    return None


def _is_browser_item(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config, items):
    reason = missing_browser_reason()
    collected, skipped = [], []
    for item in items:
        if not _is_browser_item(item):
            continue
        collected.append(item.nodeid)
        item.add_marker(pytest.mark.browser)
        if reason and not browser_required():
            item.add_marker(pytest.mark.skip(reason=f"TEST NAVIGATEUR SAUTÉ : {reason}"))
            skipped.append(item.nodeid)
    config.stash[_collected] = collected
    config.stash[_skipped] = skipped


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reason = missing_browser_reason()
    if not reason:
        return
    skipped = config.stash.get(_skipped, [])
    tr = terminalreporter
    if browser_required() and config.stash.get(_collected, []):
        tr.write_sep("!", "TESTS NAVIGATEUR OBLIGATOIRES EN ÉCHEC", red=True, bold=True)
        tr.write_line(f"{reason}, alors que CDV_REQUIRE_BROWSER=1 les rend obligatoires.", red=True)
    elif skipped:
        tr.write_sep("!", f"TESTS NAVIGATEUR SAUTÉS : {len(skipped)} test(s) non lancés", red=True, bold=True)
        tr.write_line(
            f"{reason} : l'accessibilité (axe-core), les parcours au clavier et l'affichage à 320 px "
            "n'ont PAS été vérifiés.",
            red=True,
            bold=True,
        )
        tr.write_line(
            "Installez Chromium (apt-get install chromium) ou indiquez son chemin dans CDV_CHROMIUM ; "
            "la CI (.ci/run) les rend obligatoires avec CDV_REQUIRE_BROWSER=1.",
            red=True,
        )


# --- Base de données et serveur ------------------------------------------------------------------


def _cache_key() -> str:
    files = [
        *sorted(BASE_DIR.glob("cdv/*/migrations/*.py")),
        *sorted(p for p in (BASE_DIR / "data" / "reference").rglob("*") if p.is_file()),
        *sorted(BASE_DIR.glob("cdv/*/management/commands/load_*.py")),
        *sorted(BASE_DIR.glob("cdv/seed/*.py")),
        BASE_DIR / "cdv" / "contracts" / "nantes.py",
        BASE_DIR / "cdv" / "indicators" / "nantes.py",
        BASE_DIR / "cdv" / "territories" / "loaders.py",
        BASE_DIR / "cdv" / "core" / "upsert.py",
        BASE_DIR / "requirements.txt",
        HERE / "prepare_db.py",
    ]
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(BASE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _prepared_database(target: Path) -> dict:
    """Copie dans ``target`` la base préparée (depuis le cache, ou construite) ; renvoie ses repères."""
    cache_dir = Path(os.environ.get("CDV_BROWSER_CACHE", Path(tempfile.gettempdir()) / "cdv-browser-db"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = _cache_key()
    cached_db, cached_json = cache_dir / f"{key}.sqlite3", cache_dir / f"{key}.json"
    if not (cached_db.is_file() and cached_json.is_file()):
        building = Path(tempfile.mkdtemp(prefix="build-", dir=cache_dir))
        db, data = building / "db.sqlite3", building / "data.json"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": f"sqlite:///{db}"}
        result = subprocess.run(
            [sys.executable, str(HERE / "prepare_db.py"), str(db), str(data)],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.fail(f"Préparation de la base des tests navigateur en échec :\n{result.stderr[-4000:]}")
        os.replace(db, cached_db)  # données d'abord, repères ensuite : le JSON signe un cache complet
        os.replace(data, cached_json)
        shutil.rmtree(building, ignore_errors=True)
        for old in cache_dir.glob("*.sqlite3"):
            if old.stem != key:
                old.unlink(missing_ok=True)
                old.with_suffix(".json").unlink(missing_ok=True)
    shutil.copyfile(cached_db, target)
    return json.loads(cached_json.read_text(encoding="utf-8"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Le serveur de test s'est arrêté :\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # il répond, même par une erreur
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"Le serveur de test ne répond pas sur {url} :\n{log.read_text(errors='replace')[-4000:]}")


def sent_mails(folder: Path) -> list:
    """Les courriels envoyés par le serveur (un fichier par envoi, dans l'ordre), lus comme messages."""
    if not folder.exists():
        return []
    messages = []
    for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns):
        # Le fichier concatène les messages d'un envoi, séparés par une ligne de 79 tirets.
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


@contextmanager
def serve(db: Path, data: dict, workdir: Path):
    """Sert la base ``db`` par ``manage.py runserver`` sur un port libre, le temps du bloc ``with`` :
    ``site.url(chemin)``, ``site.data`` (repères réels), ``site.db`` et ``site.log``."""
    port = _free_port()
    log = workdir / "server.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": f"sqlite:///{db}",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_FILE_PATH": str(workdir / "courriels"),
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                "--insecure",  # sert les fichiers statiques malgré DEBUG=False
                "--skip-checks",
                f"127.0.0.1:{port}",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/", process, log)
        yield SimpleNamespace(
            base=base,
            data=data,
            url=lambda path: base + path,
            log=log,
            db=db,
            mails=lambda: sent_mails(workdir / "courriels"),
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Le site servi par un vrai serveur : ``site.url(chemin)``, ``site.data`` (repères réels)."""
    if reason := missing_browser_reason():
        pytest.fail(f"{reason} : les tests navigateur sont obligatoires (CDV_REQUIRE_BROWSER=1).")
    workdir = tmp_path_factory.mktemp("site")
    db = workdir / "db.sqlite3"
    data = _prepared_database(db)
    with serve(db, data, workdir) as served:
        yield served


@pytest.fixture(scope="session")
def browser():
    if reason := missing_browser_reason():
        pytest.fail(f"{reason} : les tests navigateur sont obligatoires (CDV_REQUIRE_BROWSER=1).")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        manager.stop()


def new_context(browser, **options):
    options = {"viewport": DESKTOP, "locale": "fr-FR", **options}
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(browser):
    context = new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


AAP_ACCOUNTS = ("applicant", "instructor", "instructor2", "correspondent", "delegate", "committee")
ACCOUNTS = {
    "editor": ("editor_email", "editor_password"),
    "pilot": ("pilot_email", "pilot_password"),
    "operator": ("operator_email", "operator_password"),  # opérateur de l'instance (superutilisateur)
    "council": ("council_email", "council_password"),  # membre du conseil citoyen des Dervallières
    "evaluator": ("evaluator_email", "evaluator_password"),
    # Appel à projets (demo_grants.py) : référente d'association, instructeurs de l'État et de la
    # Métropole, correspondant de quartier, déléguée du préfet, membre du comité des financeurs.
    **{who: (f"{who}_email", f"{who}_password") for who in AAP_ACCOUNTS},
}


def _log_in(browser, site, who):
    email, password = (site.data[key] for key in ACCOUNTS[who])
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(site.url("/connexion/"))
        page.fill("#id_username", email)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/connexion/" not in page.url, f"La connexion de {email} a échoué."
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture(scope="session")
def login_state(browser, site):
    """``login_state("editor")`` ou ``login_state("pilot")`` : cookies d'une session ouverte une fois."""
    states = {}

    def get(who):
        if who not in states:
            states[who] = _log_in(browser, site, who)
        return states[who]

    return get


@pytest.fixture(scope="session")
def editor_state(login_state):
    return login_state("editor")


@pytest.fixture
def page_for(browser, login_state):
    """``page_for(user="", **options)`` : un onglet neuf, anonyme ou connecté (editor, pilot)."""
    contexts = []

    def make(user="", **options):
        if user:
            options["storage_state"] = login_state(user)
        context = new_context(browser, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def editor_page(page_for):
    return page_for("editor")
