"""Page publique d'un quartier prioritaire : portrait, feuille de route, engagements, retours."""

from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import render

from cdv.commitments import selectors as commitment_selectors
from cdv.commitments.models import Commitment
from cdv.core.pagecache import public_page
from cdv.grants.selectors_calls import open_call
from cdv.grants.selectors_public import page_projects
from cdv.indicators import selectors
from cdv.monitoring.feedback import public_attribution
from cdv.monitoring.models import Feedback
from cdv.partners.models import Partner
from cdv.plan.roadmap import qpv_roadmap
from cdv.territories.models import Territory

from .helpers import get_contract

COMMITMENTS_PER_PAGE = 30


@public_page
def qpv_page(request, slug, code):
    contract = get_contract(request, slug)
    communes = Territory.objects.communes().only("code", "name")
    qpv = (
        contract.qpvs.filter(code=code.upper())
        .select_related("predecessor")
        .prefetch_related(Prefetch("parents", queryset=communes, to_attr="commune_list"))
        .defer("geometry")
        .first()
    )
    if qpv is None:
        raise Http404("Ce quartier ne relève pas de ce contrat.")

    portrait = selectors.qpv_portrait(contract, qpv)

    applying = Commitment.objects.visible_to(request.user, contract).applying_to(qpv)
    # Les engagements par pages : un quartier d'un grand contrat en compte des centaines.
    page = Paginator(
        applying.select_related("partner", "objective__enjeu")
        .with_latest_accepted_progress()
        .order_by("objective__enjeu__number", "partner__name", "id"),
        COMMITMENTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    status_counts = commitment_selectors.status_counts(applying)
    roadmap = qpv_roadmap(contract, qpv)
    action_partner_ids = {
        a.pilot_partner_id for entry in roadmap for a in entry.actions if a.pilot_partner_id
    }
    partners = Partner.objects.filter(
        Q(pk__in=applying.order_by().values("partner_id")) | Q(pk__in=action_partner_ids)
    ).order_by("name")
    councils = Partner.objects.citizen_councils().filter(qpvs=qpv).order_by("name")
    feedback = [
        (f, public_attribution(f))
        for f in Feedback.objects.for_contract(contract)
        .published()
        .filter(qpvs=qpv)
        .select_related("partner", "enjeu")
        .order_by("-created_at")[:20]
    ]
    return render(
        request,
        "www/qpv.html",
        {
            "contract": contract,
            "qpv": qpv,
            "portrait": portrait,
            "roadmap": roadmap,
            "page": page,
            "status_counts": status_counts,
            "partners": partners,
            "councils": councils,
            "feedback": feedback,
            "open_call": open_call(contract, qpv=qpv),
            "funded": page_projects(contract, qpv=qpv),
            "has_demo": any(e.actions and any(a.is_demo for a in e.actions) for e in roadmap)
            or any(c.is_demo for c in page),
        },
    )
