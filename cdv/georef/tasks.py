"""Tâche de fond d'un traitement de géoréférencement (django-tasks).

``run_georef_job`` lit le fichier déposé, appelle ``pipeline.run`` et tient la base au courant :
avancement (au plus une écriture par seconde), puis résumé et fichier résultat, ou un message
d'échec en français (jamais une trace technique : celle-ci va dans le journal du serveur).

Les petits fichiers de coordonnées (``SYNC_MAX_BYTES``, 1 Mo) sont traités pendant la requête, en
appelant la même fonction ; tout le reste part dans la file, que vide ``manage.py db_worker``.
"""

import logging
import shutil
import tempfile
import time
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path, PurePath

from django.core.files import File
from django.utils import timezone
from django_tasks import task

from cdv.core import filestore

from .models import GeorefJob, JobStatus

logger = logging.getLogger(__name__)

SYNC_MAX_BYTES = 1024 * 1024
SYNC_MAX_BYTES_XLSX = 256 * 1024  # un résultat XLSX s'écrit bien moins vite (20 000 lignes/s environ)
COORDINATE_MODES = {"lonlat", "xy"}
PROGRESS_EVERY = 1.0  # secondes entre deux écritures de l'avancement


def runs_in_request(job: GeorefJob) -> bool:
    """Coordonnées et fichier d'au plus 1 Mo : quelques dizaines de milliers de lignes, une à deux
    secondes (256 Kio pour un résultat XLSX, plus lent à écrire) ; des adresses passent toujours par
    la file (le géocodeur peut être lent)."""
    options = job.options or {}
    limit = SYNC_MAX_BYTES_XLSX if options.get("output_format") == "xlsx" else SYNC_MAX_BYTES
    return options.get("mode") in COORDINATE_MODES and job.input_size <= limit


def start(job: GeorefJob) -> None:
    """Lance le traitement : dans la requête s'il est petit, sinon dans la file de fond."""
    if runs_in_request(job):
        run_georef_job.call(job.pk)
        return
    result = run_georef_job.enqueue(job.pk)
    # update() et non save() : avec l'exécution immédiate (tests), la tâche a déjà tout écrit.
    GeorefJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])


def summary_to_json(summary) -> dict:
    """Le résumé du pipeline en JSON : comptes seulement (aucune adresse), part en QPV comprise."""
    data = asdict(summary) if is_dataclass(summary) else dict(summary)
    data["by_qpv"] = {code: list(value) for code, value in (data.get("by_qpv") or {}).items()}
    share = getattr(summary, "share_in_qpv", None)
    data["share_in_qpv"] = None if share is None else float(share)
    return data


class _Progress:
    def __init__(self, job_id):
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, done, total=None):
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        changes = {"progress_done": int(done)}
        if total is not None:
            changes["progress_total"] = int(total)
        GeorefJob.objects.filter(pk=self.job_id).update(**changes)


@task()
def run_georef_job(job_id: int) -> str:
    job = GeorefJob.objects.filter(pk=job_id).first()
    if job is None:
        return "absent"
    if job.status != JobStatus.PENDING:
        return job.status  # déjà pris (relance de la file) : rien à refaire
    claimed = GeorefJob.objects.filter(pk=job.pk, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "deja-pris"
    job.refresh_from_db()
    workdir = Path(tempfile.mkdtemp(prefix="georef-"))
    try:
        summary, output = _run(job, workdir)
    except Exception as error:  # noqa: BLE001 - tout échec devient un message, la trace va au journal
        _fail(job, error)
        return JobStatus.FAILED
    else:
        _succeed(job, summary, output)
        return JobStatus.DONE
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        _delete_input(job)


def _run(job, workdir):
    from . import pipeline

    options = _options(pipeline.GeorefOptions, job.options or {})
    input_path = _local_input(job, workdir)
    # CSV UTF-8 (avec BOM) par défaut ; XLSX si la personne l'a choisi au dépôt.
    output_format = "xlsx" if (job.options or {}).get("output_format") == "xlsx" else "csv"
    output = workdir / f"resultat.{output_format}"
    geocoder = None
    if options.mode == "address":
        from .ban import BanGeocoder

        geocoder = BanGeocoder()
    summary = pipeline.run(
        input_path,
        output,
        options,
        geocoder=geocoder,
        progress=_Progress(job.pk),
        output_format=output_format,
    )
    return summary, output


def _options(options_class, data):
    names = {f.name for f in fields(options_class)}
    return options_class(**{k: v for k, v in data.items() if k in names})


def _local_input(job, workdir) -> Path:
    """Le fichier déposé, recopié par morceaux du stockage (disque ou S3) dans le dossier de travail
    temporaire, effacé à la fin : jamais entier en mémoire, jamais de chemin du stockage."""
    suffix = PurePath(job.input_file.name).suffix
    target = workdir / f"entree{suffix}"
    return filestore.copy_to_local(job.input_file.storage, job.input_file.name, target)


def _succeed(job, summary, output: Path):
    """Range le résultat et marque le traitement terminé, par ``update()`` : si le traitement a été
    supprimé pendant le calcul (compte supprimé, purge), il ne renaît pas et son résultat non plus.
    Le résultat, écrit dans un fichier temporaire, est envoyé au stockage depuis ce fichier (envoi
    par parties pour S3), jamais lu entier en mémoire."""
    summary_json = summary_to_json(summary)
    rows = int(summary_json.get("rows") or 0)
    with output.open("rb") as handle:
        job.output_file.save(output.name, File(handle), save=False)
    updated = GeorefJob.objects.filter(pk=job.pk).update(
        summary=summary_json,
        progress_done=rows,
        progress_total=rows,
        output_file=job.output_file.name,
        status=JobStatus.DONE,
        finished_at=timezone.now(),
        error_message="",
    )
    if not updated:
        job.output_file.delete(save=False)


def _fail(job, error):
    from . import pipeline

    if isinstance(error, pipeline.GeorefError):
        message = str(error)
    else:
        logger.exception("Géoréférencement n° %s : échec inattendu", job.pk)
        message = (
            "Le traitement s'est arrêté sur une erreur inattendue. Vérifiez le fichier et les colonnes "
            f"choisies, puis relancez ; si l'erreur revient, signalez le traitement n° {job.pk}."
        )
    GeorefJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error_message=message, finished_at=timezone.now()
    )


def _delete_input(job):
    """Le fichier déposé (souvent des adresses de personnes) ne survit pas au traitement."""
    job = GeorefJob.objects.filter(pk=job.pk).first()
    if job is not None and job.input_file:
        job.input_file.delete(save=False)
        GeorefJob.objects.filter(pk=job.pk).update(input_file="")
