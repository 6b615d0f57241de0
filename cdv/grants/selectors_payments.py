"""Les lectures des versements : l'échéancier d'une ligne votée (ce qui est versé sur chaque
échéance) et le tableau des retards d'un appel (une ligne par subvention votée, totaux par
financeur).

Ce qui est versé se répartit sur les échéances dans leur ordre (l'avance d'abord, puis le solde) :
une échéance est « versée » quand les versements de la ligne couvrent son montant et ceux des
échéances qui la précèdent.

Une ligne est **en retard** (et dit pourquoi, en toutes lettres) si elle n'est pas entièrement
versée et que :

- une échéance non couverte a dépassé sa date prévue ;
- l'acte est signé depuis plus de ``FIRST_PAYMENT_DAYS`` jours et rien n'est versé ;
- le vote date de plus de ``SIGNATURE_DAYS`` jours et l'acte n'est toujours pas signé.

Les seuils sont documentés dans docs/aap/versements.md. Nombre de requêtes fixe, quel que soit
le nombre de lignes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Min, OuterRef, Prefetch, Subquery
from django.utils import timezone

from cdv.core.figures import french_number

from .abilities import act_of, follow_up_funder_ids
from .enums import FollowUpStage, LineStatus
from .followup import paid_amount, stage_of
from .models import CallFunder, FunderLine, Payment, PaymentInstalment

ZERO = Decimal("0")
# Rien de versé ce nombre de jours après la signature de l'acte : en retard.
FIRST_PAYMENT_DAYS = 30
# L'acte n'est pas signé ce nombre de jours après le vote : en retard.
SIGNATURE_DAYS = 60

STATE_LATE = "retard"
STATE_UNPAID = "a-verser"
STATE_PAID = "paye"
STATE_CHOICES = [
    ("", "Toutes les subventions"),
    (STATE_LATE, "En retard"),
    (STATE_UNPAID, "Reste à verser"),
    (STATE_PAID, "Payées (entièrement versées)"),
]


@dataclass
class InstalmentState:
    instalment: PaymentInstalment
    paid: Decimal
    remaining: Decimal
    overdue: bool

    @property
    def covered(self) -> bool:
        return self.remaining <= 0

    @property
    def state_label(self) -> str:
        if self.covered:
            return "Versée"
        if self.overdue:
            return f"En retard (prévue le {self.instalment.due_date:%d/%m/%Y})"
        if self.paid:
            return "En partie versée"
        return "À verser"


def allocate(instalments, paid: Decimal, today: datetime.date) -> list[InstalmentState]:
    """Répartit ``paid`` sur les échéances dans leur ordre."""
    states, left = [], paid
    for instalment in sorted(instalments, key=lambda i: (i.order, i.pk or 0)):
        on_it = max(ZERO, min(instalment.amount, left))
        left -= on_it
        remaining = instalment.amount - on_it
        overdue = remaining > 0 and instalment.due_date is not None and instalment.due_date < today
        states.append(InstalmentState(instalment, on_it, remaining, overdue))
    return states


def next_instalment(states: list[InstalmentState]) -> InstalmentState | None:
    return next((s for s in states if not s.covered), None)


def late_reasons(*, voted, paid, states, decision_date, signed_on, today) -> list[str]:
    """Pourquoi une ligne votée est en retard (liste vide : elle ne l'est pas)."""
    if voted and paid >= voted:
        return []
    reasons = [
        f"{s.instalment.get_kind_display()} prévue le {s.instalment.due_date:%d/%m/%Y} non versée"
        for s in states
        if s.overdue
    ]
    if signed_on is not None:
        days = (today - signed_on).days
        if not paid and days > FIRST_PAYMENT_DAYS:
            reasons.append(f"rien de versé {days} jours après la signature de l'acte")
    elif decision_date is not None:
        days = (today - decision_date).days
        if days > SIGNATURE_DAYS:
            reasons.append(f"acte non signé {days} jours après le vote")
    return reasons


# ---------------------------------------------------------------------------------------------
# L'échéancier d'une ligne


@dataclass
class LineSchedule:
    line: FunderLine
    voted: Decimal
    paid: Decimal
    remaining: Decimal
    stage: str
    stage_label: str
    states: list[InstalmentState]
    payments: list[Payment]
    late: list[str]
    next: InstalmentState | None


def line_schedule(line: FunderLine, *, today: datetime.date | None = None) -> LineSchedule:
    """L'échéancier, les versements et l'état de ``line`` (deux requêtes)."""
    today = today or timezone.localdate()
    instalments = list(line.instalments.order_by("order", "id"))
    payments = list(line.payments.select_related("instalment", "recorded_by").order_by("paid_on", "id"))
    voted = line.voted_amount or ZERO
    paid = sum((p.amount for p in payments), ZERO)
    states = allocate(instalments, paid, today)
    act = act_of(line)
    signed_on = act.signed_on if act is not None else None
    line.paid_amount = paid
    stage = stage_of(line)
    return LineSchedule(
        line=line,
        voted=voted,
        paid=paid,
        remaining=voted - paid,
        stage=stage,
        stage_label=FollowUpStage(stage).label,
        states=states,
        payments=payments,
        late=late_reasons(
            voted=voted,
            paid=paid,
            states=states,
            decision_date=line.decision_date,
            signed_on=signed_on,
            today=today,
        ),
        next=next_instalment(states),
    )


# ---------------------------------------------------------------------------------------------
# Le tableau des retards d'un appel


@dataclass
class BoardRow:
    line: FunderLine
    number: str
    partner: str
    title: str
    funder: str
    funder_id: int
    voted: Decimal
    paid: Decimal
    remaining: Decimal
    decision_date: datetime.date | None
    days_since_vote: int | None
    signed_on: datetime.date | None
    days_since_signature: int | None
    first_paid_on: datetime.date | None
    days_to_first_payment: int | None
    next_due: datetime.date | None
    next_label: str
    stage_label: str
    late: list[str]

    @property
    def is_paid(self) -> bool:
        return self.remaining <= 0


@dataclass
class FunderTotals:
    funder: str
    funder_id: int
    lines: int = 0
    late: int = 0
    voted: Decimal = ZERO
    paid: Decimal = ZERO
    delays: list[int] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.voted - self.paid

    @property
    def average_days_to_first_payment(self) -> float | None:
        return round(sum(self.delays) / len(self.delays), 1) if self.delays else None


@dataclass
class Board:
    funders: list[CallFunder]
    rows: list[BoardRow]
    totals: list[FunderTotals]
    today: datetime.date

    @property
    def grand_total(self) -> FunderTotals:
        total = FunderTotals(funder="Total", funder_id=0)
        for t in self.totals:
            total.lines += t.lines
            total.late += t.late
            total.voted += t.voted
            total.paid += t.paid
            total.delays += t.delays
        return total


def board_funders(user, call) -> list[CallFunder]:
    """Les financeurs de l'appel dont ``user`` voit les versements (tous pour le pilote)."""
    funders = list(call.funders.select_related("partner").order_by("order", "id"))
    allowed = follow_up_funder_ids(user, call)
    return funders if allowed is None else [f for f in funders if f.partner_id in allowed]


def board_lines(call, funders: list[CallFunder]):
    first = (
        Payment.objects.filter(line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(first=Min("paid_on"))
        .values("first")
    )
    return (
        FunderLine.objects.for_call(call)
        .filter(status=LineStatus.VOTED, funder__in=funders, voted_amount__gt=0)
        .select_related("application__partner", "funder__partner")
        .with_follow_up()
        .annotate(first_paid_on=Subquery(first))
        .prefetch_related(Prefetch("instalments", queryset=PaymentInstalment.objects.order_by("order", "id")))
        .order_by("application__partner__name", "application__number", "funder__order", "funder_id")
    )


def _days(today, day) -> int | None:
    return (today - day).days if day is not None else None


def board_row(line, today) -> BoardRow:
    voted = line.voted_amount or ZERO
    paid = paid_amount(line)
    states = allocate(line.instalments.all(), paid, today)
    upcoming = next_instalment(states)
    application = line.application
    first = line.first_paid_on
    return BoardRow(
        line=line,
        number=application.number,
        partner=application.partner.name,
        title=application.title,
        funder=line.funder.partner.name,
        funder_id=line.funder_id,
        voted=voted,
        paid=paid,
        remaining=voted - paid,
        decision_date=line.decision_date,
        days_since_vote=_days(today, line.decision_date),
        signed_on=line.act_signed_on,
        days_since_signature=_days(today, line.act_signed_on),
        first_paid_on=first,
        days_to_first_payment=(first - line.decision_date).days if first and line.decision_date else None,
        next_due=upcoming.instalment.due_date if upcoming else None,
        next_label=(
            f"{upcoming.instalment.get_kind_display()} : {french_number(upcoming.remaining, '€')}"
            if upcoming
            else ""
        ),
        stage_label=FollowUpStage(stage_of(line)).label,
        late=late_reasons(
            voted=voted,
            paid=paid,
            states=states,
            decision_date=line.decision_date,
            signed_on=line.act_signed_on,
            today=today,
        ),
    )


def payment_board(
    user, call, *, funder_id: int | None = None, state: str = "", today: datetime.date | None = None
) -> Board:
    """Le tableau des retards de ``call`` tel que ``user`` le voit, filtré par financeur et par
    état (``STATE_*``) ; les totaux portent sur les lignes affichées. Quatre requêtes."""
    today = today or timezone.localdate()
    funders = board_funders(user, call)
    shown = [f for f in funders if funder_id is None or f.pk == funder_id]
    rows = [board_row(line, today) for line in board_lines(call, shown)] if shown else []
    if state == STATE_LATE:
        rows = [r for r in rows if r.late]
    elif state == STATE_UNPAID:
        rows = [r for r in rows if not r.is_paid]
    elif state == STATE_PAID:
        rows = [r for r in rows if r.is_paid]
    totals = {f.pk: FunderTotals(funder=f.partner.name, funder_id=f.pk) for f in shown}
    for row in rows:
        total = totals[row.funder_id]
        total.lines += 1
        total.late += bool(row.late)
        total.voted += row.voted
        total.paid += row.paid
        if row.days_to_first_payment is not None:
            total.delays.append(row.days_to_first_payment)
    return Board(funders=funders, rows=rows, totals=list(totals.values()), today=today)
