"""Applique les durées de conservation des données personnelles (voir docs/rgpd.md).

À lancer chaque jour (cron). ``--dry-run`` compte sans rien effacer.
"""

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from cdv.users import privacy


class Command(BaseCommand):
    help = "Efface ou anonymise les données personnelles dont la durée de conservation est passée."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compter sans rien effacer.")

    def handle(self, *args, dry_run=False, **options):
        counts = privacy.purge(dry_run=dry_run)
        prefix = "[essai] " if dry_run else ""
        for label, count in counts.items():
            self.stdout.write(f"{prefix}{label} : {count}")
        # Fichiers de géoréférencement : leur propre commande et GEOREF_RETENTION_DAYS.
        if "purge_georef_jobs" in get_commands():
            if dry_run:
                self.stdout.write(f"{prefix}fichiers de géoréférencement : voir purge_georef_jobs")
            else:
                call_command("purge_georef_jobs", stdout=self.stdout, stderr=self.stderr)
