"""L'instruction des dossiers de l'appel à projets : la ligne de chaque financeur (état, montant
proposé, avis, commentaire), les avis de quartier, la grille de notation et les demandes de
compléments.

Chaque fonction revérifie les droits (``cdv/grants/abilities.py``) et lève ``PermissionDenied``,
``GrantsError`` (refus métier, rien n'a changé) ou ``ConflictError`` (verrou optimiste : chaque
champ qui diffère est listé, rien n'est perdu). Chaque acte laisse un événement dans l'historique
du dossier.

Montant proposé : positif ou nul, au plus le montant demandé à ce financeur pour la première année
(un financeur ne propose pas plus que ce qu'on lui demande) et jamais plus que son enveloppe.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from cdv.core.figures import french_number
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind
from cdv.territories.models import Territory
from cdv.users.models import User

from ..abilities import application_abilities, funder_line_abilities, opinion_kinds
from ..enums import (
    INSTRUCTION_LINE_STATUSES,
    ApplicationStatus,
    EventKind,
    LineStatus,
    Opinion,
    OpinionKind,
)
from ..errors import GrantsError, check_version
from ..models import (
    Application,
    ApplicationEvent,
    CallFunder,
    FunderLine,
    InfoRequest,
    QuartierOpinion,
    Score,
    ScoringCriterion,
)

MAX_QUESTIONS_LENGTH = 10_000


def _line_for_update(line: FunderLine) -> FunderLine:
    return (
        FunderLine.objects.select_for_update(of=("self",))
        .select_related("application__call", "funder__partner")
        .get(pk=line.pk)
    )


def _euros(value: Decimal) -> str:
    return french_number(value, "€")


@transaction.atomic
def update_funder_line(
    *,
    user: User,
    line: FunderLine,
    version: int | None,
    status: str,
    proposed_amount: Decimal | None,
    opinion: str,
    comment: str,
) -> FunderLine:
    """L'instructeur d'un financeur enregistre sa ligne : état, montant proposé, avis, commentaire."""
    current = _line_for_update(line)
    if not funder_line_abilities(user, current)["instruct"]:
        raise PermissionDenied("Seuls les instructeurs de ce financeur écrivent sa ligne.")
    comment = (comment or "").strip()
    opinion = opinion or ""
    errors: dict[str, str] = {}
    if status not in INSTRUCTION_LINE_STATUSES:
        errors["status"] = "État : choisissez un état d'instruction de la liste."
    if opinion and opinion not in Opinion.values:
        errors["opinion"] = "Avis du financeur : choisissez un avis de la liste."
    if proposed_amount is not None:
        if proposed_amount < 0:
            errors["proposed_amount"] = "Montant proposé : un montant négatif n'a pas de sens."
        elif proposed_amount > current.requested_amount:
            errors["proposed_amount"] = (
                f"Montant proposé : {_euros(proposed_amount)} dépasse le montant demandé à ce "
                f"financeur ({_euros(current.requested_amount)})."
            )
        elif proposed_amount > current.funder.envelope:
            errors["proposed_amount"] = (
                f"Montant proposé : {_euros(proposed_amount)} dépasse l'enveloppe du financeur "
                f"({_euros(current.funder.envelope)})."
            )
    if errors:
        raise GrantsError(errors)
    mine = {"status": status, "proposed_amount": proposed_amount, "opinion": opinion, "comment": comment}
    check_version(current, version, mine)
    changed = [field for field, value in mine.items() if getattr(current, field) != value]
    if not changed:
        return current
    old_status = current.status
    for field, value in mine.items():
        setattr(current, field, value)
    current.version += 1
    current.updated_by = user
    current.save()
    message = f"Ligne de {current.funder.partner} : "
    if old_status != status:
        message += f"état « {LineStatus(status).label} »."
    else:
        message += "instruction mise à jour."
    ApplicationEvent.objects.create(
        application=current.application,
        kind=EventKind.LINE_UPDATED,
        actor=user,
        funder=current.funder,
        message=message,
    )
    return current


@transaction.atomic
def give_quartier_opinion(
    *,
    user: User,
    application: Application,
    qpv: Territory,
    kind: str,
    opinion: str,
    comment: str,
    version: int | None,
) -> QuartierOpinion:
    """Le correspondant de quartier ou le délégué du préfet donne (ou reprend) son avis pour un
    quartier qu'il couvre et que le dossier concerne. ``version`` : celle de l'avis chargé dans le
    formulaire, 0 s'il n'y en avait pas (un avis donné entre-temps par un autre fait alors conflit),
    None pour ne pas vérifier."""
    current = (
        Application.objects.select_for_update(of=("self",)).select_related("call").get(pk=application.pk)
    )
    if not application_abilities(user, current)["give_opinion"]:
        raise PermissionDenied("Vous ne donnez pas d'avis de quartier sur ce dossier.")
    if kind not in opinion_kinds(user, current.call.contract_id, qpv.pk):
        raise PermissionDenied("Vous ne donnez pas cet avis pour ce quartier.")
    if not current.concerns(qpv.pk):
        raise GrantsError({"qpv": "Quartier : ce dossier ne concerne pas ce quartier."})
    if opinion not in Opinion.values:
        raise GrantsError({"opinion": "Avis : choisissez un avis de la liste."})
    comment = (comment or "").strip()
    existing = (
        QuartierOpinion.objects.select_for_update().filter(application=current, qpv=qpv, kind=kind).first()
    )
    if existing is None:
        existing = QuartierOpinion.objects.create(
            application=current, qpv=qpv, kind=kind, opinion=opinion, comment=comment, author=user
        )
    else:
        check_version(existing, version, {"opinion": opinion, "comment": comment})
        if existing.opinion == opinion and existing.comment == comment:
            return existing
        existing.opinion = opinion
        existing.comment = comment
        existing.author = user
        existing.version += 1
        existing.save()
    ApplicationEvent.objects.create(
        application=current,
        kind=EventKind.OPINION,
        actor=user,
        message=f"{OpinionKind(kind).label} ({qpv.name}) : avis donné.",
    )
    return existing


@transaction.atomic
def save_scores(
    *,
    user: User,
    application: Application,
    scores: dict[ScoringCriterion, tuple[int | None, str]],
) -> list[Score]:
    """Les notes de ``user`` sur la grille de l'appel : {critère: (note, commentaire)} ; une note
    vide retire la note de ce critère."""
    current = (
        Application.objects.select_for_update(of=("self",)).select_related("call").get(pk=application.pk)
    )
    if not application_abilities(user, current)["score"]:
        raise PermissionDenied("Vous ne notez pas ce dossier.")
    criteria = {c.pk: c for c in ScoringCriterion.objects.filter(call=current.call)}
    errors: dict[str, str] = {}
    for criterion, (value, _comment) in scores.items():
        known = criteria.get(criterion.pk)
        if known is None:
            raise GrantsError("Ce critère n'appartient pas à la grille de cet appel.")
        if value is not None and not 0 <= value <= known.scale_max:
            errors[f"criterion_{known.pk}"] = (
                f"{known.label} : la note va de 0 à {known.scale_max} ({value} donné)."
            )
    if errors:
        raise GrantsError(errors)
    saved = []
    existing = {s.criterion_id: s for s in Score.objects.filter(application=current, author=user)}
    changed = False
    for criterion, (value, comment) in scores.items():
        comment = (comment or "").strip()
        score = existing.get(criterion.pk)
        if value is None:
            if score is not None:
                score.delete()
                changed = True
            continue
        if score is None:
            score = Score.objects.create(
                application=current, criterion=criterion, author=user, value=value, comment=comment
            )
            changed = True
        elif score.value != value or score.comment != comment:
            score.value, score.comment = value, comment
            score.save()
            changed = True
        saved.append(score)
    if changed:
        ApplicationEvent.objects.create(
            application=current, kind=EventKind.SCORED, actor=user, message="Grille de notation remplie."
        )
    return saved


@transaction.atomic
def request_information(
    *,
    user: User,
    application: Application,
    funder: CallFunder | None,
    questions: str,
) -> InfoRequest:
    """L'instructeur rend le dossier à l'association avec ses questions (au nom de son financeur) :
    le dossier passe en « Compléments demandés », l'association est prévenue par courriel."""
    current = (
        Application.objects.select_for_update(of=("self",))
        .select_related("call__contract")
        .get(pk=application.pk)
    )
    rights = application_abilities(user, current)
    if not rights["request_info"]:
        raise PermissionDenied("Vous ne pouvez pas demander de compléments sur ce dossier.")
    if funder is not None:
        line = (
            FunderLine.objects.filter(application=current, funder=funder)
            .select_related("application__call", "funder")
            .first()
        )
        if line is None:
            raise GrantsError({"funder": "Financeur : ce dossier ne sollicite pas ce financeur."})
        if not funder_line_abilities(user, line)["instruct"]:
            raise PermissionDenied("Vous n'instruisez pas la ligne de ce financeur.")
    elif not _is_pilot_request(user, current):
        raise GrantsError({"funder": "Financeur : dites au nom de quel financeur vous posez ces questions."})
    questions = (questions or "").strip()
    if not questions:
        raise GrantsError({"questions": "Questions : écrivez ce que l'association doit préciser."})
    if len(questions) > MAX_QUESTIONS_LENGTH:
        raise GrantsError({"questions": f"Questions : {MAX_QUESTIONS_LENGTH} caractères au plus."})
    request = InfoRequest.objects.create(
        application=current, funder=funder, questions=questions, asked_by=user
    )
    current.status = ApplicationStatus.RETURNED
    current.version += 1
    current.save(update_fields=["status", "version", "updated_at"])
    who = f" au nom de {funder.partner}" if funder is not None else ""
    ApplicationEvent.objects.create(
        application=current,
        kind=EventKind.INFO_REQUESTED,
        actor=user,
        funder=funder,
        message=f"Compléments demandés{who} :\n{questions}",
    )
    contract = current.call.contract
    notifications.notify(
        kind=NotificationKind.INFO_REQUESTED,
        recipients=list(notifications.applicant_referents(current.call.contract_id, [current.partner_id])),
        contract=contract,
        text=(
            f"Des compléments sont demandés sur votre dossier {current.number} « {current.title} » : "
            "répondez aux questions puis déposez-le à nouveau."
        ),
        path=reverse("www:application", args=[contract.slug, current.call.year, current.pk]),
    )
    return request


def _is_pilot_request(user: User, application: Application) -> bool:
    """Sans financeur nommé, seul le pilote (qui mène l'appel) pose des questions."""
    from ..abilities import call_abilities

    return call_abilities(user, application.call)["edit"]
