"""Adresses du site (espace de noms « www »), un module par domaine.

Chaque module de ce paquet liste les adresses d'un domaine et importe les vues qui les servent ;
ce fichier les met bout à bout. L'ordre compte quand deux motifs se recouvrent : Django prend le
premier qui correspond (tests/www/test_urls_snapshot.py vérifie que chaque adresse mène à sa vue).
"""

from . import (
    accounts,
    commitments,
    evaluation,
    feedback,
    feeds,
    georef,
    grants,
    grants_followup,
    indicators,
    meetings,
    monitoring,
    opendata,
    operator,
    pilotage,
    plan,
    public,
    state,
)

app_name = "www"

urlpatterns = [
    *public.urlpatterns,
    *indicators.urlpatterns,
    *opendata.urlpatterns,
    *feeds.urlpatterns,
    *operator.urlpatterns,
    *state.urlpatterns,
    *georef.urlpatterns,
    *accounts.urlpatterns,
    *commitments.urlpatterns,
    *pilotage.urlpatterns,
    *plan.urlpatterns,
    *feedback.urlpatterns,
    *meetings.urlpatterns,
    *evaluation.urlpatterns,
    *monitoring.urlpatterns,
    *grants.urlpatterns,
    *grants_followup.urlpatterns,
]
