"""Appel à projets : échéancier, versements et retards de paiement.

- ``line_payments`` : l'échéancier d'une ligne votée (unique, ou avance puis solde), les
  versements faits et l'historique ; l'instructeur du financeur les tient, l'association et ceux
  qui prennent part à l'instruction les lisent ;
- ``payment_cancel`` : page de confirmation, avec motif, de l'annulation d'un versement ;
- ``call_payments`` : le tableau des retards de l'appel (pilote : tous les financeurs ;
  instructeur : les siens), filtres et totaux par financeur ; ``call_payments_xlsx`` : le même
  tableau en classeur.

Droits : ``follow_up_abilities`` et ``follow_up_call_abilities`` ; écritures :
``cdv/grants/services/payments.py`` ; lectures : ``cdv/grants/selectors_payments.py``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cdv.core.figures import french_number
from cdv.grants import selectors_payments as selectors
from cdv.grants.abilities import act_of, call_abilities, follow_up_abilities, follow_up_call_abilities
from cdv.grants.enums import EventKind
from cdv.grants.errors import ConflictError
from cdv.grants.models import Application, ApplicationEvent, Call, FunderLine, Payment
from cdv.grants.services import payments as services

from ..forms.grants_payments import BoardFilterForm, CancelPaymentForm, PaymentForm, ScheduleForm
from .helpers import add_service_errors, get_contract, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _call(request, slug, year):
    contract = get_contract(request, slug)
    call = Call.objects.for_contract(contract).filter(year=year).select_related("contract").first()
    if call is None:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    # Un appel archivé garde ses versements : la visibilité vient de la ligne ou du tableau.
    return contract, call


def _line(request, call, pk, line_pk):
    """La ligne votée ``line_pk`` du dossier ``pk`` de l'appel, si la personne la voit (404 sinon)."""
    application = (
        Application.objects.filter(call=call, pk=pk)
        .select_related("call__contract", "partner")
        .prefetch_related(
            "qpvs", Prefetch("funder_lines", FunderLine.objects.select_related("funder__partner"))
        )
        .first()
    )
    line = None
    if application is not None:
        line = (
            FunderLine.objects.filter(application=application, pk=line_pk)
            .select_related("funder__partner", "act")
            .first()
        )
    if line is None:
        raise Http404("Aucune subvention de ce dossier ne porte ce numéro.")
    line.application = application
    rights = follow_up_abilities(request.user, line)
    if not rights["view"]:
        raise Http404("Aucune subvention de ce dossier ne porte ce numéro.")
    return application, line, rights


def _conflict_rows(error: ConflictError):
    return [{"label": label, "saved": saved, "typed": typed} for _, label, saved, typed in error.changes]


@login_required
@require_http_methods(["GET", "POST"])
def line_payments(request, slug, year, pk, line_pk):
    contract, call = _call(request, slug, year)
    application, line, rights = _line(request, call, pk, line_pk)
    act = act_of(line)
    schedule = selectors.line_schedule(line)
    instalments = [state.instalment for state in schedule.states]
    schedule_form = payment_form = None
    conflict_rows, status = [], 200
    if rights["schedule"]:
        schedule_form = ScheduleForm(
            initial=ScheduleForm.initial_of(line, instalments, act.payment_terms if act else None),
            voted=line.voted_amount,
        )
        payment_form = PaymentForm(initial={"amount": schedule.next.remaining if schedule.next else None})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "schedule":
            require(
                rights["schedule"],
                "Seuls les instructeurs du financeur de cette ligne tiennent son échéancier.",
            )
            schedule_form = ScheduleForm(request.POST, voted=line.voted_amount)
            if schedule_form.is_valid():
                terms, planned = schedule_form.planned()
                try:
                    services.set_schedule(
                        user=request.user,
                        line=line,
                        terms=terms,
                        instalments=planned,
                        version=schedule_form.cleaned_data["version"],
                    )
                except ConflictError as error:
                    status, conflict_rows = 409, _conflict_rows(error)
                    posted = request.POST.copy()
                    posted["version"] = str(error.obj.version)
                    schedule_form = ScheduleForm(posted, voted=line.voted_amount)
                    schedule_form.is_valid()
                except ValidationError as error:
                    add_service_errors(schedule_form, error)
                else:
                    messages.success(request, "Échéancier enregistré.")
                    return redirect(request.path)
        elif action == "payment":
            # L'instructeur du financeur : l'acte non signé est expliqué par le service ; les autres : 403.
            require(
                rights["schedule"] or rights["record_payment"],
                "Seuls les instructeurs du financeur de cette ligne enregistrent ses versements.",
            )
            payment_form = PaymentForm(request.POST)
            if payment_form.is_valid():
                data = payment_form.cleaned_data
                try:
                    services.record_payment(
                        user=request.user,
                        line=line,
                        paid_on=data["paid_on"],
                        amount=data["amount"],
                        reference=data["reference"],
                    )
                except ValidationError as error:
                    add_service_errors(payment_form, error)
                else:
                    messages.success(
                        request,
                        f"Versement de {french_number(data['amount'], '€')} enregistré ; "
                        "l'association en est prévenue.",
                    )
                    return redirect(request.path)
        else:
            raise Http404("Action inconnue.")
    events = (
        ApplicationEvent.objects.filter(
            application=application, funder=line.funder, kind__in=[EventKind.SCHEDULED, EventKind.PAYMENT]
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )
    return render(
        request,
        "grants/payments/line.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "line": line,
            "act": act,
            "rights": rights,
            "s": schedule,
            "schedule_form": schedule_form,
            "payment_form": payment_form,
            "conflict_rows": conflict_rows,
            "events": events,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_cancel(request, slug, year, pk, line_pk, payment_pk):
    contract, call = _call(request, slug, year)
    application, line, rights = _line(request, call, pk, line_pk)
    payment = (
        Payment.objects.filter(pk=payment_pk, line=line).select_related("instalment", "recorded_by").first()
    )
    if payment is None:
        raise Http404("Aucun versement de cette subvention ne porte ce numéro.")
    require(
        rights["record_payment"],
        "Seuls les instructeurs du financeur de cette ligne annulent ses versements.",
    )
    form = CancelPaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_payment(user=request.user, payment=payment, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Versement annulé ; le motif est gardé dans l'historique du dossier.")
            return redirect("www:line_payments", contract.slug, call.year, application.pk, line.pk)
    schedule = selectors.line_schedule(line)
    return render(
        request,
        "grants/payments/cancel.html",
        {
            "contract": contract,
            "call": call,
            "application": application,
            "line": line,
            "payment": payment,
            "s": schedule,
            "after": schedule.paid - payment.amount,
            "form": form,
        },
    )


def _board(request, slug, year):
    contract, call = _call(request, slug, year)
    rights = follow_up_call_abilities(request.user, call)
    if not rights["view_follow_up"] and not call_abilities(request.user, call)["view"]:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    require(
        rights["view_follow_up"],
        "Le tableau des versements est réservé au pilote et aux instructeurs des financeurs, "
        "après le vote du comité.",
    )
    funders = selectors.board_funders(request.user, call)
    form = BoardFilterForm(request.GET or None, funders=funders, states=selectors.STATE_CHOICES)
    funder_id, state = None, ""
    if form.is_bound and form.is_valid():
        funder_id, state = form.cleaned_data["funder"], form.cleaned_data["state"]
    board = selectors.payment_board(request.user, call, funder_id=funder_id, state=state)
    return contract, call, form, board, bool(funder_id or state)


@login_required
def call_payments(request, slug, year):
    contract, call, form, board, filtered = _board(request, slug, year)
    return render(
        request,
        "grants/payments/call.html",
        {
            "contract": contract,
            "call": call,
            "form": form,
            "board": board,
            "filtered": filtered,
            "query": request.GET.urlencode(),
            "first_payment_days": selectors.FIRST_PAYMENT_DAYS,
            "signature_days": selectors.SIGNATURE_DAYS,
        },
    )


@login_required
def call_payments_xlsx(request, slug, year):
    # openpyxl n'est chargé qu'au premier classeur demandé.
    from cdv.grants.payments_xlsx import build_payments_xlsx

    contract, call, form, board, filtered = _board(request, slug, year)
    response = HttpResponse(build_payments_xlsx(call, board), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="versements-{contract.slug}-{call.year}.xlsx"'
    return response
