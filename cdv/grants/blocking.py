"""Le compte-rendu financier dû, et le blocage d'une association qui ne l'a pas rendu.

- ``report_due_date(application)`` : le compte-rendu est dû ``REPORT_DUE_MONTHS`` (6) mois après la
  fin de l'action ; la fin de l'action est la date de fin du dossier, ou à défaut le 31 décembre de
  l'année de l'appel. Le service du compte-rendu la reprend quand il crée le compte-rendu ; ensuite
  c'est ``FinalReport.due_date`` qui fait foi.
- ``missing_reports(partner, call)`` : les projets financés de l'association à d'autres appels du
  même contrat dont le compte-rendu manque après son échéance (pas commencé, ou en cours de saisie
  sans avoir été transmis) ou a été renvoyé pour modifications et n'est toujours pas corrigé après
  son échéance. Tant qu'il y en a un, l'association ne crée ni ne dépose de nouveau dossier sur
  ``call`` — sauf si le pilote a levé le blocage pour cet appel (``ReportBlockLift``).
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from cdv.core.french import day_month_year

from .enums import REPORT_DUE_MONTHS, ApplicationStatus, LineStatus, ReportStatus

# Un compte-rendu dans l'un de ces états n'a pas été reçu (ou n'est pas corrigé) : passé son
# échéance, il bloque.
BLOCKING_REPORT_STATUSES = {None, ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` mois (le 31 août + 6 mois : le dernier jour de février)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def action_end(application) -> datetime.date:
    """La fin de l'action : la date de fin du dossier, sinon le 31 décembre de l'année de l'appel."""
    return application.end_date or datetime.date(application.call.year, 12, 31)


def report_due_date(application) -> datetime.date:
    """Date avant laquelle le compte-rendu est dû : fin de l'action + ``REPORT_DUE_MONTHS`` mois."""
    return add_months(action_end(application), REPORT_DUE_MONTHS)


def report_of(application):
    """Le compte-rendu du dossier, ou None (lu par ``select_related("final_report")`` s'il a été fait)."""
    try:
        return application.final_report
    except ObjectDoesNotExist:
        return None


def due_date_of(application) -> datetime.date:
    """L'échéance du compte-rendu : celle du compte-rendu s'il existe, sinon calculée."""
    report = report_of(application)
    return report.due_date if report is not None else report_due_date(application)


def french_date(day: datetime.date) -> str:
    """« 30 juin 2026 », « 1er juillet 2026 »."""
    return day_month_year(day)


@dataclass
class MissingReport:
    """Un compte-rendu qui bloque : le dossier, son échéance, l'état du compte-rendu (None : pas
    commencé)."""

    application: object
    due_date: datetime.date
    status: str | None

    @property
    def refused(self) -> bool:
        return self.status == ReportStatus.CHANGES_REQUESTED

    @property
    def status_label(self) -> str:
        if self.status is None:
            return "pas commencé"
        return ReportStatus(self.status).label.lower()

    @property
    def message(self) -> str:
        application = self.application
        what = (
            f"Le compte-rendu du projet « {application.title} » (dossier {application.number or '—'}, "
            f"appel {application.call.year}), dû le {french_date(self.due_date)}"
        )
        if self.refused:
            return f"{what}, a été renvoyé pour modifications et n'a pas été transmis de nouveau."
        return f"{what}, n'a pas été reçu."


def funded_applications(queryset):
    """Dossiers dont au moins une ligne a été votée avec un montant (une subvention accordée)."""
    return (
        queryset.filter(funder_lines__status=LineStatus.VOTED, funder_lines__voted_amount__gt=0)
        .exclude(status=ApplicationStatus.WITHDRAWN)
        .distinct()
    )


def missing_reports_by_partner(call, partner_ids=None, *, today=None) -> dict[int, list[MissingReport]]:
    """{association: [comptes-rendus qui la bloquent pour ``call``]} (associations sans levée de
    blocage pour cet appel ; ``partner_ids`` : None pour toutes). Deux requêtes."""
    from .models import Application, ReportBlockLift

    today = today or timezone.localdate()
    lifted = set(ReportBlockLift.objects.filter(call=call).values_list("partner_id", flat=True))
    applications = funded_applications(
        Application.objects.filter(call__contract_id=call.contract_id).exclude(call=call)
    )
    if partner_ids is not None:
        applications = applications.filter(partner_id__in=list(partner_ids))
    applications = applications.exclude(partner_id__in=lifted).exclude(
        final_report__status__in=[ReportStatus.SUBMITTED, ReportStatus.ACCEPTED]
    )
    applications = applications.select_related("call", "partner", "final_report")
    result: dict[int, list[MissingReport]] = {}
    for application in applications.order_by("call__year", "number", "pk"):
        report = report_of(application)
        status = report.status if report is not None else None
        due = due_date_of(application)
        if status in BLOCKING_REPORT_STATUSES and due < today:
            result.setdefault(application.partner_id, []).append(
                MissingReport(application=application, due_date=due, status=status)
            )
    return result


def missing_reports(partner, call, *, today=None) -> list[MissingReport]:
    """Les comptes-rendus qui empêchent ``partner`` de déposer un nouveau dossier sur ``call``
    (vide si aucun, ou si le pilote a levé le blocage pour cet appel)."""
    return missing_reports_by_partner(call, [partner.pk], today=today).get(partner.pk, [])


def blocking_message(missing: list[MissingReport]) -> str:
    """Le message montré à l'association : quel compte-rendu manque, et comment débloquer."""
    reasons = " ".join(item.message for item in missing)
    return (
        f"{reasons} Tant qu'un compte-rendu dû n'est pas transmis, l'association ne peut pas créer "
        "ni déposer de nouveau dossier : transmettez-le depuis votre espace (dossier concerné, "
        "« Compte-rendu financier »), ou demandez au pilote du contrat de lever le blocage."
    )
