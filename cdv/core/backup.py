"""Sauvegarde et restauration de la plateforme : une archive ``.tar.gz`` autoportée.

Contenu de l'archive (format décrit dans docs/operations.md, « Sauvegarde et restauration ») :

- ``database.sqlite3`` (SQLite : copie cohérente par l'API de sauvegarde en ligne de SQLite) ou
  ``database.pgdump`` (PostgreSQL : ``pg_dump --format=custom``, pris dans l'instantané où les
  lignes ont été comptées) ;
- ``media/…`` : les fichiers téléversés et produits, tels que les rend le stockage des fichiers de
  Django (disque local ``MEDIA_ROOT``, ou tous les objets du seau S3 quand
  ``AWS_STORAGE_BUCKET_NAME`` est définie), noms relatifs ; chaque objet est lu par morceaux ;
- ``manifest.json``, en dernier : version du format, versions de Django et de l'application,
  moteur, date, migrations appliquées, nombre de lignes de chaque table, taille et empreinte
  SHA-256 de chaque autre membre.

La restauration vérifie tout avant d'écrire quoi que ce soit (format, empreintes, moteur,
migrations connues, base cible vide sauf ``force``), remplace la base d'un bloc (API de sauvegarde
de SQLite ; ``psql --single-transaction`` pour PostgreSQL), puis recompte les lignes de chaque table.
"""

import datetime
import hashlib
import json
import os
import pkgutil
import platform
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections

from cdv.core import filestore

FORMAT_NAME = "cdv-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_PREFIX = "media/"
# Tables que `migrate` remplit seul : une base qui n'a qu'elles est « vide ».
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission", "sqlite_sequence"}
ENGINES = {"django.db.backends.sqlite3": "sqlite", "django.db.backends.postgresql": "postgresql"}
ENGINE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Sauvegarde ou restauration refusée ; le message (en français) dit pourquoi et quoi faire."""


@dataclass
class RestoreResult:
    manifest: dict
    media_files: int = 0
    pending_migrations: list[str] = field(default_factory=list)


# --- Outils ------------------------------------------------------------------------------------


def engine_of(alias: str = "default") -> str:
    engine = connections[alias].settings_dict["ENGINE"]
    if engine not in ENGINES:
        raise BackupError(f"Moteur de base non pris en charge : {engine}.")
    return ENGINES[engine]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def app_version() -> str:
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "inconnue"


def git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def applied_migrations(alias: str = "default") -> list[str]:
    """« app.nom » de chaque migration appliquée, dans l'ordre."""
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections[alias])
    if not recorder.has_table():
        return []
    return [f"{app}.{name}" for app, name in recorder.migration_qs.order_by("id").values_list("app", "name")]


def known_migrations() -> set[str]:
    """« app.nom » de chaque migration du code, lue sur les noms de fichiers comme le fait
    ``MigrationLoader.load_disk``, sans importer les migrations : la restauration n'a besoin que
    des noms (les importer toutes chargeait aussi shapely et numpy, près d'une seconde)."""
    from django.db.migrations.loader import MIGRATIONS_MODULE_NAME, MigrationLoader

    known = set()
    for app_config in apps.get_app_configs():
        module_name, explicit = MigrationLoader.migrations_module(app_config.label)
        if module_name is None:
            continue
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as error:
            if explicit or MIGRATIONS_MODULE_NAME in (error.name or "").split("."):
                continue
            raise
        path = getattr(module, "__path__", None)
        # Pas un paquet (migrations.py), ou dossier vide (paquet d'espace de noms) : aucune migration.
        if path is None or (getattr(module, "__file__", None) is None and not isinstance(path, list)):
            continue
        known.update(
            f"{app_config.label}.{name}"
            for _, name, is_pkg in pkgutil.iter_modules(path)
            if not is_pkg and name[0] not in "_~"
        )
    return known


def media_storage():
    """Le stockage des fichiers téléversés et produits (disque local ou seau S3)."""
    return default_storage


def describe_storage(storage) -> str:
    if filestore.is_object_storage(storage):
        return f"le seau S3 {storage.bucket_name}" + (
            f" (préfixe {storage.location})" if storage.location else ""
        )
    return f"le dossier des fichiers téléversés {settings.MEDIA_ROOT}"


def media_files(root: Path) -> list[Path]:
    """Fichiers ordinaires sous ``root`` (les liens symboliques sont ignorés), triés."""
    if not root.is_dir():
        return []
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                found.append(path)
    return found


# --- Comptes de lignes ---------------------------------------------------------------------------


def quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name"
    )
    return [name for (name,) in rows]


def sqlite_row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = sqlite_tables(conn)
        return {t: conn.execute(f"SELECT COUNT(*) FROM {quote_sqlite(t)}").fetchone()[0] for t in tables}
    finally:
        conn.close()


PG_TABLES_SQL = (
    "SELECT schemaname, tablename FROM pg_catalog.pg_tables "
    "WHERE schemaname = ANY (current_schemas(false)) ORDER BY schemaname, tablename"
)


def pg_table_key(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def pg_row_counts(cursor) -> dict[str, int]:
    cursor.execute(PG_TABLES_SQL)
    counts = {}
    for schema, table in cursor.fetchall():
        cursor.execute(f'SELECT COUNT(*) FROM "{schema}"."{table}"')
        counts[pg_table_key(schema, table)] = cursor.fetchone()[0]
    return counts


def current_row_counts(alias: str = "default") -> dict[str, int]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        if engine_of(alias) == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
            tables = [name for (name,) in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {quote_sqlite(table)}")
                counts[table] = cursor.fetchone()[0]
            return counts
        return pg_row_counts(cursor)


def data_tables(counts: dict[str, int]) -> dict[str, int]:
    """Les tables non vides, hors celles que `migrate` remplit seul."""
    return {t: n for t, n in counts.items() if n and t.rsplit(".", 1)[-1] not in BOOKKEEPING_TABLES}


# --- PostgreSQL : outils du client ----------------------------------------------------------------


def pg_environment(alias: str = "default") -> dict[str, str]:
    """Variables d'environnement des outils PostgreSQL (le mot de passe n'apparaît pas dans `ps`)."""
    config = connections[alias].settings_dict
    env = dict(os.environ)
    values = {
        "PGDATABASE": config.get("NAME"),
        "PGUSER": config.get("USER"),
        "PGPASSWORD": config.get("PASSWORD"),
        "PGHOST": config.get("HOST"),
        "PGPORT": str(config.get("PORT") or ""),
        "PGSSLMODE": (config.get("OPTIONS") or {}).get("sslmode"),
        "PGAPPNAME": "cdv-backup",
    }
    for name, value in values.items():
        if value:
            env[name] = str(value)
        else:
            env.pop(name, None)  # rien d'hérité de l'environnement ne contredit DATABASE_URL
    return env


def _tool_major(path: str) -> int | None:
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\b(\d+)(?:\.\d+)?", output)
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, server_major: int) -> str:
    """Le ``name`` (pg_dump, pg_restore, psql) de version ≥ celle du serveur, la plus proche.

    Cherche dans ``CDV_PG_BIN_DIR``, puis ``/usr/lib/postgresql/<version>/bin`` (Debian), puis le PATH.
    """
    candidates: list[tuple[int, str]] = []
    custom = os.environ.get("CDV_PG_BIN_DIR")
    if custom and (Path(custom) / name).is_file():
        major = _tool_major(str(Path(custom) / name))
        if major is not None:
            candidates.append((major, str(Path(custom) / name)))
    for directory in Path("/usr/lib/postgresql").glob("*/bin"):
        tool = directory / name
        if tool.is_file() and directory.parent.name.isdigit():
            candidates.append((int(directory.parent.name), str(tool)))
    on_path = shutil.which(name)
    if on_path:
        major = _tool_major(on_path)
        if major is not None:
            candidates.append((major, on_path))
    suitable = sorted((c for c in candidates if c[0] >= server_major), key=lambda c: c[0])
    if suitable:
        return suitable[0][1]
    found = ", ".join(f"{path} ({major})" for major, path in candidates) or "aucun"
    raise BackupError(
        f"{name} introuvable pour un serveur PostgreSQL {server_major} (trouvé : {found}). Installez le "
        f"client PostgreSQL {server_major} ou plus récent (paquet Debian postgresql-client-{server_major}) "
        "ou indiquez son dossier dans la variable CDV_PG_BIN_DIR."
    )


def _run(command: list[str], env: dict, what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BackupError(f"{what} a échoué (code {result.returncode}) : {detail}")


# --- Sauvegarde ----------------------------------------------------------------------------------


class _HashingReader:
    """Enveloppe d'un fichier : calcule le SHA-256 de ce que tarfile en lit."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _dump_sqlite(alias: str, target: Path) -> dict[str, int]:
    name = connections[alias].settings_dict["NAME"]
    if not name or str(name) == ":memory:" or str(name).startswith("file:"):
        raise BackupError(f"Base SQLite en mémoire ({name}) : rien à sauvegarder sur disque.")
    if not Path(name).is_file():
        raise BackupError(f"Base SQLite introuvable : {name}.")
    source = sqlite3.connect(f"file:{name}?mode=ro", uri=True, timeout=60)
    destination = sqlite3.connect(target)
    try:
        # Copie page à page par l'API de sauvegarde : cohérente même si l'application écrit.
        source.backup(destination)
        check = destination.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        destination.close()
        source.close()
    if check != "ok":
        raise BackupError(f"La copie de la base SQLite est incohérente : {check}")
    return sqlite_row_counts(target)


def _dump_postgresql(alias: str, target: Path) -> dict[str, int]:
    wrapper = connections[alias]
    raw = wrapper.get_new_connection(wrapper.get_connection_params())
    try:
        raw.autocommit = True
        cursor = raw.cursor()
        cursor.execute("SHOW server_version_num")
        server_major = int(cursor.fetchone()[0]) // 10000
        pg_dump = find_pg_tool("pg_dump", server_major)
        # Les lignes sont comptées dans l'instantané même que pg_dump exporte.
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = pg_row_counts(cursor)
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            pg_environment(alias),
            "pg_dump",
        )
        cursor.execute("COMMIT")
    finally:
        raw.close()
    return counts


def create_backup(output: Path, *, include_media: bool = True, alias: str = "default") -> dict:
    """Écrit l'archive ``output`` (remplacée d'un coup à la fin) ; renvoie son manifeste."""
    output = Path(output)
    if output.is_dir():
        raise BackupError(f"{output} est un dossier : donnez un nom de fichier (.tar.gz).")
    if not output.parent.is_dir():
        raise BackupError(f"Le dossier {output.parent} n'existe pas.")
    engine = engine_of(alias)
    created_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix=".cdv-backup-", dir=output.parent) as workdir:
        dump = Path(workdir) / DATABASE_MEMBERS[engine]
        if engine == "sqlite":
            counts = _dump_sqlite(alias, dump)
        else:
            counts = _dump_postgresql(alias, dump)
        files = {}
        partial = Path(workdir) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            files[dump.name] = {"size": dump.stat().st_size, "sha256": sha256_file(dump)}
            tar.add(dump, arcname=dump.name, recursive=False)
            if include_media:
                _add_media(tar, media_storage(), files)
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "created_at": created_at,
                "engine": engine,
                "database_member": dump.name,
                "django_version": django.get_version(),
                "app_version": app_version(),
                "git_commit": git_commit(),
                "python_version": platform.python_version(),
                "sqlite_version": sqlite3.sqlite_version if engine == "sqlite" else None,
                "media_included": include_media,
                "media_files": sum(1 for name in files if name.startswith(MEDIA_PREFIX)),
                "migrations": applied_migrations(alias),
                "tables": counts,
                "total_rows": sum(counts.values()),
                "files": files,
            }
            data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(datetime.datetime.now().timestamp())
            info.mode = 0o644
            tar.addfile(info, _BytesReader(data))
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, output)  # jamais d'archive à moitié écrite sous le nom final
    return manifest


def _add_media(tar, storage, files: dict) -> None:
    """Chaque fichier du stockage, lu par morceaux (jamais entier en mémoire), devient ``media/<nom>``."""
    for name in filestore.walk(storage):
        arcname = MEDIA_PREFIX + name
        with filestore.open_stream(storage, name) as handle:
            info = tarfile.TarInfo(arcname)
            info.size = handle.size
            info.mode = 0o644
            modified = getattr(handle, "modified", None) or storage.get_modified_time(name)
            info.mtime = int(modified.timestamp())
            reader = _HashingReader(handle)
            tar.addfile(info, reader)
        files[arcname] = {"size": info.size, "sha256": reader.digest.hexdigest()}


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.position = data, 0

    def read(self, size=-1):
        end = len(self.data) if size is None or size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk


# --- Lecture et vérification d'une archive --------------------------------------------------------


def _allowed_member(name: str) -> bool:
    if name == MANIFEST or name in DATABASE_MEMBERS.values():
        return True
    return name.startswith(MEDIA_PREFIX) and ".." not in Path(name).parts and not name.endswith("/")


def open_backup(path: Path, workdir: Path) -> dict:
    """Extrait l'archive dans ``workdir`` et vérifie tout ; renvoie le manifeste. N'écrit rien ailleurs."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {path}.")
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                if member.isdir():
                    continue
                if not member.isfile() or not _allowed_member(member.name):
                    raise BackupError(f"Archive refusée : membre inattendu « {member.name} ».")
            tar.extractall(workdir, members=[m for m in members if m.isfile()], filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"Archive illisible ou tronquée ({path}) : {error}") from error
    manifest_path = workdir / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{path} n'est pas une sauvegarde de la plateforme (pas de {MANIFEST}).")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{MANIFEST} illisible : {error}") from error
    if manifest.get("format") != FORMAT_NAME:
        raise BackupError(f"{path} n'est pas une sauvegarde de la plateforme (format inconnu).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"Version de format {manifest.get('format_version')} non prise en charge (attendue : "
            f"{FORMAT_VERSION}) : restaurez avec la version de la plateforme qui a fait la sauvegarde."
        )
    files = manifest.get("files") or {}
    present = {
        p.relative_to(workdir).as_posix() for p in workdir.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    if manifest.get("database_member") not in files:
        raise BackupError("Le manifeste ne cite pas la base de données.")
    missing, extra = sorted(set(files) - present), sorted(present - set(files))
    if missing:
        raise BackupError(f"Archive incomplète : {len(missing)} fichier(s) manquant(s), dont {missing[0]}.")
    if extra:
        raise BackupError(f"Archive altérée : {len(extra)} fichier(s) hors manifeste, dont {extra[0]}.")
    for name, expected in files.items():
        if sha256_file(workdir / name) != expected.get("sha256"):
            raise BackupError(f"Empreinte SHA-256 différente pour {name} : archive altérée ou abîmée.")
    return manifest


# --- Restauration --------------------------------------------------------------------------------


def describe_non_empty(counts: dict[str, int]) -> str:
    tables = data_tables(counts)
    sample = ", ".join(f"{t} ({n})" for t, n in sorted(tables.items(), key=lambda i: -i[1])[:3])
    return f"{sum(tables.values())} ligne(s) dans {len(tables)} table(s), dont {sample}"


def _restore_sqlite(alias: str, database: Path) -> None:
    name = connections[alias].settings_dict["NAME"]
    if not name or str(name) == ":memory:" or str(name).startswith("file:"):
        raise BackupError(f"Base SQLite en mémoire ({name}) : restauration impossible.")
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"La base contenue dans l'archive est incohérente : {check}")
        connections[alias].close()
        destination = sqlite3.connect(name, timeout=60)
        try:
            # Remplace tout le contenu d'un coup (une transaction), journal WAL compris.
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _restore_postgresql(alias: str, dump: Path, workdir: Path) -> None:
    wrapper = connections[alias]
    with wrapper.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server_major = int(cursor.fetchone()[0]) // 10000
        cursor.execute(PG_TABLES_SQL)
        existing = cursor.fetchall()
    pg_restore, psql = find_pg_tool("pg_restore", server_major), find_pg_tool("psql", server_major)
    env = pg_environment(alias)
    script = workdir / "restore.sql"
    _run([pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(dump)], env, "pg_restore")
    drop = workdir / "drop.sql"
    statements = ["SET client_min_messages = warning;"]
    if existing:
        names = ", ".join(f'"{schema}"."{table}"' for schema, table in existing)
        statements.append(f"DROP TABLE IF EXISTS {names} CASCADE;")
    drop.write_text("\n".join(statements) + "\n", encoding="utf-8")
    wrapper.close()
    # Une seule transaction : si quoi que ce soit échoue, la base reste comme avant.
    _run(
        [psql, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", f"-f{drop}", f"-f{script}"],
        env,
        "psql (restauration)",
    )


def _restore_media(source: Path, storage) -> int:
    """Vide le stockage, puis y enregistre chaque fichier extrait de l'archive (envoi depuis le
    fichier extrait, par parties pour S3), sous son nom d'origine."""
    files = media_files(source)
    for name in list(filestore.walk(storage)):
        storage.delete(name)
    for path in files:
        name = path.relative_to(source).as_posix()
        with open(path, "rb") as handle:
            saved = storage.save(name, File(handle, name=path.name))
        if saved != name:
            raise BackupError(
                f"Le fichier {name} a été restauré sous un autre nom ({saved}) : stockage non vide ?"
            )
    return len(files)


def restore_backup(
    path: Path, *, force: bool = False, include_media: bool = True, alias: str = "default"
) -> RestoreResult:
    """Restaure ``path`` dans la base ``alias`` et le stockage des fichiers (``MEDIA_ROOT`` ou le seau
    S3). Vérifie tout avant d'écrire."""
    engine = engine_of(alias)
    parent = Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix="cdv-restore-", dir=parent) as tmp:
        workdir = Path(tmp) / "archive"
        workdir.mkdir()
        manifest = open_backup(Path(path), workdir)
        if manifest["engine"] != engine:
            source = ENGINE_LABELS.get(manifest["engine"], manifest["engine"])
            raise BackupError(
                f"Cette sauvegarde vient d'une base {source} ; la base configurée (DATABASE_URL) est "
                f"{ENGINE_LABELS[engine]}. Restaurez-la dans une base {source}, puis passez d'un moteur "
                "à l'autre avec dumpdata/loaddata (voir docs/operations.md, « Changer de moteur »)."
            )
        known = known_migrations()
        unknown = [m for m in manifest.get("migrations", []) if m not in known]
        if unknown:
            raise BackupError(
                "La sauvegarde vient d'une version plus récente de la plateforme "
                f"({len(unknown)} migration(s) inconnue(s) ici, dont {unknown[0]}) : "
                "mettez d'abord le code à jour "
                f"(version {manifest.get('app_version')}, commit {manifest.get('git_commit') or '?'})."
            )
        counts = current_row_counts(alias)
        problems = []
        if data_tables(counts):
            problems.append(f"la base n'est pas vide ({describe_non_empty(counts)})")
        storage = media_storage()
        if include_media and manifest.get("media_included", True) and next(filestore.walk(storage), None):
            problems.append(f"{describe_storage(storage)} n'est pas vide")
        if problems and not force:
            raise BackupError(
                "Restauration refusée : " + " ; ".join(problems) + ". Elle effacerait ces données : relancez "
                "avec --force si c'est bien ce que vous voulez (faites d'abord une sauvegarde de l'existant)."
            )
        database = workdir / manifest["database_member"]
        if engine == "sqlite":
            _restore_sqlite(alias, database)
        else:
            _restore_postgresql(alias, database, Path(tmp))
        connections[alias].close()
        restored = current_row_counts(alias)
        expected = manifest.get("tables", {})
        different = sorted(t for t in set(expected) | set(restored) if expected.get(t) != restored.get(t))
        if different:
            table = different[0]
            raise BackupError(
                f"Après restauration, {len(different)} table(s) n'ont pas le nombre de lignes attendu, dont "
                f"{table} ({restored.get(table)} au lieu de {expected.get(table)})."
            )
        result = RestoreResult(manifest=manifest)
        if include_media and manifest.get("media_included", True):
            result.media_files = _restore_media(workdir / MEDIA_PREFIX.rstrip("/"), storage)
    applied = set(applied_migrations(alias))
    result.pending_migrations = sorted(known - applied)
    return result
