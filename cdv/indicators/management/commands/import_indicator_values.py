"""python manage.py import_indicator_values FICHIER --contract SLUG --source "INSEE, Filosofi 2021"
--millesime 2021 [--definitif] [--mapping COL=CODE …] [--period 2024]."""

import sys
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.models import Contract
from cdv.indicators.importer import import_indicator_values
from cdv.indicators.mapper import PERIOD_KEY

PROGRESS_FROM_BYTES = 1024 * 1024  # barre de progression à partir de 1 Mo


class Command(BaseCommand):
    help = (
        "Importe des valeurs d'indicateurs d'un contrat depuis un CSV ou un XLSX, au format long "
        "(indicateur, territoire, periode, valeur…) ou large (CODGEO, LIBGEO puis une colonne par "
        "indicateur, avec --mapping et --period). Tout ou rien : à la moindre erreur, chaque erreur "
        "est affichée et rien n'est enregistré. Un second import du même fichier ne change rien. "
        "Chaque valeur a une source et un millésime (--source et --millesime, ou colonnes source et "
        "millesime) ; elle est provisoire sauf --definitif (ou colonne statut)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier .csv ou .xlsx")
        parser.add_argument("--contract", required=True, help="identifiant (slug) du contrat")
        parser.add_argument(
            "--mapping",
            nargs="+",
            action="extend",
            default=[],
            metavar="COLONNE=CODE",
            help="fichier large : colonne du fichier → code d'indicateur du contrat (P21_POP=population)",
        )
        parser.add_argument(
            "--period",
            help="période de toutes les valeurs d'un fichier sans colonne periode : 2024 ou 2024-T3",
        )
        parser.add_argument(
            "--source",
            help="source de toutes les valeurs (« INSEE, Filosofi 2021 ») ; une colonne source l'emporte",
        )
        parser.add_argument(
            "--millesime",
            help="millésime de toutes les valeurs (« 2021 ») ; une colonne millesime l'emporte",
        )
        parser.add_argument(
            "--definitif",
            action="store_true",
            help="valeurs définitives (par défaut : provisoires) ; une colonne statut l'emporte",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="tout vérifier et compter, sans rien enregistrer"
        )
        parser.add_argument("--no-progress", action="store_true", help="pas de barre de progression")

    def handle(self, *args, **options):
        contract = Contract.objects.filter(slug=options["contract"]).first()
        if contract is None:
            known = ", ".join(Contract.objects.values_list("slug", flat=True)[:10]) or "aucun"
            raise CommandError(
                f"Contrat introuvable : « {options['contract']} ». Contrats existants : {known}."
            )
        mapping = {}
        for item in options["mapping"]:
            column, sep, code = item.partition("=")
            if not sep or not column.strip() or not code.strip():
                raise CommandError(
                    f"--mapping « {item} » : attendu COLONNE=code-indicateur (P21_POP=population)."
                )
            if column.strip() in mapping:
                raise CommandError(f"--mapping : la colonne « {column.strip()} » est donnée deux fois.")
            mapping[column.strip()] = code.strip()
        if options["period"]:
            if PERIOD_KEY in mapping:
                raise CommandError(
                    f"Donnez la période par --period ou par --mapping {PERIOD_KEY}=…, pas les deux."
                )
            mapping[PERIOD_KEY] = options["period"].strip()
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}.")
        progress = None
        if not options["no_progress"] and path.stat().st_size >= PROGRESS_FROM_BYTES:
            from tqdm import tqdm

            # Sur la sortie d'erreur réelle, et seulement dans un terminal (disable=None).
            stream = getattr(self.stderr, "_out", sys.stderr)
            progress = partial(tqdm, file=stream, disable=None, leave=False, mininterval=0.5)
        with path.open("rb") as fileobj:
            report = import_indicator_values(
                contract=contract,
                fileobj=fileobj,
                filename=path.name,
                source=options["source"],
                vintage=options["millesime"],
                final=options["definitif"],
                mapping=mapping or None,
                dry_run=options["dry_run"],
                progress=progress,
            )
        if not report.ok:
            for message in report.errors:
                self.stderr.write(message)
            raise CommandError(report.summary)
        self.stdout.write(self.style.SUCCESS(f"{contract.title} — {path.name} (format {report.layout})"))
        self.stdout.write(report.summary)
