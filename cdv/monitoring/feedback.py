"""Retours d'expérience : qui dépose, modifie, modère et lit (droits), et les écritures (services).

Tout membre du contrat qui agit au nom d'un partenaire (référent, lecteur, membre d'un conseil
citoyen) et tout pilote peut déposer un retour ; il attend la modération d'un pilote avant d'être
public. Son auteur le modifie tant qu'il attend. Le public ne voit que les retours publiés, et
jamais le nom d'une personne : il voit l'organisation au nom de laquelle le retour a été déposé.

Chaque service vérifie les droits et lève une erreur au message français ; rien n'est écrit en cas
d'erreur.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import PUBLIC_STATUSES
from cdv.core.actors import person_or_none
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind

from .abilities import (  # noqa: F401 (les droits d'un retour, relus ici par leurs anciens noms)
    POSTING_ROLES,
    can_moderate,
    can_post_feedback,
    feedback_abilities,
    posting_partner_ids,
)
from .enums import FeedbackKind, Moderation
from .models import Feedback

TEXT_MAX = 4000
CONTRACT_MEMBER_LABEL = "un membre du contrat"


class FeedbackError(ValidationError):
    """Retour refusé par une règle métier (donnée incohérente, état qui ne le permet pas)."""


def _refuse(message):
    raise PermissionDenied(message)


# --- Droits ------------------------------------------------------------------------------------


def visible_feedback(user, queryset, contract):
    """Retours d'un contrat que ``user`` peut lire : tous pour un pilote, publiés et les siens sinon."""
    queryset = queryset.filter(contract=contract)
    if can_moderate(user, contract):
        return queryset
    if user.is_authenticated:
        return queryset.filter(Q(moderation=Moderation.PUBLISHED) | Q(author=user))
    return queryset.filter(moderation=Moderation.PUBLISHED)


def published_feedback(queryset, contract):
    """Ce que tout le monde voit, y compris les membres : les retours publiés du contrat."""
    return queryset.filter(contract=contract).published()


def public_attribution(feedback) -> str:
    """Au nom de qui le retour est affiché publiquement : une organisation, jamais une personne.

    Un membre de conseil citoyen n'est jamais nommé : on affiche son conseil citoyen.
    """
    partner = feedback.partner
    if partner is not None:
        return partner.name
    return CONTRACT_MEMBER_LABEL


def public_commitments(feedback_or_decision):
    """Engagements liés qui sont publics (confirmés et suivants), lus sur le préchargement."""
    return [c for c in feedback_or_decision.commitments.all() if c.status in PUBLIC_STATUSES]


# --- Validation --------------------------------------------------------------------------------


def _ids(objects) -> list[int]:
    return [o.pk for o in objects]


def validate_links(contract, *, qpvs=(), enjeu=None, actions=(), commitments=(), indicators=()) -> None:
    """Quartiers, enjeu, actions, engagements et indicateurs doivent relever du contrat."""
    from cdv.plan.models import Action

    errors = {}
    if qpvs:
        allowed = set(contract.qpvs.filter(pk__in=_ids(qpvs)).values_list("pk", flat=True))
        outside = [q for q in qpvs if q.pk not in allowed]
        if outside:
            errors["qpvs"] = (
                "Ces quartiers ne relèvent pas du contrat : " + ", ".join(map(str, outside)) + "."
            )
    if enjeu is not None and enjeu.contract_id != contract.pk:
        errors["enjeu"] = "Cet enjeu relève d'un autre contrat."
    if actions:
        allowed = set(
            Action.objects.for_contract(contract).filter(pk__in=_ids(actions)).values_list("pk", flat=True)
        )
        if any(a.pk not in allowed for a in actions):
            errors["actions"] = "Certaines actions choisies relèvent d'un autre contrat."
    if any(c.contract_id != contract.pk for c in commitments):
        errors["commitments"] = "Certains engagements choisis relèvent d'un autre contrat."
    if any(i.contract_id != contract.pk for i in indicators):
        errors["indicators"] = "Certains indicateurs choisis relèvent d'un autre contrat."
    if errors:
        raise FeedbackError(errors)


def _validate_content(kind, text) -> str:
    errors = {}
    if kind not in FeedbackKind.values:
        errors["kind"] = "Choisissez la nature du retour : réussite, difficulté, besoin ou proposition."
    text = (text or "").strip()
    if not text:
        errors["text"] = "Écrivez votre retour."
    elif len(text) > TEXT_MAX:
        errors["text"] = f"Votre retour est trop long ({len(text)} caractères ; {TEXT_MAX} au plus)."
    if errors:
        raise FeedbackError(errors)
    return text


def _posting_partner(user, contract, partner):
    """Le partenaire au nom duquel on dépose : l'un des siens ; aucun possible pour un pilote."""
    allowed = posting_partner_ids(user, contract)
    if partner is not None:
        if partner.pk not in allowed:
            raise FeedbackError({"partner": "Vous ne pouvez pas déposer un retour au nom de ce partenaire."})
        return partner
    if can_moderate(user, contract):
        return None
    if len(allowed) == 1:
        from cdv.partners.models import Partner

        return Partner.objects.get(pk=allowed[0])
    raise FeedbackError({"partner": "Choisissez au nom de quel partenaire vous déposez ce retour."})


def _set_links(feedback, *, qpvs, actions, commitments, indicators):
    feedback.qpvs.set(list(qpvs))
    feedback.actions.set(list(actions))
    feedback.commitments.set(list(commitments))
    feedback.indicators.set(list(indicators))


# --- Services ----------------------------------------------------------------------------------


@transaction.atomic
def post_feedback(
    *,
    user,
    contract,
    kind,
    text,
    partner=None,
    qpvs=(),
    enjeu=None,
    actions=(),
    commitments=(),
    indicators=(),
) -> Feedback:
    """Dépose un retour, en attente de modération."""
    if not can_post_feedback(user, contract):
        _refuse("Seuls les membres du contrat peuvent déposer un retour d'expérience.")
    qpvs, actions, commitments, indicators = list(qpvs), list(actions), list(commitments), list(indicators)
    text = _validate_content(kind, text)
    validate_links(
        contract, qpvs=qpvs, enjeu=enjeu, actions=actions, commitments=commitments, indicators=indicators
    )
    partner = _posting_partner(user, contract, partner)
    feedback = Feedback.objects.create(
        contract=contract,
        author=person_or_none(user),
        partner=partner,
        kind=kind,
        text=text,
        enjeu=enjeu,
        moderation=Moderation.PENDING,
    )
    _set_links(feedback, qpvs=qpvs, actions=actions, commitments=commitments, indicators=indicators)
    return feedback


@transaction.atomic
def update_feedback(
    *, user, feedback, kind, text, qpvs=(), enjeu=None, actions=(), commitments=(), indicators=()
) -> Feedback:
    """L'auteur modifie son retour tant qu'il attend la modération."""
    current = Feedback.objects.select_for_update().select_related("contract").get(pk=feedback.pk)
    rights = feedback_abilities(user, current)
    if not rights["edit"]:
        if not rights["view"]:
            _refuse("Ce retour n'est pas le vôtre.")
        _refuse("Seul son auteur modifie un retour, et seulement tant qu'il attend la modération.")
    qpvs, actions, commitments, indicators = list(qpvs), list(actions), list(commitments), list(indicators)
    current.text = _validate_content(kind, text)
    current.kind = kind
    validate_links(
        current.contract,
        qpvs=qpvs,
        enjeu=enjeu,
        actions=actions,
        commitments=commitments,
        indicators=indicators,
    )
    current.enjeu = enjeu
    current.save()
    _set_links(current, qpvs=qpvs, actions=actions, commitments=commitments, indicators=indicators)
    return current


@transaction.atomic
def publish_feedback(*, user, feedback, text: str | None = None) -> Feedback:
    """Publie un retour en attente. ``text`` : le texte à publier, retouché par le pilote (noms,
    adresses retirés) ; s'il diffère du texte déposé, celui-ci est gardé dans ``original_text``,
    avec qui l'a retouché et quand (et l'historique garde chaque version)."""
    current = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if not can_moderate(user, current.contract_id):
        _refuse("Seul un pilote du contrat modère les retours d'expérience.")
    if not feedback_abilities(user, current)["publish"]:
        raise FeedbackError("Seul un retour en attente de modération peut être publié.")
    if text is not None:
        text = text.strip()
        if not text:
            raise FeedbackError({"text": "Le texte à publier est vide : retouchez-le sans l'effacer."})
        if len(text) > TEXT_MAX:
            raise FeedbackError(
                {"text": f"Le texte à publier est trop long ({len(text)} caractères ; {TEXT_MAX} au plus)."}
            )
        if text != current.text:
            current.original_text = current.original_text or current.text
            current.text = text
            current.redacted_by = person_or_none(user)
            current.redacted_at = timezone.now()
    current.moderation = Moderation.PUBLISHED
    current.moderation_comment = ""
    current.moderated_by = person_or_none(user)
    current.moderated_at = timezone.now()
    current.save()
    contract = current.contract
    notifications.notify(
        kind=NotificationKind.FEEDBACK_PUBLISHED,
        recipients=[current.author] if current.author_id else [],
        contract=contract,
        text=f"Votre retour d'expérience du {timezone.localtime(current.created_at):%d/%m/%Y} est publié.",
        path=reverse("www:my_feedback", args=[contract.slug]),
    )
    return current


@transaction.atomic
def reject_feedback(*, user, feedback, reason: str) -> Feedback:
    """Ne pas publier (ou retirer) un retour, avec un motif que son auteur lira."""
    current = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if not can_moderate(user, current.contract_id):
        _refuse("Seul un pilote du contrat modère les retours d'expérience.")
    if not feedback_abilities(user, current)["reject"]:
        raise FeedbackError("Ce retour a déjà été écarté.")
    reason = (reason or "").strip()
    if not reason:
        raise FeedbackError({"reason": "Indiquez à son auteur pourquoi le retour n'est pas publié."})
    current.moderation = Moderation.REJECTED
    current.moderation_comment = reason
    current.moderated_by = person_or_none(user)
    current.moderated_at = timezone.now()
    current.save()
    return current
