"""Pannes : un import ou un bilan tué en plein travail (kill -9) laisse tout comme avant ; la reprise réussit.

Chaque commande tourne dans un sous-processus, contre une copie de la base de la session de tests
dans un fichier SQLite, avec les réglages de ``manage.py`` (``config.settings.dev`` : journal WAL et
cache de pages de SQLite comme en production ; celui des tests, 64 Mio, retarderait toute écriture
dans le journal jusqu'à la validation). SQLite seulement : sur PostgreSQL, la
même garantie vient de la transaction unique de l'import (rien n'est validé avant la fin).
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.sqlite_files import copy_session_database

ROOT = Path(settings.BASE_DIR)
NANTES = "nantes-metropole-2024-2030"
pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="SQLite seulement (la suite tourne sur PostgreSQL)"
    ),
    pytest.mark.reference,
]


@pytest.fixture
def database_file(db, tmp_path):
    """Un fichier SQLite : copie de la base de la session (plus ce que le test y a ajouté)."""

    return lambda: copy_session_database(tmp_path / "base.sqlite3")


def command(database: Path, *args) -> list[str]:
    return [sys.executable, "manage.py", *args]


def environment(database: Path, tmp_path: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }


def count(database: Path, table: str) -> int:
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    finally:
        conn.close()


def wal_size(database: Path) -> int:
    try:
        return Path(f"{database}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def big_csv(path: Path, codes: list[str], qpvs: list[str], quarters: int) -> int:
    lines = ["indicateur;territoire;periode;valeur"]
    for code in codes:
        for number in range(quarters):
            year, quarter = 2000 + number // 4, number % 4 + 1
            lines.extend(
                f"{code};{qpv};{year}-T{quarter};{(i * 7 + number) % 997},5" for i, qpv in enumerate(qpvs)
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def run_until(run, env, condition, *, timeout: float = 120) -> tuple[subprocess.Popen, float, str]:
    """Lance la commande et la tue (kill -9) dès que ``condition()`` est vraie ; renvoie le processus
    terminé, le temps écoulé et la fin de sa sortie d'erreur."""
    started = time.monotonic()
    process = subprocess.Popen(run, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while process.poll() is None and time.monotonic() - started < timeout:
        if condition():
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    process.wait(timeout=30)
    errors = process.stderr.read().decode()[-2000:]
    process.stderr.close()
    return process, time.monotonic() - started, errors


def test_indicator_import_killed_while_writing_leaves_the_database_as_before(database_file, tmp_path):
    from cdv.contracts.models import Contract
    from cdv.indicators.enums import Aggregation
    from cdv.indicators.models import Indicator
    from cdv.territories.models import Territory

    contract = Contract.objects.get(slug=NANTES)
    codes = [f"panne-{n}" for n in range(3)]
    for code in codes:
        Indicator.objects.create(
            contract=contract,
            code=code,
            name=f"Indicateur {code}",
            unit="personnes",
            aggregation=Aggregation.SUM,
        )
    qpvs = list(Territory.objects.qpvs().order_by("code").values_list("code", flat=True))
    database = database_file()
    csv = tmp_path / "valeurs.csv"
    expected = big_csv(csv, codes, qpvs, quarters=16)  # environ 77 000 valeurs
    before = count(database, "indicators_indicatorvalue")
    run = command(
        database,
        "import_indicator_values",
        str(csv),
        "--contract",
        NANTES,
        "--no-progress",
        "--source",
        "Fichier de test",
        "--millesime",
        "2000",
    )
    env = environment(database, tmp_path)

    # L'écriture a commencé quand le journal WAL grossit (pages de la transaction pas encore validée).
    baseline = wal_size(database)
    process, _, errors = run_until(run, env, lambda: wal_size(database) > baseline + 2 * 1024 * 1024)
    assert process.returncode == -signal.SIGKILL, f"l'import a fini avant d'écrire ? {errors}"

    assert count(database, "indicators_indicatorvalue") == before  # rien de la transaction interrompue

    finished = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert count(database, "indicators_indicatorvalue") == before + expected


def test_annual_report_killed_midway_never_leaves_a_truncated_pdf(database_file, tmp_path):
    database = database_file()
    env = environment(database, tmp_path)
    output = tmp_path / "bilan-2025.pdf"
    previous = b"%PDF-1.4 bilan precedent\n%%EOF\n"
    output.write_bytes(previous)
    run = command(database, "build_annual_report", "--contract", NANTES, "--year", "2025", "-o", str(output))

    def complete(content: bytes) -> bool:
        return content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")

    # 1. Tué pendant l'écriture : dès que le fichier temporaire (.bilan-2025.pdf.….partiel) existe. Il
    # ne vit que le temps d'écrire et de synchroniser le PDF : vu une fois sur deux environ ; sinon
    # la commande a fini, et le bilan est complet.
    def writing() -> bool:
        return any(name.endswith(".partiel") for name in os.listdir(tmp_path))

    process, until_write, errors = run_until(run, env, writing)
    content = output.read_bytes()
    if process.returncode == -signal.SIGKILL:
        assert content == previous or complete(content)  # renommé entre le constat et le kill
    else:  # fini avant qu'on ait vu le fichier temporaire
        assert process.returncode == 0, errors
        assert complete(content)

    # 2. Tué à mi-chemin de la composition : le fichier final ne bouge pas.
    before = output.read_bytes()
    deadline = time.monotonic() + until_write / 2
    process, _, errors = run_until(run, env, lambda: time.monotonic() >= deadline)
    assert process.returncode == -signal.SIGKILL, errors
    assert output.read_bytes() == before

    # 3. Relancé : un bilan complet remplace l'ancien.
    finished = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    content = output.read_bytes()
    assert content != previous and complete(content)
    # Les fichiers temporaires d'un processus tué portent un autre nom (.bilan-2025.pdf.….partiel).
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".bilan-2025.pdf.")]
    assert all(name.endswith(".partiel") for name in leftovers)
