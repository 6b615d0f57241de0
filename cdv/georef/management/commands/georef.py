"""``manage.py georef ENTREE -o SORTIE`` : chaque ligne d'un fichier est-elle dans un QPV ?

    manage.py georef points.csv -o resultat.csv --lon longitude --lat latitude
    manage.py georef points.csv -o resultat.csv --x X --y Y                 # Lambert-93
    manage.py georef adresses.xlsx -o resultat.xlsx --address numero voie --postcode cp --city commune

Sans option de colonnes, les colonnes sont devinées d'après leurs noms (longitude/latitude, x/y,
adresse). La sortie est un XLSX si son nom finit par ``.xlsx``, un CSV sinon. Voir docs/georef.md.
"""

import atexit
import gc
import os
import sys

from django.core.management.base import BaseCommand, CommandError

# Aucun calcul d'algèbre linéaire ici : les fils d'OpenBLAS, que numpy démarre à son chargement,
# ne serviraient pas et coûtent 20 à 70 ms (selon la charge de la machine). Sans effet si numpy est
# déjà chargé, ou si la variable est déjà définie. numpy, shapely et pyarrow (cdv.georef.engine et
# .pipeline) ne sont chargés qu'à l'usage : voir run_from_argv.
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


class Command(BaseCommand):
    help = (
        "Dit, pour chaque ligne d'un fichier CSV ou XLSX (coordonnées WGS84 ou Lambert-93, ou "
        "adresses), si elle est dans un quartier prioritaire (QPV) ; écrit un CSV (ou un XLSX si "
        "la sortie finit par .xlsx) avec code_qp, lib_qp, statut_qpv et raison."
    )
    # Pas de vérifications système : elles importent toutes les vues et l'API (1 s, 80 Mo) pour une
    # commande qui ne lit que les contours des QPV.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("input", help="fichier CSV ou XLSX à traiter")
        parser.add_argument(
            "-o", "--output", required=True, help="fichier à écrire : XLSX s'il finit par .xlsx, CSV sinon"
        )
        parser.add_argument("--lon", help="colonne de longitude (degrés WGS84)")
        parser.add_argument("--lat", help="colonne de latitude (degrés WGS84)")
        parser.add_argument("--x", help="colonne x (Lambert-93, EPSG:2154, mètres)")
        parser.add_argument("--y", help="colonne y (Lambert-93, EPSG:2154, mètres)")
        parser.add_argument(
            "--address",
            nargs="+",
            action="extend",
            metavar="COL",
            help="colonne(s) d'adresse, réunies dans l'ordre (numéro, voie…)",
        )
        parser.add_argument("--postcode", help="colonne du code postal (mode adresse)")
        parser.add_argument("--city", help="colonne de la commune (mode adresse)")
        from cdv.georef.engine import GEOGRAPHIES

        parser.add_argument(
            "--geography",
            default="2024",
            choices=GEOGRAPHIES,
            help="géographie prioritaire (2024 par défaut)",
        )
        parser.add_argument(
            "--min-score", type=float, default=0.5, help="score de géocodage minimal (0 à 1, 0,5 par défaut)"
        )
        parser.add_argument(
            "--chunk-size", type=int, default=100_000, help="lignes par morceau (100 000 par défaut)"
        )
        parser.add_argument("--workers", type=int, default=None, help="fils de calcul (2 par défaut)")
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    def run_from_argv(self, argv):
        """Depuis la ligne de commande (``manage.py georef``), ce qui ne concerne pas ``call_command`` :

        - les quelque 300 000 objets créés au démarrage de Django vivront jusqu'à la fin : ils sont
          mis à part du ramasse-miettes (``gc.freeze``), qui n'a plus à les parcourir à chaque
          passage pendant le chargement de numpy, shapely et pyarrow puis le traitement (60 à 90 ms
          de moins) ;
        - en cas de succès, le processus s'arrête dès la fin du travail (voir :func:`_exit_now`).
        """
        gc.freeze()
        super().run_from_argv(argv)
        _exit_now()

    def handle(self, *args, **opts):
        from cdv.georef.engine import GeorefError
        from cdv.georef.pipeline import run

        options = self._options(opts)
        geocoder = self._geocoder() if options.mode == "address" else None
        bar = None
        if opts["verbosity"] > 0 and not opts["no_progress"]:
            from tqdm import tqdm

            bar = tqdm(
                total=None,
                unit=" lignes",
                unit_scale=True,
                file=getattr(self.stderr, "_out", sys.stderr),
                desc="Géoréférencement",
                mininterval=0.5,
            )

        def progress(done, total):
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        try:
            summary = run(opts["input"], opts["output"], options, geocoder=geocoder, progress=progress)
        except GeorefError as error:
            raise CommandError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        if opts["verbosity"] > 0:
            for line in summary.lines():
                self.stdout.write(line)
            self.stdout.write(self.style.SUCCESS(f"Résultat écrit dans {opts['output']}."))

    def _options(self, opts):
        from cdv.georef.engine import GeorefError
        from cdv.georef.pipeline import GeorefOptions, guess_options, read_header

        common = {
            "geography": opts["geography"],
            "min_score": opts["min_score"],
            "chunk_size": opts["chunk_size"],
        }
        modes = [
            name
            for name, given in (
                ("lonlat", opts["lon"] or opts["lat"]),
                ("xy", opts["x"] or opts["y"]),
                ("address", opts["address"]),
            )
            if given
        ]
        if len(modes) > 1:
            raise CommandError("Choisissez un seul mode : --lon/--lat, --x/--y ou --address.")
        if modes == ["lonlat"]:
            if not (opts["lon"] and opts["lat"]):
                raise CommandError("Indiquez à la fois --lon et --lat.")
            return GeorefOptions(mode="lonlat", lon=opts["lon"], lat=opts["lat"], **common)
        if modes == ["xy"]:
            if not (opts["x"] and opts["y"]):
                raise CommandError("Indiquez à la fois --x et --y.")
            return GeorefOptions(mode="xy", x=opts["x"], y=opts["y"], **common)
        if modes == ["address"]:
            return GeorefOptions(
                mode="address",
                address_columns=list(opts["address"]),
                postcode=opts["postcode"],
                city=opts["city"],
                **common,
            )
        try:
            header, _, _ = read_header(opts["input"])
        except GeorefError as error:
            raise CommandError(str(error)) from error
        guessed = guess_options(header, **common)
        if guessed is None:
            names = ", ".join(f"« {name} »" for name in header[:40])
            raise CommandError(
                "Colonnes à lire non reconnues : indiquez --lon et --lat, --x et --y, ou --address. "
                f"Colonnes présentes : {names}."
            )
        if opts["postcode"] and guessed.mode == "address":
            guessed.postcode = opts["postcode"]
        if opts["city"] and guessed.mode == "address":
            guessed.city = opts["city"]
        if opts["verbosity"] > 0:
            self.stdout.write(f"Colonnes devinées : {_describe(guessed)}.")
        return guessed

    def _geocoder(self):
        try:
            from cdv.georef.ban import BanGeocoder
        except ImportError:
            self.stderr.write("Géocodeur BAN indisponible : les adresses seront « NON_GEOCODE ».")
            return None
        try:
            return BanGeocoder()
        except Exception as error:  # noqa: BLE001 - une configuration absente ne bloque pas le fichier
            self.stderr.write(f"Géocodeur BAN indisponible ({error}) : les adresses seront « NON_GEOCODE ».")
            return None


def _exit_now() -> None:
    """Termine le processus sans démonter l'interpréteur.

    Défaire un à un les objets de Django, de numpy, de pyarrow et de GEOS (une centaine de milliers)
    prend 0,15 à 0,3 s à la sortie de Python, pour un processus qui s'arrête de toute façon :
    autant que le traitement d'un fichier d'un million de lignes. Tout ce qui doit l'être est fait
    avant : connexions à la base fermées, fonctions de sortie (``atexit`` : journaux, fichiers
    temporaires…) appelées, sorties vidées. Le fichier résultat est déjà écrit et renommé.
    """
    from django.db import connections

    connections.close_all()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _describe(options) -> str:
    if options.mode == "lonlat":
        return f"longitude « {options.lon} », latitude « {options.lat} »"
    if options.mode == "xy":
        return f"x « {options.x} », y « {options.y} » (Lambert-93)"
    parts = [f"adresse « {', '.join(options.address_columns)} »"]
    if options.postcode:
        parts.append(f"code postal « {options.postcode} »")
    if options.city:
        parts.append(f"commune « {options.city} »")
    return ", ".join(parts)
