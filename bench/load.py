"""Charge mixte : 20 clients pendant 60 s — lectures publiques, modifications de partenaires, bilans PDF.

    .venv/bin/python bench/load.py                       # SQLite, puis PostgreSQL si BENCH_DATABASE_URL
    BENCH_DATABASE_URL=postgres://…/cdv_bench .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --duration 20 --clients 10 --only sqlite
    # Échelle nationale sur PostgreSQL, débit par cœur, visiteurs anonymes puis connectés :
    .venv/bin/python bench/load.py --database-url postgres://…/cdv_national --national --visitors anonymous
    .venv/bin/python bench/load.py --database-url postgres://…/cdv_national --national --visitors signed-in

--database-url : cette base seulement (réservée au banc : migrée et remplie). --national : le jeu
synthétique national (load_scale_data, construit s'il manque : plusieurs minutes) et les URL d'un
contrat de taille réaliste (synthetique-154, 15 QPV) et de contrats tirés parmi les 450.
--visitors : « mixed » (défaut, le mélange ci-dessous), « anonymous » (lectures publiques sans
cookie, donc servies par le cache des pages publiques comme en production) ou « signed-in » (les
mêmes pages et le tableau de pilotage lus par un pilote connecté, jamais servis du cache ; le
brouillon de dossier d'AAP d'une association lu par son référent ; les modifications par l'API).
Le débit par cœur est le nombre de requêtes HTTP divisé par le temps
processeur consommé par gunicorn (maître et workers, lu dans /proc) pendant la mesure : il ne
dépend pas de ce que font les autres processus de la machine ; de même pour PostgreSQL (processus
du serveur local).

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
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchserver import ROOT, Server, machine, percentile, production_env

PYTHON = sys.executable
SLUG = "nantes-metropole-2024-2030"
NATIONAL_SLUG = "synthetique-154"  # 15 QPV comme Nantes : le contrat de taille réaliste (bench/pages.py)
OTHER_CONTRACTS = 20  # contrats synthétiques tirés au hasard dont on lit aussi les pages
YEAR = 2025
EDITORS, COMMITMENTS_PER_EDITOR = 10, 3
MIX = (("lecture", 0.75), ("modification", 0.22), ("bilan PDF", 0.03))
MIXES = {
    "mixed": MIX,
    "anonymous": (("lecture", 1.0),),
    # Un pilote qui lit, un référent d'association qui remplit son dossier d'AAP, des modifications.
    "signed-in": (("lecture connectée", 0.45), ("dossier AAP", 0.30), ("modification", 0.25)),
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Préparation (dans un sous-processus Django : « --setup » et « --verify ») --------------------


def setup(slug: str = SLUG, national: bool = False) -> dict:
    import datetime
    import random

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.db.models import Count

    from cdv.commitments import services as commitments
    from cdv.contracts.models import Contract
    from cdv.core.actors import SystemActor
    from cdv.indicators.models import Indicator
    from cdv.monitoring import services as monitoring
    from cdv.monitoring.models import ReviewCampaign
    from cdv.partners.models import Partner
    from cdv.users.enums import Role
    from cdv.users.models import Membership, User
    from cdv.users.services import create_api_token

    contract = Contract.objects.get(slug=slug)
    actor = SystemActor()
    objective = contract.enjeux.order_by("number").first().objectives.order_by("pk").first()
    partners = [s.partner for s in contract.signatories.select_related("partner").order_by("pk")][:EDITORS]
    partners += list(
        Partner.objects.taking_part_in(contract).exclude(pk__in=[p.pk for p in partners]).order_by("pk")
    )[: EDITORS - len(partners)]
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

    def pages(contract, partner_slug):
        qpv = contract.qpvs.order_by("code").values_list("code", flat=True).first()
        enjeu = contract.enjeux.order_by("number").values_list("slug", flat=True).first()
        indicator = (
            Indicator.objects.filter(contract=contract)
            .annotate(n=Count("values"))
            .order_by("-n", "code")
            .values_list("code", flat=True)
            .first()
        )
        base = f"/contrats/{contract.slug}"
        urls = [
            f"{base}/",
            f"{base}/quartiers/{qpv}/",
            f"{base}/enjeux/{enjeu}/",
            f"{base}/partenaires/{partner_slug}/",
            f"{base}/indicateurs/",
            f"{base}/recherche/?q=emploi",
            f"/api/v1/contracts/{contract.slug}",
            f"/api/v1/contracts/{contract.slug}/commitments?limit=50",
            f"/api/v1/qpv/{qpv}",
        ]
        if indicator:
            urls.append(f"{base}/indicateurs/{indicator}/")
        return urls

    reads = ["/", *pages(contract, partners[0].slug)]
    if national:  # d'autres contrats de l'instance, tirés une fois pour toutes (graine fixe)
        from cdv.seed.scale import PREFIX

        others = list(Contract.objects.filter(slug__startswith=PREFIX).exclude(pk=contract.pk).order_by("pk"))
        for other in random.Random(1).sample(others, min(OTHER_CONTRACTS, len(others))):
            first = (
                Partner.objects.taking_part_in(other).order_by("pk").values_list("slug", flat=True).first()
            )
            reads += pages(other, first)
    base = f"/contrats/{contract.slug}"
    # Un pilote connecté : les pages de son contrat (hors cache), son tableau de pilotage, son espace.
    signed_in = [*pages(contract, partners[0].slug), f"{base}/pilotage/", "/espace/"]
    # Un référent d'association connecté, sur le brouillon de dossier d'AAP de son association.
    from cdv.grants.enums import ApplicationStatus
    from cdv.grants.models import Application

    draft = (
        Application.objects.filter(call__contract=contract, status=ApplicationStatus.DRAFT)
        .select_related("call")
        .order_by("pk")
        .first()
    )
    applicant_reads, applicant_cookie = [], None
    if draft is not None:
        asso, _ = User.objects.get_or_create(email="banc-asso@example.org", defaults={"first_name": "Asso"})
        Membership.objects.get_or_create(
            user=asso, contract=contract, role=Role.APPLICANT, partner=draft.partner
        )
        asso_session = SessionStore()
        asso_session[SESSION_KEY] = str(asso.pk)
        asso_session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        asso_session[HASH_SESSION_KEY] = asso.get_session_auth_hash()
        asso_session.create()
        applicant_cookie = f"{settings.SESSION_COOKIE_NAME}={asso_session.session_key}"
        folder = f"{base}/aap/{draft.call.year}/dossiers/{draft.pk}/"
        applicant_reads = [
            f"{base}/aap/",
            folder,
            f"{folder}projet/",
            f"{folder}budget/",
            f"{folder}pieces/",
            "/espace/",
        ]
    postmaster = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        try:  # le serveur PostgreSQL est local : son processus père, pour lire son temps processeur
            postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            postmaster = None
    return {
        "slug": contract.slug,
        "editors": editors,
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "reads": reads,
        "signed_in_reads": signed_in,
        "applicant_reads": applicant_reads,
        "applicant_cookie": applicant_cookie,
        "report": f"{base}/suivi/{YEAR}/bilan-annuel.pdf",
        "postmaster": postmaster,
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


LAST = threading.local()  # en-têtes Server-Timing et X-Cache de la dernière réponse de ce fil


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
        LAST.response = (response.getheader("Server-Timing") or "", response.getheader("X-Cache") or "")
        return response.status, data, response.getheader("Content-Type") or ""
    finally:
        if own:
            connection.close()


# --- Charge ---------------------------------------------------------------------------------------


APP_TIMING_RE = re.compile(r"app;dur=([\d.]+)")


def cpu_seconds(root: int | None) -> dict[int, float]:
    """Temps processeur (utilisateur + système) du processus ``root`` et de chacun de ses enfants
    directs (gunicorn : maître et workers ; PostgreSQL : serveur et connexions), lu dans /proc. Celui
    de ``root`` compte aussi ses enfants terminés (une connexion PostgreSQL fermée pendant la mesure)."""
    if not root:
        return {}
    tick, times = os.sysconf("SC_CLK_TCK"), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # processus terminé entre-temps
        if int(entry.name) == root:  # utime, stime, et ceux de ses enfants terminés (cutime, cstime)
            times[root] = sum(int(value) for value in fields[11:15]) / tick
        elif int(fields[1]) == root:
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return times


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """Le temps processeur consommé entre deux relevés (un processus apparu entre-temps compte en
    entier ; celui d'un processus terminé passe dans le compte de son parent)."""
    return sum(after.values()) - sum(before.values())


def run_load(
    port: int, plan: dict, *, clients: int, duration: float, seed: int, mix=MIX, watch=(None, None)
) -> dict:
    samples = []  # (catégorie, durée s, résultat, requêtes HTTP, temps serveur ms, servie du cache)
    acks = []  # (id, version, valeur) acquittés par le serveur
    lock = threading.Lock()
    cpu_before = [cpu_seconds(pid) for pid in watch]
    stop_at = time.perf_counter() + duration

    def client(number: int):
        rng = random.Random(seed * 1000 + number)
        editor = plan["editors"][number % len(plan["editors"])]
        auth = {"Authorization": f"Bearer {editor['token']}"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, my_acks, count = [], [], 0
        while time.perf_counter() < stop_at:
            kind = rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]
            began = time.perf_counter()
            http_requests, LAST.response = 1, ("", "")
            try:
                if kind == "lecture":
                    status, _, _ = request(port, "GET", rng.choice(plan["reads"]), connection=connection)
                    outcome = "ok" if status == 200 else f"HTTP {status}"
                elif kind in ("lecture connectée", "dossier AAP"):
                    applicant = kind == "dossier AAP" and plan["applicant_reads"]
                    status, _, _ = request(
                        port,
                        "GET",
                        rng.choice(plan["applicant_reads"] if applicant else plan["signed_in_reads"]),
                        headers={"Cookie": plan["applicant_cookie"] if applicant else plan["session_cookie"]},
                        connection=connection,
                    )
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
                    path = f"/api/v1/contracts/{plan['slug']}/commitments/{pk}"
                    status, data, _ = request(port, "GET", path, headers=auth, connection=connection)
                    if status != 200:
                        outcome = f"HTTP {status} (lecture)"
                    else:
                        version = json.loads(data)["version"]
                        count += 1
                        value = f"banc {number}-{count}"
                        body = {"version": version, "target": value, "amendment_reason": "banc d'essai"}
                        http_requests = 2
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
            match = APP_TIMING_RE.search(LAST.response[0])
            server_ms = float(match.group(1)) if match else None
            hit = LAST.response[1] == "hit"
            mine.append((kind, time.perf_counter() - began, outcome, http_requests, server_ms, hit))
        connection.close()
        with lock:
            samples.extend(mine)
            acks.extend(my_acks)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = [cpu_spent(before, cpu_seconds(pid)) for before, pid in zip(cpu_before, watch, strict=True)]
    result = {"duration": duration, "requests": len(samples), "categories": {}, "acks": acks}
    for kind, _ in mix:
        mine = [s for s in samples if s[0] == kind]
        latencies = sorted(s[1] * 1000 for s in mine)
        errors = [s[2] for s in mine if s[2] not in {"ok", "conflit"}]
        server = sorted(s[4] for s in mine if s[4] is not None and not s[5])
        result["categories"][kind] = {
            "count": len(mine),
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "server_p50_ms": percentile(server, 50),
            "hit_share": sum(1 for s in mine if s[5]) / len(mine) if mine else None,
            "conflicts": sum(1 for s in mine if s[2] == "conflit"),
            "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5],
        }
    latencies = sorted(s[1] * 1000 for s in samples)
    http_requests = sum(s[3] for s in samples)
    result["p95_ms"] = percentile(latencies, 95)
    result["throughput"] = len(samples) / duration
    result["http_requests"] = http_requests
    result["http_throughput"] = http_requests / duration
    result["app_cpu_s"], result["db_cpu_s"] = cpu
    result["per_app_core"] = http_requests / cpu[0] if cpu[0] else None
    result["per_db_core"] = http_requests / cpu[1] if cpu[1] >= 0.5 else None  # en deçà : négligeable
    result["errors"] = sum(c["errors"] for c in result["categories"].values())
    return result


def run_engine(name: str, database_url: str, workdir: Path, args) -> dict:
    say(f"\n=== {name} : {database_url.split('@')[-1]}")
    env = django_env(database_url, workdir)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_reference_data", "-v0")
    manage(env, "load_demo_data", "-v0")
    if args.national and helper(env, "--has-national")["contracts"] == 0:
        manage(env, "load_scale_data")  # plusieurs minutes (PostgreSQL : 5 à 7 min)
    manage(env, "collectstatic", "--noinput", "-v0")
    plan = helper(env, "--setup", *(["--national"] if args.national else []))
    server = Server("config.wsgi:application", env, args.workers, workdir / f"gunicorn-{name}.log")
    try:
        cookie = {"Cookie": plan["session_cookie"]}
        for path in plan["reads"]:  # chauffe : chaque worker importe et compile ses gabarits
            request(server.port, "GET", path)
        for path in plan["signed_in_reads"]:
            request(server.port, "GET", path, headers=cookie)
        for path in plan["applicant_reads"]:
            request(server.port, "GET", path, headers={"Cookie": plan["applicant_cookie"]})
        result = run_load(
            server.port,
            plan,
            clients=args.clients,
            duration=args.duration,
            seed=args.seed,
            mix=MIXES[args.visitors],
            watch=(server.process.pid, plan["postmaster"]),
        )
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
    per_app = result["per_app_core"]
    print(
        f"Requêtes HTTP : {result['http_requests']} ({result['http_throughput']:.1f}/s) ; "
        f"processeur consommé : gunicorn {result['app_cpu_s']:.1f} s"
        + (f", PostgreSQL {result['db_cpu_s']:.1f} s" if result["db_cpu_s"] else "")
        + (
            f" ; **{per_app:.1f} requêtes par seconde de processeur d'application** (par cœur)"
            if per_app
            else ""
        )
        + (
            f", {result['per_db_core']:.0f} par seconde de processeur PostgreSQL"
            if result["per_db_core"]
            else ""
        )
        + "."
    )
    print(
        "\n| catégorie | requêtes | p50 ms | p95 ms | temps serveur p50 ms (hors cache) | servies du cache "
        "| conflits (409) | erreurs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")

    def ms(value):
        return "—" if value is None else f"{value:.0f}"

    for kind, c in result["categories"].items():
        kinds = f" ({', '.join(c['error_kinds'])})" if c["error_kinds"] else ""
        hits = "—" if c["hit_share"] is None else f"{c['hit_share']:.0%}"
        print(
            f"| {kind} | {c['count']} | {ms(c['p50_ms'])} | {ms(c['p95_ms'])} | {ms(c['server_p50_ms'])} "
            f"| {hits} | {c['conflicts']} | {c['errors']}{kinds} |"
        )
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
    parser.add_argument("--has-national", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cdv-bench-load"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--database-url", help="cette base seulement (réservée au banc), SQLite ou PostgreSQL"
    )
    parser.add_argument("--national", action="store_true", help="jeu synthétique national (load_scale_data)")
    parser.add_argument("--visitors", choices=sorted(MIXES), default="mixed")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count(),
        help="workers gunicorn (synchrones) ; défaut : un par cœur",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup(NATIONAL_SLUG if args.national else SLUG, national=args.national)))
        return 0
    if args.has_national:
        import django

        django.setup()
        from cdv.contracts.models import Contract
        from cdv.seed.scale import PREFIX

        print(json.dumps({"contracts": Contract.objects.filter(slug__startswith=PREFIX).count()}))
        return 0
    if args.verify:
        print(json.dumps(verify(args.verify)))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("# Charge mixte (bench/load.py)\n")
    print(
        f"Machine : {machine()}. gunicorn {args.workers} workers synchrones ; "
        f"{args.clients} clients en boucle fermée pendant {args.duration:.0f} s ; mélange : "
        + ", ".join(f"{kind} {weight:.0%}" for kind, weight in MIXES[args.visitors])
        + "."
    )
    ok = True
    if args.database_url:
        name = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
        engine = "PostgreSQL" if name == "postgresql" else "SQLite"
        dataset = "jeu national" if args.national else "Nantes"
        title = f"{engine}, {dataset}, visiteurs : {args.visitors}"
        return 0 if print_results(title, run_engine(name, args.database_url, args.workdir, args)) else 1
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
