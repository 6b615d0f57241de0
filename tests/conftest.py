"""Le monde de chaque test : une base vide par défaut, les données réelles et la démonstration sur demande.

- La base de test est créée depuis les modèles (``--nomigrations``, 1 s au lieu de 20 s ;
  tests/core/test_migrations.py applique, lui, toutes les migrations à une base vide) et gardée entre
  deux lancements (``--reuse-db``). Son nom porte une empreinte des modèles et des migrations :
  un schéma modifié donne une nouvelle base, jamais une base périmée.
- Un test (ou un fichier, par ``pytestmark``) marqué ``reference`` voit les données de référence
  réelles (QPV, communes, contrat de Nantes Métropole et ses indicateurs) ; marqué ``demo``, il voit
  en plus la démonstration (partenaires, comptes, engagements, suivi annuel fictifs). Les fixtures
  ``nantes`` et ``without_demo_reviews`` les demandent d'elles-mêmes.
- Chaque jeu est chargé une fois, au premier test qui le demande, avant la transaction de ce test ;
  il reste dans la base gardée, avec son empreinte (données et chargeurs) : le lancement suivant ne
  le recharge que si elle a changé. Un test non marqué passe donc qu'il soit présent ou non.
"""

import fcntl
import gc
import hashlib
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.object_storage import s3_storage  # noqa: F401 - fixture : stockage S3 simulé (moto)

BASE_DIR = Path(__file__).resolve().parent.parent
WORLD_TABLE = (
    "CREATE TABLE IF NOT EXISTS pytest_world (name varchar(20) PRIMARY KEY, fingerprint varchar(64))"
)
# Jeux de données sur demande : marqueur -> fixture de session qui le charge.
WORLDS = {"reference": "reference_data", "demo": "demo_data"}


def _digest(*patterns: str, salt: str = "") -> str:
    digest = hashlib.sha256(salt.encode())
    for pattern in patterns:
        for path in sorted(BASE_DIR.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(BASE_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _test_database_name() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["TEST"]["NAME"]  # porte l'empreinte du schéma


def reference_fingerprint() -> str:
    return _digest(
        "data/reference/**/*",
        "cdv/contracts/management/commands/load_reference_data.py",
        "cdv/*/nantes.py",
        "cdv/*/loaders.py",
        "cdv/territories/geometry.py",
        "cdv/core/upsert.py",
        salt=_test_database_name(),
    )


def demo_fingerprint() -> str:
    """Le code de la démonstration, et le jour : ses dates se comptent depuis le jour du chargement
    (l'appel à projets de l'année est ouvert « aujourd'hui », cdv/seed/demo_grants.py). Une base
    gardée d'un jour à l'autre recharge donc la démonstration, comme le ferait une base neuve."""
    from django.utils import timezone

    return _digest("cdv/seed/**/*.py", salt=f"{reference_fingerprint()} {timezone.localdate()}")


def pytest_collectstart(collector):
    """Le greffon pytest de schemathesis (désactivé dans ``addopts`` : il importe Hypothesis, 1,5 s
    à chaque lancement) n'est chargé que pour les fichiers de tests qui s'en servent."""
    manager = collector.config.pluginmanager
    if (
        isinstance(collector, pytest.Module)
        and not manager.has_plugin("schemathesis-on-demand")
        and "schemathesis" in collector.path.read_text("utf-8")
    ):
        from schemathesis.pytest import plugin

        manager.register(plugin, "schemathesis-on-demand")


def pytest_collection_modifyitems(config, items):
    """Un test marqué ``reference`` ou ``demo`` demande la fixture de session qui charge ce jeu.

    Elle passe en tête : pytest l'instancie avant la transaction du test (fixture ``db``), sinon le
    chargement serait annulé avec elle.
    """
    for item in items:
        for marker, fixture in WORLDS.items():
            if item.get_closest_marker(marker) and fixture not in item.fixturenames:
                item.fixturenames.insert(0, fixture)


def pytest_collection_finish(session):
    """Ce qui est chargé à la collecte (Django, le projet, les modules de tests et leurs
    bibliothèques : 100 000 à 150 000 objets) vit jusqu'à la fin du lancement : il sort des
    ramassages complets du ramasse-miettes (``gc.freeze``). Chacun de ceux qui suivent (une dizaine
    par fichier, dont les deux de pytest à la fin, qui cherchent des exceptions « unraisable »)
    parcourt seulement les objets créés par les tests, toujours tous examinés : 0,3 à 0,4 s de
    processeur de moins par fichier lancé seul.

    Le seuil de la jeune génération passe de 700 à 10 000 allocations : un document en cours de
    composition (boîtes de WeasyPrint) ou de lecture (objets de pypdf) vit plus de 700 allocations,
    passait donc dans la vieille génération et déclenchait des ramassages complets à répétition, qui
    parcouraient chaque fois aussi les bibliothèques chargées après ``gc.freeze`` (WeasyPrint, les
    URL et l'API) : 1 à 2 s de processeur par fichier qui compose des PDF, quelques centaines de
    millisecondes ailleurs ; la mémoire du processus ne grandit que de quelques dizaines de Mo."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """Base SQLite gardée (nom choisi par config/settings/test.py) : crée son dossier, efface celles
    des schémas précédents. Un second lancement simultané dans la même copie (la base gardée est
    verrouillée) prend une base à lui, effacée à la fin, au lieu d'attendre « database is locked »."""
    from django.db import connections

    settings = connections["default"].settings_dict
    if settings["ENGINE"] != "django.db.backends.sqlite3":
        return
    name = Path(settings["TEST"]["NAME"])
    name.parent.mkdir(exist_ok=True)
    lock = open(name.with_name(f"{name.name}.lock"), "w")  # gardé ouvert (verrou) toute la session
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        private = name.with_name(f"{name.stem}-{os.getpid()}{name.suffix}")
        settings["TEST"]["NAME"] = str(private)
        request.addfinalizer(lambda: [path.unlink() for path in name.parent.glob(f"{private.name}*")])
        return
    request.addfinalizer(lock.close)
    if not name.exists():
        for old in name.parent.glob("test-*"):
            if not old.name.startswith(name.stem):
                old.unlink(missing_ok=True)


SCHEMA_READY = "schema"  # ligne de pytest_world : la base gardée a reçu tout son schéma


def _kept_sqlite_schema_is_ready(name: str) -> bool:
    """La base SQLite gardée existe et sa création est allée au bout (ligne posée après coup)."""
    if not Path(name).exists():
        return False
    try:
        with closing(sqlite3.connect(f"file:{name}?mode=ro", uri=True)) as db:
            return bool(db.execute("SELECT 1 FROM pytest_world WHERE name = ?", [SCHEMA_READY]).fetchone())
    except sqlite3.Error:
        return False


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """Celle de pytest-django, sans le ``migrate`` de chaque lancement sur une base gardée et prête.

    Avec ``--reuse-db``, Django relance quand même ``migrate --run-syncdb`` sur la base gardée : il
    reconstruit l'état de toutes les applications et vérifie chaque table (≈ 1,5 s, le tiers d'un petit
    fichier lancé seul). Le nom de la base porte déjà l'empreinte du schéma (config/settings/test.py) :
    une base SQLite gardée dont la création est allée au bout a donc le bon schéma, on s'y branche.
    ``--create-db``, une base neuve, une base privée (lancement simultané) ou PostgreSQL : le chemin
    ordinaire de pytest-django, puis la ligne « prête » est posée.
    """
    from django.db import connection
    from django.test.utils import setup_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    if not django_db_use_migrations:
        _disable_migrations()
    settings_dict = connection.settings_dict
    name = settings_dict["TEST"]["NAME"]
    is_sqlite = connection.vendor == "sqlite"
    kept = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    if is_sqlite and kept and not serialized_aliases and _kept_sqlite_schema_is_ready(name):
        # Ce que fait create_test_db(keepdb=True), moins migrate.
        from django.conf import settings

        connection.close()
        settings.DATABASES[connection.alias]["NAME"] = name
        settings_dict["NAME"] = name
        yield
        return
    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            keepdb=kept,
        )
        if is_sqlite and kept:
            with connection.cursor() as cursor:
                cursor.execute(WORLD_TABLE)
                cursor.execute("DELETE FROM pytest_world WHERE name = %s", [SCHEMA_READY])
                cursor.execute("INSERT INTO pytest_world (name, fingerprint) VALUES (%s, '')", [SCHEMA_READY])
    yield
    if not django_db_keepdb:  # sans --reuse-db (toujours dans addopts) : base effacée, comme pytest-django
        from django.test.utils import teardown_databases

        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)


def _load_world(name: str, fingerprint: str, load, is_present) -> None:
    """Charge un jeu dans la base de test, sauf s'il y est déjà avec la même empreinte."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(WORLD_TABLE)
        cursor.execute("SELECT fingerprint FROM pytest_world WHERE name = %s", [name])
        row = cursor.fetchone()
    if row and row[0] == fingerprint and is_present():
        return
    with transaction.atomic(), connection.cursor() as cursor:
        load()
        cursor.execute("DELETE FROM pytest_world WHERE name = %s", [name])
        cursor.execute("INSERT INTO pytest_world (name, fingerprint) VALUES (%s, %s)", [name, fingerprint])


@pytest.fixture(scope="session")
def reference_data(django_db_setup, django_db_blocker):
    """Données de référence réelles : QPV, communes, contrat de Nantes Métropole, ses indicateurs."""
    from cdv.contracts.models import Contract
    from cdv.contracts.nantes import SLUG

    with django_db_blocker.unblock():
        _load_world(
            "reference",
            reference_fingerprint(),
            lambda: call_command("load_reference_data", verbosity=0),
            lambda: Contract.objects.filter(slug=SLUG).exists(),
        )


@pytest.fixture(scope="session")
def demo_data(reference_data, django_db_blocker):
    """La démonstration (partenaires, comptes, engagements, suivi annuel fictifs) sur les données réelles."""
    from cdv.seed.demo import DEMO_PILOT_EMAIL
    from cdv.users.models import User

    with django_db_blocker.unblock():
        _load_world(
            "demo",
            demo_fingerprint(),
            lambda: call_command("load_demo_data", verbosity=0),
            lambda: User.objects.filter(email=DEMO_PILOT_EMAIL).exists(),
        )


@pytest.fixture
def nantes(reference_data, db):
    from cdv.contracts.models import Contract

    return Contract.objects.get(slug="nantes-metropole-2024-2030")


@pytest.fixture
def without_demo_reviews(demo_data, db):
    """Retire le suivi annuel de la démonstration du contrat de Nantes (campagnes 2024 figée et 2025 en
    cours, et les engagements suivis dans chaque quartier), pour les tests qui ouvrent eux-mêmes leurs
    campagnes sur ce contrat et comptent leurs bilans."""
    from tests.worlds import remove_demo_reviews

    remove_demo_reviews()


@pytest.fixture
def admin_user(db):
    from cdv.users.models import User

    return User.objects.create_superuser(email="admin@example.org", password="motdepasse-de-test")


@pytest.fixture(scope="session")
def national_qpv_count():
    """Nombre de QPV de la géographie 2024 de France, lu dans la liste nationale de data/reference/."""
    from cdv.territories.loaders import read_csv

    return len(read_csv("qpv2024_france_liste.csv"))
