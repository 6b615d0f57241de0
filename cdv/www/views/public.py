"""Pages publiques, rendues côté serveur, sans JavaScript nécessaire."""

import hashlib

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from cdv.contracts.abilities import contract_abilities
from cdv.contracts.agenda import subscription_key
from cdv.contracts.models import Contract, headline_figure
from cdv.contracts.services import default_contract
from cdv.contracts.timeline import contract_timeline
from cdv.core.pagecache import public_page
from cdv.grants.selectors_calls import open_call
from cdv.monitoring.models import Decision
from cdv.plan.models import Enjeu
from cdv.territories.models import Territory
from cdv.territories.svgmap import build_map


@public_page
def home(request):
    visible = Contract.objects.visible_to(request.user)
    contract = default_contract(visible)
    if contract is None:
        return render(request, "www/empty.html", status=200)
    others = visible.exclude(pk=contract.pk).only("slug", "title").order_by("title")
    others = {"shown": list(others[:OTHERS_SHOWN]), "count": others.count()}
    return _render_contract(request, contract, others)


@public_page
def contract_home(request, slug):
    contract = Contract.objects.visible_to(request.user).filter(slug=slug).first()
    if contract is None:
        raise Http404("Aucun contrat public ne porte cet identifiant.")
    return _render_contract(request, contract, {"shown": [], "count": 0})


OTHERS_SHOWN = 12
MAP_CACHE_SECONDS = 3600


def contract_map(contract, qpv_codes):
    """La carte SVG d'un contrat, calculée une fois puis gardée en cache (les contours changent
    rarement) : la page n'a plus à décoder les géométries à chaque affichage."""
    digest = hashlib.sha256(",".join(sorted(qpv_codes)).encode()).hexdigest()[:16]
    key = f"svgmap:{contract.pk}:{digest}"
    svg_map = cache.get(key)
    if svg_map is None:
        svg_map = build_map(
            contract.qpvs.only("code", "name", "geometry"),
            contract.communes().only("code", "name", "geometry"),
        )
        cache.set(key, svg_map, MAP_CACHE_SECONDS)
    return svg_map


def _render_contract(request, contract, others):
    rights = contract_abilities(request.user, contract)
    if not rights["view"]:
        raise Http404
    contract = (
        Contract.objects.select_related("epci", "reference_territory")
        .prefetch_related("signatories__partner", "milestones", "key_figures")
        .get(pk=contract.pk)
    )
    communes = Territory.objects.communes().only("code", "name")
    qpvs = list(
        contract.qpvs.only("code", "name", "status", "population")
        .prefetch_related(Prefetch("parents", queryset=communes, to_attr="commune_list"))
        .order_by("name")
    )
    enjeux = list(Enjeu.objects.for_contract(contract).with_plan_counts())
    svg_map = contract_map(contract, [q.code for q in qpvs])
    decisions = list(
        Decision.objects.visible_to(request.user, contract)
        .select_related("meeting")
        .order_by("-meeting__date", "-id")[:5]
    )
    today = timezone.localdate()
    milestones = contract_timeline(contract, contract.milestones.all(), today)
    figures = list(contract.key_figures.all())
    headline = headline_figure(figures)
    signatories = list(contract.signatories.all())
    return render(
        request,
        "www/contract_home.html",
        {
            "contract": contract,
            "qpvs": qpvs,
            "communes_count": len({c.code for q in qpvs for c in q.commune_list}),
            "enjeux": enjeux,
            "has_demo": any(e.demo_count for e in enjeux),
            "milestones": milestones,
            "today": today,
            "open_call": open_call(contract, today=today),
            "headline": headline,
            "headline_gap": headline.gap() if headline else None,
            "figures": [f for f in figures if f is not headline],
            "signatories": [s for s in signatories if s.kind == "SIGNATAIRE"],
            "participants": [s for s in signatories if s.kind != "SIGNATAIRE"],
            "others": others,
            "svg_map": svg_map,
            "decisions": decisions,
            # Un membre s'abonne à l'agenda avec ce que son rôle lui ouvre (adresse personnelle).
            "agenda_key": subscription_key(request.user, contract) if rights["view_internals"] else "",
        },
    )


@public_page
def contract_list(request):
    """Tous les contrats publics, par page : l'accueil n'en cite que quelques-uns."""
    contracts = Contract.objects.visible_to(request.user).only("slug", "title").order_by("title")
    page = Paginator(contracts, 100).get_page(request.GET.get("page"))
    return render(request, "www/contract_list.html", {"page": page})
