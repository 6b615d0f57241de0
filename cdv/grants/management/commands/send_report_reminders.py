import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cdv.grants.report_reminders import STAGE_FIRST, STAGE_LAST, send_report_reminders

STAGES = {STAGE_FIRST: "J-30", STAGE_LAST: "J-7", "retard": "en retard"}


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Date invalide « {value} » : attendu AAAA-MM-JJ (ex. : 2026-06-30).") from error


class Command(BaseCommand):
    help = (
        "Appels à projets : rappelle aux référents des associations le compte-rendu financier à "
        "rendre (30 jours et 7 jours avant l'échéance, puis le lendemain de l'échéance s'il n'est "
        "pas transmis). À lancer une fois par jour ; un seul rappel par étape et par personne."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="simulation : affiche qui serait relancé")
        parser.add_argument("--date", help="faire comme si l'on était ce jour-là (AAAA-MM-JJ)")

    def handle(self, *args, **options):
        today = _date(options["date"]) if options.get("date") else timezone.localdate()
        reminders = send_report_reminders(today=today, dry_run=options["dry_run"])
        header = f"Rappels des comptes-rendus financiers du {today:%d/%m/%Y}"
        if options["dry_run"]:
            header += " (simulation : aucun courriel envoyé)"
        self.stdout.write(header)
        if not reminders:
            self.stdout.write("Aucun compte-rendu à rappeler aujourd'hui.")
        for reminder in reminders:
            application = reminder.application
            line = (
                f"- {application.partner}, {application.number or '—'} « {application.title} » "
                f"(dû le {reminder.due_date:%d/%m/%Y}, {STAGES[reminder.stage]}) : "
                f"{len(reminder.sent)} relancé(s), {len(reminder.already_sent)} déjà relancé(s), "
                f"{len(reminder.failed)} échec(s)"
            )
            if reminder.without_referent:
                line += " — aucun référent à prévenir"
            self.stdout.write(line)
