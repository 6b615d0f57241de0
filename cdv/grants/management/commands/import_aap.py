"""python manage.py import_aap FICHIER --contract SLUG --year AAAA [--mapping correspondance.json]
[--dry-run]."""

import json
import sys
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.models import Contract
from cdv.grants.dauphin import import_dauphin
from cdv.grants.errors import GrantsError
from cdv.grants.models import Call

PROGRESS_FROM_BYTES = 256 * 1024  # barre de progression à partir de 256 Ko


class Command(BaseCommand):
    help = (
        "Importe les dossiers et les décisions d'un export de Dauphin (CSV ou XLSX) dans l'appel à "
        "projets d'un contrat : une ligne par dossier et par financeur. Tout ou rien : à la moindre "
        "erreur, chaque erreur est affichée (ligne, colonne) et rien n'est enregistré. Un second "
        "import du même fichier ne change rien. Voir docs/aap/import-dauphin.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="export de Dauphin, .csv ou .xlsx")
        parser.add_argument("--contract", required=True, help="identifiant (slug) du contrat")
        parser.add_argument("--year", required=True, type=int, help="année de l'appel à projets (2026)")
        parser.add_argument(
            "--mapping",
            help='fichier JSON de correspondance des colonnes : {"numero": "Réf. dossier", …}',
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
        call = Call.objects.filter(contract=contract, year=options["year"]).first()
        if call is None:
            years = ", ".join(
                str(y) for y in Call.objects.filter(contract=contract).values_list("year", flat=True)
            )
            raise CommandError(
                f"Le contrat « {contract.title} » n'a pas d'appel à projets {options['year']} "
                f"(appels existants : {years or 'aucun'}). Créez d'abord l'appel et ses financeurs."
            )
        mapping = self._mapping(options["mapping"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}.")
        progress = None
        if not options["no_progress"] and path.stat().st_size >= PROGRESS_FROM_BYTES:
            from tqdm import tqdm

            stream = getattr(self.stderr, "_out", sys.stderr)
            progress = partial(tqdm, file=stream, disable=None, leave=False, mininterval=0.5)
        try:
            with path.open("rb") as fileobj:
                report = import_dauphin(
                    user=None,
                    call=call,
                    fileobj=fileobj,
                    filename=path.name,
                    mapping=mapping,
                    dry_run=options["dry_run"],
                    progress=progress,
                )
        except GrantsError as error:
            raise CommandError(" ".join(error.messages)) from None
        if not report.ok:
            for message in report.errors:
                self.stderr.write(message)
            raise CommandError(report.summary)
        self.stdout.write(self.style.SUCCESS(f"{call} — {path.name}"))
        self.stdout.write(report.summary)
        for name in report.partners_created:
            self.stdout.write(f"Association créée : {name}")
        if report.ignored_columns:
            names = ", ".join(f"« {name} »" for name in report.ignored_columns)
            self.stdout.write(f"Colonnes ignorées : {names}.")

    def _mapping(self, name):
        if not name:
            return None
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"Fichier de correspondance introuvable : {path}.")
        try:
            mapping = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as error:
            raise CommandError(
                f"Fichier de correspondance « {path.name} » illisible : JSON attendu ({error})."
            ) from None
        if not isinstance(mapping, dict):
            raise CommandError(
                f"Fichier de correspondance « {path.name} » : attendu un objet JSON "
                '{"clé": "intitulé de la colonne", …}.'
            )
        return mapping
