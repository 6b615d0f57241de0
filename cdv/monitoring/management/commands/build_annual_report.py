import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.models import Contract
from cdv.monitoring.yearly import build_annual_report_pdf, payload_for_report


class Command(BaseCommand):
    help = (
        "Écrit le bilan annuel d'un contrat en PDF : à partir de l'instantané si l'année est figée, "
        "sinon des données du moment."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contract", required=True, help="identifiant (slug) du contrat")
        parser.add_argument("--year", required=True, type=int, help="année du bilan, ex. 2025")
        parser.add_argument("-o", "--output", required=True, help="fichier PDF à écrire")

    def handle(self, *args, contract, year, output, **options):
        found = Contract.objects.filter(slug=contract).first()
        if found is None:
            raise CommandError(f"Aucun contrat « {contract} ».")
        if not found.start_year - 1 <= year <= found.end_year:
            raise CommandError(f"L'année {year} sort de la période du contrat ({found.period_label}).")
        target = Path(output)
        if not target.parent.exists():
            raise CommandError(f"Le dossier {target.parent} n'existe pas.")
        _, frozen = payload_for_report(found, year)
        write_atomically(target, build_annual_report_pdf(contract=found, year=year))
        origin = "instantané figé" if frozen else "données du moment"
        self.stdout.write(self.style.SUCCESS(f"Bilan annuel {year} ({origin}) écrit dans {target}."))


def write_atomically(target: Path, data: bytes) -> None:
    """Écrit dans un fichier temporaire du même dossier puis le renomme : un arrêt brutal (kill -9,
    panne) laisse l'ancien fichier intact, jamais un PDF tronqué sous le nom final."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partiel")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
