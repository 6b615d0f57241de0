"""Charge mixte : 20 clients pendant 60 s — lectures publiques, modifications de partenaires, bilans PDF.

    .venv/bin/python bench/load.py                       # SQLite, puis PostgreSQL si BENCH_DATABASE_URL
    BENCH_DATABASE_URL=postgres://…/cdv_bench .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --duration 20 --clients 10 --only sqlite

1. Base : SQLite jetable sous /tmp/cdv-bench-load/ (ou la base PostgreSQL de BENCH_DATABASE_URL,
   qui doit être réservée au banc : elle est migrée et remplie) ; migrate, load_reference_data,
   load_demo_data, collectstatic.
2. Préparation (sous-processus Django) : 10 référents partenaires (rôle EDITEUR) avec chacun un
   jeton d'API et 3 engagements en brouillon ; un pilote avec une session ; la campagne 2025.
3. gunicorn (réglages de production, workers synchrones) ; 20 clients en boucle fermée pendant la
   durée : 75 % lectures publiques (pages et API), 22 % modifications d'engagement par l'API
   (GET pour lire la version, PATCH avec cette version : 200 = écriture acquittée, 409 = conflit,
   refus attendu et non une erreur), 3 % bilan annuel PDF (pilote).
4. Vérification dans la base : chaque écriture acquittée y est (pour chaque engagement, la
   dernière version acquittée est celle enregistrée, avec sa valeur ; aucune version acquittée deux
   fois) ; sinon « écriture perdue ».

Affiche débit, p50/p95 par catégorie, erreurs, conflits et écritures perdues. Cible : zéro erreur,
zéro écriture perdue. Code de sortie 0 si la cible est tenue.
"""

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchserver import ROOT, Server, machine, percentile, production_env

PYTHON = sys.executable
SLUG = "nantes-metropole-2024-2030"
YEAR = 2025
EDITORS, COMMITMENTS_PER_EDITOR = 10, 3
MIX = (("lecture", 0.75), ("modification", 0.22), ("bilan PDF", 0.03))


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Préparation (dans un sous-processus Django : « --setup » et « --verify ») --------------------


def setup() -> dict:
    import datetime

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from cdv.commitments import services as commitments
    from cdv.contracts.models import Contract
    from cdv.core.actors import SystemActor
    from cdv.monitoring import services as monitoring
    from cdv.monitoring.models import ReviewCampaign
    from cdv.users.enums import Role
    from cdv.users.models import Membership, User
    from cdv.users.services import create_api_token

    contract = Contract.objects.get(slug=SLUG)
    actor = SystemActor()
    objective = contract.enjeux.get(number=1).objectives.order_by("pk").first()
    partners = [s.partner for s in contract.signatories.select_related("partner").order_by("pk")][:EDITORS]
    editors = []
    for index, partner in enumerate(partners):
        user, _ = User.objects.get_or_create(
            email=f"banc-{index}@example.org", defaults={"first_name": "Banc"}
        )
        Membership.objects.get_or_create(user=user, contract=contract, role=Role.EDITOR, partner=partner)
        _, token = create_api_token(user=user, name="banc d'essai")
        ids = []
        for number in range(COMMITMENTS_PER_EDITOR):
            commitment = commitments.create_commitment(
                user=actor,
                contract=contract,
                partner=partner,
                data={"objective": objective, "title": f"Banc {index}-{number}", "scope": "CONTRAT"},
            )
            ids.append(commitment.pk)
        editors.append({"token": token, "commitments": ids})
    pilot, _ = User.objects.get_or_create(email="banc-pilote@example.org", defaults={"first_name": "Pilote"})
    Membership.objects.get_or_create(user=pilot, contract=contract, role=Role.PILOT, partner=None)
    if not ReviewCampaign.objects.filter(contract=contract, year=YEAR).exists():
        monitoring.open_campaign(
            user=actor,
            contract=contract,
            year=YEAR,
            deadline=datetime.date(YEAR + 1, 2, 28),
            opens_on=datetime.date(YEAR + 1, 1, 5),
        )
    session = SessionStore()
    session[SESSION_KEY] = str(pilot.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = pilot.get_session_auth_hash()
    session.create()
    qpv = contract.qpvs.order_by("code").values_list("code", flat=True).first()
    enjeu = contract.enjeux.order_by("number").values_list("slug", flat=True).first()
    partner = partners[0].slug
    base = f"/contrats/{SLUG}"
    reads = [
        "/",
        f"{base}/",
        f"{base}/quartiers/{qpv}/",
        f"{base}/enjeux/{enjeu}/",
        f"{base}/partenaires/{partner}/",
        f"{base}/indicateurs/",
        f"{base}/recherche/?q=emploi",
        f"/api/v1/contracts/{SLUG}",
        f"/api/v1/contracts/{SLUG}/commitments?limit=50",
        f"/api/v1/qpv/{qpv}",
    ]
    return {
        "editors": editors,
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "reads": reads,
        "report": f"{base}/suivi/{YEAR}/bilan-annuel.pdf",
    }


def verify(acks_file: Path) -> dict:
    import django

    django.setup()
    from cdv.commitments.models import Commitment

    acks = json.loads(acks_file.read_text())
    by_commitment: dict[int, list] = {}
    for pk, version, target in acks:
        by_commitment.setdefault(pk, []).append((version, target))
    stored = {c.pk: (c.version, c.target) for c in Commitment.objects.filter(pk__in=by_commitment)}
    lost, duplicated = [], []
    for pk, writes in by_commitment.items():
        versions = [v for v, _ in writes]
        if len(versions) != len(set(versions)):
            duplicated.append(pk)  # deux écritures acquittées avec la même version : l'une est perdue
        last = max(writes)
        if stored.get(pk) != last:
            lost.append({"commitment": pk, "acknowledged": last, "stored": stored.get(pk)})
    return {
        "acknowledged": len(acks),
        "commitments": len(by_commitment),
        "lost": lost,
        "duplicated": duplicated,
    }


# --- Bases et serveur -----------------------------------------------------------------------------


def django_env(database_url: str, workdir: Path) -> dict:
    return production_env(database_url, workdir, AXES_FAILURE_LIMIT="1000")


def manage(env: dict, *args: str) -> None:
    started = time.monotonic()
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=sys.stderr)
    say(f"  manage.py {' '.join(args)} ({time.monotonic() - started:.0f} s)")


def helper(env: dict, *args: str) -> dict:
    result = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def request(port, method, path, body=None, headers=None, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        all_headers = {"Host": "127.0.0.1", "User-Agent": "cdv-bench-load", **(headers or {})}
        payload = json.dumps(body).encode() if body is not None else None
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        if response.will_close:
            connection.close()
        return response.status, data, response.getheader("Content-Type") or ""
    finally:
        if own:
            connection.close()


# --- Charge ---------------------------------------------------------------------------------------


def run_load(port: int, plan: dict, *, clients: int, duration: float, seed: int) -> dict:
    samples = []  # (catégorie, durée s, résultat)
    acks = []  # (id, version, valeur) acquittés par le serveur
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def client(number: int):
        rng = random.Random(seed * 1000 + number)
        editor = plan["editors"][number % len(plan["editors"])]
        auth = {"Authorization": f"Bearer {editor['token']}"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, my_acks, count = [], [], 0
        while time.perf_counter() < stop_at:
            kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
            began = time.perf_counter()
            try:
                if kind == "lecture":
                    status, _, _ = request(port, "GET", rng.choice(plan["reads"]), connection=connection)
                    outcome = "ok" if status == 200 else f"HTTP {status}"
                elif kind == "bilan PDF":
                    status, data, content_type = request(
                        port,
                        "GET",
                        plan["report"],
                        headers={"Cookie": plan["session_cookie"]},
                        connection=connection,
                    )
                    good = (
                        status == 200 and content_type.startswith("application/pdf") and data[:5] == b"%PDF-"
                    )
                    outcome = "ok" if good else f"HTTP {status}"
                else:
                    pk = rng.choice(editor["commitments"])
                    path = f"/api/v1/contracts/{SLUG}/commitments/{pk}"
                    status, data, _ = request(port, "GET", path, headers=auth, connection=connection)
                    if status != 200:
                        outcome = f"HTTP {status} (lecture)"
                    else:
                        version = json.loads(data)["version"]
                        count += 1
                        value = f"banc {number}-{count}"
                        body = {"version": version, "target": value, "amendment_reason": "banc d'essai"}
                        status, data, _ = request(
                            port, "PATCH", path, body=body, headers=auth, connection=connection
                        )
                        if status == 200:
                            my_acks.append((pk, json.loads(data)["version"], value))
                            outcome = "ok"
                        elif status == 409 and json.loads(data).get("changes"):
                            outcome = "conflit"  # un 409 sans « changes » refuse les données
                        else:
                            outcome = f"HTTP {status}"
            except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
                outcome = type(error).__name__
                connection.close()
            mine.append((kind, time.perf_counter() - began, outcome))
        connection.close()
        with lock:
            samples.extend(mine)
            acks.extend(my_acks)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {"duration": duration, "requests": len(samples), "categories": {}, "acks": acks}
    for kind, _ in MIX:
        mine = [s for s in samples if s[0] == kind]
        latencies = sorted(s[1] * 1000 for s in mine)
        errors = [s[2] for s in mine if s[2] not in {"ok", "conflit"}]
        result["categories"][kind] = {
            "count": len(mine),
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "conflicts": sum(1 for s in mine if s[2] == "conflit"),
            "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5],
        }
    latencies = sorted(s[1] * 1000 for s in samples)
    result["p95_ms"] = percentile(latencies, 95)
    result["throughput"] = len(samples) / duration
    result["errors"] = sum(c["errors"] for c in result["categories"].values())
    return result


def run_engine(name: str, database_url: str, workdir: Path, args) -> dict:
    say(f"\n=== {name} : {database_url.split('@')[-1]}")
    env = django_env(database_url, workdir)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_reference_data", "-v0")
    manage(env, "load_demo_data", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    plan = helper(env, "--setup")
    server = Server("config.wsgi:application", env, args.workers, workdir / f"gunicorn-{name}.log")
    try:
        for path in [*plan["reads"]]:  # chauffe : chaque worker importe et compile ses gabarits
            request(server.port, "GET", path)
        result = run_load(server.port, plan, clients=args.clients, duration=args.duration, seed=args.seed)
    finally:
        server.stop()
    acks_file = workdir / f"acks-{name}.json"
    acks_file.write_text(json.dumps(result.pop("acks")))
    result["verification"] = helper(env, "--verify", str(acks_file))
    return result


def print_results(name: str, result: dict) -> bool:
    check = result["verification"]
    print(f"\n## {name}\n")
    print(
        f"{result['requests']} requêtes en {result['duration']:.0f} s : {result['throughput']:.1f} req/s, "
        f"p95 global {result['p95_ms']:.0f} ms, erreurs {result['errors']}."
    )
    print("\n| catégorie | requêtes | p50 ms | p95 ms | conflits (409) | erreurs |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, c in result["categories"].items():
        p50 = "—" if c["p50_ms"] is None else f"{c['p50_ms']:.0f}"
        p95 = "—" if c["p95_ms"] is None else f"{c['p95_ms']:.0f}"
        kinds = f" ({', '.join(c['error_kinds'])})" if c["error_kinds"] else ""
        print(f"| {kind} | {c['count']} | {p50} | {p95} | {c['conflicts']} | {c['errors']}{kinds} |")
    lost = len(check["lost"]) + len(check["duplicated"])
    print(
        f"\nÉcritures acquittées : {check['acknowledged']} sur {check['commitments']} engagements ; "
        f"vérifiées dans la base : {'toutes présentes' if not lost else f'{lost} PERDUE(S)'}."
    )
    for item in check["lost"][:5]:
        print(f"  - perdue : {item}")
    ok = result["errors"] == 0 and lost == 0
    print(f"Cible (zéro erreur, zéro écriture perdue) : {'OK' if ok else 'NON TENUE'}.")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cdv-bench-load"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4, help="workers gunicorn (synchrones)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup()))
        return 0
    if args.verify:
        print(json.dumps(verify(args.verify)))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("# Charge mixte (bench/load.py)\n")
    print(
        f"Machine : {machine()}. gunicorn {args.workers} workers synchrones ; "
        f"{args.clients} clients en boucle fermée pendant {args.duration:.0f} s ; mélange : "
        + ", ".join(f"{kind} {weight:.0%}" for kind, weight in MIX)
        + "."
    )
    ok = True
    if args.only in (None, "sqlite"):
        database = args.workdir / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        ok &= print_results("SQLite", run_engine("sqlite", f"sqlite:///{database}", args.workdir, args))
    if args.only in (None, "postgresql"):
        url = os.environ.get("BENCH_DATABASE_URL", "").strip()
        if not url:
            print("\n## PostgreSQL\n\nIgnoré : aucune base (variable BENCH_DATABASE_URL).")
        else:
            ok &= print_results("PostgreSQL", run_engine("postgresql", url, args.workdir, args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
