import time

from django.core.management.base import BaseCommand
from django.db import transaction

from cdv.contracts.models import Contract
from cdv.contracts.nantes import SLUG, load_nantes_contract
from cdv.indicators.nantes import load_nantes_indicators
from cdv.territories.loaders import load_territories


class Command(BaseCommand):
    help = (
        "Charge les données de référence livrées dans data/reference/ : les 1 584 QPV 2024, "
        "les communes et l'EPCI de Nantes Métropole, le contrat de ville 2024-2030 et ses "
        "signataires. Idempotent : une seconde exécution ne change rien."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        show_progress = options["verbosity"] >= 1
        with transaction.atomic():
            territories = load_territories(progress=show_progress)
            contract = load_nantes_contract()
            indicators = load_nantes_indicators(Contract.objects.get(slug=SLUG))
        for line in territories.lines():
            self.stdout.write(f"  {line}")
        for model, row in {**contract.by_model, **indicators.by_model}.items():
            self.stdout.write(
                f"  {model} : {row['created']} créé(s), {row['updated']} mis à jour, "
                f"{row['unchanged']} inchangé(s)"
            )
        changed = territories.changed or contract.changed or indicators.changed
        verdict = "rien n'a changé" if not changed else "à jour"
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de référence chargées en {time.monotonic() - started:.1f} s ({verdict})."
            )
        )
