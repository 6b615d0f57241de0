import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cdv.contracts.services import ensure_pilot_account


class Command(BaseCommand):
    help = (
        "Crée le compte pilote du contrat par défaut s'il n'existe pas et affiche ses "
        "identifiants. Lit ADMIN_EMAIL et ADMIN_PASSWORD ; sinon pilote@example.org et un mot "
        "de passe aléatoire. Un compte existant garde son mot de passe. Le pilote n'est jamais "
        "opérateur de l'instance (superutilisateur) : son back-office se limite à ses contrats."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--contract", help="identifiant (slug) du contrat ; défaut : le contrat par défaut"
        )

    def handle(self, *args, **options):
        email = os.environ.get("ADMIN_EMAIL", "").strip() or "pilote@example.org"
        password = os.environ.get("ADMIN_PASSWORD", "") or secrets.token_urlsafe(12)
        try:
            user, created, demoted = ensure_pilot_account(
                email=email, password=password, contract_slug=options["contract"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        if created:
            self.stdout.write(self.style.SUCCESS("Compte pilote créé :"))
            self.stdout.write(f"  adresse      : {user.email}")
            self.stdout.write(f"  mot de passe : {password}")
            self.stdout.write(f"  connexion    : {settings.SITE_URL}/connexion/")
            self.stdout.write(f"  back-office  : {settings.SITE_URL}/admin/ (limité à ses contrats)")
        else:
            self.stdout.write(
                f"Compte pilote existant : {user.email} (mot de passe inchangé ; "
                "`.venv/bin/python manage.py changepassword EMAIL` pour le changer)."
            )
            self.stdout.write(f"  connexion    : {settings.SITE_URL}/connexion/")
        if demoted:
            self.stdout.write(
                self.style.WARNING(
                    f"{user.email} était superutilisateur : il n'est plus opérateur de l'instance, seulement "
                    "pilote de son contrat. Pour un compte opérateur : "
                    "`.venv/bin/python manage.py createsuperuser`."
                )
            )
