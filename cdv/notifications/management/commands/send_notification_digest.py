from django.core.management.base import BaseCommand, CommandError

from cdv.notifications.services import send_digest


class Command(BaseCommand):
    help = (
        "Envoie à chaque personne un courriel qui regroupe ses notifications en attente (résumé "
        "quotidien, et envois immédiats qui avaient échoué). À lancer une fois par jour ; une seconde "
        "exécution n'envoie rien de plus."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="simulation : affiche qui recevrait un résumé, sans rien envoyer",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        result = send_digest(dry_run=dry_run)
        verb = "à envoyer" if dry_run else "envoyé(s)"
        self.stdout.write(f"Résumé des notifications : {len(result.sent)} courriel(s) {verb}.")
        for email, count in result.sent:
            self.stdout.write(f"    {email} ({count} notification(s))")
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} résumé(s) n'ont pas pu être envoyés ({', '.join(result.failed)}) ; "
                "relancez la commande."
            )
