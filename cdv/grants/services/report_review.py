"""L'examen du compte-rendu financier par les financeurs, et la levée d'un blocage par le pilote.

Règle de l'examen (voir docs/aap/examen-comptes-rendus.md) :

- l'instructeur de chaque financeur qui a voté un montant examine le compte-rendu transmis : il
  l'accepte, ou demande des modifications avec un commentaire (obligatoire) ; chaque décision est
  une ligne ``ReportReview`` (l'historique, jamais effacé) ;
- dès qu'un financeur demande des modifications, le compte-rendu passe « À modifier » et revient à
  l'association ;
- il est « Accepté » quand chaque financeur qui a voté un montant l'a accepté, décision la plus
  récente **depuis sa dernière transmission** (``FinalReport.submitted_at``) : après une nouvelle
  transmission, chaque financeur l'examine à nouveau ; les acceptations d'avant restent dans
  l'historique.

Deux instructeurs qui examinent en même temps : la ligne du compte-rendu est verrouillée
(``select_for_update``), le second relit l'examen du premier avant de calculer l'état.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse

from cdv.notifications.enums import NotificationKind
from cdv.notifications.services import applicant_referents, link, notify
from cdv.partners.models import Partner
from cdv.users.models import User

from ..abilities import follow_up_call_abilities, funder_manager, report_abilities
from ..blocking import missing_reports
from ..enums import EventKind, ReportStatus, ReviewDecision
from ..errors import GrantsError
from ..followup import granted_lines
from ..models import (
    Application,
    ApplicationEvent,
    Call,
    CallFunder,
    FinalReport,
    FunderLine,
    ReportBlockLift,
    ReportReview,
)

MAX_COMMENT_LENGTH = 10_000


def current_reviews(
    report: FinalReport, reviews: list[ReportReview] | None = None
) -> dict[int, ReportReview]:
    """{financeur de l'appel: son examen le plus récent depuis la dernière transmission}.
    ``reviews`` : les examens du compte-rendu (sinon lus), dans l'ordre chronologique."""
    reviews = list(report.reviews.all()) if reviews is None else reviews
    latest: dict[int, ReportReview] = {}
    for review in sorted(reviews, key=lambda r: (r.at, r.pk)):
        if report.submitted_at is None or review.at >= report.submitted_at:
            latest[review.funder_id] = review
    return latest


def status_after_reviews(
    report: FinalReport, funder_ids: set[int], reviews: list[ReportReview] | None = None
) -> str:
    """L'état du compte-rendu transmis qui découle des examens du tour en cours."""
    latest = current_reviews(report, reviews)
    decisions = [latest[f].decision for f in funder_ids if f in latest]
    if ReviewDecision.CHANGES_REQUESTED in decisions:
        return ReportStatus.CHANGES_REQUESTED
    if funder_ids and len(decisions) == len(funder_ids):
        return ReportStatus.ACCEPTED
    return ReportStatus.SUBMITTED


def reviewable_funders(user: User, application: Application) -> list[CallFunder]:
    """Les financeurs au nom desquels ``user`` examine le compte-rendu de ce dossier."""
    contract_id = application.call.contract_id
    return [
        line.funder
        for line in granted_lines(application)
        if funder_manager(user, contract_id, line.funder.partner_id)
    ]


def _report_path(application) -> str:
    call = application.call
    return reverse("www:report", args=[call.contract.slug, call.year, application.pk])


@transaction.atomic
def review_report(
    *,
    user: User,
    report: FinalReport,
    funder: CallFunder,
    decision: str,
    comment: str,
    version: int | None = None,
) -> ReportReview:
    """L'instructeur de ``funder`` accepte le compte-rendu ou demande des modifications.
    ``version`` : celle du compte-rendu lu par l'instructeur (s'il a changé depuis, rien n'est
    enregistré)."""
    current = FinalReport.objects.select_for_update().get(pk=report.pk)
    # Les droits lisent les lignes et les quartiers du dossier, relus sous le verrou.
    application = (
        Application.objects.select_related("call__contract", "partner")
        .prefetch_related(
            Prefetch("funder_lines", FunderLine.objects.select_related("funder__partner")), "qpvs"
        )
        .get(pk=current.application_id)
    )
    current.application = application
    application_lines = list(application.funder_lines.all())
    rights = report_abilities(user, application, current)
    if not rights["review"]:
        if current.status != ReportStatus.SUBMITTED and rights["view"]:
            raise GrantsError(
                "Le compte-rendu n'est plus à examiner : il est maintenant « "
                f"{current.get_status_display().lower()} » (un autre financeur l'a examiné entre-temps, "
                "ou l'association ne l'a pas encore transmis de nouveau). Rien n'a été enregistré."
            )
        raise PermissionDenied(
            "Seuls les instructeurs d'un financeur qui a voté un montant examinent ce compte-rendu."
        )
    if funder.pk not in {f.pk for f in reviewable_funders(user, application)}:
        raise PermissionDenied("Vous n'examinez pas ce compte-rendu au nom de ce financeur.")
    if version is not None and version != current.version:
        raise GrantsError(
            "Le compte-rendu a été modifié depuis que vous l'avez ouvert : relisez-le avant de "
            "l'examiner. Rien n'a été enregistré."
        )
    errors: dict[str, str] = {}
    comment = (comment or "").strip()
    if decision not in ReviewDecision.values:
        errors["decision"] = "Décision : choisissez « accepter » ou « demander des modifications »."
    elif decision == ReviewDecision.CHANGES_REQUESTED and not comment:
        errors["comment"] = "Commentaire : dites à l'association ce qu'elle doit modifier."
    if len(comment) > MAX_COMMENT_LENGTH:
        errors["comment"] = f"Commentaire : {MAX_COMMENT_LENGTH} caractères au plus."
    if errors:
        raise GrantsError(errors)
    funder = next(line.funder for line in application_lines if line.funder_id == funder.pk)
    review = ReportReview.objects.create(
        report=current, funder=funder, decision=decision, comment=comment, reviewer=user
    )
    funder_ids = {line.funder_id for line in granted_lines(application)}
    status = status_after_reviews(current, funder_ids)
    if status != current.status:
        current.status = status
        current.version += 1
        current.save(update_fields=["status", "version", "updated_at"])
    label = ReviewDecision(decision).label.lower()
    message = f"{funder.partner} : {label}."
    if comment:
        message += f" « {comment} »"
    if status == ReportStatus.ACCEPTED:
        message += " Le compte-rendu est accepté par tous les financeurs."
    elif status == ReportStatus.CHANGES_REQUESTED:
        message += " Le compte-rendu est renvoyé à l'association."
    ApplicationEvent.objects.create(
        application=application, kind=EventKind.REPORT_REVIEWED, actor=user, funder=funder, message=message
    )
    _notify_reviewed(application, current, funder, decision, comment, status)
    return review


def _notify_reviewed(application, report, funder, decision, comment, status) -> None:
    call = application.call
    path = _report_path(application)
    if decision == ReviewDecision.ACCEPTED:
        text = f"{funder.partner} a accepté le compte-rendu du projet « {application.title} »."
    else:
        text = (
            f"{funder.partner} demande des modifications au compte-rendu du projet "
            f"« {application.title} » : {comment}"
        )
    outcome = {
        ReportStatus.ACCEPTED: "Le compte-rendu est accepté par tous les financeurs : il est justifié.",
        ReportStatus.CHANGES_REQUESTED: (
            "Le compte-rendu vous revient : modifiez-le, puis transmettez-le de nouveau ; chaque "
            "financeur l'examinera alors de nouveau."
        ),
    }.get(status, "Les autres financeurs ne l'ont pas encore tous examiné.")
    body = "\n".join(
        [
            "Bonjour,",
            "",
            f"Le compte-rendu financier du projet « {application.title} » (dossier "
            f"{application.number or '—'}, appel à projets {call.year}) a été examiné par "
            f"{funder.partner} : {ReviewDecision(decision).label.lower()}.",
            *([f"Commentaire : {comment}"] if comment else []),
            "",
            outcome,
            "",
            f"Le compte-rendu : {link(path)}",
        ]
    )
    notify(
        kind=NotificationKind.REPORT_REVIEWED,
        recipients=list(applicant_referents(call.contract_id, [application.partner_id])),
        contract=call.contract,
        text=text,
        path=path,
        subject=f"Compte-rendu du dossier {application.number or application.title} : "
        f"{ReviewDecision(decision).label.lower()}",
        body=body,
    )


# ---------------------------------------------------------------------------------------------
# Levée d'un blocage


@transaction.atomic
def lift_block(
    *, user: User, call: Call, partner: Partner, reason: str, today: datetime.date | None = None
) -> ReportBlockLift:
    """Le pilote permet à ``partner`` de déposer sur ``call`` malgré un compte-rendu manquant ou
    refusé, avec une raison ; l'historique de chaque dossier en cause le garde."""
    locked = Call.objects.select_for_update().select_related("contract").get(pk=call.pk)
    if not follow_up_call_abilities(user, locked)["lift_blocks"]:
        raise PermissionDenied("Seul le pilote du contrat lève un blocage, sur un appel publié.")
    reason = (reason or "").strip()
    if not reason:
        raise GrantsError(
            {"reason": "Raison : dites pourquoi le blocage est levé (elle reste dans l'historique)."}
        )
    if len(reason) > MAX_COMMENT_LENGTH:
        raise GrantsError({"reason": f"Raison : {MAX_COMMENT_LENGTH} caractères au plus."})
    if ReportBlockLift.objects.filter(call=locked, partner=partner).exists():
        raise GrantsError(f"Le blocage de {partner} est déjà levé pour cet appel.")
    missing = missing_reports(partner, locked, today=today)
    if not missing:
        raise GrantsError(f"{partner} n'est pas bloquée pour cet appel : il n'y a rien à lever.")
    lift = ReportBlockLift.objects.create(call=locked, partner=partner, reason=reason, lifted_by=user)
    ApplicationEvent.objects.bulk_create(
        ApplicationEvent(
            application=item.application,
            kind=EventKind.BLOCK_LIFTED,
            actor=user,
            message=(
                f"Compte-rendu dû le {item.due_date:%d/%m/%Y} {item.status_label} : l'association peut "
                f"néanmoins déposer à l'appel {locked.year}. Raison : {reason}"
            ),
        )
        for item in missing
    )
    return lift
