"""Appel à projets : la page publique des projets financés par un appel.

Lisible par tous une fois le comité tenu (``call_abilities['view_voted']``) ; avant, introuvable
(404), même pour le pilote. Le contenu est le même pour tout le monde (voir
``cdv.grants.selectors_public``) : la page entre dans le cache des pages publiques."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cdv.core.pagecache import public_page
from cdv.grants import selectors_public as selectors

from .grants_calls import get_call
from .helpers import get_contract


@public_page
@require_GET
def call_results(request, slug, year):
    contract = get_contract(request, slug)
    call, rights = get_call(request, contract, year)
    if not rights["view_voted"]:
        raise Http404("Les projets financés sont publiés après le comité des financeurs.")
    results = selectors.call_results(call, grouping=request.GET.get("par", ""))
    return render(
        request,
        "grants/public/call_results.html",
        {
            "contract": contract,
            "call": call,
            "results": results,
            "groupings": selectors.GROUPINGS,
            "grouping_label": selectors.GROUPINGS[results.grouping],
            "state_help": selectors.PUBLIC_STATE_HELP,
        },
    )
