from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cdv.seed.demo import DEMO_PASSWORD, load_demo_data, set_demo_passwords


class Command(BaseCommand):
    help = (
        "Ajoute des données de démonstration (objectifs, actions par QPV, priorités de "
        "quartier, engagements, partenaires et comptes fictifs), toutes marquées comme telles. Idempotent. "
        "En développement (DEBUG, `make run`), les comptes de démonstration reçoivent un mot de passe "
        "connu, affiché ; ailleurs, seulement avec --demo-passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-passwords",
            action="store_true",
            help="donne le mot de passe de démonstration aux comptes de démonstration même sans DEBUG "
            "(jamais sur une plateforme ouverte au public)",
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
        from cdv.contracts.models import Contract
        from cdv.contracts.nantes import SLUG

        contract = Contract.objects.get(slug=SLUG)
        if not (settings.DEBUG or options["demo_passwords"]):
            self.stdout.write(
                "  Les comptes de démonstration n'ont pas de mot de passe (DEBUG est désactivé) : "
                "relancez avec --demo-passwords pour leur en donner un connu, seulement sur une "
                "plateforme de démonstration qui n'est pas ouverte au public."
            )
            return
        login = f"{settings.SITE_URL}/connexion/"
        self.stdout.write(
            f"Se connecter sur {login} avec l'un des comptes de démonstration "
            f"(mot de passe « {DEMO_PASSWORD} » sauf s'il a été changé depuis) :"
        )
        for label, user, path in set_demo_passwords(contract):
            self.stdout.write(f"  {label} : {user.email} / mot de passe {DEMO_PASSWORD}")
            self.stdout.write(f"      puis {settings.SITE_URL}{path}")
