"""Traitements de géoréférencement lancés depuis le site (« Est-ce en QPV ? »).

Un ``GeorefJob`` garde le fichier déposé, les options, l'avancement et, une fois fini, le fichier
résultat et le résumé (comptes seulement, aucune adresse). Il appartient à la personne qui l'a
lancé : elle seule voit la page du traitement et télécharge le résultat.

Conservation : les fichiers déposés contiennent souvent des adresses de personnes (données
personnelles). Le fichier d'entrée est effacé dès la fin du traitement (réussi ou non) ; le
fichier résultat est effacé au bout de ``GEOREF_RETENTION_DAYS`` jours (7 par défaut) par
``manage.py purge_georef_jobs`` (à lancer chaque jour) ; le traitement et son résumé restent.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    PENDING = "EN_ATTENTE", "En attente"
    RUNNING = "EN_COURS", "En cours"
    DONE = "TERMINE", "Terminé"
    FAILED = "ECHEC", "Échec"


SAFE_SUFFIXES = {".csv", ".xlsx", ".parquet", ".txt", ".tsv"}


def _safe_suffix(filename):
    suffix = PurePath(filename or "").suffix.lower()
    return suffix if suffix in SAFE_SUFFIXES else ".bin"


def input_path(instance, filename):
    """Nom généré : jamais le nom donné par la personne (ni chemin, ni caractère risqué)."""
    return f"georef/{uuid.uuid4().hex}/entree{_safe_suffix(filename)}"


def output_path(instance, filename):
    return f"georef/{uuid.uuid4().hex}/resultat{_safe_suffix(filename)}"


class GeorefJobQuerySet(models.QuerySet):
    def owned_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class GeorefJob(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="lancé par",
        on_delete=models.CASCADE,
        related_name="georef_jobs",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name="contrat",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="georef_jobs",
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    input_file = models.FileField("fichier déposé", upload_to=input_path, max_length=200, blank=True)
    original_name = models.CharField("nom d'origine", max_length=200)
    input_size = models.PositiveBigIntegerField("taille (octets)", default=0)
    options = models.JSONField("options", default=dict, blank=True)
    status = models.CharField("état", max_length=12, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress_done = models.PositiveIntegerField("lignes traitées", default=0)
    progress_total = models.PositiveIntegerField("lignes à traiter", null=True, blank=True)
    summary = models.JSONField("résumé", null=True, blank=True)
    output_file = models.FileField("fichier résultat", upload_to=output_path, max_length=200, blank=True)
    error_message = models.TextField("erreur", blank=True)
    task_id = models.CharField("tâche de fond", max_length=64, blank=True)

    objects = GeorefJobQuerySet.as_manager()

    class Meta:
        verbose_name = "traitement de géoréférencement"
        verbose_name_plural = "traitements de géoréférencement"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="georefjob_owner_created")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()}, {self.created_at:%d/%m/%Y %H:%M})"

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def share_in_qpv(self) -> float | None:
        """Part des lignes situées en QPV (0 à 1), d'après le résumé ; ``None`` sans résumé."""
        summary = self.summary or {}
        if summary.get("share_in_qpv") is not None:
            return float(summary["share_in_qpv"])
        rows = summary.get("rows") or 0
        if not rows:
            return None
        return summary.get("in_qpv", 0) / rows
