"""Démonstration de l'appel à projets après le vote : pour l'appel 2025 voté, les actes
(préparés, la plupart signés), les échéanciers et les versements, les comptes-rendus financiers
dans tous les états (acceptés, transmis, à modifier, action non réalisée, jamais commencés et en
retard) et leurs examens. De quoi parcourir les tableaux des retards, l'examen des comptes-rendus,
les blocages et la page publique des projets financés.

Construit une fois (tant que l'appel n'a aucun acte) ; relancé, ne change rien. Les dossiers de
l'association du référent de démonstration n'ont aucun compte-rendu manquant : elle peut déposer
à l'appel ouvert.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from cdv.core.upsert import UpsertStats
from cdv.grants.acts import default_prefix, reference_for
from cdv.grants.enums import (
    CONVENTION_THRESHOLD,
    Account,
    ActKind,
    EventKind,
    InstalmentKind,
    PaymentTerms,
    QpvShareSource,
    ReportPath,
    ReportStatus,
    ReviewDecision,
)
from cdv.grants.models import (
    ApplicationEvent,
    Call,
    CallFunder,
    FinalReport,
    FunderLine,
    GrantAct,
    Payment,
    PaymentInstalment,
    ReportBudgetLine,
    ReportReview,
)

# Le devenir des comptes-rendus, par dossier décidé (cycle) ; None : jamais commencé.
REPORT_CYCLE = [
    ReportStatus.ACCEPTED,
    ReportStatus.SUBMITTED,
    ReportStatus.ACCEPTED,
    None,
    ReportStatus.CHANGES_REQUESTED,
    ReportStatus.ACCEPTED,
    "NOT_CARRIED_OUT",
    ReportStatus.DRAFT,
]
# Ce que l'association du référent de démonstration a rendu (jamais de manque : elle dépose en 2026)
OWNER_CYCLE = [ReportStatus.ACCEPTED, ReportStatus.SUBMITTED]
ACHIEVEMENTS = "Les séances prévues ont eu lieu toute l'année (démonstration)."
NOT_CARRIED_REASON = "Le local prévu n'a pas été disponible (démonstration)."
VARIANCE = "Prix du matériel en hausse (démonstration)."


def load_demo_follow_up(call: Call, *, owner_partner_id: int, users: dict, stats: UpsertStats) -> None:
    """Actes, versements et comptes-rendus des lignes votées de l'appel ``call`` (voté)."""
    if call.committee_held_at is None or GrantAct.objects.filter(funder__call=call).exists():
        return
    voted_on = call.committee_held_at.date()
    lines = list(
        FunderLine.objects.filter(application__call=call, status="VOTE", voted_amount__gt=0)
        .select_related("funder__partner", "application__call")
        .order_by("application__number", "funder__order")
    )
    instructors = users  # {funder order: user} pour l'État (0) et la Métropole (1)
    numbers: dict[int, int] = {}
    acts, instalments, payments, events = [], [], [], []
    by_application: dict[int, list[FunderLine]] = {}
    for index, line in enumerate(lines):
        by_application.setdefault(line.application_id, []).append(line)
        funder = line.funder
        numbers[funder.pk] = numbers.get(funder.pk, 0) + 1
        number = numbers[funder.pk]
        years = line.application.years
        kind = (
            ActKind.MULTI_YEAR
            if years > 1
            else ActKind.CONVENTION
            if line.voted_amount >= CONVENTION_THRESHOLD
            else ActKind.DECISION
        )
        staged = index % 3 == 0
        signed = index % 10 != 9  # un acte sur dix attend sa signature
        act = GrantAct(
            line=line,
            funder=funder,
            kind=kind,
            number=number,
            reference=reference_for(default_prefix(funder.partner), call.year, number),
            amount=line.voted_amount,
            yearly_amounts=[str(line.voted_amount)] + list(line.later_amounts) if years > 1 else [],
            payment_terms=PaymentTerms.STAGED if staged else PaymentTerms.SINGLE,
            prepared_by=instructors.get(funder.order),
            signed_on=voted_on + datetime.timedelta(days=20 + index % 25) if signed else None,
        )
        acts.append(act)
        if staged:
            advance = (line.voted_amount * Decimal("0.5")).quantize(Decimal("0.01"))
            parts = [
                (InstalmentKind.ADVANCE, advance, "À la signature de l'acte"),
                (InstalmentKind.BALANCE, line.voted_amount - advance, "Après acceptation du compte-rendu"),
            ]
        else:
            parts = [(InstalmentKind.SINGLE, line.voted_amount, "À la signature de l'acte")]
        for order, (part_kind, amount, condition) in enumerate(parts):
            instalment = PaymentInstalment(
                line=line,
                kind=part_kind,
                order=order,
                amount=amount,
                condition=condition,
                due_date=(act.signed_on or voted_on) + datetime.timedelta(days=30)
                if order == 0
                else datetime.date(call.year + 1, 9, 30),
            )
            instalments.append(instalment)
            # Versements : le premier, sauf quand l'acte n'est pas signé ou un sur sept (en retard)
            if order == 0 and signed and index % 7 != 3:
                payments.append(
                    Payment(
                        line=line,
                        instalment=instalment,
                        paid_on=act.signed_on + datetime.timedelta(days=15 + index % 60),
                        amount=amount,
                        reference=f"MANDAT-{call.year}-{index + 1:05d}",
                        recorded_by=instructors.get(funder.order),
                    )
                )
    GrantAct.objects.bulk_create(acts)
    PaymentInstalment.objects.bulk_create(instalments)
    for funder_pk, last in numbers.items():
        CallFunder.objects.filter(pk=funder_pk).update(last_act_number=last)
    for act in acts:
        events.append(
            (
                ApplicationEvent(
                    application_id=act.line.application_id,
                    kind=EventKind.ACT_SIGNED if act.signed_on else EventKind.ACT_PREPARED,
                    funder=act.funder,
                    message=f"{act.get_kind_display()} {act.reference}",
                ),
                _aware(act.signed_on or voted_on + datetime.timedelta(days=10)),
            )
        )

    reports, budget, reviews = [], [], []
    owner_index = 0
    for position, app_lines in enumerate(by_application.values()):
        application = app_lines[0].application
        if application.partner_id == owner_partner_id:
            state = OWNER_CYCLE[owner_index % len(OWNER_CYCLE)]
            owner_index += 1
        else:
            state = REPORT_CYCLE[position % len(REPORT_CYCLE)]
        if state is None:
            continue
        end = application.end_date or datetime.date(call.year, 12, 31)
        due = datetime.date(
            end.year + (end.month + 6 - 1) // 12, (end.month + 6 - 1) % 12 + 1, min(end.day, 30)
        )
        not_carried = state == "NOT_CARRIED_OUT"
        status = ReportStatus.ACCEPTED if not_carried else state
        voted = sum((line.voted_amount for line in app_lines), Decimal(0))
        report = FinalReport(
            application=application,
            path=ReportPath.NOT_CARRIED_OUT if not_carried else ReportPath.CARRIED_OUT,
            status=status,
            due_date=due,
            achievements=""
            if not_carried
            else "Les séances prévues ont eu lieu toute l'année (démonstration).",
            beneficiaries_reached=None if not_carried else (application.beneficiaries or 40) - 5,
            qpv_share=None if not_carried else Decimal(55 + position % 30),
            qpv_share_source="" if not_carried else QpvShareSource.DECLARED,
            indicators_results="" if not_carried else "Assiduité de 80 % ; satisfaction 4,2 sur 5.",
            amount_to_return=voted if not_carried else None,
            not_carried_reason="Le local prévu n'a pas été disponible (démonstration)."
            if not_carried
            else "",
            submitted_at=None
            if status == ReportStatus.DRAFT
            else _aware(due - datetime.timedelta(days=20 + position % 40)),
        )
        reports.append((report, app_lines))
    FinalReport.objects.bulk_create([r for r, _ in reports])
    for report, app_lines in reports:
        if report.path == ReportPath.CARRIED_OUT:
            for order, (account, planned, ratio, label) in enumerate(
                [
                    (Account.A64, Decimal(6000), Decimal("0.97"), "Animation"),
                    (Account.A60, Decimal(1500), Decimal("1.35"), "Fournitures"),
                    (Account.A61, Decimal(900), Decimal("0.9"), "Location de salle"),
                ]
            ):
                budget.append(
                    ReportBudgetLine(
                        report=report,
                        account=account,
                        label=label,
                        planned_amount=planned,
                        actual_amount=(planned * ratio).quantize(Decimal(1)),
                        explanation="Prix du matériel en hausse (démonstration)."
                        if ratio > Decimal("1.2")
                        else "",
                        order=order,
                    )
                )
        if report.status in (ReportStatus.ACCEPTED, ReportStatus.CHANGES_REQUESTED):
            for k, line in enumerate(app_lines):
                asks = report.status == ReportStatus.CHANGES_REQUESTED and k == 0
                reviews.append(
                    ReportReview(
                        report=report,
                        funder=line.funder,
                        decision=ReviewDecision.CHANGES_REQUESTED if asks else ReviewDecision.ACCEPTED,
                        comment="Joignez le détail des charges de personnel (démonstration)." if asks else "",
                        reviewer=instructors.get(line.funder.order),
                    )
                )
        if report.status != ReportStatus.DRAFT:
            events.append(
                (
                    ApplicationEvent(application=report.application, kind=EventKind.REPORT_SUBMITTED),
                    report.submitted_at,
                )
            )
        # Le solde est versé quand le compte-rendu est accepté.
        if report.status == ReportStatus.ACCEPTED and report.path == ReportPath.CARRIED_OUT:
            for line in app_lines:
                for instalment in instalments:
                    if instalment.line_id == line.pk and instalment.kind == InstalmentKind.BALANCE:
                        payments.append(
                            Payment(
                                line=line,
                                instalment=instalment,
                                paid_on=report.submitted_at.date() + datetime.timedelta(days=40),
                                amount=instalment.amount,
                                reference=f"MANDAT-{call.year}-S{line.pk:05d}",
                                recorded_by=instructors.get(line.funder.order),
                            )
                        )
    ReportBudgetLine.objects.bulk_create(budget)
    ReportReview.objects.bulk_create(reviews)
    Payment.objects.bulk_create(payments)
    ApplicationEvent.objects.bulk_create([event for event, _ in events])
    for event, when in events:
        event.at = when
    ApplicationEvent.objects.bulk_update([event for event, _ in events], ["at"])
    for model, objects in [
        ("GrantAct", acts),
        ("PaymentInstalment", instalments),
        ("Payment", payments),
        ("FinalReport", reports),
        ("ReportBudgetLine", budget),
        ("ReportReview", reviews),
    ]:
        if objects:
            stats.add(model, "created")


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
