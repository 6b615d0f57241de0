"""Données personnelles (RGPD) : export des données d'une personne, suppression de son compte,
purge selon les durées de conservation. Voir docs/rgpd.md.

Supprimer un compte ne supprime pas ses contributions (engagements, retours, décisions…) : elles
appartiennent au contrat et à l'organisation au nom de laquelle elles ont été écrites. La ligne
``User`` reste, vidée de toute donnée personnelle (adresse remplacée par un pseudonyme, noms
effacés, mot de passe inutilisable, second facteur retiré) ; l'historique l'affiche comme
« compte supprimé ».
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, Invitation, Membership, User


def _iso(value):
    return value.isoformat() if value else None


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
    }


def pseudonym_email(user) -> str:
    return f"supprime-{user.pk}@invalid"


@transaction.atomic
def anonymize(user) -> None:
    """Vide le compte de toute donnée personnelle ; ses contributions restent, sans son nom."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    old_email = user.email
    Membership.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
    Invitation.objects.filter(email__iexact=old_email).delete()
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


def delete_account(*, user, password: str) -> None:
    """Suppression demandée par la personne elle-même : son mot de passe la confirme."""
    if not user.has_usable_password() or not user.check_password(password or ""):
        raise ValidationError({"password": "Mot de passe incorrect : le compte n'a pas été supprimé."})
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
