"""python manage.py restore FICHIER.tar.gz [--force] [--check] [--no-media]."""

import tempfile
from pathlib import Path

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError

from cdv.core import filestore
from cdv.core.backup import BackupError, open_backup, restore_backup


class Command(BaseCommand):
    # Pas de vérifications système : une sauvegarde doit marcher même si le reste est mal réglé.
    requires_system_checks = []
    help = (
        "Restaure une sauvegarde faite par « manage.py backup » dans la base configurée (DATABASE_URL) "
        "et le stockage des fichiers (MEDIA_ROOT ou le seau S3). Vérifie d'abord l'archive (empreintes "
        "SHA-256, moteur, version) ; refuse d'écraser "
        "une base ou un dossier de fichiers non vides sans --force. Arrêtez l'application avant."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="archive .tar.gz produite par « manage.py backup »")
        parser.add_argument(
            "--force", action="store_true", help="écrase une base et des fichiers téléversés non vides"
        )
        parser.add_argument(
            "--check", action="store_true", help="vérifie seulement l'archive, sans rien restaurer"
        )
        parser.add_argument("--no-media", action="store_true", help="ne restaure pas les fichiers téléversés")
        parser.add_argument(
            "--stockage",
            action="store_true",
            help="FICHIER est le nom d'une archive du stockage des sauvegardes (« backup --stockage »)",
        )

    def handle(self, *args, file, stockage=False, **options):
        if not stockage:
            return self.restore(Path(file), **options)
        backups = storages["backups"]
        if not backups.exists(file):
            raise CommandError(f"Aucune archive « {file} » dans le stockage des sauvegardes.")
        with tempfile.TemporaryDirectory(prefix="cdv-restore-") as workdir:
            local = filestore.copy_to_local(backups, file, Path(workdir) / Path(file).name)
            return self.restore(local, **options)

    def restore(self, path, *, force=False, check=False, no_media=False, **options):
        try:
            if check:
                with tempfile.TemporaryDirectory(prefix="cdv-check-") as workdir:
                    manifest = open_backup(path, Path(workdir))
                self.stdout.write(self.style.SUCCESS(f"Archive intacte : {path}."))
                self.describe(manifest)
                return
            result = restore_backup(path, force=force, include_media=not no_media)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde restaurée : {path}."))
        self.describe(result.manifest)
        self.stdout.write(f"  fichiers téléversés restaurés : {result.media_files}")
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"  {len(result.pending_migrations)} migration(s) plus récente(s) que la sauvegarde : "
                    "lancez « python manage.py migrate »."
                )
            )

    def describe(self, manifest):
        self.stdout.write(
            f"  faite le {manifest['created_at']} (plateforme {manifest['app_version']}, Django "
            f"{manifest['django_version']}, base {manifest['engine']}) : {len(manifest['tables'])} tables, "
            f"{manifest['total_rows']} lignes, {manifest['media_files']} fichier(s) téléversé(s)"
        )
