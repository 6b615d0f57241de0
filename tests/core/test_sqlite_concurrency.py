"""SQLite tient 20 rédacteurs simultanés : aucun « database is locked », chaque écriture est là ensuite.

La base est ouverte en mode WAL, avec attente sur verrou et transactions IMMEDIATE
(config/settings/base.py). Ici, 20 processus (comme 20 workers gunicorn) partent ensemble derrière
une barrière et créent puis modifient chacun des engagements par les services de l'application
(transactions avec lecture puis écriture : le cas qui donne « database is locked » en mode
DEFERRED), contre une copie de la base de la session de tests dans un fichier. SQLite seulement.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.sqlite_files import copy_session_database

ROOT = Path(settings.BASE_DIR)
WORKERS, WRITES = 20, 8
pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite seulement (la suite tourne sur PostgreSQL)"
    ),
    pytest.mark.demo,  # les rédacteurs écrivent dans le plan de démonstration du contrat de Nantes
]

SCRIPT = """
import json, multiprocessing, sys, traceback
import django
django.setup()
from django.db import connections

WORKERS, WRITES = int(sys.argv[1]), int(sys.argv[2])


def work(index, barrier, queue):
    from django.db import connection
    from cdv.commitments import services
    from cdv.contracts.models import Contract
    from cdv.core.actors import SystemActor

    connection.close()  # une connexion par processus
    try:
        contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
        partner = contract.signatories.order_by("pk")[index % contract.signatories.count()].partner
        objective = contract.enjeux.get(number=1).objectives.order_by("pk").first()
    except Exception:
        barrier.abort()  # les autres ne l'attendent pas sans fin : l'erreur remonte au test
        raise
    actor, written, errors = SystemActor(), [], []
    barrier.wait(timeout=120)
    for number in range(WRITES):
        try:
            created = services.create_commitment(
                user=actor, contract=contract, partner=partner,
                data={"objective": objective, "title": f"Concurrence {index}-{number}", "scope": "CONTRAT"},
            )
            updated = services.update_commitment(
                user=actor, commitment=created, expected_version=created.version,
                data={"target": f"cible {index}-{number}"},
            )
            written.append([updated.pk, updated.version, f"cible {index}-{number}"])
        except Exception as error:  # noqa: BLE001 - tout est compté et remonté au test
            errors.append(f"{type(error).__name__}: {error}")
    queue.put({"worker": index, "written": written, "errors": errors})


if __name__ == "__main__":
    # Comme en production, la base est déjà en mode WAL quand les workers démarrent (migrate l'y a
    # mise) : la copie du test, elle, ne l'est pas encore. Passer en WAL demande un verrou exclusif ;
    # 20 processus qui le demandent ensemble peuvent recevoir « database is locked » sans attendre.
    connections["default"].ensure_connection()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=work, args=(i, barrier, queue)) for i in range(WORKERS)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    print(json.dumps(results))
"""


@pytest.fixture
def database_file(db, tmp_path):
    return copy_session_database(tmp_path / "base.sqlite3")


def test_twenty_concurrent_writers_get_no_database_is_locked(database_file):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database_file}", "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(WORKERS), str(WRITES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reports = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(reports) == WORKERS
    errors = [error for report in reports for error in report["errors"]]
    assert not [e for e in errors if "locked" in e], errors[:5]
    assert errors == []

    acknowledged = [row for report in reports for row in report["written"]]
    assert len(acknowledged) == WORKERS * WRITES
    conn = sqlite3.connect(database_file)
    try:
        stored = {
            pk: (version, target)
            for pk, version, target in conn.execute(
                "SELECT id, version, target FROM commitments_commitment WHERE title LIKE 'Concurrence %'"
            )
        }
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert {pk: (version, target) for pk, version, target in acknowledged} == stored
