"""Les versements d'une ligne votée : l'échéancier (versement unique, ou avance puis solde), les
versements faits (date, montant, référence du mandat) et leur annulation motivée.

Seul l'instructeur du financeur de la ligne écrit (``follow_up_abilities`` : « schedule »,
« record_payment ») ; le pilote et l'association lisent. Chaque fonction relit et verrouille la
ligne, revérifie les droits, ne change rien si elle refuse (``GrantsError`` au message français qui
nomme le champ, ``PermissionDenied``, ``ConflictError``) et laisse un événement dans l'historique du
dossier.

Règles :
- les échéances font exactement le montant voté ;
- un versement demande un acte signé, ne dépasse pas ce qui reste à verser, n'est pas daté dans
  le futur ni avant la signature de l'acte ; il est rattaché à la première échéance non couverte ;
- l'échéancier ne se change pas s'il laissait un versement enregistré sans son échéance ;
- un versement annulé disparaît des montants, mais pas de l'historique (motif compris).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cdv.core.figures import french_number
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind
from cdv.users.models import User

from ..abilities import act_of, follow_up_abilities
from ..enums import EventKind, InstalmentKind, PaymentTerms
from ..errors import ConflictError, GrantsError
from ..models import ApplicationEvent, FunderLine, Payment, PaymentInstalment
from ..selectors_payments import allocate, next_instalment

CENT = Decimal("0.01")
MAX_CONDITION_LENGTH = 200
MAX_REFERENCE_LENGTH = 100
MAX_REASON_LENGTH = 2000
BALANCE_CONDITION = "après acceptation du compte-rendu financier"

# Le préfixe des champs du formulaire de chaque échéance (les erreurs les nomment).
FIELD_PREFIX = {
    InstalmentKind.SINGLE: "single",
    InstalmentKind.ADVANCE: "advance",
    InstalmentKind.BALANCE: "balance",
}
KINDS_OF_TERMS = {
    PaymentTerms.SINGLE: [InstalmentKind.SINGLE],
    PaymentTerms.STAGED: [InstalmentKind.ADVANCE, InstalmentKind.BALANCE],
}


@dataclass
class PlannedInstalment:
    kind: str
    amount: Decimal | None
    due_date: datetime.date | None = None
    condition: str = ""


def _euros(value: Decimal) -> str:
    return french_number(value, "€")


def staged_amounts(voted: Decimal, percent: Decimal) -> tuple[Decimal, Decimal]:
    """Avance de ``percent`` % du montant voté (arrondie au centime) et solde : le reste."""
    advance = (voted * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return advance, voted - advance


def line_payments_path(line: FunderLine) -> str:
    application = line.application
    call = application.call
    return reverse("www:line_payments", args=[call.contract.slug, call.year, application.pk, line.pk])


def _locked(line: FunderLine) -> FunderLine:
    """La ligne relue et verrouillée, avec ce que lisent les droits."""
    return (
        FunderLine.objects.select_for_update(of=("self",))
        .select_related("application__call__contract", "application__partner", "funder__partner", "act")
        .prefetch_related("application__qpvs", "application__funder_lines__funder")
        .get(pk=line.pk)
    )


def _event(line: FunderLine, user: User, kind: str, message: str) -> None:
    ApplicationEvent.objects.create(
        application=line.application,
        kind=kind,
        actor=user,
        funder=line.funder,
        message=message,
    )


def _describe(kind: str, amount: Decimal, due_date, condition: str) -> str:
    text = f"{InstalmentKind(kind).label.lower()} de {_euros(amount)}"
    if due_date:
        text += f" prévu{'e' if kind == InstalmentKind.ADVANCE else ''} le {due_date:%d/%m/%Y}"
    if condition:
        text += f" ({condition})"
    return text


def schedule_summary(instalments: Iterable[PaymentInstalment]) -> str:
    """L'échéancier en une phrase (historique, conflits)."""
    parts = [_describe(i.kind, i.amount, i.due_date, i.condition) for i in instalments]
    return " ; ".join(parts) if parts else "aucun échéancier"


# ---------------------------------------------------------------------------------------------
# L'échéancier


def _check_schedule(line: FunderLine, terms: str, planned: list[PlannedInstalment]) -> None:
    if terms not in KINDS_OF_TERMS:
        raise GrantsError({"terms": "Versement : choisissez « versement unique » ou « avance puis solde »."})
    if [p.kind for p in planned] != KINDS_OF_TERMS[terms]:
        raise GrantsError({"terms": "Versement : les échéances ne correspondent pas au mode choisi."})
    errors = {}
    for p in planned:
        prefix, label = FIELD_PREFIX[p.kind], InstalmentKind(p.kind).label
        if p.amount is None or p.amount <= 0:
            errors[f"{prefix}_amount"] = f"{label} : indiquez un montant supérieur à zéro."
        elif p.amount != p.amount.quantize(CENT):
            errors[f"{prefix}_amount"] = f"{label} : deux chiffres après la virgule au plus."
        if len(p.condition or "") > MAX_CONDITION_LENGTH:
            errors[f"{prefix}_condition"] = (
                f"Condition ({label.lower()}) : {MAX_CONDITION_LENGTH} caractères au plus."
            )
    if errors:
        raise GrantsError(errors)
    voted = line.voted_amount
    total = sum((p.amount for p in planned), Decimal("0"))
    if total != voted:
        if terms == PaymentTerms.SINGLE:
            message = (
                f"Versement unique : {_euros(total)} au lieu du montant voté ({_euros(voted)}) ; "
                "le versement unique est le montant voté."
            )
        else:
            advance, balance = planned[0].amount, planned[1].amount
            message = (
                f"Solde : l'avance ({_euros(advance)}) et le solde ({_euros(balance)}) font "
                f"{_euros(total)}, et non le montant voté ({_euros(voted)}) : corrigez l'un des deux "
                f"montants (solde attendu : {_euros(voted - advance)})."
            )
        raise GrantsError({f"{FIELD_PREFIX[planned[-1].kind]}_amount": message})
    if terms == PaymentTerms.STAGED:
        advance, balance = planned
        if advance.due_date and balance.due_date and balance.due_date < advance.due_date:
            raise GrantsError(
                {
                    "balance_due_date": f"Date prévue du solde : le {balance.due_date:%d/%m/%Y} "
                    f"précède celle de l'avance ({advance.due_date:%d/%m/%Y})."
                }
            )


def _orphans(existing: list[PaymentInstalment], kept: int, payments: list[Payment]) -> list[str]:
    """Les échéances retirées qui portent des versements : ce qu'on perdrait."""
    removed = {i.pk: i for i in existing[kept:]}
    lost = []
    for payment in payments:
        if payment.instalment_id in removed:
            instalment = removed[payment.instalment_id]
            lost.append(
                f"{instalment.get_kind_display().lower()} : {_euros(payment.amount)} versés le "
                f"{payment.paid_on:%d/%m/%Y}"
            )
    return lost


@transaction.atomic
def set_schedule(
    *,
    user: User,
    line: FunderLine,
    terms: str,
    instalments: list[PlannedInstalment],
    version: int | None = None,
) -> list[PaymentInstalment]:
    """Pose ou change l'échéancier de la ligne : versement unique, ou avance puis solde."""
    line = _locked(line)
    rights = follow_up_abilities(user, line)
    if not rights["schedule"]:
        raise PermissionDenied("Seuls les instructeurs du financeur de cette ligne tiennent son échéancier.")
    existing = list(line.instalments.order_by("order", "id"))
    planned = [
        PlannedInstalment(p.kind, p.amount, p.due_date, (p.condition or "").strip()) for p in instalments
    ]
    if version is not None and version != line.version:
        saved, typed = schedule_summary(existing), schedule_summary(planned)
        if saved != typed:
            raise ConflictError(line, [("schedule", "Échéancier", saved, typed)])
    _check_schedule(line, terms, planned)
    payments = list(line.payments.order_by("paid_on", "id"))
    lost = _orphans(existing, len(planned), payments)
    if lost:
        raise GrantsError(
            "Échéancier non modifié : des versements sont enregistrés sur une échéance que ce "
            f"changement retirerait ({' ; '.join(lost)}). Gardez cette échéance, ou annulez d'abord "
            "ces versements s'ils sont une erreur."
        )
    result = []
    for order, p in enumerate(planned):
        instalment = existing[order] if order < len(existing) else PaymentInstalment(line=line, order=order)
        instalment.kind, instalment.amount = p.kind, p.amount
        instalment.due_date, instalment.condition = p.due_date, p.condition
        instalment.save()
        result.append(instalment)
    for instalment in existing[len(planned) :]:
        instalment.delete()
    line.version += 1
    line.updated_by = user
    line.save(update_fields=["version", "updated_by", "updated_at"])
    before = schedule_summary(existing)
    message = f"Échéancier ({line.funder.partner.name}) : {schedule_summary(result)}."
    if existing:
        message += f" Avant : {before}."
    _event(line, user, EventKind.SCHEDULED, message)
    return result


# ---------------------------------------------------------------------------------------------
# Les versements


def _require_record(user: User, line: FunderLine) -> None:
    rights = follow_up_abilities(user, line)
    if rights["record_payment"]:
        return
    if rights["schedule"]:  # l'instructeur du financeur, mais pas encore d'acte signé
        raise GrantsError(
            "Versement impossible pour l'instant : l'acte attributif de cette subvention n'est pas "
            "encore signé. Déposez l'acte signé (page « Acte ») ; les versements s'enregistrent ensuite."
        )
    raise PermissionDenied("Seuls les instructeurs du financeur de cette ligne enregistrent ses versements.")


def _notify_referents(line: FunderLine, text: str) -> None:
    application = line.application
    contract = application.call.contract
    path = line_payments_path(line)

    def send():
        recipients = notifications.applicant_referents(contract.pk, [application.partner_id])
        notifications.notify(
            kind=NotificationKind.PAYMENT_RECORDED,
            recipients=list(recipients),
            contract=contract,
            text=text,
            path=path,
        )

    transaction.on_commit(send)


@transaction.atomic
def record_payment(
    *,
    user: User,
    line: FunderLine,
    paid_on: datetime.date | None,
    amount: Decimal | None,
    reference: str = "",
    today: datetime.date | None = None,
) -> Payment:
    """Enregistre un versement fait sur la ligne ; prévient les référents de l'association."""
    line = _locked(line)
    _require_record(user, line)
    today = today or timezone.localdate()
    reference = (reference or "").strip()
    act = act_of(line)
    paid = sum((p.amount for p in line.payments.all()), Decimal("0"))
    remaining = line.voted_amount - paid
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = "Montant versé : indiquez un montant supérieur à zéro."
    elif amount > remaining:
        errors["amount"] = (
            f"Montant versé : {_euros(amount)} dépasse ce qui reste à verser sur cette subvention "
            f"({_euros(remaining)} sur {_euros(line.voted_amount)} votés)."
            if remaining > 0
            else "Montant versé : cette subvention est déjà entièrement versée."
        )
    if paid_on is None:
        errors["paid_on"] = "Date du versement : indiquez-la."
    elif paid_on > today:
        errors["paid_on"] = (
            f"Date du versement : le {paid_on:%d/%m/%Y} est à venir ; n'enregistrez qu'un versement fait."
        )
    elif act.signed_on and paid_on < act.signed_on:
        errors["paid_on"] = (
            f"Date du versement : le {paid_on:%d/%m/%Y} précède la signature de l'acte "
            f"({act.signed_on:%d/%m/%Y})."
        )
    if len(reference) > MAX_REFERENCE_LENGTH:
        errors["reference"] = f"Référence du mandat : {MAX_REFERENCE_LENGTH} caractères au plus."
    if errors:
        raise GrantsError(errors)
    upcoming = next_instalment(allocate(list(line.instalments.all()), paid, today))
    payment = Payment.objects.create(
        line=line,
        instalment=upcoming.instalment if upcoming else None,
        paid_on=paid_on,
        amount=amount,
        reference=reference,
        recorded_by=user,
    )
    left = remaining - amount
    what = f" ({upcoming.instalment.get_kind_display().lower()})" if upcoming else ""
    mandate = f", mandat {reference}" if reference else ""
    _event(
        line,
        user,
        EventKind.PAYMENT,
        f"Versement de {_euros(amount)}{what} par {line.funder.partner.name} le {paid_on:%d/%m/%Y}"
        f"{mandate}. "
        + (f"Reste à verser : {_euros(left)}." if left > 0 else "La subvention est entièrement versée."),
    )
    application = line.application
    _notify_referents(
        line,
        f"{line.funder.partner.name} a versé {_euros(amount)} le {paid_on:%d/%m/%Y} pour le dossier "
        f"{application.number} « {application.title} »"
        + (
            f" ; reste à verser : {_euros(left)}." if left > 0 else " ; la subvention est entièrement versée."
        ),
    )
    return payment


@transaction.atomic
def cancel_payment(*, user: User, payment: Payment, reason: str) -> None:
    """Annule un versement enregistré (erreur de saisie, mandat rejeté) : il ne compte plus, le
    motif reste dans l'historique du dossier, l'association est prévenue."""
    line = _locked(payment.line)
    rights = follow_up_abilities(user, line)
    if not rights["record_payment"]:
        raise PermissionDenied("Seuls les instructeurs du financeur de cette ligne annulent ses versements.")
    payment = Payment.objects.select_for_update().filter(pk=payment.pk, line=line).first()
    if payment is None:
        raise GrantsError("Ce versement n'existe plus : il a sans doute déjà été annulé.")
    reason = (reason or "").strip()
    if not reason:
        raise GrantsError(
            {"reason": "Motif : dites pourquoi ce versement est annulé (il reste dans l'historique)."}
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise GrantsError({"reason": f"Motif : {MAX_REASON_LENGTH} caractères au plus."})
    mandate = f", mandat {payment.reference}" if payment.reference else ""
    described = f"{_euros(payment.amount)} du {payment.paid_on:%d/%m/%Y}{mandate}"
    payment.delete()
    _event(
        line,
        user,
        EventKind.PAYMENT,
        f"Versement annulé ({line.funder.partner.name}) : {described}. Motif : {reason}",
    )
    application = line.application
    _notify_referents(
        line,
        f"Le versement de {described} de {line.funder.partner.name} pour le dossier {application.number} "
        f"« {application.title} » a été annulé : {reason}",
    )
