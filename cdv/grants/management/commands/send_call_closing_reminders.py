import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cdv.grants.reminders import send_call_closing_reminders


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Date invalide « {value} » : attendu AAAA-MM-JJ (ex. : 2026-11-13).") from error


class Command(BaseCommand):
    help = (
        "Appels à projets : écrit, dans les 48 heures avant la clôture du dépôt, à chaque référent "
        "d'une association qui a encore un brouillon. À lancer une fois par jour ; une seule relance "
        "par appel et par personne."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="simulation : affiche qui serait relancé")
        parser.add_argument("--date", help="faire comme si l'on était ce jour-là (AAAA-MM-JJ)")

    def handle(self, *args, **options):
        today = _date(options["date"]) if options.get("date") else timezone.localdate()
        results = send_call_closing_reminders(today=today, dry_run=options["dry_run"])
        header = f"Relances de clôture des appels à projets du {today:%d/%m/%Y}"
        if options["dry_run"]:
            header += " (simulation : aucun courriel envoyé)"
        self.stdout.write(header)
        if not results:
            self.stdout.write("Aucun appel ne ferme dans les 48 heures.")
        for result in results:
            call = result.call
            self.stdout.write(
                f"- {call.contract.title}, {call.title} (clôture le {call.filing_closes:%d/%m/%Y}) : "
                f"{len(result.sent)} relancé(s), {len(result.already_sent)} déjà relancé(s), "
                f"{len(result.failed)} échec(s)"
            )
            if result.without_referent:
                self.stdout.write(f"  Brouillons sans référent : {', '.join(result.without_referent)}")
