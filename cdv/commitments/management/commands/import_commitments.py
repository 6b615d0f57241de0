from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from cdv.commitments.xlsx_import import import_commitments_xlsx
from cdv.contracts.models import Contract
from cdv.core.actors import SystemActor
from cdv.partners.models import Partner


class Command(BaseCommand):
    help = (
        "Importe le cahier d'engagements d'un partenaire depuis le modèle XLSX de la plateforme. "
        "Tout ou rien : à la moindre erreur, chaque erreur est affichée et rien n'est enregistré. "
        "Agit au nom du système (tous les droits). Un second import du même fichier ne change rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier .xlsx (modèle téléchargé puis rempli)")
        parser.add_argument("--contract", required=True, help="identifiant (slug) du contrat")
        parser.add_argument(
            "--partner", required=True, help="partenaire : clé primaire ou identifiant d'URL (slug)"
        )

    def handle(self, *args, **options):
        contract = Contract.objects.filter(slug=options["contract"]).first()
        if contract is None:
            raise CommandError(f"Contrat introuvable : « {options['contract']} ».")
        key = str(options["partner"]).strip()
        partner = Partner.objects.filter(pk=int(key)).first() if key.isdigit() else None
        partner = partner or Partner.objects.filter(slug=key).first()
        if partner is None:
            raise CommandError(f"Partenaire introuvable : « {key} » (clé primaire ou slug attendu).")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}.")
        try:
            with path.open("rb") as fileobj:
                report = import_commitments_xlsx(
                    user=SystemActor(),
                    contract=contract,
                    partner=partner,
                    fileobj=fileobj,
                    filename=path.name,
                )
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        if not report.ok:
            for message in report.errors:
                self.stderr.write(message)
            raise CommandError(report.summary)
        self.stdout.write(self.style.SUCCESS(f"{partner.name} — {contract.title}"))
        self.stdout.write(report.summary)
