"""Banc d'essai de la vue de l'État (tableau inter-contrats) à l'échelle nationale.

    .venv/bin/python bench/state.py                 # jeu national (449 contrats synthétiques)
    .venv/bin/python bench/state.py --factor 0.1    # un dixième (45 contrats), plus rapide à bâtir
    .venv/bin/python bench/state.py --db /tmp/cdv-bench-pages/national.sqlite3   # une base existante

1. Construit (ou réutilise) une base SQLite sous /tmp/cdv-bench-state/ : migrate,
   load_reference_data, load_scale_data --factor F (environ 2 min pour le jeu national). Avec --db,
   travaille sur une copie de la base donnée (jamais sur elle).
2. Ajoute un partenaire « ANCT (banc) » signataire de tous les contrats et une personne qui a sa
   lecture inter-contrats, puis demande le tableau (page, filtre par région, XLSX) au client de test
   de Django, plusieurs fois : requêtes SQL et millisecondes (médiane et meilleur passage).
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
READER_EMAIL = "banc-vue-etat@example.org"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def env_for(db: Path) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{db}", DJANGO_SETTINGS_MODULE="config.settings.dev", DEBUG="0")
    return env


def manage(db: Path, *args: str) -> None:
    started = time.monotonic()
    say(f"  manage.py {' '.join(args)}")
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env_for(db), check=True, stdout=sys.stderr)
    say(f"    ({time.monotonic() - started:.0f} s)")


def fold_wal(db: Path) -> None:
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def prepare(workdir: Path, factor: float, source: Path | None, rebuild: bool) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "state.sqlite3"
    if source is not None:
        say(f"Copie de {source} vers {db}")
        fold_wal(source)
        shutil.copyfile(source, db)
        manage(db, "migrate", "--noinput", "-v0")
        return db
    stamp = workdir / "state.json"
    if db.exists() and not rebuild and stamp.exists() and json.loads(stamp.read_text()) == {"factor": factor}:
        say(f"Base réutilisée : {db} (--rebuild pour la reconstruire)")
        manage(db, "migrate", "--noinput", "-v0")
        return db
    building = workdir / "state.building.sqlite3"
    for path in (building, db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    manage(building, "migrate", "--noinput", "-v0")
    manage(building, "load_reference_data", "-v0")
    manage(building, "load_scale_data", f"--factor={factor}", "-v0")
    fold_wal(building)
    building.rename(db)
    stamp.write_text(json.dumps({"factor": factor}))
    return db


def measure(db: Path, repeat: int) -> None:
    """Dans ce processus : Django sur la base ``db``, le lecteur de l'État, puis les mesures."""
    os.environ.update(env_for(db))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from cdv.contracts.enums import SignatoryKind
    from cdv.contracts.models import Contract, Signatory
    from cdv.partners.enums import PartnerKind
    from cdv.partners.models import Partner
    from cdv.users.models import CrossContractReader, User

    setup_test_environment()  # response.context : le nombre de lignes du tableau
    settings.ALLOWED_HOSTS = ["*"]
    state, _ = Partner.objects.get_or_create(
        slug="anct-banc", defaults={"name": "ANCT (banc)", "kind": PartnerKind.STATE}
    )
    signed = set(Signatory.objects.filter(partner=state).values_list("contract_id", flat=True))
    Signatory.objects.bulk_create(
        Signatory(contract_id=pk, partner=state, kind=SignatoryKind.SIGNATORY)
        for pk in Contract.objects.exclude(pk__in=signed).values_list("pk", flat=True)
    )
    reader, _ = User.objects.get_or_create(email=READER_EMAIL)
    CrossContractReader.objects.get_or_create(user=reader, partner=state)
    contracts = Contract.objects.count()
    client = Client()
    client.force_login(reader)
    dashboard = reverse("www:state_dashboard")
    xlsx = reverse("www:state_dashboard_xlsx")
    first_region = None
    cases = [("tableau, tous les contrats", dashboard, {})]
    print(f"Vue de l'État — {contracts} contrats signés par « {state.name} » ({connection.vendor})")
    columns = ("statut", 6), ("SQL", 5), ("médiane ms", 11), ("meilleur ms", 12), ("lignes", 7), ("Ko", 7)
    print(f"{'mesure':<38} " + " ".join(f"{name:>{width}}" for name, width in columns))
    index = 0
    while index < len(cases):
        label, url, params = cases[index]
        index += 1
        timings, status, queries, rows, size = [], 0, 0, 0, 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, params)
                timings.append((time.perf_counter() - started) * 1000)
            status, queries, size = response.status_code, len(captured), len(response.content)
            if response.context and "board" in response.context:
                rows = len(response.context["board"].rows)
                if first_region is None and response.context["board"].regions:
                    first_region = response.context["board"].regions[0]
                    cases.append((f"filtre région ({first_region})", dashboard, {"region": first_region}))
                    cases.append(("export XLSX, tous les contrats", xlsx, {}))
        print(
            f"{label:<38} {status:>6} {queries:>5} {statistics.median(timings):>11.0f} "
            f"{min(timings):>12.0f} {rows or '':>7} {size / 1024:>7.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cdv-bench-state"))
    parser.add_argument("--factor", type=float, default=1.0, help="échelle du jeu synthétique (défaut 1)")
    parser.add_argument("--db", type=Path, help="base SQLite existante (copiée, jamais modifiée)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    db = prepare(args.workdir, args.factor, args.db, args.rebuild)
    measure(db, args.repeat)


if __name__ == "__main__":
    main()
