"""Efface les fichiers des traitements de géoréférencement arrivés au bout de leur conservation.

- fichier résultat d'un traitement terminé depuis plus de ``GEOREF_RETENTION_DAYS`` jours (7) ;
- fichier déposé resté en place (traitement interrompu) au-delà d'un jour ;
- traitement « en cours » ou « en attente » depuis plus d'un jour : marqué en échec (interrompu).

Le traitement et son résumé (des comptes, aucune adresse) restent. À lancer chaque jour (cron).
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from cdv.georef.models import GeorefJob, JobStatus

STALE_AFTER = timedelta(days=1)


class Command(BaseCommand):
    help = "Efface les fichiers des traitements de géoréférencement au-delà de leur durée de conservation."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="durée de conservation des résultats (jours)"
        )
        parser.add_argument("--dry-run", action="store_true", help="affiche sans rien effacer")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.GEOREF_RETENTION_DAYS if days is None else days
        now = timezone.now()
        stale = GeorefJob.objects.filter(
            status__in=[JobStatus.PENDING, JobStatus.RUNNING], created_at__lt=now - STALE_AFTER
        )
        expired = GeorefJob.objects.filter(finished_at__lt=now - timedelta(days=days)).exclude(output_file="")
        leftovers = GeorefJob.objects.filter(created_at__lt=now - STALE_AFTER).exclude(input_file="")
        counts = {"interrompus": stale.count(), "résultats": expired.count(), "dépôts": leftovers.count()}
        if not dry_run:
            stale.update(
                status=JobStatus.FAILED,
                finished_at=now,
                error_message="Traitement interrompu (service de fond arrêté ?) : relancez-le.",
            )
            for job in expired:
                job.output_file.delete(save=False)
                GeorefJob.objects.filter(pk=job.pk).update(output_file="")
            for job in GeorefJob.objects.filter(pk__in=[j.pk for j in leftovers]):
                job.input_file.delete(save=False)
                GeorefJob.objects.filter(pk=job.pk).update(input_file="")
        prefix = "À effacer" if dry_run else "Effacés"
        self.stdout.write(
            f"{prefix} : {counts['résultats']} fichier(s) résultat de plus de {days} jours, "
            f"{counts['dépôts']} fichier(s) déposé(s) restant(s) ; "
            f"{counts['interrompus']} traitement(s) interrompu(s)."
        )
