from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cdv.seed.scale import (
    INDICATORS_PER_CONTRACT,
    NATIONAL,
    ScaleCounts,
    delete_synthetic_data,
    load_scale_data,
)


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", " ")


class Command(BaseCommand):
    help = (
        "Construit un jeu de données synthétique à l'échelle nationale, à côté des données réelles, "
        "pour mesurer les performances : 449 contrats (450 avec Nantes) qui se partagent les QPV hors "
        "Nantes, 20 000 partenaires, 200 000 engagements, 2 000 000 de valeurs d'indicateurs, l'appel à "
        "projets 2025 des plus grands contrats (450 dossiers × 6 financeurs par appel, 50 000 dossiers). "
        "Tout est marqué (identifiants « synthetique-… », is_demo, EPCI « SYN… »). Idempotent : "
        "supprime puis reconstruit tout ce qui est synthétique ; ne touche jamais aux données réelles."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--factor",
            type=float,
            default=1.0,
            help="Multiplie tous les volumes (ex. 0.01 pour un essai rapide). Défaut : 1 (national).",
        )
        for name, total in NATIONAL.items():
            label = {
                "contracts": "contrats synthétiques",
                "partners": "partenaires",
                "commitments": "engagements",
                "values": "valeurs d'indicateurs",
                "applications": "dossiers de l'appel à projets",
            }[name]
            parser.add_argument(
                f"--{name}",
                type=int,
                default=None,
                help=f"Nombre de {label} (l'emporte sur --factor ; national : {_thousands(total)}).",
            )
        parser.add_argument(
            "--indicators",
            type=int,
            default=INDICATORS_PER_CONTRACT,
            help=f"Indicateurs par contrat synthétique (défaut : {INDICATORS_PER_CONTRACT}).",
        )
        parser.add_argument(
            "--seed", type=int, default=2024, help="Graine du tirage des tailles de contrats."
        )
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Supprime seulement les données synthétiques, sans reconstruire.",
        )

    def handle(self, *args, **options):
        if options["delete"]:
            with transaction.atomic():
                deleted = delete_synthetic_data()
            self._write_counts("Supprimé", deleted)
            self.stdout.write(self.style.SUCCESS("Données synthétiques supprimées."))
            return
        try:
            counts = ScaleCounts.scaled(
                options["factor"],
                **{name: options[name] for name in NATIONAL},
                indicators_per_contract=options["indicators"],
            )
            report = load_scale_data(counts, progress=options["verbosity"] >= 1, seed=options["seed"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        self._write_counts("Supprimé d'abord", report.deleted)
        self._write_counts("Créé", report.created)
        self.stdout.write(
            self.style.SUCCESS(
                f"Données synthétiques chargées en {report.seconds:.1f} s : {counts.contracts} contrats, "
                f"{_thousands(counts.partners)} partenaires, {_thousands(counts.commitments)} engagements, "
                f"{_thousands(counts.values)} valeurs d'indicateurs, "
                f"{_thousands(counts.applications)} dossiers d'appel à projets."
            )
        )

    def _write_counts(self, title, counts):
        if counts:
            self.stdout.write(f"{title} :")
            for label, number in counts.items():
                self.stdout.write(f"  {label} : {_thousands(number)}")
