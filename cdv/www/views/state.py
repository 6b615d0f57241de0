"""La vue de l'État (lecture inter-contrats) : le tableau de tous les contrats signés par un
partenaire, son export XLSX, et la page où l'opérateur accorde cette lecture.

Qui lit quels contrats : ``contracts.abilities.state_view_contracts`` ; ce que lit le tableau :
``contracts.state_view`` (un nombre fixe de requêtes)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cdv.contracts.abilities import state_view_abilities
from cdv.contracts.state_view import build_state_xlsx, state_dashboard
from cdv.users import services as user_services
from cdv.users.models import CrossContractReader

from ..forms.state import CrossContractReaderForm
from .helpers import add_service_errors, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFUSED = "Ce tableau est réservé aux personnes qui ont la lecture inter-contrats d'un partenaire signataire."


def _dashboard(request):
    require(state_view_abilities(request.user)["view"], REFUSED)
    year = request.GET.get("annee", "")
    return state_dashboard(
        request.user,
        region=request.GET.get("region", "")[:100],
        department=request.GET.get("departement", "")[:3],
        aap_year=int(year) if year.isascii() and year.isdigit() and len(year) == 4 else None,
    )


@login_required
@require_GET
def state_dashboard_page(request):
    board = _dashboard(request)
    return render(
        request,
        "www/state_dashboard.html",
        {
            "board": board,
            "region": request.GET.get("region", ""),
            "department": request.GET.get("departement", ""),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
def state_dashboard_xlsx(request):
    board = _dashboard(request)
    content = build_state_xlsx(board, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="vue-etat-contrats.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def cross_contract_readers(request):
    require(
        state_view_abilities(request.user)["grant"],
        "Seul un opérateur de l'instance accorde la lecture inter-contrats.",
    )
    form = CrossContractReaderForm(request.POST if request.POST.get("action") == "grant" else None)
    if request.method == "POST" and request.POST.get("action") == "revoke":
        grant_id = request.POST.get("grant", "")
        try:
            if not (grant_id.isascii() and grant_id.isdigit() and len(grant_id) < 19):
                raise ValidationError("Cette lecture inter-contrats n'existe plus.")
            user_services.revoke_cross_contract_reading(operator=request.user, grant_id=int(grant_id))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Lecture inter-contrats retirée.")
        return redirect("www:cross_contract_readers")
    if request.method == "POST" and form.is_valid():
        try:
            grant = user_services.grant_cross_contract_reading(
                operator=request.user,
                email=form.cleaned_data["email"],
                partner_text=form.cleaned_data["partner"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{grant.user.email} lit désormais tous les contrats signés par « {grant.partner.name} ».",
            )
            return redirect("www:cross_contract_readers")
    grants = CrossContractReader.objects.select_related("user", "partner", "granted_by").order_by(
        "partner__name", "user__email"
    )
    status = 422 if request.method == "POST" else 200
    return render(
        request, "operator/cross_contract_readers.html", {"form": form, "grants": grants}, status=status
    )
