"""Agenda (iCalendar, RFC 5545) et fil d'actualités (Atom, RFC 4287) d'un contrat.

L'agenda (``agenda.ics``) reprend ``cdv.contracts.agenda`` pour la personne qui le demande : un
agenda abonné (Thunderbird, Outlook, un téléphone) le lit sans se connecter, il n'y voit donc que
ce qui est public, sauf avec l'adresse personnelle d'un membre (``?cle=``, voir
``cdv.contracts.agenda``) ; une personne connectée qui le télécharge y trouve aussi ce que son rôle
lui ouvre (comités techniques, dates limites des bilans).

Le fil (``actualites.atom``) est le même pour tous, lu comme un visiteur anonyme : les décisions
des COPIL, les retours d'expérience publiés, les évaluations adoptées. Un contrat en préparation
n'a pas de fil (404).

Les deux réponses se gardent comme les pages publiques (``public_page``) et portent un ``ETag``
(empreinte des données : faible, l'horodatage DTSTAMP change à chaque écriture).
"""

import datetime
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.text import Truncator

from cdv.contracts.abilities import contract_abilities
from cdv.contracts.agenda import agenda_events, subscriber
from cdv.contracts.models import Contract
from cdv.core.pagecache import public_page
from cdv.evaluation.models import Evaluation
from cdv.monitoring.feedback import public_attribution, published_feedback
from cdv.monitoring.models import Decision, Feedback

from .evaluation import KIND_SLUGS
from .helpers import get_contract

PUBLIC = AnonymousUser()
ICS_TYPE = "text/calendar; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
PRODID = "-//Contrat de ville//Agenda du contrat//FR"
# Les entrées du fil : les plus récentes de chaque sorte, puis les plus récentes de toutes.
NEWS_LIMIT = 50


def _site_host() -> str:
    """Le domaine du site (``SITE_URL``) : il signe les identifiants, quel que soit l'hôte demandé."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _weak_etag(parts) -> str:
    digest = hashlib.sha256("\n".join(map(str, parts)).encode("utf-8")).hexdigest()[:40]
    return f'W/"{digest}"'


# --- Agenda iCalendar ------------------------------------------------------------------------


def agenda_calendar(request, contract, events) -> bytes:
    """Le fichier iCalendar des ``events`` : un événement d'une journée (DATE) par date."""
    import icalendar  # au premier agenda demandé, pas à l'import de l'URLconf (≈ 0,07 s par processus)

    host = _site_host()
    stamp = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", f"Agenda — {contract.title}")
    calendar.add("x-wr-calname", f"Agenda — {contract.title}")
    calendar.add("description", f"Les dates du {contract.title} : jalons, instances, appels à projets.")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    calendar.add("refresh-interval", datetime.timedelta(hours=12), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT12H")
    for event in events:
        item = icalendar.Event()
        item.add("uid", f"{contract.slug}-{event.key}@{host}")
        item.add("dtstamp", stamp)
        item.add("dtstart", event.day)
        item.add("dtend", event.day + datetime.timedelta(days=1))
        item.add("summary", event.summary)
        if event.description:
            item.add("description", event.description)
        item.add("url", request.build_absolute_uri(event.path), parameters={"VALUE": "URI"})
        item.add("categories", [event.category])
        item.add("transp", "TRANSPARENT")
        calendar.add_component(item)
    return calendar.to_ical()


def _subscriber_contract(request, slug):
    """(compte, contrat) de l'adresse personnelle ``?cle=`` ; 404 pour une clé qui ne vaut rien."""
    user = subscriber(request.GET["cle"][:100], slug)
    contract = Contract.objects.visible_to(user).filter(slug=slug).first() if user else None
    if contract is None or not contract_abilities(user, contract)["view"]:
        raise Http404("Cette adresse d'abonnement n'est pas (ou plus) valable.")
    return user, contract


@public_page
def agenda_ics(request, slug):
    if "cle" in request.GET:
        user, contract = _subscriber_contract(request, slug)
    else:
        user, contract = request.user, get_contract(request, slug)
    events = agenda_events(user, contract)
    etag = _weak_etag([request.get_host(), request.is_secure(), contract.title, *events])
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(agenda_calendar(request, contract, events), content_type=ICS_TYPE)
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    if "cle" in request.GET:  # personnelle : ni le cache des pages publiques, ni un mandataire
        response["Cache-Control"] = "private, no-cache"
    return response


# --- Fil Atom --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewsItem:
    key: str
    title: str
    text: str
    path: str
    published: datetime.datetime
    category: str


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def contract_news(contract) -> list[NewsItem]:
    """Ce que publie le contrat, le plus récent d'abord (trois requêtes)."""
    slug = contract.slug
    items = []
    decisions = (
        Decision.objects.visible_to(PUBLIC, contract)
        .select_related("meeting", "owner")
        .order_by("-meeting__date", "-id")[:NEWS_LIMIT]
    )
    for decision in decisions:
        meeting = decision.meeting
        owner = f"\n\nPorteur : {decision.owner.name}." if decision.owner_id else ""
        items.append(
            NewsItem(
                key=f"decision/{decision.pk}",
                title=f"Décision — {meeting} : {Truncator(decision.text).chars(90)}",
                text=f"{decision.text}{owner}\n\nSuivi : {decision.get_status_display().lower()}.",
                path=reverse("www:meeting", args=[slug, meeting.pk]) + f"#decision-{decision.pk}",
                published=_midnight(meeting.date),
                category="Décision",
            )
        )
    feedback = published_feedback(Feedback.objects.select_related("partner"), contract).order_by(
        "-created_at", "-id"
    )[:NEWS_LIMIT]
    for item in feedback:
        items.append(
            NewsItem(
                key=f"retour/{item.pk}",
                title=f"Retour d'expérience ({item.get_kind_display().lower()}) — {public_attribution(item)}",
                text=item.text,
                path=reverse("www:feedback_list", args=[slug]) + f"#retour-{item.pk}",
                published=item.moderated_at or item.created_at,
                category="Retour d'expérience",
            )
        )
    evaluations = Evaluation.objects.visible_to(PUBLIC, contract).adopted().order_by("-adopted_on", "-id")
    for evaluation in evaluations[:NEWS_LIMIT]:
        items.append(
            NewsItem(
                key=f"evaluation/{evaluation.pk}",
                title=f"Évaluation adoptée — {evaluation.title}",
                text=evaluation.summary or f"Évaluation {evaluation.period_label}.",
                path=reverse("www:evaluation", args=[slug, KIND_SLUGS.get(evaluation.kind, "")]),
                # Une évaluation adoptée sans date (reprise d'un ancien outil) : fin de sa période.
                published=_midnight(evaluation.adopted_on or datetime.date(evaluation.period_end, 12, 31)),
                category="Évaluation",
            )
        )
    items.sort(key=lambda item: (item.published, item.key), reverse=True)
    return items[:NEWS_LIMIT]


class AtomFeed(Atom1Feed):
    content_type = ATOM_TYPE


class ContractNewsFeed(Feed):
    """Le fil Atom d'un contrat (``django.contrib.syndication``) : liens absolus vers l'hôte demandé."""

    feed_type = AtomFeed
    language = "fr"

    def get_object(self, request, contract):
        return contract  # lu et vérifié par la vue ``news_atom``

    def title(self, contract):
        return f"Actualités — {contract.title}"

    def subtitle(self, contract):
        return "Décisions des comités de pilotage, retours d'expérience publiés et évaluations adoptées."

    def link(self, contract):
        return reverse("www:contract", args=[contract.slug])

    def feed_url(self, contract):
        return reverse("www:news_atom", args=[contract.slug])

    def feed_guid(self, contract):
        return f"tag:{_site_host()},{contract.start_year}:contrats/{contract.slug}/actualites"

    def author_name(self, contract):
        return contract.title

    def items(self, contract):
        return contract.news

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return linebreaks(escape(item.text))

    def item_link(self, item):
        return item.path

    def item_guid(self, item):
        return f"tag:{_site_host()},2024:{item.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published

    def item_updateddate(self, item):
        return item.published

    def item_categories(self, item):
        return [item.category]


_news_feed = ContractNewsFeed()


@public_page
def news_atom(request, slug):
    contract = get_contract(request, slug)
    if not contract_abilities(PUBLIC, contract)["view"]:
        raise Http404("Ce contrat est en préparation : il n'a pas encore de fil d'actualités.")
    contract.news = contract_news(contract)
    etag = _weak_etag([request.get_host(), request.is_secure(), contract.title, *contract.news])
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = _news_feed(request, contract=contract)
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    return response
