from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.demo import load_demo_data


class Command(BaseCommand):
    help = (
        "Ajoute des données de démonstration (objectifs, actions par QPV, priorités de "
        "quartier, engagements, partenaires et comptes fictifs), toutes marquées comme telles. Idempotent."
    )

    def handle(self, *args, **options):
        try:
            stats = load_demo_data()
        except ValueError as error:
            raise CommandError(str(error)) from error
        verdict = (
            "rien n'a changé"
            if not stats.changed
            else f"{stats.created} création(s), {stats.updated} mise(s) à jour"
        )
        self.stdout.write(self.style.SUCCESS(f"Données de démonstration chargées ({verdict})."))
        self.stdout.write(
            "  Les comptes de démonstration n'ont pas de mot de passe : le pilote peut en définir "
            "un dans le back-office."
        )
