"""Banc d'essai des pages publiques et de l'API sous charge, à la taille de Nantes puis à l'échelle nationale.

    .venv/bin/python bench/pages.py                  # tout (environ 15 min la première fois, 12 ensuite)
    .venv/bin/python bench/pages.py --only nantes    # seulement la taille de Nantes
    .venv/bin/python bench/pages.py --rebuild        # reconstruit les bases au lieu de les réutiliser

1. Construit (ou réutilise) deux bases SQLite sous /tmp/cdv-bench-pages/ : « nantes » (migrate,
   load_reference_data, load_demo_data) et « national » (la même, plus load_scale_data : 449
   contrats synthétiques, 20 000 partenaires, 200 000 engagements, 2 000 000 de valeurs).
2. Sert chaque base avec gunicorn (réglages de production, workers synchrones), les deux serveurs
   côte à côte, et les charge avec un générateur maison (threads + http.client, 20 clients
   simultanés en boucle fermée, chauffe puis durée fixe) : chaque URL dans un jeu puis dans l'autre,
   pour qu'une variation de la charge de la machine touche les deux mesures de la même façon.
   Les serveurs tournent avec le cache des pages publiques des réglages de production (fichiers,
   60 s ; --no-page-cache le coupe) : la charge mesure ce que reçoivent les visiteurs. « seule »
   est le temps de calcul de la page par la vue, hors cache (requête munie d'un cookie de session
   inconnu, comme le premier visiteur après une modification), avec ses requêtes SQL relevées dans
   l'en-tête Server-Timing. p50, p95, débit, erreurs et part des réponses servies du cache.
   Une URL qui répond 404 (page pas encore écrite) est ignorée, et dite ; sans cache, une page
   plus lente que 1 s seule n'est pas chargée (on ne mesurerait que la file d'attente).
3. Plafond : le HTML de chaque page, enregistré, est servi par une application WSGI triviale sous
   les mêmes réglages de gunicorn ; son débit est ce que la machine et le générateur permettent au
   mieux.
4. Compare aux cibles : p95 < 150 ms, zéro erreur, p95 national ≤ 1,5 × p95 à la taille de Nantes
   (pour les pages de Nantes, mesurées dans les deux bases).

Résultats détaillés en JSON dans le dossier de travail (results.json).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchserver import ROOT, Server, machine, percentile, production_env

PYTHON = sys.executable
TARGET_P95_MS = 150.0
TARGET_RATIO = 1.5
SLOW_LIMIT_MS = (
    1000.0  # une page plus lente que cela, seule, n'est pas chargée : on ne mesurerait que la file
)
NANTES_SLUG = "nantes-metropole-2024-2030"
SERVER_TIMING_RE = re.compile(r'db;dur=([\d.]+);desc="(\d+) requete')
HEADERS = {"Host": "127.0.0.1", "User-Agent": "cdv-bench-pages"}
# Un cookie de session (inconnu) fait passer la requête à côté du cache des pages publiques : la vue
# calcule la page, comme pour le premier visiteur après une modification.
COLD_HEADERS = {**HEADERS, "Cookie": "sessionid=cdv-bench-sans-cache"}


# --- Application WSGI du plafond (chargée par gunicorn : « pages:static_app ») ------------------

_STATIC_PAGES = None


def static_app(environ, start_response):
    """Sert le HTML enregistré de chaque page, tel quel : le plafond de débit de la machine."""
    global _STATIC_PAGES
    if _STATIC_PAGES is None:
        index = json.loads(Path(os.environ["CDV_BENCH_STATIC_INDEX"]).read_text())
        _STATIC_PAGES = {
            path: (Path(entry["file"]).read_bytes(), entry["content_type"]) for path, entry in index.items()
        }
    query = environ.get("QUERY_STRING", "")
    page = _STATIC_PAGES.get(environ.get("PATH_INFO", "") + (f"?{query}" if query else ""))
    if page is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    body, content_type = page
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


# --- Découverte des URL (exécutée dans un sous-processus Django : « --discover ») ----------------


def discover() -> dict:
    import django

    django.setup()
    from django.db.models import Count, Q

    from cdv.commitments.models import Commitment
    from cdv.contracts.models import Contract
    from cdv.indicators.models import Indicator
    from cdv.plan.models import Action, Enjeu
    from cdv.seed.scale import PREFIX

    def describe(contract):
        qpv = (
            contract.qpvs.annotate(n=Count("commitments", filter=Q(commitments__contract=contract)))
            .order_by("-n", "code")
            .values_list("code", flat=True)
            .first()
        )
        partner = (
            Commitment.objects.filter(contract=contract)
            .values("partner__slug")
            .annotate(n=Count("id"))
            .order_by("-n", "partner__slug")
            .values_list("partner__slug", flat=True)
            .first()
        ) or contract.signatories.values_list("partner__slug", flat=True).first()
        enjeu = (
            Enjeu.objects.filter(contract=contract).order_by("number").values_list("slug", flat=True).first()
        )
        action = Action.objects.for_contract(contract).order_by("pk").values_list("pk", flat=True).first()
        indicator = (
            Indicator.objects.filter(contract=contract)
            .annotate(n=Count("values"))
            .order_by("-n", "code")
            .values_list("code", flat=True)
            .first()
        )
        return {
            "slug": contract.slug,
            "qpv_count": contract.qpvs.count(),
            "qpv": qpv,
            "partner": partner,
            "enjeu": enjeu,
            "action": action,
            "indicator": indicator,
        }

    nantes = Contract.objects.get(slug=NANTES_SLUG)
    result = {"nantes": describe(nantes), "contracts": Contract.objects.count(), "synthetic": None}
    synthetic = list(
        Contract.objects.filter(slug__startswith=PREFIX).annotate(n=Count("qpvs")).values_list("slug", "n")
    )
    if synthetic:
        target = result["nantes"]["qpv_count"]
        slug = min(synthetic, key=lambda item: (abs(item[1] - target), item[0]))[0]
        result["synthetic"] = describe(Contract.objects.get(slug=slug))
        result["synthetic_largest"] = max(n for _, n in synthetic)
    return result


def contract_urls(info: dict, label: str) -> list[tuple[str, str]]:
    slug, qpv = info["slug"], info["qpv"]
    base = f"/contrats/{slug}"
    urls = [
        (f"{label} : contrat", f"{base}/"),
        (f"{label} : quartier", f"{base}/quartiers/{qpv}/"),
        (f"{label} : indicateurs", f"{base}/indicateurs/"),
        (f"{label} : un indicateur", f"{base}/indicateurs/{info['indicator']}/"),
        (f"{label} : enjeu", f"{base}/enjeux/{info['enjeu']}/"),
        (f"{label} : partenaire", f"{base}/partenaires/{info['partner']}/"),
        (f"{label} : action", f"{base}/actions/{info['action']}/"),
        (f"{label} : recherche", f"{base}/recherche/?q=emploi"),
        (f"{label} : carte.geojson", f"{base}/carte.geojson"),
        (f"{label} : API contrat", f"/api/v1/contracts/{slug}"),
        (f"{label} : API engagements", f"/api/v1/contracts/{slug}/commitments"),
        (f"{label} : API indicateurs", f"/api/v1/contracts/{slug}/indicators"),
        (f"{label} : API QPV", f"/api/v1/qpv/{qpv}"),
    ]
    return urls


def global_urls() -> list[tuple[str, str]]:
    return [("accueil", "/"), ("API contrats", "/api/v1/contracts"), ("API liste des QPV", "/api/v1/qpv")]


# --- Bases de données -------------------------------------------------------------------------


def django_env(db_path: Path, *, page_cache: bool = True) -> dict:
    return production_env(
        f"sqlite:///{db_path}",
        db_path.parent,
        # Un cache par base : deux serveurs côte à côte ne doivent pas se servir les pages l'un de l'autre.
        CDV_CACHE_DIR=str(db_path.parent / f"cache-{db_path.stem}"),
        CDV_PUBLIC_CACHE_SECONDS="60" if page_cache else "0",
    )


def manage(db_path: Path, *args: str) -> None:
    started = time.monotonic()
    say(f"  manage.py {' '.join(args)}")
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=django_env(db_path), check=True, stdout=sys.stderr
    )
    say(f"    ({time.monotonic() - started:.0f} s)")


def fold_wal(db_path: Path) -> None:
    """Vide le journal WAL dans la base, pour pouvoir copier un seul fichier."""
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def remove_db(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def prepare_nantes(workdir: Path, rebuild: bool) -> Path:
    db = workdir / "nantes.sqlite3"
    if db.exists() and not rebuild:
        say(f"Base « nantes » réutilisée : {db} (--rebuild pour la reconstruire)")
        manage(db, "migrate", "--noinput", "-v0")
        manage(db, "collectstatic", "--noinput", "-v0")
        return db
    say(f"Construction de la base « nantes » : {db}")
    building = workdir / "nantes.building.sqlite3"
    remove_db(building)
    manage(building, "migrate", "--noinput", "-v0")
    manage(building, "load_reference_data", "-v0")
    manage(building, "load_demo_data", "-v0")
    manage(building, "collectstatic", "--noinput", "-v0")
    fold_wal(building)
    remove_db(db)
    building.rename(db)
    return db


def prepare_national(workdir: Path, nantes_db: Path, factor: float, rebuild: bool) -> Path:
    db = workdir / "national.sqlite3"
    stamp = workdir / "national.json"
    wanted = {"factor": factor}
    if db.exists() and not rebuild and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        say(f"Base « national » réutilisée : {db} (--rebuild pour la reconstruire)")
        manage(db, "migrate", "--noinput", "-v0")
        return db
    say(f"Construction de la base « national » (facteur {factor}) : {db}")
    building = workdir / "national.building.sqlite3"
    remove_db(building)
    fold_wal(nantes_db)
    shutil.copyfile(nantes_db, building)
    manage(building, "load_scale_data", f"--factor={factor}")
    fold_wal(building)
    remove_db(db)
    building.rename(db)
    stamp.write_text(json.dumps(wanted))
    return db


# --- Serveur ----------------------------------------------------------------------------------


def fetch(port: int, path: str, timeout: float = 120, *, cold: bool = False) -> tuple[int, bytes, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=COLD_HEADERS if cold else HEADERS)
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


# --- Générateur de charge ---------------------------------------------------------------------


def load(port: int, path: str, *, clients: int, warmup: float, duration: float) -> dict:
    """``clients`` threads en boucle fermée sur une URL ; mesure pendant ``duration`` après la chauffe."""
    samples = []  # (début, durée, statut, server-timing, servie du cache)
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                break
            timing, hit = None, False
            try:
                connection.request("GET", path, headers=HEADERS)
                response = connection.getresponse()
                response.read()
                status = response.status
                timing = response.getheader("Server-Timing")
                hit = response.getheader("X-Cache") == "hit"
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
            if began >= measure_from:
                mine.append((began, time.perf_counter() - began, status, timing, hit))
        connection.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(s[1] * 1000 for s in samples)
    errors = sum(1 for s in samples if s[2] != 200)
    db_ms, queries = [], []
    for *_, timing, _hit in samples:
        match = SERVER_TIMING_RE.search(timing or "")
        if match:
            db_ms.append(float(match.group(1)))
            queries.append(int(match.group(2)))
    return {
        "requests": len(samples),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "throughput": len(samples) / duration,
        "errors": errors,
        "db_ms": statistics.median(db_ms) if db_ms else None,
        "queries": max(queries) if queries else None,
        "hit_share": sum(1 for s in samples if s[4]) / len(samples) if samples else None,
    }


# --- Déroulé ----------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def discover_urls(db: Path) -> tuple[dict, list[tuple[str, str]]]:
    info = json.loads(
        subprocess.run(
            [PYTHON, str(Path(__file__).resolve()), "--discover"],
            cwd=ROOT,
            env=django_env(db),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    urls = global_urls() + contract_urls(info["nantes"], "Nantes")
    if info["synthetic"]:
        urls += contract_urls(info["synthetic"], "synthétique")
    return info, urls


def run(databases: dict[str, Path], args, workdir: Path) -> dict:
    """Chaque URL est chargée dans chaque jeu l'un après l'autre (serveurs lancés côte à côte) : une
    variation de la charge de la machine pendant le banc touche les deux mesures de la même façon."""
    results, urls, servers = {}, {}, {}
    for name, db in databases.items():
        info, urls[name] = discover_urls(db)
        results[name] = {"info": info, "pages": [], "skipped": []}
        say(
            f"Jeu « {name} » : {info['contracts']} contrat(s)"
            + (
                f" ; contrat synthétique mesuré : {info['synthetic']['slug']} "
                f"({info['synthetic']['qpv_count']} QPV, le plus grand en a {info['synthetic_largest']})"
                if info["synthetic"]
                else ""
            )
        )
    load_before = os.getloadavg()[0]
    if load_before > 1.0:
        say(f"Attention : charge de la machine au départ {load_before:.1f} (autre chose tourne ?)")
    static_dir = workdir / "static"
    shutil.rmtree(static_dir, ignore_errors=True)
    static_dir.mkdir(parents=True)
    index, bodies = {}, {}
    try:
        for name, db in databases.items():
            log = workdir / f"gunicorn-{name}.log"
            env = django_env(db, page_cache=not args.no_page_cache)
            shutil.rmtree(env["CDV_CACHE_DIR"], ignore_errors=True)
            servers[name] = Server("config.wsgi:application", env, args.workers, log)
        # Chauffe générale : chaque worker importe, compile ses gabarits, initialise ses projections…
        for name, server in servers.items():
            for label, path in urls[name]:
                began = time.perf_counter()
                status, body, headers = fetch(server.port, path)
                if status == 404:
                    results[name]["skipped"].append(
                        {"label": label, "path": path, "reason": "404 (page absente)"}
                    )
                    say(f"  {name} / {label} : {path} répond 404, ignorée (page pas encore écrite ?)")
                    continue
                bodies[name, path] = (status, body, headers)
                if (time.perf_counter() - began) * 1000 < SLOW_LIMIT_MS or not args.no_page_cache:
                    load(server.port, path, clients=args.workers * 2, warmup=0, duration=0.5)
        order = list(dict.fromkeys(item for name in databases for item in urls[name]))
        for label, path in order:
            for name, server in servers.items():
                if (name, path) not in bodies:
                    continue
                status, body, headers = bodies[name, path]
                page = measure(server.port, label, path, status, body, args)
                file = static_dir / f"{len(index):03d}.body"
                file.write_bytes(body)
                index[f"/{name}{path}"] = {
                    "file": str(file),
                    "content_type": headers.get("content-type", "text/html"),
                }
                results[name]["pages"].append(page)
                if page.get("skipped_load"):
                    say(
                        f"  {name:8} {label:30} {page['single_ms']:.0f} ms seule ({len(body) // 1024} Kio) : "
                        "trop lente pour la charge, non chargée"
                    )
                else:
                    say(
                        f"  {name:8} {label:30} p50 {page['p50_ms']:6.1f} ms  p95 {page['p95_ms']:6.1f} ms  "
                        f"{page['throughput']:6.1f} req/s  erreurs {page['errors']}  "
                        f"seule {page['single_ms']:.0f} ms, SQL {page['cold_queries']}  "
                        f"cache {fmt_share(page['hit_share'])}"
                    )
    finally:
        for server in servers.values():
            server.stop()
    index_file = static_dir / "index.json"
    index_file.write_text(json.dumps(index))
    static_env = {**os.environ, "CDV_BENCH_STATIC_INDEX": str(index_file)}
    log = workdir / "gunicorn-static.log"
    server = Server("pages:static_app", static_env, args.workers, log, ROOT / "bench")
    try:
        for name, result in results.items():
            for page in result["pages"]:
                ceiling = load(
                    server.port,
                    f"/{name}{page['path']}",
                    clients=args.clients,
                    warmup=1.0,
                    duration=args.ceiling_duration,
                )
                page["ceiling"] = ceiling["throughput"]
                page["ceiling_p95_ms"] = ceiling["p95_ms"]
                say(f"  plafond {name:8} {page['label']:30} {ceiling['throughput']:7.1f} req/s")
    finally:
        server.stop()
    for result in results.values():
        result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
    return results


def measure(port: int, label: str, path: str, status: int, body: bytes, args) -> dict:
    """« seule » : la page calculée par la vue, hors cache (meilleure de trois), et ses requêtes SQL ;
    puis la charge, telle que les visiteurs la reçoivent (avec le cache, sauf --no-page-cache)."""
    single, cold_queries = [], None
    for _ in range(3):
        began = time.perf_counter()
        _, _, headers = fetch(port, path, cold=True)
        single.append((time.perf_counter() - began) * 1000)
        match = SERVER_TIMING_RE.search(headers.get("server-timing", ""))
        if match:
            cold_queries = int(match.group(2))
    page = {
        "label": label,
        "path": path,
        "status": status,
        "bytes": len(body),
        "single_ms": min(single),
        "cold_queries": cold_queries,
    }
    if page["single_ms"] > SLOW_LIMIT_MS and args.no_page_cache:
        page["skipped_load"] = True
    else:
        page.update(load(port, path, clients=args.clients, warmup=args.warmup, duration=args.duration))
    return page


def fmt(value, pattern="{:.1f}") -> str:
    return "—" if value is None else pattern.format(value)


def fmt_share(value) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def print_table(name: str, results: dict) -> None:
    print(
        f"\n## Jeu « {name} » — {results['info']['contracts']} contrat(s) (charge de la machine : "
        f"{results['load_before']:.1f} au début, {results['load_after']:.1f} à la fin)\n"
    )
    print(
        "| page | URL | seule ms (hors cache) | SQL | p50 ms | p95 ms | req/s | servies du cache | erreurs "
        "| Kio | plafond req/s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for page in results["pages"]:
        if page.get("skipped_load"):
            print(
                f"| {page['label']} | `{page['path']}` | {page['single_ms']:.0f} | non chargée (trop lente) "
                f"| | | | | | {page['bytes'] // 1024} | {fmt(page.get('ceiling'))} |"
            )
            continue
        print(
            f"| {page['label']} | `{page['path']}` | {fmt(page['single_ms'])} "
            f"| {fmt(page['cold_queries'], '{}')} "
            f"| {fmt(page['p50_ms'])} | {fmt(page['p95_ms'])} | {fmt(page['throughput'])} "
            f"| {fmt_share(page['hit_share'])} | {page['errors']} | {page['bytes'] // 1024} "
            f"| {fmt(page.get('ceiling'))} |"
        )
    for skipped in results["skipped"]:
        print(f"| {skipped['label']} | `{skipped['path']}` | ignorée : {skipped['reason']} | | | | | | | | |")


def verdicts(all_results: dict) -> bool:
    print("\n## Comparaison aux cibles\n")
    ok = True
    pages = [(name, p) for name, r in all_results.items() for p in r["pages"]]
    slow = [(n, p) for n, p in pages if p.get("skipped_load") or (p["p95_ms"] or 0) >= TARGET_P95_MS]
    ok &= not slow
    print(f"- p95 < {TARGET_P95_MS:.0f} ms : {'OK' if not slow else 'AU-DESSUS DE LA CIBLE'}")
    for name, page in slow:
        value = (
            f"{page['single_ms']:.0f} ms seule"
            if page.get("skipped_load")
            else f"p95 {page['p95_ms']:.1f} ms"
        )
        print(f"  - {name} / {page['label']} : {value}")
    errors = [(n, p) for n, p in pages if p.get("errors")]
    ok &= not errors
    print(f"- zéro erreur : {'OK' if not errors else 'ERREURS'}")
    for name, page in errors:
        print(f"  - {name} / {page['label']} : {page['errors']} erreur(s) sur {page['requests']}")
    if "nantes" in all_results and "national" in all_results:
        small = {p["path"]: p for p in all_results["nantes"]["pages"]}
        print(f"- p95 national ≤ {TARGET_RATIO} × p95 à la taille de Nantes (mêmes URL) :")
        for page in all_results["national"]["pages"]:
            before = small.get(page["path"])
            if before is None or before.get("skipped_load") or page.get("skipped_load"):
                continue
            ratio = page["p95_ms"] / before["p95_ms"] if before["p95_ms"] else float("inf")
            good = ratio <= TARGET_RATIO
            ok &= good
            size = page["bytes"] / before["bytes"] if before["bytes"] else 1
            grown = f", réponse {before['bytes'] // 1024} → {page['bytes'] // 1024} Kio" if size > 1.1 else ""
            print(
                f"  - {page['label']} : {before['p95_ms']:.1f} → {page['p95_ms']:.1f} ms "
                f"(× {ratio:.2f}{grown}) {'OK' if good else 'AU-DESSUS DE LA CIBLE'}"
            )
    print(f"\nVerdict : {'toutes les cibles sont tenues' if ok else 'des cibles ne sont pas tenues'}.")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--discover", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cdv-bench-pages"))
    parser.add_argument("--rebuild", action="store_true", help="reconstruit les bases")
    parser.add_argument("--only", choices=["nantes", "national"], help="un seul des deux jeux")
    parser.add_argument("--factor", type=float, default=1.0, help="échelle du jeu national (défaut 1)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="workers gunicorn (synchrones)")
    parser.add_argument("--warmup", type=float, default=2.0, help="secondes de chauffe par page")
    parser.add_argument("--duration", type=float, default=8.0, help="secondes mesurées par page")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="sans cache des pages publiques (CDV_PUBLIC_CACHE_SECONDS=0) : chaque requête calcule sa page",
    )
    parser.add_argument("--ceiling-duration", type=float, default=4.0, help="secondes mesurées par plafond")
    args = parser.parse_args()
    if args.discover:
        print(json.dumps(discover()))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    nantes_db = prepare_nantes(args.workdir, args.rebuild)
    databases = {"nantes": nantes_db}
    if args.only != "nantes":
        databases["national"] = prepare_national(args.workdir, nantes_db, args.factor, args.rebuild)
    if args.only == "national":
        del databases["nantes"]
    all_results = run(databases, args, args.workdir)
    print("# Banc d'essai des pages publiques (bench/pages.py)\n")
    print(
        f"Machine : {machine()}. gunicorn : {args.workers} workers synchrones ; {args.clients} clients "
        f"simultanés en boucle fermée ; {args.warmup:.0f} s de chauffe puis {args.duration:.0f} s mesurées "
        f"par page (plafond : {args.ceiling_duration:.0f} s). Cache des pages publiques : "
        f"{'désactivé' if args.no_page_cache else '60 s (réglages de production)'}."
    )
    for name, results in all_results.items():
        print_table(name, results)
    ok = verdicts(all_results)
    (args.workdir / "results.json").write_text(json.dumps(all_results, indent=1, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
