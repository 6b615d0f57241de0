import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cdv.monitoring.reminders import send_review_reminders


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Date invalide « {value} » : attendu AAAA-MM-JJ (ex. : 2026-03-24).") from error


class Command(BaseCommand):
    help = (
        "Relance par courriel les référents des partenaires dont des bilans ne sont pas transmis : "
        "7 jours et 1 jour avant la date limite, le lendemain de la date limite puis chaque semaine. "
        "À lancer une fois par jour ; une seconde exécution le même jour n'envoie rien de plus."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="simulation : affiche qui serait relancé, sans rien envoyer ni enregistrer",
        )
        parser.add_argument("--date", help="faire comme si l'on était ce jour-là (AAAA-MM-JJ)")

    def handle(self, *args, **options):
        today = _date(options["date"]) if options.get("date") else timezone.localdate()
        dry_run = options["dry_run"]
        results = send_review_reminders(today=today, dry_run=dry_run)
        header = f"Relances des bilans du {today:%d/%m/%Y}"
        if dry_run:
            header += " (simulation : aucun courriel envoyé)"
        self.stdout.write(header)
        if not results:
            self.stdout.write("Aucune campagne de suivi ouverte.")
            return
        total_sent = total_failed = 0
        for result in results:
            campaign = result.campaign
            where = (
                f"- {campaign.contract.title}, campagne {campaign.year} "
                f"(date limite {campaign.deadline:%d/%m/%Y})"
            )
            if result.slot is None:
                self.stdout.write(f"{where} : pas de relance aujourd'hui.")
                continue
            verb = "à envoyer" if dry_run else "envoyé(s)"
            parts = [f"{len(result.sent)} courriel(s) {verb}"]
            if result.already_sent:
                parts.append(f"{len(result.already_sent)} déjà envoyé(s) aujourd'hui")
            if result.deferred:
                parts.append(f"{len(result.deferred)} dans le résumé quotidien")
            if result.disabled:
                parts.append(f"{len(result.disabled)} relance(s) désactivée(s) par la personne")
            if result.failed:
                parts.append(f"{len(result.failed)} en échec ({', '.join(result.failed)})")
            self.stdout.write(f"{where} : relance {result.slot} ; {', '.join(parts)}.")
            for email in result.sent:
                self.stdout.write(f"    {email}")
            if result.without_editor:
                self.stdout.write(
                    "    Bilans en attente sans référent à relancer : "
                    + ", ".join(result.without_editor)
                    + "."
                )
            total_sent += len(result.sent)
            total_failed += len(result.failed)
        verb = "à envoyer" if dry_run else "envoyé(s)"
        self.stdout.write(f"Total : {total_sent} courriel(s) {verb}.")
        if total_failed:
            raise CommandError(
                f"{total_failed} relance(s) n'ont pas pu être envoyées ; relancez la commande."
            )
