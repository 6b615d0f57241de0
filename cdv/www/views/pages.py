"""Pages publiques : enjeu, action, partenaires, recherche, carte, accessibilité.

Chaque page lit le contrat par ``get_contract`` (jamais un identifiant cru de la requête), ne montre
que ce que la personne peut voir (engagements publiés, instances publiques, retours modérés) et
exécute un nombre borné de requêtes SQL, quelle que soit la taille des données.
"""

import datetime
import hashlib
import json
import unicodedata

from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cdv.commitments import selectors
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.core.pagecache import public_page
from cdv.core.plain import readability
from cdv.grants.selectors_public import page_projects, searchable_projects
from cdv.indicators.models import Indicator
from cdv.monitoring.feedback import public_attribution
from cdv.monitoring.models import Decision, Feedback
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective, QpvPriority
from cdv.territories.models import Territory

from .helpers import get_contract, get_partner

SEARCH_MIN = 2
SEARCH_LIMIT = 30


def _commitments(request, contract):
    return (
        Commitment.objects.visible_to(request.user, contract)
        .select_related("partner", "objective__enjeu", "action")
        .with_latest_accepted_progress()
    )


def _feedback(contract, **filters):
    queryset = (
        Feedback.objects.for_contract(contract)
        .published()
        .filter(**filters)
        .select_related("partner", "enjeu")
        .order_by("-created_at")[:20]
    )
    return [(f, public_attribution(f)) for f in queryset]


@public_page
def enjeu_page(request, slug, enjeu_slug):
    contract = get_contract(request, slug)
    enjeu = Enjeu.objects.for_contract(contract).filter(slug=enjeu_slug).first()
    if enjeu is None:
        raise Http404("Cet enjeu n'existe pas dans ce contrat.")
    actions = Action.objects.active().select_related("pilot_partner").order_by("code")
    objectives = list(
        Objective.objects.active().filter(enjeu=enjeu).prefetch_related(Prefetch("actions", queryset=actions))
    )
    priorities = list(
        QpvPriority.objects.filter(enjeu=enjeu, qpv__in=contract.qpvs.all())
        .select_related("qpv")
        .defer("qpv__geometry")
        .order_by("qpv__name")
    )
    commitments = list(
        _commitments(request, contract).filter(objective__enjeu=enjeu).order_by("partner__name", "id")
    )
    indicators = list(Indicator.objects.for_contract(contract).filter(enjeu=enjeu).order_by("name"))
    has_demo = enjeu.is_demo or any(o.is_demo for o in objectives) or any(c.is_demo for c in commitments)
    return render(
        request,
        "www/enjeu.html",
        {
            "contract": contract,
            "enjeu": enjeu,
            "objectives": objectives,
            "priorities": priorities,
            "commitments": commitments,
            "progress": selectors.progress_summary(commitments),
            "indicators": indicators,
            "feedback": _feedback(contract, enjeu=enjeu),
            "funded": page_projects(contract, enjeu=enjeu),
            "has_demo": has_demo,
        },
    )


@public_page
def action_page(request, slug, pk):
    contract = get_contract(request, slug)
    qpvs = Territory.objects.defer("geometry").order_by("name")
    action = (
        Action.objects.for_contract(contract)
        .active()
        .filter(pk=pk)
        .with_plan()
        .prefetch_related(Prefetch("qpvs", queryset=qpvs), "contributors")
        .first()
    )
    if action is None:
        raise Http404("Cette action n'existe pas dans ce contrat.")
    commitments = list(_commitments(request, contract).filter(action=action).order_by("partner__name", "id"))
    decisions = list(
        Decision.objects.visible_to(request.user, contract)
        .filter(actions=action)
        .select_related("meeting")
        .order_by("-meeting__date", "id")
    )
    return render(
        request,
        "www/action.html",
        {
            "contract": contract,
            "action": action,
            "enjeu": action.objective.enjeu,
            "commitments": commitments,
            "progress": selectors.progress_summary(commitments),
            "decisions": decisions,
            "feedback": _feedback(contract, actions=action),
            "funded": page_projects(contract, action=action),
        },
    )


@public_page
def partner_list(request, slug):
    contract = get_contract(request, slug)
    # Les mêmes partenaires que l'API et les données ouvertes : ceux qui ont une place visible.
    partners = list(
        Partner.objects.with_place_in(request.user, contract)
        .order_by("name")
        .with_public_commitment_counts(contract)
        .only("name", "slug", "kind", "short_name", "is_demo")
    )
    return render(request, "www/partners.html", {"contract": contract, "partners": partners})


@public_page
def partner_page(request, slug, partner_slug):
    contract = get_contract(request, slug)
    partner = get_partner(contract, partner_slug)
    commitments = list(
        _commitments(request, contract)
        .filter(partner=partner)
        .prefetch_related(Prefetch("means", queryset=CommitmentMeans.objects.order_by("year")))
        .order_by("objective__enjeu__number", "objective__number", "id")
    )
    means = {"fte": 0, "eur": 0}
    for c in commitments:
        for m in c.means.all():
            means["fte"] += m.fte or 0
            means["eur"] += m.amount_eur or 0
    piloted = list(
        Action.objects.for_contract(contract)
        .active()
        .filter(pilot_partner=partner)
        .with_plan()
        .order_by("code")
    )
    qpvs = list(contract.qpvs.filter(partners_covering=partner).defer("geometry").order_by("name"))
    signature = partner.signatures.filter(contract=contract).first()
    return render(
        request,
        "www/partner.html",
        {
            "contract": contract,
            "partner": partner,
            "signature": signature,
            "commitments": commitments,
            "progress": selectors.progress_summary(commitments),
            "means": means,
            "piloted": piloted,
            "qpvs": qpvs,
            "has_demo": partner.is_demo
            or any(c.is_demo for c in commitments)
            or any(a.is_demo for a in piloted),
        },
    )


# --- Recherche -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Minuscules sans accents : « Équité » et « equite » se retrouvent."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _matches(terms, *texts) -> bool:
    haystack = fold(" ".join(t or "" for t in texts))
    return all(term in haystack for term in terms)


def _search(request, contract, terms):
    """Une requête par nature d'objet, bornée au contrat ; le filtrage (sans accents) en Python."""
    groups = []

    def add(label, items):
        groups.append(
            {"label": label, "items": items[:SEARCH_LIMIT], "more": max(0, len(items) - SEARCH_LIMIT)}
        )

    qpvs = contract.qpvs.only("code", "name").order_by("name")
    add("Quartiers", [q for q in qpvs if _matches(terms, q.name, q.code)])
    enjeux = Enjeu.objects.for_contract(contract).only(
        "slug", "number", "title", "summary_plain", "description", "is_demo"
    )
    add("Enjeux", [e for e in enjeux if _matches(terms, e.title, e.summary_plain, e.description)])
    actions = (
        Action.objects.for_contract(contract)
        .active()
        .only("pk", "code", "title", "summary_plain", "description", "is_demo")
    )
    add(
        "Actions",
        [
            a
            for a in actions.order_by("code")
            if _matches(terms, a.code, a.title, a.summary_plain, a.description)
        ],
    )
    partners = (
        Partner.objects.with_place_in(request.user, contract)
        .only("slug", "name", "short_name", "description", "is_demo")
        .order_by("name")
    )
    add("Partenaires", [p for p in partners if _matches(terms, p.name, p.short_name, p.description)])
    commitments = (
        _commitments(request, contract)
        .only(
            "pk",
            "title",
            "summary_plain",
            "description",
            "status",
            "is_demo",
            "partner__name",
            "partner__slug",
        )
        .select_related(None)
        .select_related("partner")
    )
    add(
        "Engagements",
        [
            c
            for c in commitments.order_by("title")
            if _matches(terms, c.title, c.summary_plain, c.description, c.partner.name)
        ],
    )
    # Les projets financés par l'appel à projets (appel publié, comité tenu, lignes votées).
    add(
        "Projets financés",
        [p for p in searchable_projects(contract) if _matches(terms, p.title, p.summary, p.partner.name)],
    )
    return groups


@public_page
def search(request, slug):
    contract = get_contract(request, slug)
    query = " ".join(request.GET.get("q", "").split())[:100]
    terms = [fold(t) for t in query.split()]
    error = None
    groups = []
    if query and len(query) < SEARCH_MIN:
        error = f"Saisissez au moins {SEARCH_MIN} caractères."
    elif query:
        groups = _search(request, contract, terms)
    return render(
        request,
        "www/search.html",
        {
            "contract": contract,
            "query": query,
            "error": error,
            "groups": groups,
            "total": sum(len(g["items"]) + g["more"] for g in groups),
        },
    )


# --- Carte ---------------------------------------------------------------------------------------


@public_page
def map_page(request, slug):
    contract = get_contract(request, slug)
    communes = Territory.objects.communes().only("code", "name")
    qpvs = list(
        contract.qpvs.only("code", "name", "population", "population_source", "population_year", "status")
        .prefetch_related(Prefetch("parents", queryset=communes, to_attr="commune_list"))
        .order_by("name")
    )
    # Chaque population affichée cite sa source et son millésime.
    population_sources = sorted(
        {(q.population_source or "source non précisée", q.population_year) for q in qpvs if q.population},
        key=lambda item: (item[0], item[1] or 0),
    )
    return render(
        request,
        "www/map.html",
        {"contract": contract, "qpvs": qpvs, "population_sources": population_sources},
    )


def _feature(territory, **properties):
    return {
        "type": "Feature",
        "properties": {"code": territory.code, "nom": territory.name, **properties},
        "geometry": territory.geometry,
    }


@public_page
@require_GET
def map_geojson(request, slug):
    """Contours des QPV du contrat et des communes, en GeoJSON (WGS 84) pour la carte."""
    contract = get_contract(request, slug)
    features = [
        _feature(
            q,
            nature="qpv",
            population=q.population,
            url=request.build_absolute_uri(f"/contrats/{contract.slug}/quartiers/{q.code}/"),
        )
        for q in contract.qpvs.only("code", "name", "population", "geometry").order_by("name")
        if q.geometry
    ]
    features += [
        _feature(c, nature="commune")
        for c in contract.communes().only("code", "name", "geometry").order_by("name")
        if c.geometry
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/geo+json")
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=3600" if not request.user.is_authenticated else "private"
    return response


# --- Lisibilité (rédacteurs) et accessibilité ------------------------------------------------------


def readability_fragment(request, slug):
    """Fragment htmx : l'indice de lisibilité du résumé en cours de saisie."""
    contract = get_contract(request, slug)
    text = request.GET.get("summary_plain", "")[:2000]
    return render(
        request,
        "partials/readability.html",
        {"contract": contract, "readability": readability(text)},
    )


# Faits de la déclaration d'accessibilité : la version d'axe-core des tests (tests/browser) et la
# date de la dernière revue de la déclaration. À mettre à jour avec les tests.
AXE_CORE_VERSION = "4.12.1"
STATEMENT_DATE = datetime.date(2026, 11, 28)


@public_page
def accessibility(request):
    return render(
        request,
        "www/accessibility.html",
        {"axe_version": AXE_CORE_VERSION, "statement_date": STATEMENT_DATE},
    )
