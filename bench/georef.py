"""Banc d'essai du géoréférencement : la commande ``georef`` contre pandas + geopandas, de bout en bout.

    .venv/bin/python bench/georef.py                          # 1 000 000 et 10 000 000 de points
    .venv/bin/python bench/georef.py --sizes 100000 1000000   # d'autres tailles
    .venv/bin/python bench/georef.py --skip-geopandas         # la commande seule
    .venv/bin/python bench/georef.py --rebuild                # reconstruit la base de référence
    .venv/bin/python bench/georef.py --repeat 5               # 5 passages par taille, le meilleur retenu

1. Construit (ou réutilise) une base SQLite sous /tmp/cdv-bench-georef/ avec les données de
   référence (migrate, load_reference_data), et y exporte les contours des QPV 2024 (réparés) en
   GeoJSON pour geopandas.
2. Génère N points sur la France métropolitaine (CSV ``id,categorie,longitude,latitude``, 6
   décimales, graine fixe) : 80 % tirés uniformément dans l'emprise de la métropole, 20 % autour
   des QPV (emprise d'un QPV élargie de moitié), pour que la part de points dans un QPV (quelques %)
   et de points près d'un contour ressemble à un fichier réel.
3. Lance, chacun dans son processus et l'un après l'autre, avec le temps écoulé et la mémoire
   maximale (ru_maxrss du processus, via os.wait4) :
   - le coût fixe de la commande (fichier de 10 lignes) : d'abord sans cache de l'index sur disque
     (dossier ``cache-index`` du dossier de travail vidé : lecture des contours et construction de
     l'index), puis avec ce cache, comme tout passage suivant ;
   - la commande : ``manage.py georef points.csv -o sortie.csv --lon longitude --lat latitude``
     (démarrage de Python et de Django, lecture de l'index compris), ``--repeat`` fois (3 par
     défaut), le passage le plus rapide retenu (la machine est partagée) ;
   - le bytecode Python est gardé dans le dossier de travail (``PYTHONPYCACHEPREFIX``), comme sur
     un serveur, même si l'environnement demande de ne pas l'écrire (``PYTHONDONTWRITEBYTECODE``) ;
   - l'alternative usuelle : ``pandas.read_csv`` + ``geopandas.sjoin`` (prédicat intersects) +
     ``to_csv``, contours lus depuis le GeoJSON exporté.
4. Vérifie que les deux sorties donnent le même QPV à chaque ligne, et compare aux cibles :
   au moins 1 000 000 de lignes par seconde de bout en bout, au moins 2 fois plus rapide que
   geopandas, moins de 400 Mo de mémoire pour 10 000 000 de lignes.

Résultats détaillés en JSON dans le dossier de travail (results.json).
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_ROWS_PER_SECOND = 1_000_000
TARGET_RATIO = 2.0
TARGET_MEMORY_MB = 400
METROPOLE = (-5.2, 41.3, 9.6, 51.1)
CATEGORIES = ["école", "logement", "commerce", "association", "santé"]

# La commande telle qu'on la lance : python manage.py georef … (réglages de production).
COMMAND = [PYTHON, str(ROOT / "manage.py"), "georef"]

GEOPANDAS_PIPELINE = """
import sys
import geopandas as gpd
import numpy as np
import pandas as pd

points_csv, contours, output = sys.argv[1:4]
qpv = gpd.read_file(contours)[["code_qp", "lib_qp", "geometry"]]
df = pd.read_csv(points_csv)
points = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326")
joined = gpd.sjoin(points, qpv, how="left", predicate="intersects")
joined = joined[~joined.index.duplicated(keep="first")]  # un point sur deux QPV : une seule ligne
joined["statut_qpv"] = np.where(joined["code_qp"].notna(), "DANS_QPV", "HORS_QPV")
joined.drop(columns=["geometry", "index_right"]).to_csv(output, index=False)
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def django_env(db_path: Path) -> dict:
    env = dict(os.environ)
    # Bytecode Python gardé (comme sur un serveur, où les .pyc sont écrits au premier lancement),
    # dans le dossier de travail et non dans le dépôt : sans lui (PYTHONDONTWRITEBYTECODE=1), chaque
    # lancement recompile tous les modules du projet, 50 à 100 ms de plus.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(db_path.parent / "pycache")
    env.update(
        DATABASE_URL=f"sqlite:///{db_path}",
        GEOREF_CACHE_DIR=str(db_path.parent / "cache-index"),
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="banc-d-essai-georef-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare_db(workdir: Path, rebuild: bool) -> Path:
    db = workdir / "reference.sqlite3"
    if db.exists() and not rebuild:
        say(f"Base réutilisée : {db} (--rebuild pour la reconstruire)")
        return db
    building = workdir / "reference.building.sqlite3"
    building.unlink(missing_ok=True)
    for args in (["migrate", "--noinput", "-v0"], ["load_reference_data", "-v0"]):
        say(f"  manage.py {' '.join(args)}")
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=django_env(building), check=True)
    building.rename(db)
    return db


def export_contours(db: Path, path: Path) -> None:
    """Les contours tels que la commande les lit (réparés), pour geopandas."""
    if path.exists():
        return
    import sqlite3

    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT code, name, geometry FROM territories_territory "
        "WHERE kind = 'QPV' AND geography = '2024' AND geometry IS NOT NULL ORDER BY code"
    ).fetchall()
    connection.close()
    features = [
        {"type": "Feature", "properties": {"code_qp": c, "lib_qp": n}, "geometry": json.loads(g)}
        for c, n, g in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def generate_points(path: Path, n: int, contours: Path, seed: int = 2024) -> None:
    """N points en CSV, écrits par morceaux d'un million (mémoire bornée)."""
    if path.exists():
        return
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import shapely

    features = json.loads(contours.read_text())["features"]
    bounds = shapely.bounds(shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))
    west, south, east, north = METROPOLE
    metro = bounds[
        (bounds[:, 0] > west) & (bounds[:, 2] < east) & (bounds[:, 1] > south) & (bounds[:, 3] < north)
    ]
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        handle.write(b"id,categorie,longitude,latitude\n")
        for start in range(0, n, 1_000_000):
            size = min(1_000_000, n - start)
            lon = rng.uniform(west, east, size)
            lat = rng.uniform(south, north, size)
            near = rng.random(size) < 0.2
            pick = rng.integers(0, len(metro), int(near.sum()))
            width, height = metro[pick, 2] - metro[pick, 0], metro[pick, 3] - metro[pick, 1]
            lon[near] = metro[pick, 0] - width / 4 + rng.random(len(pick)) * 1.5 * width
            lat[near] = metro[pick, 1] - height / 4 + rng.random(len(pick)) * 1.5 * height
            columns = [
                pa.array(np.arange(start, start + size)).cast(pa.string()),
                pa.array(CATEGORIES).take(pa.array(rng.integers(0, len(CATEGORIES), size))),
                pa.array(np.char.mod("%.6f", lon)),
                pa.array(np.char.mod("%.6f", lat)),
            ]
            lines = pc.binary_join_element_wise(*columns, ",")
            handle.write(("\n".join(lines.to_pylist()) + "\n").encode())
    tmp.rename(path)


# Mesure d'un processus depuis un lanceur minuscule : ru_maxrss compte aussi la mémoire héritée au
# fork, qu'on ne veut pas voir (le banc lui-même tient des millions de points en mémoire).
LAUNCHER = """
import json, os, sys, time
report = sys.argv[1]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as handle:
    json.dump({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "code": code}, handle)
"""


def measure(args: list[str], env: dict | None = None) -> dict:
    """Temps écoulé et mémoire maximale (Mo) d'un processus fils."""
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"cdv-bench-georef-{os.getpid()}.json"
    done = subprocess.run(
        [PYTHON, "-c", LAUNCHER, str(report), *args], cwd=ROOT, env=env, capture_output=True
    )
    result = json.loads(report.read_text())
    report.unlink()
    if result["code"] or done.returncode:
        raise SystemExit(f"Échec de {' '.join(args[:3])} … :\n{done.stdout.decode()}\n{done.stderr.decode()}")
    return {"seconds": result["seconds"], "peak_mb": result["peak_mb"], "stdout": done.stdout.decode()}


def compare_outputs(ours: Path, theirs: Path) -> dict:
    """Même QPV à chaque ligne ? (lecture en colonnes, par pyarrow)."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    def codes(path):
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                include_columns=["id", "code_qp"], column_types={"id": "int64", "code_qp": "string"}
            ),
        )
        return table.sort_by("id").column("code_qp")

    a, b = pc.fill_null(codes(ours), ""), pc.fill_null(codes(theirs), "")
    differ = pc.sum(pc.cast(pc.not_equal(a, b), "int64")).as_py() or 0
    return {
        "rows": len(a),
        "different": differ,
        "in_qpv": pc.sum(pc.cast(pc.not_equal(a, ""), "int64")).as_py(),
    }


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000_000, 10_000_000])
    parser.add_argument("--workdir", default="/tmp/cdv-bench-georef")
    parser.add_argument("--rebuild", action="store_true", help="reconstruit la base de référence")
    parser.add_argument("--skip-geopandas", action="store_true")
    parser.add_argument("--keep", action="store_true", help="garde les fichiers de sortie")
    parser.add_argument("--chunk-size", type=int, default=None, help="transmis à la commande")
    parser.add_argument("--workers", type=int, default=None, help="transmis à la commande")
    parser.add_argument(
        "--repeat", type=int, default=3, help="passages de la commande par taille (le plus rapide retenu)"
    )
    args = parser.parse_args()

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = prepare_db(workdir, args.rebuild)
    env = django_env(db)
    contours = workdir / "qpv2024.geojson"
    export_contours(db, contours)

    # Coût fixe de la commande (démarrage de Django, lecture des contours, index) : un fichier de 10 lignes,
    # d'abord sans cache de l'index sur disque (construction), puis avec (le cas de tout passage suivant).
    tiny = workdir / "points_10.csv"
    generate_points(tiny, 10, contours)
    command = COMMAND
    tiny_args = [*command, str(tiny), "-o", str(workdir / "out_10.csv"), "--no-progress"]
    measure(tiny_args, env)  # bytecode écrit s'il manque : la mesure suivante ne compte que l'index
    shutil.rmtree(env["GEOREF_CACHE_DIR"], ignore_errors=True)
    cold = measure(tiny_args, env)
    say(f"Coût fixe sans cache de l'index (10 lignes) : {cold['seconds']:.2f} s, {cold['peak_mb']:.0f} Mo")
    fixed = min((measure(tiny_args, env) for _ in range(max(1, args.repeat))), key=lambda r: r["seconds"])
    say(f"Coût fixe avec le cache (10 lignes) : {fixed['seconds']:.2f} s, {fixed['peak_mb']:.0f} Mo")

    if not args.skip_geopandas:  # bytecode de pandas et geopandas écrit avant de mesurer, lui aussi
        subprocess.run([PYTHON, "-c", "import geopandas, pandas, pyogrio"], env=env, check=True)

    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": load_average(),
            "inherited_PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        },
        "fixed_cost": {k: v for k, v in fixed.items() if k != "stdout"},
        "fixed_cost_without_cache": {k: v for k, v in cold.items() if k != "stdout"},
        "repeat": max(1, args.repeat),
        "runs": [],
    }
    for n in args.sizes:
        points = workdir / f"points_{n}.csv"
        if not points.exists():
            say(f"Génération de {n:,} points…".replace(",", " "))
            generate_points(points, n, contours)
            os.sync()  # que l'écriture du fichier ne pèse pas sur les mesures
            time.sleep(5)
        size_mb = points.stat().st_size / 1e6
        ours_out, theirs_out = workdir / f"out_{n}_georef.csv", workdir / f"out_{n}_geopandas.csv"
        extra = ["--chunk-size", str(args.chunk_size)] if args.chunk_size else []
        extra += ["--workers", str(args.workers)] if args.workers is not None else []
        passes = []
        for _ in range(max(1, args.repeat)):
            say(f"  commande georef (charge : {load_average()})…")
            ours = measure(
                [
                    *command,
                    str(points),
                    "-o",
                    str(ours_out),
                    "--lon",
                    "longitude",
                    "--lat",
                    "latitude",
                    "--no-progress",
                    *extra,
                ],
                env,
            )
            ours["load_average"] = load_average()
            passes.append(ours)
            say(f"    {ours['seconds']:.2f} s, {n / ours['seconds']:,.0f} lignes/s".replace(",", " "))
        ours = min(passes, key=lambda r: r["seconds"])
        run = {
            "rows": n,
            "file_mb": round(size_mb, 1),
            "georef": {
                "seconds": round(ours["seconds"], 2),
                "rows_per_second": round(n / ours["seconds"]),
                "rows_per_second_without_fixed_cost": round(
                    n / max(1e-9, ours["seconds"] - fixed["seconds"])
                ),
                "peak_mb": round(ours["peak_mb"]),
                "load_average": ours["load_average"],
                "all_seconds": [round(p["seconds"], 2) for p in passes],
            },
        }
        if not args.skip_geopandas:
            say(f"  pandas + geopandas (charge : {load_average()})…")
            theirs = measure(
                [PYTHON, "-c", GEOPANDAS_PIPELINE, str(points), str(contours), str(theirs_out)], env
            )
            run["geopandas"] = {
                "seconds": round(theirs["seconds"], 2),
                "rows_per_second": round(n / theirs["seconds"]),
                "peak_mb": round(theirs["peak_mb"]),
                "load_average": load_average(),
            }
            run["ratio"] = round(theirs["seconds"] / ours["seconds"], 1)
            say("  comparaison des deux sorties…")
            run["agreement"] = compare_outputs(ours_out, theirs_out)
        results["runs"].append(run)
        if not args.keep:
            ours_out.unlink(missing_ok=True)
            theirs_out.unlink(missing_ok=True)
    results["machine"]["load_average_end"] = load_average()
    (workdir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    report(results)


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def report(results: dict) -> None:
    machine = results["machine"]
    print(
        f"\nMachine : {machine['cpus']} cœurs, Python {machine['python']}, {machine['platform']} ; "
        f"charge moyenne (1, 5, 15 min) au début {machine['load_average_start']}, "
        f"à la fin {machine['load_average_end']}"
    )
    fixed, cold = results["fixed_cost"], results.get("fixed_cost_without_cache")
    print(
        f"Coût fixe de la commande (démarrage, contours, index ; 10 lignes) : {fixed['seconds']:.2f} s"
        + (f" (sans cache de l'index sur disque : {cold['seconds']:.2f} s)" if cold else "")
    )
    print(f"Meilleur de {results.get('repeat', 1)} passage(s) de la commande par taille\n")
    header = (
        "| lignes | fichier | georef | lignes/s | hors coût fixe | mémoire "
        "| geopandas | lignes/s | mémoire | rapport | écarts |"
    )
    print(header)
    print("|---:" * (header.count("|") - 1) + "|")
    verdicts = []
    for run in results["runs"]:
        ours, theirs = run["georef"], run.get("geopandas")
        cells = [
            _n(run["rows"]),
            f"{run['file_mb']:.0f} Mo",
            f"{ours['seconds']:.1f} s",
            _n(ours["rows_per_second"]),
            _n(ours["rows_per_second_without_fixed_cost"]),
            f"{ours['peak_mb']} Mo",
        ]
        if theirs:
            agreement = run["agreement"]
            cells += [
                f"{theirs['seconds']:.1f} s",
                _n(theirs["rows_per_second"]),
                f"{theirs['peak_mb']} Mo",
                f"× {run['ratio']}",
                f"{agreement['different']} sur {_n(agreement['in_qpv'])} dans un QPV",
            ]
        else:
            cells += ["—"] * 5
        print("| " + " | ".join(cells) + " |")
        ok = ours["rows_per_second"] >= TARGET_ROWS_PER_SECOND
        verdicts.append(
            f"{_n(run['rows'])} lignes : débit {'OK' if ok else 'SOUS LA CIBLE'} "
            f"(cible {_n(TARGET_ROWS_PER_SECOND)}/s)"
        )
        if theirs:
            ok = run["ratio"] >= TARGET_RATIO
            verdicts.append(
                f"  rapport à geopandas {'OK' if ok else 'SOUS LA CIBLE'} (cible × {TARGET_RATIO})"
            )
        if run["rows"] >= 10_000_000:
            ok = ours["peak_mb"] < TARGET_MEMORY_MB
            verdicts.append(
                f"  mémoire {'OK' if ok else 'AU-DESSUS DE LA CIBLE'} (cible < {TARGET_MEMORY_MB} Mo)"
            )
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
