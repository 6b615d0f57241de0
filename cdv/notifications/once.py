"""« Une seule fois » pour les relances : une ligne ``SentReminder`` par relance, de clé unique.

Chaque commande de relance (``send_review_reminders``, ``send_call_closing_reminders``,
``send_report_reminders``, « Relancer maintenant ») réserve la relance avant de l'envoyer :
:func:`claim_once` insère la ligne dans son propre point de sauvegarde et répond faux si la clé
existe déjà. L'unicité est tenue par la base (PostgreSQL en production) : deux exécutions lancées
en même temps, sur une machine ou sur deux serveurs, n'envoient qu'une fois. Si l'envoi échoue,
:func:`release` efface la ligne et la relance sera retentée à la prochaine exécution.

Ces lignes remplacent les marqueurs ``MEDIA_ROOT/reminders/…/*.envoye`` d'avant : la migration
``0004_sent_reminders_in_database`` les reprend (même clé : le chemin sans ``.envoye``).
"""

from django.db import IntegrityError, transaction

from .models import SentReminder


def claim_once(key: str, *, recipient) -> bool:
    """Réserve la relance ``key`` ; faux si elle l'était déjà (déjà envoyée, ou en cours ailleurs)."""
    try:
        with transaction.atomic():
            SentReminder.objects.create(key=key, recipient=recipient)
    except IntegrityError:
        return False
    return True


def release(key: str) -> None:
    """Rend la relance ``key`` de nouveau possible (son envoi a échoué)."""
    SentReminder.objects.filter(key=key).delete()


def sent_keys(keys) -> set[str]:
    """Celles des clés ``keys`` déjà réservées, en une requête (aperçus ``--dry-run``, sans rien
    écrire)."""
    return set(SentReminder.objects.filter(key__in=list(keys)).values_list("key", flat=True))
