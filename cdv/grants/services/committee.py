"""Le comité des financeurs : la simulation (provisoire) puis le vote, et la notification des
décisions à chaque association.

- ``simulate_line`` : le pilote pose « oui » (avec un montant) ou « non » sur une ligne avant le
  vote ; rien n'est décidé, rien n'est envoyé.
- ``record_vote`` : acte irréversible ; chaque ligne ouverte reçoit sa décision (voté avec son
  montant, ou rejeté), la date et une référence, d'après la simulation sauf décision contraire ;
  refusé tant qu'une ligne n'a pas de décision. Les dossiers passent « décidés », chacun garde un
  événement dans son historique, et chaque référent d'association reçoit UN courriel qui liste la
  décision de chaque financeur sur chacun de ses dossiers (après la validation de la transaction).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from cdv.core.figures import french_number
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind
from cdv.users.models import User

from ..abilities import call_abilities, funder_line_abilities
from ..enums import DECIDED_LINE_STATUSES, ApplicationStatus, EventKind, LineStatus, Simulation
from ..errors import GrantsError
from ..models import Application, ApplicationEvent, Call, FunderLine

# Dossiers dont les lignes sont décidées par le vote.
VOTED_APPLICATION_STATUSES = [ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED]
MAX_AMOUNT = Decimal("100000000")


def _check_amount(amount: Decimal | None, requested: Decimal, field: str = "amount") -> None:
    if amount is None:
        raise GrantsError({field: "Montant : indiquez le montant retenu pour « oui »."})
    if amount <= 0:
        raise GrantsError(
            {field: "Montant : un « oui » porte un montant supérieur à zéro (sinon choisissez « non »)."}
        )
    if amount > requested:
        raise GrantsError(
            {
                field: f"Montant : {french_number(amount, '€')} dépasse le montant demandé "
                f"({french_number(requested, '€')})."
            }
        )


@transaction.atomic
def simulate_line(*, user: User, line: FunderLine, choice: str, amount: Decimal | None = None) -> FunderLine:
    """Simulation provisoire d'une ligne : ``choice`` « OUI » (``amount`` par défaut : le montant
    proposé, sinon demandé), « NON », ou vide pour effacer la simulation."""
    line = (
        FunderLine.objects.select_for_update().select_related("application__call", "funder").get(pk=line.pk)
    )
    if not funder_line_abilities(user, line)["simulate"]:
        raise PermissionDenied("Seul le pilote simule les décisions, avant le vote du comité.")
    if choice not in Simulation.values:
        raise GrantsError({"choice": "Choix : indiquez « oui », « non » ou « non simulé »."})
    if choice == Simulation.YES:
        if amount is None:
            amount = line.proposed_amount if line.proposed_amount is not None else line.requested_amount
        _check_amount(amount, line.requested_amount)
        line.simulated_amount = amount
    else:
        line.simulated_amount = None
    line.simulation = choice
    line.version += 1
    line.updated_by = user
    line.save(update_fields=["simulation", "simulated_amount", "version", "updated_by", "updated_at"])
    return line


def open_lines(call: Call) -> QuerySet[FunderLine]:
    """Les lignes que le vote décide : celles des dossiers en instruction, pas encore décidées."""
    return (
        FunderLine.objects.filter(application__call=call, application__status__in=VOTED_APPLICATION_STATUSES)
        .exclude(status__in=DECIDED_LINE_STATUSES)
        .select_related("application", "funder__partner")
        .order_by("application__number", "funder__order", "funder_id")
    )


@transaction.atomic
def record_vote(
    *,
    user: User,
    call: Call,
    decision_date: datetime.date,
    decisions: Mapping[int, tuple[str, Decimal | None]] | None = None,
    reference_prefix: str = "",
) -> int:
    """Enregistre le vote du comité sur ``call`` ; renvoie le nombre de lignes décidées.

    ``decisions`` : {ligne: (« OUI » | « NON », montant)} pour décider autrement que la simulation ;
    sans elle, la simulation fait la décision. Références : ``<préfixe>-<n° du dossier>-<n° du
    financeur>`` (préfixe par défaut ``CF`` ; le numéro du dossier porte l'année)."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.committee_held_at is not None:
        raise GrantsError("Le vote de ce comité est déjà enregistré : il ne peut pas l'être deux fois.")
    if not call_abilities(user, call)["vote"]:
        raise PermissionDenied("Seul le pilote enregistre le vote du comité des financeurs.")
    if decision_date is None:
        raise GrantsError({"decision_date": "Date de la décision : indiquez-la."})
    decisions = decisions or {}
    prefix = (reference_prefix or "CF").strip()
    funder_rank = {
        pk: i + 1 for i, pk in enumerate(call.funders.order_by("order", "id").values_list("pk", flat=True))
    }
    lines = list(open_lines(call).select_for_update(of=("self",)))
    missing, errors = [], []
    for line in lines:
        choice, amount = decisions.get(line.pk, (line.simulation, line.simulated_amount))
        if choice not in (Simulation.YES, Simulation.NO):
            missing.append(f"{line.application.number} — {line.funder.partner.name}")
            continue
        if choice == Simulation.YES:
            try:
                _check_amount(amount, line.requested_amount)
            except GrantsError as error:
                errors.append(f"{line.application.number} — {line.funder.partner.name} : {error.messages[0]}")
                continue
            line.status, line.voted_amount = LineStatus.VOTED, amount
        else:
            line.status, line.voted_amount = LineStatus.REJECTED, None
        line.decision_date = decision_date
        line.decision_reference = f"{prefix}-{line.application.number}-{funder_rank.get(line.funder_id, 0)}"[
            :100
        ]
        line.version += 1
        line.updated_by = user
    if missing:
        raise GrantsError(
            f"Vote refusé : {len(missing)} ligne(s) sans décision ({', '.join(missing[:10])}"
            f"{'…' if len(missing) > 10 else ''}). Simulez-les d'abord ; rien n'a été enregistré."
        )
    if errors:
        raise GrantsError(["Vote refusé, rien n'a été enregistré :", *errors])
    now = timezone.now()
    for line in lines:
        line.updated_at = now
    bulk_update_with_history(
        lines,
        FunderLine,
        [
            "status",
            "voted_amount",
            "decision_date",
            "decision_reference",
            "version",
            "updated_by",
            "updated_at",
        ],
        batch_size=500,
        default_user=user,
    )
    applications = list(
        Application.objects.filter(call=call, status__in=VOTED_APPLICATION_STATUSES).select_for_update()
    )
    for application in applications:
        application.status = ApplicationStatus.DECIDED
        application.version += 1
        application.updated_at = now
    bulk_update_with_history(
        applications, Application, ["status", "version", "updated_at"], batch_size=500, default_user=user
    )
    by_application = defaultdict(list)
    for line in lines:
        by_application[line.application_id].append(line)
    ApplicationEvent.objects.bulk_create(
        [
            ApplicationEvent(
                application=application,
                kind=EventKind.DECIDED,
                actor=user,
                message=_decisions_text(by_application[application.pk]) or "Décision du comité enregistrée.",
            )
            for application in applications
        ],
        batch_size=500,
    )
    call.committee_held_at = now
    call.version += 1
    call.save(update_fields=["committee_held_at", "version", "updated_at"])
    application_ids = [a.pk for a in applications]
    transaction.on_commit(lambda: notify_decisions(call=call, application_ids=application_ids))
    return len(lines)


def _decision_label(line: FunderLine) -> str:
    if line.status == LineStatus.VOTED:
        return f"{line.funder.partner.name} : accordé, {french_number(line.voted_amount, '€')}"
    if line.status == LineStatus.REJECTED:
        return f"{line.funder.partner.name} : refusé"
    return f"{line.funder.partner.name} : {line.get_status_display().lower()}"


def _decisions_text(lines: list[FunderLine]) -> str:
    return " ; ".join(_decision_label(line) for line in lines)


def notify_decisions(*, call: Call, application_ids: list[int]) -> int:
    """Un courriel par référent d'association : chaque dossier décidé, et pour chacun la décision de
    chaque financeur (montant accordé ou refus, référence). Renvoie le nombre de personnes prévenues."""
    contract = call.contract
    applications = list(
        Application.objects.filter(pk__in=application_ids)
        .select_related("partner")
        .prefetch_related("funder_lines__funder__partner")
        .order_by("partner__name", "number")
    )
    by_partner = defaultdict(list)
    for application in applications:
        by_partner[application.partner_id].append(application)
    count = 0
    for user, partner_ids in notifications.applicant_referents(contract, by_partner).items():
        mine = [a for pid in sorted(set(partner_ids)) for a in by_partner[pid]]
        if not mine:
            continue
        partner = mine[0].partner
        blocks = []
        for application in mine:
            decided = [
                f"  - {_decision_label(line)} (réf. {line.decision_reference or '—'})"
                for line in application.funder_lines.all()
            ]
            blocks.append(
                f"Dossier {application.number} « {application.title} » ({application.partner.name}) :\n"
                + "\n".join(decided)
            )
        path = reverse("www:partner_applications", args=[contract.slug, partner.slug])
        url = notifications.link(path)
        body = (
            f"Bonjour {user.get_full_name() or user.email},\n\n"
            f"Le comité des financeurs de l'appel à projets {call.year} ({contract.title}) a rendu ses "
            "décisions. Voici celle de chaque financeur sur vos dossiers :\n\n"
            + "\n\n".join(blocks)
            + f"\n\nRetrouvez-les dans votre espace : {url}\n"
            "Un montant accordé fera l'objet d'un arrêté ou d'une convention du financeur.\n\n"
            f"Vos préférences de notification : {notifications.settings_link()}\n"
        )
        notifications.notify(
            kind=NotificationKind.GRANT_DECISIONS,
            recipients=[user],
            contract=contract,
            text=f"Décisions du comité des financeurs sur {len(mine)} dossier(s) "
            f"de l'appel à projets {call.year}.",
            path=path,
            subject=f"Décisions des financeurs — appel à projets {call.year}",
            body=body,
        )
        count += 1
    return count
