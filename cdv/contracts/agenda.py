"""L'agenda d'un contrat : les dates que l'on met dans son calendrier (fichier iCalendar).

Y entrent, pour ``user`` et selon les règles de lecture de chaque objet (jamais un brouillon) :
les jalons datés du contrat, les instances (COPIL pour tous ; comités techniques et instances de
quartier pour les membres du contrat), les dates des appels à projets publiés (publication, dépôt,
instruction, comité, notification, compte-rendu) et, pour les membres, la date limite des bilans de
chaque campagne de suivi annuel. Chaque événement dure une journée (date sans heure).

Un agenda abonné lit l'adresse sans se connecter. Pour qu'un membre du contrat y retrouve ce que
son rôle lui ouvre, il reçoit une adresse personnelle : ``agenda.ics?cle=<numéro>-<empreinte>``, où
l'empreinte (HMAC de ``SECRET_KEY``) lie le compte, le contrat et le mot de passe haché du compte.
Elle ne donne que la lecture de cet agenda, avec les droits du compte au moment de la lecture : un
rôle retiré, un compte désactivé ou un mot de passe changé la rendent sans effet.

Un nombre FIXE de requêtes, quel que soit le nombre d'événements.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from cdv.grants.models import Call
from cdv.monitoring.abilities import campaign_abilities
from cdv.monitoring.models import Meeting, ReviewCampaign

from .models import Milestone

KEY_SALT = "cdv.contracts.agenda.subscription"

# Les dates d'un appel publiées dans l'agenda : (champ, suffixe de l'identifiant, libellé).
CALL_DATES = (
    ("publication_date", "publication", "publication de l'appel"),
    ("filing_opens", "ouverture-depot", "ouverture du dépôt des dossiers"),
    ("filing_closes", "cloture-depot", "clôture du dépôt des dossiers (23 h 59, heure de Paris)"),
    ("instruction_ends", "fin-instruction", "fin de l'instruction"),
    ("committee_date", "comite", "comité des financeurs"),
    ("notification_date", "notification", "notification des décisions"),
    ("reporting_date", "compte-rendu", "compte-rendu des projets de l'année précédente"),
)


@dataclass(frozen=True)
class AgendaEvent:
    """Un événement d'une journée. ``key`` est stable (l'identifiant UID s'en déduit) ;
    ``path`` : la page du site qui en parle."""

    key: str
    day: datetime.date
    summary: str
    description: str
    path: str
    category: str


def agenda_events(user, contract) -> list[AgendaEvent]:
    """Les événements de ``contract`` que ``user`` peut lire, dans l'ordre des dates."""
    slug = contract.slug
    home = reverse("www:contract", args=[slug])
    events = []
    for milestone in Milestone.objects.for_contract(contract).order_by():
        day = milestone.due_on or milestone.done_on
        if day is None:  # « 2027 », « 1er trimestre 2024 » : pas de jour à mettre dans un agenda
            continue
        events.append(
            AgendaEvent(
                key=f"jalon-{milestone.pk}",
                day=day,
                summary=f"{contract.title} : {milestone.title}",
                description=milestone.description,
                path=home + "#calendrier",
                category="Jalon",
            )
        )
    meetings = Meeting.objects.visible_to(user, contract).select_related("qpv").order_by()
    for meeting in meetings:
        place = f" ({meeting.qpv.name})" if meeting.qpv_id else ""
        events.append(
            AgendaEvent(
                key=f"instance-{meeting.pk}",
                day=meeting.date,
                summary=f"{meeting.get_kind_display()}{place} : {meeting.title}",
                description=meeting.agenda,
                path=reverse("www:meeting", args=[slug, meeting.pk]),
                category=meeting.get_kind_display(),
            )
        )
    calls = Call.objects.for_contract(contract).published().order_by()
    for call in calls.only("pk", "year", "title", "contract_id", *(field for field, _, _ in CALL_DATES)):
        for field, suffix, label in CALL_DATES:
            day = getattr(call, field)
            if day is not None:
                events.append(
                    AgendaEvent(
                        key=f"appel-{call.pk}-{suffix}",
                        day=day,
                        summary=f"{call.title} : {label}",
                        description="",
                        path=reverse("www:call", args=[slug, call.year]),
                        category="Appel à projets",
                    )
                )
    for campaign in ReviewCampaign.objects.for_contract(contract).order_by():
        if campaign_abilities(user, campaign)["view"]:
            events.append(
                AgendaEvent(
                    key=f"suivi-{campaign.pk}-date-limite",
                    day=campaign.deadline,
                    summary=f"Suivi annuel {campaign.year} : date limite des bilans",
                    description="Dernier jour pour transmettre les bilans de l'année au pilote.",
                    path=reverse("www:review_campaigns", args=[slug]),
                    category="Suivi annuel",
                )
            )
    events.sort(key=lambda event: (event.day, event.key))
    return events


def _key_digest(user, contract_slug: str) -> str:
    value = f"{user.pk}:{contract_slug}:{user.password}"
    return salted_hmac(KEY_SALT, value, algorithm="sha256").hexdigest()[:40]


def subscription_key(user, contract) -> str:
    """La clé de l'adresse d'abonnement personnelle de ``user`` à l'agenda de ``contract``."""
    return f"{user.pk}-{_key_digest(user, contract.slug)}"


def subscriber(key: str, contract_slug: str):
    """Le compte actif dont ``key`` est la clé pour ce contrat, sinon ``None``."""
    user_id, _, digest = key.partition("-")
    if not user_id.isdigit() or not digest:
        return None
    user = get_user_model().objects.filter(pk=int(user_id), is_active=True).first()
    if user is None or not constant_time_compare(digest, _key_digest(user, contract_slug)):
        return None
    return user
