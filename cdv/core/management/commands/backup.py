"""python manage.py backup [-o FICHIER.tar.gz | --stockage] [--no-media] : base + fichiers, vérifiables."""

import datetime
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError

from cdv.core.backup import BackupError, create_backup


def default_name() -> str:
    return f"sauvegarde-cdv-{datetime.datetime.now():%Y%m%d-%H%M%S}.tar.gz"


class Command(BaseCommand):
    # Pas de vérifications système : une sauvegarde doit marcher même si le reste est mal réglé.
    requires_system_checks = []
    help = (
        "Sauvegarde la base (SQLite : copie en ligne ; PostgreSQL : pg_dump) et les fichiers téléversés "
        "(MEDIA_ROOT, ou tous les objets du seau S3 quand AWS_STORAGE_BUCKET_NAME est définie) "
        "dans une archive .tar.gz avec un manifeste (versions, nombre de lignes par table, "
        "empreinte SHA-256 de chaque fichier). L'application peut tourner pendant la sauvegarde. "
        "Format : docs/operations.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o", "--output", help="archive à écrire (défaut : sauvegarde-cdv-AAAAMMJJ-HHMMSS.tar.gz ici)"
        )
        parser.add_argument("--no-media", action="store_true", help="sans les fichiers téléversés")
        parser.add_argument(
            "--stockage",
            action="store_true",
            help="range l'archive dans le stockage des sauvegardes (seau BACKUP_BUCKET_NAME, ou BACKUP_DIR) "
            "au lieu d'un fichier local : toute machine de l'instance la retrouve",
        )

    def handle(self, *args, output=None, no_media=False, stockage=False, **options):
        if stockage and output:
            raise CommandError("Choisissez -o (fichier local) ou --stockage, pas les deux.")
        if stockage:
            with tempfile.TemporaryDirectory(prefix="cdv-backup-") as workdir:
                target = Path(workdir) / default_name()
                manifest = self.create(target, no_media)
                size = target.stat().st_size
                with open(target, "rb") as handle:
                    name = storages["backups"].save(target.name, File(handle, name=target.name))
            where = f"{name} dans le stockage des sauvegardes"
        else:
            target = Path(output or default_name())
            manifest = self.create(target, no_media)
            size = target.stat().st_size
            where = str(target)
        tables = manifest["tables"]
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {where} ({size / 1024 / 1024:.1f} Mo)."))
        self.stdout.write(
            f"  base {manifest['engine']} : {len(tables)} tables, {manifest['total_rows']} lignes ; "
            f"fichiers téléversés : {manifest['media_files']}"
            + ("" if manifest["media_included"] else " (exclus : --no-media)")
        )

    def create(self, target, no_media):
        try:
            return create_backup(target, include_media=not no_media)
        except BackupError as error:
            raise CommandError(str(error)) from error
