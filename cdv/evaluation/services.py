"""Écritures de l'évaluation : chaque fonction vérifie les droits, valide, écrit tout ou rien.

Les refus sont des ``EvaluationError`` (ValidationError) au message français, que les pages et
l'API affichent tels quels.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from cdv.commitments.models import Commitment
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from cdv.plan.models import Action, Objective

from . import abilities
from .enums import ChangeKind, EvaluationStatus, ItemKind, JudgementScale, QuestionnaireStatus
from .models import (
    Amendment,
    AmendmentChange,
    Answer,
    Evaluation,
    EvaluationQuestion,
    EvaluationReport,
    Judgement,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    Recommendation,
)

if TYPE_CHECKING:
    from django.db.models import Model

    from cdv.contracts.models import Contract
    from cdv.plan.models import Enjeu
    from cdv.territories.models import Territory
    from cdv.users.models import User


class EvaluationError(ValidationError):
    pass


def _refuse(message: str) -> NoReturn:
    raise EvaluationError(message)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        _refuse(message)


def _not_adopted(evaluation: Evaluation) -> None:
    if evaluation.is_adopted:
        _refuse("Cette évaluation est adoptée : elle est figée et ne se modifie plus.")


# --- Cadre -----------------------------------------------------------------------------------------


@transaction.atomic
def create_evaluation(
    *,
    user: User,
    contract: Contract,
    kind: str,
    title: str,
    period_start: int,
    period_end: int,
    method: str = "",
    is_demo: bool = False,
) -> Evaluation:
    _require(abilities.can_open_evaluation(user, contract), "Seul le pilote du contrat ouvre une évaluation.")
    if period_end < period_start:
        _refuse("La dernière année évaluée précède la première.")
    if period_start < contract.start_year or period_end > contract.end_year:
        _refuse(f"La période doit rester dans celle du contrat ({contract.start_year}-{contract.end_year}).")
    if Evaluation.objects.filter(contract=contract, kind=kind).exists():
        _refuse("Ce contrat a déjà une évaluation de cette nature.")
    return Evaluation.objects.create(
        contract=contract,
        kind=kind,
        title=title,
        period_start=period_start,
        period_end=period_end,
        method=method,
        is_demo=is_demo,
    )


def _check_plan_links(
    contract: Contract,
    enjeux: Iterable[Enjeu] = (),
    objectives: Iterable[Objective] = (),
    commitments: Iterable[Commitment] = (),
) -> None:
    if any(e.contract_id != contract.pk for e in enjeux):
        _refuse("Un des enjeux choisis n'appartient pas à ce contrat.")
    if any(o.enjeu.contract_id != contract.pk for o in objectives):
        _refuse("Un des objectifs choisis n'appartient pas à ce contrat.")
    if any(c.contract_id != contract.pk for c in commitments):
        _refuse("Un des engagements choisis n'appartient pas à ce contrat.")


@transaction.atomic
def add_question(
    *,
    user: User,
    evaluation: Evaluation,
    text: str,
    criterion: str,
    enjeux: Iterable[Enjeu] = (),
    objectives: Iterable[Objective] = (),
) -> EvaluationQuestion:
    _not_adopted(evaluation)
    _require(abilities.evaluation_abilities(user, evaluation)["manage"], "Seul le pilote pose les questions.")
    text = (text or "").strip()
    if not text:
        _refuse("La question évaluative est vide.")
    enjeux, objectives = list(enjeux), list(objectives)
    _check_plan_links(evaluation.contract, enjeux, objectives)
    number = (evaluation.questions.aggregate(n=Max("number"))["n"] or 0) + 1
    question = EvaluationQuestion.objects.create(
        evaluation=evaluation, number=number, text=text, criterion=criterion
    )
    question.enjeux.set(enjeux)
    question.objectives.set(objectives)
    return question


@transaction.atomic
def save_judgement(
    *, user: User, question: EvaluationQuestion, scale: int | str, text: str, is_demo: bool = False
) -> Judgement:
    evaluation = question.evaluation
    _not_adopted(evaluation)
    _require(
        abilities.evaluation_abilities(user, evaluation)["judge"],
        "Seuls les évaluateurs et le pilote écrivent les jugements.",
    )
    if int(scale) not in JudgementScale.values:
        _refuse("Choisissez une appréciation de l'échelle (1 à 4).")
    text = (text or "").strip()
    if not text:
        _refuse("Argumentez le jugement : le texte est vide.")
    judgement = Judgement.objects.filter(question=question).first() or Judgement(question=question)
    judgement.scale, judgement.text, judgement.author, judgement.is_demo = int(scale), text, user, is_demo
    judgement.save()
    return judgement


@transaction.atomic
def add_recommendation(
    *,
    user: User,
    evaluation: Evaluation,
    text: str,
    enjeux: Iterable[Enjeu] = (),
    objectives: Iterable[Objective] = (),
    commitments: Iterable[Commitment] = (),
    is_demo: bool = False,
) -> Recommendation:
    _not_adopted(evaluation)
    _require(
        abilities.evaluation_abilities(user, evaluation)["recommend"],
        "Seuls les évaluateurs et le pilote écrivent les recommandations.",
    )
    text = (text or "").strip()
    if not text:
        _refuse("La recommandation est vide.")
    enjeux, objectives, commitments = list(enjeux), list(objectives), list(commitments)
    _check_plan_links(evaluation.contract, enjeux, objectives, commitments)
    number = (evaluation.recommendations.aggregate(n=Max("number"))["n"] or 0) + 1
    recommendation = Recommendation.objects.create(
        evaluation=evaluation, number=number, text=text, author=user, is_demo=is_demo
    )
    recommendation.enjeux.set(enjeux)
    recommendation.objectives.set(objectives)
    recommendation.commitments.set(commitments)
    return recommendation


# --- Questionnaires des conseils citoyens ------------------------------------------------------------


@transaction.atomic
def create_questionnaire(
    *,
    user: User,
    evaluation: Evaluation,
    qpv: Territory,
    title: str,
    introduction: str = "",
    items: Iterable[tuple[str, str, EvaluationQuestion | None]] = (),
    is_demo: bool = False,
) -> Questionnaire:
    """``items`` : des (texte, ItemKind, question évaluative ou None)."""
    _not_adopted(evaluation)
    _require(
        abilities.evaluation_abilities(user, evaluation)["manage"], "Seul le pilote bâtit les questionnaires."
    )
    if not evaluation.contract.qpvs.filter(pk=qpv.pk).exists():
        _refuse(f"Le quartier {qpv.name} ne relève pas de ce contrat.")
    if Questionnaire.objects.filter(evaluation=evaluation, qpv=qpv).exists():
        _refuse(f"Le quartier {qpv.name} a déjà son questionnaire.")
    questionnaire = Questionnaire.objects.create(
        evaluation=evaluation, qpv=qpv, title=title, introduction=introduction, is_demo=is_demo
    )
    for number, (text, kind, question) in enumerate(items, start=1):
        if kind not in ItemKind.values:
            _refuse(f"Question {number} : type de réponse inconnu.")
        if question is not None and question.evaluation_id != evaluation.pk:
            _refuse(f"Question {number} : la question évaluative liée est celle d'une autre évaluation.")
        if not (text or "").strip():
            _refuse(f"Question {number} : l'intitulé est vide.")
        QuestionnaireItem.objects.create(
            questionnaire=questionnaire, number=number, text=text.strip(), kind=kind, question=question
        )
    return questionnaire


@transaction.atomic
def set_questionnaire_status(*, user: User, questionnaire: Questionnaire, status: str) -> Questionnaire:
    rights = abilities.questionnaire_abilities(user, questionnaire)
    if status == QuestionnaireStatus.OPEN:
        _require(rights["open"], "Seul le pilote ouvre un questionnaire en préparation.")
        if not questionnaire.items.exists():
            _refuse("Ce questionnaire n'a aucune question : ajoutez-en avant de l'ouvrir.")
    elif status == QuestionnaireStatus.CLOSED:
        _require(rights["close"], "Seul le pilote clôt un questionnaire ouvert.")
    else:
        _refuse("Changement d'état impossible.")
    questionnaire.status = status
    questionnaire.save(update_fields=["status"])
    return questionnaire


def respondent_key(questionnaire: Questionnaire, user: User) -> str:
    """Empreinte qui retrouve la réponse d'une personne sans dire qui elle est."""
    message = f"questionnaire:{questionnaire.pk}:personne:{user.pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _clean_answers(questionnaire: Questionnaire, answers: dict) -> list[tuple]:
    """``answers`` : {numéro de question: valeur} ; renvoie (item, note, texte) validés."""
    items = {item.number: item for item in questionnaire.items.all()}
    unknown = sorted(set(answers) - set(items))
    if unknown:
        _refuse(f"Question {unknown[0]} inconnue dans ce questionnaire.")
    cleaned = []
    for number, item in sorted(items.items()):
        value = answers.get(number)
        if value in (None, ""):
            continue
        if item.kind == ItemKind.SCALE:
            try:
                note = int(value)
            except (TypeError, ValueError):
                _refuse(f"Question {number} : choisissez une note de 1 à 5.")
            if not 1 <= note <= 5:
                _refuse(f"Question {number} : la note va de 1 à 5 (reçu : {note}).")
            cleaned.append((item, note, ""))
        else:
            text = str(value).strip()[:5000]
            if text:
                cleaned.append((item, None, text))
    if not cleaned:
        _refuse("La réponse est vide : répondez à au moins une question.")
    return cleaned


def _write_response(
    questionnaire: Questionnaire, key: str, cleaned: list[tuple], on_paper: bool, is_demo: bool = False
) -> QuestionnaireResponse:
    response, _ = QuestionnaireResponse.objects.get_or_create(
        questionnaire=questionnaire, respondent_key=key, defaults={"on_paper": on_paper, "is_demo": is_demo}
    )
    response.answers.all().delete()
    Answer.objects.bulk_create(
        [Answer(response=response, item=item, scale_value=note, text=text) for item, note, text in cleaned]
    )
    response.save(update_fields=["submitted_at"])
    return response


@transaction.atomic
def submit_answers(
    *, user: User, questionnaire: Questionnaire, answers: dict, is_demo: bool = False
) -> QuestionnaireResponse:
    """Un membre du conseil citoyen du quartier répond (ou corrige sa réponse) en ligne."""
    _require(
        abilities.questionnaire_abilities(user, questionnaire)["answer"],
        "Seuls les membres du conseil citoyen de ce quartier répondent, tant que le questionnaire "
        "est ouvert.",
    )
    cleaned = _clean_answers(questionnaire, answers)
    return _write_response(questionnaire, respondent_key(questionnaire, user), cleaned, False, is_demo)


@transaction.atomic
def enter_paper_response(
    *, user: User, questionnaire: Questionnaire, answers: dict, is_demo: bool = False
) -> QuestionnaireResponse:
    """Un animateur (le pilote) saisit un formulaire papier : une réponse de plus, anonyme."""
    _require(
        abilities.questionnaire_abilities(user, questionnaire)["enter_paper"],
        "Seul le pilote saisit les formulaires papier, tant que le questionnaire est ouvert.",
    )
    cleaned = _clean_answers(questionnaire, answers)
    return _write_response(questionnaire, "papier-" + secrets.token_hex(16), cleaned, True, is_demo)


# --- Rapport figé, adoption -----------------------------------------------------------------------


def _checksum(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _new_version(*, user: User, evaluation: Evaluation, adopted: bool) -> EvaluationReport:
    from .report import build_payload

    payload = build_payload(evaluation)
    version = (evaluation.reports.aggregate(n=Max("version"))["n"] or 0) + 1
    return EvaluationReport.objects.create(
        evaluation=evaluation,
        version=version,
        created_by=user,
        adopted=adopted,
        payload=payload,
        checksum=_checksum(payload),
    )


@transaction.atomic
def freeze_report(*, user: User, evaluation: Evaluation) -> EvaluationReport:
    """Une nouvelle version figée du rapport (contenu complet et empreinte), document de travail."""
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    _not_adopted(evaluation)
    _require(abilities.evaluation_abilities(user, evaluation)["freeze"], "Seul le pilote fige le rapport.")
    return _new_version(user=user, evaluation=evaluation, adopted=False)


@transaction.atomic
def adopt(
    *, user: User, evaluation: Evaluation, meeting: Meeting | None, confirmed: bool = False
) -> EvaluationReport:
    """Le COPIL adopte : l'évaluation passe « adoptée » à la date de ce comité de pilotage
    (``meeting``, un COPIL du contrat, obligatoire), puis sa version adoptée est figée ; plus rien
    ne bouge ensuite (questionnaires clos, jugements et recommandations en lecture seule).
    Irréversible : seulement sur confirmation explicite (``confirmed=True``)."""
    original, evaluation = evaluation, Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    _not_adopted(evaluation)
    _require(
        abilities.evaluation_abilities(user, evaluation)["adopt"], "Seul le pilote enregistre l'adoption."
    )
    if meeting is not None:  # relue en base : sa date et son contrat ne viennent pas de l'appelant
        meeting = Meeting.objects.filter(pk=meeting.pk).first()
    if meeting is None:
        _refuse("Choisissez le comité de pilotage (COPIL) qui adopte l'évaluation.")
    if meeting.contract_id != evaluation.contract_id:
        _refuse("L'instance choisie n'est pas une instance de ce contrat.")
    if meeting.kind != MeetingKind.COPIL:
        _refuse("L'instance choisie n'est pas un comité de pilotage (COPIL) : seul le COPIL adopte.")
    if confirmed is not True:
        _refuse("Adopter l'évaluation est irréversible : une confirmation explicite est requise.")
    evaluation.status = EvaluationStatus.ADOPTED
    evaluation.adopted_on = meeting.date
    evaluation.adopting_meeting = meeting
    evaluation.save(update_fields=["status", "adopted_on", "adopting_meeting"])
    evaluation.questionnaires.filter(status=QuestionnaireStatus.OPEN).update(
        status=QuestionnaireStatus.CLOSED
    )
    report = _new_version(user=user, evaluation=evaluation, adopted=True)
    original.refresh_from_db()  # l'objet de l'appelant dit lui aussi « adoptée »
    return report


# --- Avenants --------------------------------------------------------------------------------------

AMENDABLE = {
    "objective": (Objective, ["number", "title", "description"]),
    "action": (
        Action,
        ["code", "title", "summary_plain", "description", "status", "scope", "start_on", "end_on"],
    ),
    "commitment": (Commitment, ["title", "summary_plain", "description", "target", "deadline", "status"]),
}


def _state(obj: Model, fields: Iterable[str]) -> dict:
    state = {}
    for name in fields:
        value = getattr(obj, name)
        state[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return state


def _in_contract(model: str, obj: Any, contract: Contract) -> bool:
    if model == "objective":
        return obj.enjeu.contract_id == contract.pk
    if model == "action":
        return obj.objective.enjeu.contract_id == contract.pk
    return obj.contract_id == contract.pk


@transaction.atomic
def create_amendment(
    *,
    user: User,
    contract: Contract,
    signed_on: datetime.date,
    reason: str,
    changes: list[dict],
    evaluation: Evaluation | None = None,
    is_demo: bool = False,
) -> Amendment:
    """Un avenant et ses changements, tout ou rien.

    ``changes`` : des dict ``{"model": "objective"|"action"|"commitment", "object": instance ou None,
    "data": {champ: valeur}}`` ; ``object`` None crée l'objet (``data`` contient alors aussi ses
    liens : ``enjeu`` pour un objectif, ``objective`` pour une action, ``partner`` et ``objective``
    pour un engagement). L'état d'avant et d'après de chaque objet est gardé dans l'avenant, et
    l'historique de l'objet porte le motif.
    """
    _require(abilities.can_amend(user, contract), "Seul le pilote enregistre un avenant.")
    reason = (reason or "").strip()
    if not reason:
        _refuse("Donnez le motif de l'avenant.")
    if not changes:
        _refuse("Un avenant change au moins un objectif, une action ou un engagement.")
    if evaluation is not None and evaluation.contract_id != contract.pk:
        _refuse("L'évaluation citée est celle d'un autre contrat.")
    number = (contract.amendments.aggregate(n=Max("number"))["n"] or 0) + 1
    amendment = Amendment.objects.create(
        contract=contract,
        number=number,
        signed_on=signed_on,
        reason=reason,
        evaluation=evaluation,
        created_by=user,
        is_demo=is_demo,
    )
    for index, change in enumerate(changes, start=1):
        model = change.get("model")
        if model not in AMENDABLE:
            _refuse(f"Changement {index} : type d'objet inconnu « {model} ».")
        cls, fields = AMENDABLE[model]
        data = dict(change.get("data") or {})
        unknown = set(data) - set(fields) - {"enjeu", "objective", "partner"}
        if unknown:
            _refuse(f"Changement {index} : champ non modifiable par avenant : {', '.join(sorted(unknown))}.")
        obj = change.get("object")
        if obj is None:
            obj, kind, before = (
                cls(**({"contract": contract} if model == "commitment" else {})),
                ChangeKind.CREATED,
                None,
            )
        else:
            obj = cls.objects.select_for_update().get(pk=obj.pk)
            if not _in_contract(model, obj, contract):
                _refuse(f"Changement {index} : cet objet n'appartient pas à ce contrat.")
            kind, before = ChangeKind.CHANGED, _state(obj, fields)
        for name, value in data.items():
            setattr(obj, name, value)
        if not _in_contract(model, obj, contract):
            _refuse(f"Changement {index} : cet objet n'appartient pas à ce contrat.")
        try:
            obj.full_clean(exclude=["version"] if model == "commitment" else None)
        except ValidationError as error:
            details = "; ".join(f"{k} : {' '.join(v)}" for k, v in error.message_dict.items())
            _refuse(f"Changement {index} : {details}")
        obj._change_reason = f"Avenant n° {number} : {reason}"[:100]
        try:
            obj.save()
        except IntegrityError:
            _refuse(f"Changement {index} : un objet identique existe déjà (numéro ou code en double).")
        AmendmentChange.objects.create(
            amendment=amendment,
            kind=kind,
            model=model,
            object_id=obj.pk,
            label=str(obj)[:300],
            before=before,
            after=_state(obj, fields),
        )
    return amendment
