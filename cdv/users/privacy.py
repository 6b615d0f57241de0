"""Données personnelles (RGPD) : export des données d'une personne, suppression de son compte,
purge selon les durées de conservation. Voir docs/rgpd.md.

Supprimer un compte ne supprime pas ses contributions (engagements, retours, décisions…) : elles
appartiennent au contrat et à l'organisation au nom de laquelle elles ont été écrites. La ligne
``User`` reste, vidée de toute donnée personnelle (adresse remplacée par un pseudonyme, noms
effacés, mot de passe inutilisable, second facteur retiré) ; l'historique l'affiche comme
« compte supprimé ».

Les traitements de géoréférencement de la personne (``cdv.georef.GeorefJob`` : fichier déposé et
fichier résultat, qui peuvent contenir des adresses de bénéficiaires) sont listés dans l'export
(métadonnées seulement, jamais le contenu des fichiers) et effacés avec le compte : lignes en base
dans la transaction, fichiers sur disque une fois la transaction validée (``on_commit``), pour
qu'une annulation ne laisse pas de traitement sans son fichier.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import ApiToken, CrossContractReader, Invitation, Membership, User
from .roles import forget_memberships

logger = logging.getLogger(__name__)


def _iso(value):
    return value.isoformat() if value else None


def _georef_jobs(user):
    """Les traitements de géoréférencement lancés par la personne (requête écrite ici : l'application
    georef n'a pas à connaître les règles RGPD)."""
    from cdv.georef.models import GeorefJob

    return GeorefJob.objects.filter(owner=user)


def _georef_export(user) -> dict:
    jobs = _georef_jobs(user).select_related("contract").order_by("-created_at", "-id")
    days = settings.GEOREF_RETENTION_DAYS
    return {
        "a_savoir": (
            "Cette liste ne donne que les informations sur vos traitements (date, nom du fichier, "
            "nombre de lignes, état), pas le contenu des fichiers. Le fichier déposé est effacé dès la "
            f"fin du traitement ; le fichier résultat est effacé {days} jours après la fin du traitement "
            "(durée de conservation). Tant qu'il existe, vous pouvez le télécharger depuis la page "
            f"« Est-ce en QPV ? » ({settings.SITE_URL}{reverse('www:georef')}). La suppression de votre "
            "compte efface vos traitements et leurs fichiers."
        ),
        "traitements": [
            {
                "id": job.pk,
                "lance_le": _iso(job.created_at),
                "termine_le": _iso(job.finished_at),
                "fichier": job.original_name,
                "lignes": _georef_rows(job),
                "etat": job.get_status_display(),
                "contrat": job.contract.title if job.contract_id else None,
                "resultat_telechargeable": bool(job.output_file),
            }
            for job in jobs
        ],
    }


def _georef_rows(job):
    rows = (job.summary or {}).get("rows")
    return int(rows) if rows is not None else job.progress_total


def _delete_files(files) -> None:
    """Efface des fichiers du stockage ; un fichier déjà absent ou une erreur n'arrête pas le reste."""
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:  # le compte est déjà supprimé : on journalise et on continue
            logger.exception("Fichier de géoréférencement non effacé : %s", name)


def delete_georef_jobs(user) -> int:
    """Efface les traitements de géoréférencement de la personne ; leurs fichiers (déposé et
    résultat) sont effacés du stockage après la validation de la transaction en cours."""
    files = []
    jobs = list(_georef_jobs(user).only("pk", "input_file", "output_file"))
    for job in jobs:
        for field in (job.input_file, job.output_file):
            if field:
                files.append((field.storage, field.name))
    _georef_jobs(user).filter(pk__in=[job.pk for job in jobs]).delete()
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    return len(jobs)


def export_data(user) -> dict:
    """Tout ce que la plateforme garde sur la personne, en JSON (droit d'accès et de portabilité)."""
    from axes.models import AccessLog

    from cdv.commitments.models import Commitment, CommitmentAmendment
    from cdv.monitoring.models import Feedback

    memberships = Membership.objects.filter(user=user).select_related("contract", "partner")
    tokens = ApiToken.objects.filter(user=user)
    feedback = Feedback.objects.filter(author=user).select_related("contract", "partner")
    confirmed = Commitment.objects.filter(confirmed_by=user).select_related("contract", "partner")
    amendments = CommitmentAmendment.objects.filter(author=user).select_related("commitment")
    authored_ids = set(
        Commitment.history.filter(history_user=user, history_type="+").values_list("id", flat=True)
    )
    authored = Commitment.objects.filter(pk__in=authored_ids).select_related("contract", "partner")
    logins = AccessLog.objects.filter(username__iexact=user.email).order_by("-attempt_time")[:500]
    return {
        "format": "contrat-de-ville/mes-donnees/1",
        "exporte_le": _iso(timezone.now()),
        "profil": {
            "id": user.pk,
            "adresse": user.email,
            "prenom": user.first_name,
            "nom": user.last_name,
            "nom_affiche_au_public": user.public_name,
            "inscrit_le": _iso(user.date_joined),
            "derniere_connexion": _iso(user.last_login),
            "actif": user.is_active,
            "acces_back_office": user.is_staff,
            "second_facteur_active_le": _iso(user.totp_confirmed_at),
        },
        "roles": [
            {
                "contrat": m.contract.title,
                "role": m.get_role_display(),
                "partenaire": m.partner.name if m.partner_id else None,
                "depuis": _iso(m.created_at),
            }
            for m in memberships
        ],
        "lectures_inter_contrats": [
            {"partenaire": g.partner.name, "depuis": _iso(g.created_at)}
            for g in CrossContractReader.objects.filter(user=user).select_related("partner")
        ],
        "jetons_api": [
            {
                "usage": t.name,
                "debut": t.prefix,
                "cree_le": _iso(t.created_at),
                "derniere_utilisation": _iso(t.last_used_at),
                "revoque": t.revoked,
            }
            for t in tokens
        ],
        "retours": [
            {
                "id": f.pk,
                "contrat": f.contract.title,
                "au_nom_de": f.partner.name if f.partner_id else None,
                "nature": f.get_kind_display(),
                "texte": f.text,
                # retouché par la modération avant publication : le texte tel que déposé
                "texte_depose": f.original_text or f.text,
                "moderation": f.get_moderation_display(),
                "depose_le": _iso(f.created_at),
            }
            for f in feedback
        ],
        "engagements_crees": [
            {"id": c.pk, "contrat": c.contract.title, "partenaire": c.partner.name, "intitule": c.title}
            for c in authored
        ],
        "engagements_confirmes": [
            {"id": c.pk, "contrat": c.contract.title, "partenaire": c.partner.name, "intitule": c.title}
            for c in confirmed
        ],
        "avenants": [
            {"engagement": a.commitment_id, "numero": a.number, "motif": a.reason, "le": _iso(a.created_at)}
            for a in amendments
        ],
        "connexions": [
            {"le": _iso(log.attempt_time), "fin": _iso(log.logout_time), "ip": log.ip_address}
            for log in logins
        ],
        "georeferencement": _georef_export(user),
        "notifications": [
            {
                "contrat": n.contract.title,
                "nature": n.get_kind_display(),
                "message": n.text,
                "lien": n.url,
                "le": _iso(n.created_at),
                "lue_le": _iso(n.read_at),
                "envoyee_par_courriel_le": _iso(n.emailed_at),
            }
            for n in user.notifications.select_related("contract").order_by("-created_at", "-id")[:1000]
        ],
        "preferences_notifications": {
            p.get_kind_display(): p.get_delivery_display() for p in user.notification_preferences.all()
        },
    }


def pseudonym_email(user) -> str:
    return f"supprime-{user.pk}@invalid"


@transaction.atomic
def anonymize(user) -> None:
    """Vide le compte de toute donnée personnelle ; ses contributions restent, sans son nom."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    old_email = user.email
    Membership.objects.filter(user=user).delete()
    CrossContractReader.objects.filter(user=user).delete()
    forget_memberships(user)
    ApiToken.objects.filter(user=user).delete()
    Invitation.objects.filter(email__iexact=old_email).delete()
    delete_georef_jobs(user)
    user.notifications.all().delete()  # cdv.notifications : ce que la personne a reçu, ses préférences
    user.notification_preferences.all().delete()
    for model in (AccessLog, AccessAttempt, AccessFailureLog):
        model.objects.filter(username__iexact=old_email).delete()
    user.email = pseudonym_email(user)
    user.first_name = user.last_name = user.public_name = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.anonymized_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def delete_account(*, user, password: str = "", email: str = "") -> None:
    """Suppression demandée par la personne elle-même : son mot de passe la confirme ; un compte sans
    mot de passe (connexion par ProConnect seulement) la confirme en recopiant son adresse."""
    if user.has_usable_password():
        if not user.check_password(password or ""):
            raise ValidationError({"password": "Mot de passe incorrect : le compte n'a pas été supprimé."})
    elif (email or "").strip().lower() != user.email.lower():
        raise ValidationError(
            {"email": "Cette adresse n'est pas celle du compte : le compte n'a pas été supprimé."}
        )
    anonymize(user)


def purge(*, now=None, dry_run=False) -> dict:
    """Applique les durées de conservation ; renvoie le nombre d'éléments concernés par règle."""
    from axes.models import AccessFailureLog, AccessLog

    now = now or timezone.now()
    counts = {}

    days = settings.RETENTION_INACTIVE_ACCOUNTS_DAYS
    if days:
        limit = now - timedelta(days=days)
        inactive = User.objects.filter(anonymized_at__isnull=True, is_superuser=False).filter(
            last_login__lt=limit
        ) | User.objects.filter(
            anonymized_at__isnull=True, is_superuser=False, last_login__isnull=True, date_joined__lt=limit
        )
        inactive = list(inactive.distinct())
        counts["comptes inactifs anonymisés"] = len(inactive)
        if not dry_run:
            for user in inactive:
                anonymize(user)

    days = settings.RETENTION_LOGIN_LOGS_DAYS
    if days:
        limit = now - timedelta(days=days)
        logs = AccessLog.objects.filter(attempt_time__lt=limit)
        failures = AccessFailureLog.objects.filter(attempt_time__lt=limit)
        counts["journaux de connexion effacés"] = logs.count() + failures.count()
        if not dry_run:
            logs.delete()
            failures.delete()

    days = settings.RETENTION_INVITATIONS_DAYS
    if days:
        limit = now - timedelta(days=days)
        stale = Invitation.objects.filter(accepted_at__isnull=True, expires_at__lt=limit)
        counts["invitations expirées effacées"] = stale.count()
        if not dry_run:
            stale.delete()
    return counts
