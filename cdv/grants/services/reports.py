"""Le compte-rendu financier d'un projet financé (CERFA 15059), côté association : le saisir
(l'un des trois chemins : action réalisée, non réalisée, nouvelles dates), le budget réalisé ligne
à ligne à côté du prévu, la part des bénéficiaires habitant un QPV calculée d'après un fichier
d'adresses ou de coordonnées (seul l'agrégat est gardé), puis le transmettre aux financeurs.

Chaque fonction revérifie les droits (``report_abilities``), relit et verrouille le dossier, compare
la version du formulaire (verrou optimiste sur ``FinalReport.version`` : chaque champ qui diffère
est listé, rien n'est perdu) et ne change rien si elle refuse (``GrantsError`` au message français,
``PermissionDenied``, ``ConflictError``).

Le compte-rendu est créé au premier enregistrement ; il est dû ``REPORT_DUE_MONTHS`` mois après la
fin de l'action (la date de fin du dossier, sinon le 31 décembre de l'année de l'appel).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Sum
from django.urls import reverse
from django.utils import timezone

from cdv.core.uploads import UploadError, read_upload
from cdv.notifications.enums import NotificationKind
from cdv.notifications.services import notify
from cdv.users.enums import Role
from cdv.users.models import Membership, User

from ..abilities import report_abilities
from ..blocking import report_due_date
from ..enums import (
    CHARGE_ACCOUNTS,
    FUNDER_ROW_PREFIX,
    INCOME_ACCOUNTS,
    REPORT_VARIANCE_LIMIT,
    Account,
    DocumentKind,
    EventKind,
    QpvShareSource,
    ReportPath,
    ReportStatus,
    budget_row_title,
)
from ..errors import ConflictError, GrantsError, check_version
from ..followup import granted_lines
from ..models import (
    Application,
    ApplicationEvent,
    FinalReport,
    PartnerDocument,
    Payment,
    ReportBudgetLine,
)
from .applications import MAX_AMOUNT, format_eur

ZERO = Decimal("0")
HUNDRED = Decimal("100")
# Fichier des bénéficiaires : traité pendant la requête, donc borné.
BENEFICIARIES_MAX_ROWS = 5_000
BENEFICIARIES_MAX_BYTES = 2 * 1024 * 1024
GEOCODER_BUDGET = 60.0  # secondes en tout pour géocoder le fichier (requêtes, essais, attentes)
MAX_TEXT = 10_000

# Les champs du compte-rendu qu'écrit ``save_report`` (les pièces jointes à part).
REPORT_FIELDS = [
    "path",
    "achievements",
    "beneficiaries_reached",
    "qpv_beneficiaries",
    "indicators_results",
    "difficulties",
    "amount_to_return",
    "not_carried_reason",
    "new_start_date",
    "new_end_date",
    "new_dates_reason",
]
TEXT_FIELDS = {"achievements", "indicators_results", "difficulties", "not_carried_reason", "new_dates_reason"}


# ---------------------------------------------------------------------------------------------
# Lectures


def report_of(application: Application) -> FinalReport | None:
    return (
        FinalReport.objects.filter(application=application)
        .prefetch_related(
            "budget_lines", Prefetch("documents", PartnerDocument.objects.order_by("kind", "-uploaded_at"))
        )
        .first()
    )


def paid_total(application: Application) -> Decimal:
    return (
        Payment.objects.filter(line__application=application).aggregate(total=Sum("amount"))["total"] or ZERO
    )


def return_ceiling(application: Application) -> tuple[Decimal, str]:
    """Le montant à reverser au plus : le versé s'il y a des versements enregistrés, sinon le voté
    (les versements peuvent être tenus hors de la plateforme)."""
    paid = paid_total(application)
    if paid:
        return paid, "versé"
    return sum((line.voted_amount for line in granted_lines(application)), ZERO), "accordé"


@dataclass
class PlannedRow:
    account: str
    label: str
    planned: Decimal

    @property
    def is_charge(self) -> bool:
        return self.account in CHARGE_ACCOUNTS

    @property
    def title(self) -> str:
        """Le nom de la ligne dans les messages : « 64 – Charges de personnel (Animateur) »."""
        return budget_row_title(self.account, self.label, parenthesis=True)


def planned_rows(application: Application) -> list[PlannedRow]:
    """Le budget prévu, une ligne par compte du CERFA (les détails réunis), et au compte 74 une
    ligne par financeur de l'appel avec son montant voté. Toujours le même ordre : la ligne ``i``
    du budget réalisé est l'``order`` ``i``."""
    by_account: dict[str, list] = {}
    for line in application.budget_lines.all():
        by_account.setdefault(line.account, []).append(line)
    rows = []
    for account in [*CHARGE_ACCOUNTS, *INCOME_ACCOUNTS]:
        if account == Account.A74:
            for line in granted_lines(application):
                rows.append(
                    PlannedRow(Account.A74, f"{FUNDER_ROW_PREFIX}{line.funder.partner}", line.voted_amount)
                )
        items = by_account.get(account, [])
        label = ", ".join(filter(None, (item.label for item in items)))[:200]
        rows.append(PlannedRow(account, label, sum((item.amount for item in items), ZERO)))
    return rows


def needs_explanation(planned: Decimal, actual: Decimal) -> bool:
    """Un écart de plus de ``REPORT_VARIANCE_LIMIT`` % du prévu (ou un réalisé sans prévu)."""
    if planned == 0:
        return actual > 0
    return abs(actual - planned) * HUNDRED > planned * REPORT_VARIANCE_LIMIT


def variance_percent(planned: Decimal, actual: Decimal) -> Decimal | None:
    if not planned:
        return None
    return ((actual - planned) * HUNDRED / planned).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _variance_error(title: str, planned: Decimal, actual: Decimal) -> str:
    return (
        f"{title} : le réalisé ({format_eur(actual)}) s'écarte de plus de {REPORT_VARIANCE_LIMIT} % du "
        f"prévu ({format_eur(planned)}) : expliquez l'écart."
    )


@dataclass
class BudgetSummary:
    planned_charges: Decimal
    actual_charges: Decimal
    planned_income: Decimal
    actual_income: Decimal

    @property
    def difference(self) -> Decimal:
        """Charges réalisées − produits réalisés : zéro quand le budget réalisé est équilibré."""
        return self.actual_charges - self.actual_income

    @property
    def balanced(self) -> bool:
        return self.difference == 0


def budget_summary(lines: Iterable) -> BudgetSummary:
    """Totaux du budget réalisé (``lines`` : lignes du compte-rendu ou (compte, prévu, réalisé))."""
    totals = {"pc": ZERO, "ac": ZERO, "pi": ZERO, "ai": ZERO}
    for line in lines:
        account, planned, actual = (
            (line.account, line.planned_amount, line.actual_amount) if hasattr(line, "account") else line
        )
        side = "c" if account in CHARGE_ACCOUNTS else "i"
        totals["p" + side] += planned or ZERO
        totals["a" + side] += actual or ZERO
    return BudgetSummary(totals["pc"], totals["ac"], totals["pi"], totals["ai"])


def checklist(report: FinalReport | None) -> list[str]:
    """Ce qui manque pour transmettre le compte-rendu, en phrases françaises (vide : prêt)."""
    if report is None:
        return ["Le compte-rendu n'est pas commencé : choisissez son chemin et enregistrez-le."]
    missing = []
    if report.path == ReportPath.CARRIED_OUT:
        if not report.achievements.strip():
            missing.append("Ce qui a été fait : décrivez les actions menées.")
        if report.beneficiaries_reached is None:
            missing.append("Bénéficiaires touchés : indiquez leur nombre.")
        if report.qpv_share is None:
            missing.append(
                "Part des bénéficiaires habitant un QPV : indiquez combien y habitent, ou calculez-la "
                "d'après le fichier de leurs adresses."
            )
        if not report.indicators_results.strip():
            missing.append("Indicateurs d'évaluation : donnez leurs résultats.")
        lines = list(report.budget_lines.all())
        if not lines:
            missing.append("Le budget réalisé : saisissez-le, ligne à ligne.")
        for line in lines:
            if needs_explanation(line.planned_amount, line.actual_amount) and not line.explanation.strip():
                title = PlannedRow(line.account, line.label, line.planned_amount).title
                missing.append(
                    _variance_error(f"Budget réalisé, {title}", line.planned_amount, line.actual_amount)
                )
    elif report.path == ReportPath.NOT_CARRIED_OUT:
        if not report.not_carried_reason.strip():
            missing.append("Pourquoi l'action n'a pas été réalisée : expliquez-le.")
        if report.amount_to_return is None:
            missing.append("Montant à reverser : indiquez-le (0 si rien n'a été versé).")
    else:
        if report.new_start_date is None or report.new_end_date is None:
            missing.append("Nouvelles dates : indiquez le nouveau début et la nouvelle fin de l'action.")
        if not report.new_dates_reason.strip():
            missing.append("Pourquoi de nouvelles dates : expliquez-le.")
    return missing


# ---------------------------------------------------------------------------------------------
# Outils


def _locked_application(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("call__contract", "partner")
        .prefetch_related("funder_lines__funder__partner", "qpvs", "budget_lines")
        .get(pk=application.pk)
    )


def _locked_report(application: Application) -> FinalReport | None:
    return FinalReport.objects.select_for_update().filter(application=application).first()


def _require(user: User, application: Application, report: FinalReport | None, ability: str) -> None:
    if not report_abilities(user, application, report)[ability]:
        raise PermissionDenied("Vous ne pouvez pas faire cela sur ce compte-rendu.")


def _new_report(application: Application) -> FinalReport:
    return FinalReport.objects.create(application=application, due_date=report_due_date(application))


def _bump(report: FinalReport) -> None:
    report.version += 1
    report.save()


# ---------------------------------------------------------------------------------------------
# Le compte-rendu


def _clean_report(application: Application, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned = {field: data.get(field) for field in REPORT_FIELDS}
    for field in TEXT_FIELDS:
        cleaned[field] = (cleaned[field] or "").strip()
        if len(cleaned[field]) > MAX_TEXT:
            label = FinalReport._meta.get_field(field).verbose_name
            errors[field] = f"{str(label).capitalize()} : {MAX_TEXT} caractères au plus."
    if cleaned["path"] not in ReportPath.values:
        errors["path"] = "Chemin du compte-rendu : choisissez l'une des trois situations."
    reached, in_qpv = cleaned["beneficiaries_reached"], cleaned["qpv_beneficiaries"]
    for field, value in (("beneficiaries_reached", reached), ("qpv_beneficiaries", in_qpv)):
        if value is not None and value < 0:
            errors[field] = "Un nombre de bénéficiaires ne peut pas être négatif."
    if reached is not None and in_qpv is not None and in_qpv > reached:
        errors["qpv_beneficiaries"] = (
            f"Dont habitants d'un QPV : {in_qpv} dépasse le nombre de bénéficiaires touchés ({reached})."
        )
    amount = cleaned["amount_to_return"]
    if amount is not None:
        ceiling, what = return_ceiling(application)
        if amount < 0:
            errors["amount_to_return"] = "Montant à reverser : un montant ne peut pas être négatif."
        elif amount >= MAX_AMOUNT or amount > ceiling:
            errors["amount_to_return"] = (
                f"Montant à reverser : {format_eur(amount)} dépasse le montant {what} "
                f"({format_eur(ceiling)})."
            )
    start, end = cleaned["new_start_date"], cleaned["new_end_date"]
    if start and end and end < start:
        errors["new_end_date"] = "Nouvelle fin : elle doit suivre le nouveau début."
    if errors:
        raise GrantsError(errors)
    return cleaned


def _declared_share(reached: int | None, in_qpv: int | None) -> Decimal | None:
    if not reached or in_qpv is None:
        return None
    return (Decimal(in_qpv) * HUNDRED / Decimal(reached)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@transaction.atomic
def save_report(
    *,
    user: User,
    application: Application,
    version: int | None,
    data: dict[str, Any],
    documents: list[PartnerDocument] | None = None,
) -> FinalReport:
    """Enregistre le compte-rendu (le crée au premier enregistrement, avec sa date limite) :
    ``data`` porte les champs de ``REPORT_FIELDS`` ; ``documents`` les pièces jointes, choisies
    parmi les pièces justificatives de l'association (None : inchangées). ``version`` : celle du
    compte-rendu chargé dans le formulaire, 0 s'il n'existait pas encore (un compte-rendu créé
    entre-temps par un autre fait alors conflit), None pour ne pas vérifier."""
    application = _locked_application(application)
    report = _locked_report(application)
    _require(user, application, report, "edit")
    cleaned = _clean_report(application, data)
    if documents is not None:
        foreign = [d for d in documents if d.partner_id != application.partner_id]
        if foreign:
            raise GrantsError(
                {"documents": "Pièces jointes : ces pièces ne sont pas celles de votre association."}
            )
        if any(d.kind != DocumentKind.REPORT_PIECE for d in documents):
            raise GrantsError(
                {"documents": "Pièces jointes : choisissez des pièces justificatives du compte-rendu."}
            )
    if report is None:
        report = _new_report(application)
    else:
        changes = []
        try:
            check_version(report, version, cleaned)
        except ConflictError as error:
            changes = error.changes
        if documents is not None and version is not None and version != report.version:
            mine = sorted(d.pk for d in documents)
            current = sorted(report.documents.values_list("pk", flat=True))
            if mine != current:
                names = dict(
                    PartnerDocument.objects.filter(pk__in=mine + current).values_list("pk", "original_name")
                )
                changes.append(
                    (
                        "documents",
                        "pièces jointes",
                        ", ".join(names[pk] for pk in current),
                        ", ".join(names[pk] for pk in mine),
                    )
                )
        if changes:
            raise ConflictError(report, changes)
    for field, value in cleaned.items():
        setattr(report, field, value)
    if report.qpv_share_source != QpvShareSource.COMPUTED:
        share = _declared_share(cleaned["beneficiaries_reached"], cleaned["qpv_beneficiaries"])
        report.qpv_share = share
        report.qpv_share_source = QpvShareSource.DECLARED if share is not None else ""
    _bump(report)
    if documents is not None:
        report.documents.set(documents)
    return report


# ---------------------------------------------------------------------------------------------
# Le budget réalisé


@dataclass
class ActualLine:
    """Ce que l'association saisit pour la ligne ``order`` du budget prévu."""

    order: int
    actual: Decimal | None
    explanation: str = ""


@transaction.atomic
def save_report_budget(
    *, user: User, application: Application, version: int | None, lines: list[ActualLine]
) -> FinalReport:
    """Le budget réalisé, ligne à ligne à côté du prévu (``planned_rows``) : un réalisé vide vaut
    0 ; un écart de plus de ``REPORT_VARIANCE_LIMIT`` % doit être expliqué (refus nommant la ligne).
    Le prévu vient du dossier et des montants votés : il ne se saisit pas."""
    application = _locked_application(application)
    report = _locked_report(application)
    _require(user, application, report, "edit")
    planned = planned_rows(application)
    given = {line.order: line for line in lines}
    if set(given) - set(range(len(planned))):
        raise GrantsError(
            "Le budget réalisé ne correspond pas au budget prévu du dossier : rechargez la page."
        )
    errors: dict[str, list[str]] = {}
    rows = []
    for order, row in enumerate(planned):
        line = given.get(order) or ActualLine(order, None)
        actual = line.actual if line.actual is not None else ZERO
        explanation = (line.explanation or "").strip()
        if actual < 0 or actual >= MAX_AMOUNT:
            errors.setdefault(f"actual_{order}", []).append(f"{row.title} : montant réalisé invraisemblable.")
        elif needs_explanation(row.planned, actual) and not explanation:
            errors.setdefault(f"explanation_{order}", []).append(
                _variance_error(row.title, row.planned, actual)
            )
        if len(explanation) > MAX_TEXT:
            errors.setdefault(f"explanation_{order}", []).append(
                f"{row.title} : l'explication fait {MAX_TEXT} caractères au plus."
            )
        rows.append((row, actual.quantize(Decimal("0.01")), explanation))
    if errors:
        raise GrantsError(errors)
    if report is None:
        report = _new_report(application)
    else:
        current = {line.order: line for line in report.budget_lines.all()}
        if version is not None and version != report.version and current:
            changes = []
            for order, (row, actual, explanation) in enumerate(rows):
                saved = current.get(order)
                theirs_actual = saved.actual_amount if saved else None
                theirs_explanation = saved.explanation if saved else ""
                if theirs_actual != actual:
                    changes.append((f"actual_{order}", f"{row.title} — réalisé", theirs_actual, actual))
                if theirs_explanation != explanation:
                    changes.append(
                        (
                            f"explanation_{order}",
                            f"{row.title} — explication",
                            theirs_explanation,
                            explanation,
                        )
                    )
            if changes:
                raise ConflictError(report, changes)
    ReportBudgetLine.objects.filter(report=report).delete()
    ReportBudgetLine.objects.bulk_create(
        ReportBudgetLine(
            report=report,
            account=row.account,
            label=row.label,
            planned_amount=row.planned,
            actual_amount=actual,
            explanation=explanation,
            order=order,
        )
        for order, (row, actual, explanation) in enumerate(rows)
    )
    _bump(report)
    return report


# ---------------------------------------------------------------------------------------------
# Les bénéficiaires : part en QPV calculée d'après leurs adresses ou coordonnées


@dataclass
class BeneficiariesShare:
    rows: int
    located: int
    in_qpv: int

    @property
    def unlocated(self) -> int:
        return self.rows - self.located

    @property
    def share(self) -> Decimal:
        return (Decimal(self.in_qpv) * HUNDRED / Decimal(self.located)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )


class _TooManyRows(Exception):
    pass


def _locate_file(path: Path, name: str, workdir: Path) -> BeneficiariesShare:
    """Le fichier passé au moteur de géoréférencement (``cdv.georef.pipeline.run``) ; seuls les
    comptes reviennent, le fichier de sortie reste dans ``workdir`` (effacé par l'appelant)."""
    from cdv.georef import pipeline

    try:
        header, _, _ = pipeline.read_header(path)
    except pipeline.GeorefError as error:
        raise GrantsError({"file": f"« {name} » : {error}"}) from None
    options = pipeline.guess_options(header, chunk_size=500)
    if options is None:
        raise GrantsError(
            {
                "file": f"« {name} » : aucune colonne d'adresse (« adresse », « code_postal », "
                "« commune ») ni de coordonnées (« longitude » et « latitude », ou « x » et « y » en "
                "Lambert-93) n'a été reconnue sur la première ligne."
            }
        )
    geocoder = None
    if options.mode == "address":
        from cdv.georef.ban import BanGeocoder

        # Une personne attend la page : délai et budget bornés (une minute en tout au plus).
        geocoder = BanGeocoder(timeout=30.0, retries=1, budget=GEOCODER_BUDGET)

    def progress(done, total=None):
        if done > BENEFICIARIES_MAX_ROWS:
            raise _TooManyRows

    try:
        summary = pipeline.run(
            path, workdir / "sortie.csv", options, geocoder=geocoder, progress=progress, workers=0
        )
    except _TooManyRows:
        raise GrantsError(
            {
                "file": f"« {name} » : plus de {BENEFICIARIES_MAX_ROWS:,} lignes".replace(",", "\u202f")
                + " ; ce calcul se fait pendant la page. Découpez le fichier, ou utilisez la page "
                "« Est-ce en QPV ? » puis indiquez le nombre d'habitants des QPV."
            }
        ) from None
    except pipeline.GeorefError as error:
        raise GrantsError({"file": f"« {name} » : {error}"}) from None
    located = summary.by_status.get("DANS_QPV", 0) + summary.by_status.get("HORS_QPV", 0)
    if not summary.rows:
        raise GrantsError({"file": f"« {name} » : le fichier ne contient aucune ligne de bénéficiaire."})
    if not located:
        raise GrantsError(
            {
                "file": f"« {name} » : aucune des {summary.rows} lignes n'a pu être localisée (adresses "
                "introuvables, service de géocodage indisponible ou coordonnées illisibles). Rien n'a été "
                "enregistré."
            }
        )
    return BeneficiariesShare(rows=summary.rows, located=located, in_qpv=summary.in_qpv)


@transaction.atomic
def compute_beneficiaries_share(
    *, user: User, application: Application, version: int | None, uploaded: Any
) -> FinalReport:
    """La part des bénéficiaires habitant un QPV, calculée d'après le fichier (CSV ou XLSX) de
    leurs adresses ou coordonnées : seuls la part, le nombre de lignes localisées et non localisées
    sont gardés ; le fichier n'est jamais enregistré (copie temporaire effacée, même en cas
    d'erreur). ``BENEFICIARIES_MAX_ROWS`` lignes au plus."""
    application = _locked_application(application)
    report = _locked_report(application)
    _require(user, application, report, "edit")
    name = os.path.basename(getattr(uploaded, "name", "") or "fichier")[:200]
    extension = os.path.splitext(name)[1].lower()
    if extension not in (".csv", ".txt", ".xlsx"):
        raise GrantsError({"file": f"« {name} » : déposez un tableau CSV ou XLSX."})
    try:
        data = read_upload(uploaded, max_bytes=BENEFICIARIES_MAX_BYTES, too_large=" : découpez-le.")
    except UploadError as error:
        raise GrantsError({"file": f"« {name} » : {error}"}) from None
    workdir = Path(tempfile.mkdtemp(prefix="cdv-cr-"))
    try:
        path = workdir / f"beneficiaires{extension}"
        path.write_bytes(data)
        del data
        result = _locate_file(path, name, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if report is None:
        report = _new_report(application)
    elif version is not None and version != report.version:
        share = result.share
        if report.qpv_share != share:
            raise ConflictError(
                report, [("qpv_share", "part des bénéficiaires habitant un QPV (%)", report.qpv_share, share)]
            )
    report.qpv_share = result.share
    report.qpv_share_source = QpvShareSource.COMPUTED
    report.located_count = result.located
    report.unlocated_count = result.unlocated
    _bump(report)
    return report


@transaction.atomic
def forget_computed_share(*, user: User, application: Application) -> FinalReport:
    """Revenir à la part déclarée (nombre de bénéficiaires habitant un QPV saisi)."""
    application = _locked_application(application)
    report = _locked_report(application)
    _require(user, application, report, "edit")
    if report is None:
        raise GrantsError("Le compte-rendu n'est pas commencé.")
    report.qpv_share = _declared_share(report.beneficiaries_reached, report.qpv_beneficiaries)
    report.qpv_share_source = QpvShareSource.DECLARED if report.qpv_share is not None else ""
    report.located_count = report.unlocated_count = None
    _bump(report)
    return report


# ---------------------------------------------------------------------------------------------
# La transmission


def report_path(application: Application) -> str:
    call = application.call
    return reverse("www:report", args=[call.contract.slug, call.year, application.pk])


def funder_instructors(application: Application) -> list[User]:
    """Les instructeurs (actifs) de chaque financeur qui a voté un montant pour ce dossier."""
    partner_ids = {line.funder.partner_id for line in granted_lines(application)}
    return list(
        User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(
                contract_id=application.call.contract_id, role=Role.INSTRUCTOR, partner_id__in=partner_ids
            ).values("user_id"),
        ).order_by("email")
    )


@transaction.atomic
def submit_report(*, user: User, application: Application) -> FinalReport:
    """Transmet le compte-rendu aux financeurs : refusé (rien ne change) tant que quelque chose
    manque (``checklist``). Il n'est plus modifiable jusqu'à ce qu'un financeur demande des
    modifications ; les instructeurs de chaque financeur qui a voté un montant sont prévenus."""
    application = _locked_application(application)
    report = _locked_report(application)
    _require(user, application, report, "submit")
    missing = checklist(report)
    if missing:
        raise GrantsError(["Le compte-rendu n'est pas complet :", *missing])
    again = report.status == ReportStatus.CHANGES_REQUESTED
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = user
    _bump(report)
    verb = "transmis à nouveau" if again else "transmis"
    ApplicationEvent.objects.create(
        application=application,
        kind=EventKind.REPORT_SUBMITTED,
        actor=user,
        message=f"Compte-rendu {verb} : {ReportPath(report.path).label}.",
    )
    notify(
        kind=NotificationKind.REPORT_SUBMITTED,
        recipients=funder_instructors(application),
        contract=application.call.contract,
        text=(
            f"{application.partner} a {verb} le compte-rendu du dossier {application.number} "
            f"« {application.title} » : à examiner."
        ),
        path=report_path(application),
    )
    return report
