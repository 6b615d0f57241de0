"""Écritures du plan d'action par le pilote : enjeux, objectifs, actions.

La numérotation est automatique : un objectif prend le numéro suivant dans son enjeu, une action le
code « enjeu.objectif.n » suivant dans son objectif. Monter ou descendre un élément renumérote ses
voisins (et les codes des actions d'un objectif déplacé) sans jamais heurter les contraintes
d'unicité : les numéros passent d'abord par des valeurs provisoires, écrites sans historique.

Un élément auquel quelque chose se réfère (engagement, retour, décision, évaluation) s'archive au
lieu de se supprimer : archivé, il disparaît des pages publiques et des choix des engagements, et
reste visible (grisé) dans le plan du pilote, qui peut le restaurer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cdv.core.slugs import unique_slug

from .enums import ActionScope
from .models import Action, Enjeu, Objective, validate_action_qpvs

if TYPE_CHECKING:
    from cdv.contracts.models import Contract
    from cdv.partners.models import Partner
    from cdv.territories.models import Territory

TEMPORARY_OFFSET = 10000
Item = TypeVar("Item", Objective, Action)


def _code_number(code: str) -> int:
    try:
        return int(str(code).rsplit(".", 1)[-1])
    except ValueError:
        return 0


def ordered_actions(objective: Objective) -> list[Action]:
    """Les actions d'un objectif dans l'ordre de leur dernier numéro (1.1.2 avant 1.1.10)."""
    return sorted(objective.actions.all(), key=lambda a: (_code_number(a.code), a.pk))


# --- Enjeux ---------------------------------------------------------------------------------------


def _unique_enjeu_slug(contract: Contract, title: str, exclude_pk: int | None = None) -> str:
    return unique_slug(
        Enjeu.objects.filter(contract=contract).exclude(pk=exclude_pk), title, fallback="enjeu"
    )


@transaction.atomic
def create_enjeu(*, contract: Contract, title: str, summary_plain: str = "", description: str = "") -> Enjeu:
    number = (Enjeu.objects.filter(contract=contract).aggregate(m=Max("number"))["m"] or 0) + 1
    enjeu = Enjeu(
        contract=contract,
        number=number,
        title=title,
        slug=_unique_enjeu_slug(contract, title),
        summary_plain=summary_plain,
        description=description,
    )
    enjeu.full_clean()
    enjeu.save()
    return enjeu


@transaction.atomic
def update_enjeu(*, enjeu: Enjeu, title: str, summary_plain: str = "", description: str = "") -> Enjeu:
    enjeu.title, enjeu.summary_plain, enjeu.description = title, summary_plain, description
    enjeu.full_clean()
    enjeu.save()
    return enjeu


# --- Objectifs ------------------------------------------------------------------------------------


@transaction.atomic
def create_objective(*, enjeu: Enjeu, title: str, description: str = "") -> Objective:
    number = (enjeu.objectives.aggregate(m=Max("number"))["m"] or 0) + 1
    objective = Objective(enjeu=enjeu, number=number, title=title, description=description)
    objective.full_clean()
    objective.save()
    return objective


@transaction.atomic
def update_objective(*, objective: Objective, title: str, description: str = "") -> Objective:
    objective.title, objective.description = title, description
    objective.full_clean()
    objective.save()
    return objective


def _renumber_actions(objective: Objective, ordered: list[Action] | None = None) -> None:
    """Codes « enjeu.objectif.n » des actions de l'objectif, dans l'ordre donné."""
    ordered = ordered if ordered is not None else ordered_actions(objective)
    prefix = f"{objective.enjeu.number}.{objective.number}"
    wanted = {a.pk: f"{prefix}.{i}" for i, a in enumerate(ordered, start=1)}
    changing = [a for a in ordered if a.code != wanted[a.pk]]
    for action in changing:  # valeurs provisoires, sans historique : aucune collision possible
        Action.objects.filter(pk=action.pk).update(code=f"~{action.pk}")
    for action in changing:
        action.code = wanted[action.pk]
        action.save(update_fields=["code"])


def _renumber_objectives(enjeu: Enjeu, ordered: list[Objective]) -> None:
    wanted = {o.pk: i for i, o in enumerate(ordered, start=1)}
    changing = [o for o in ordered if o.number != wanted[o.pk]]
    for objective in changing:
        Objective.objects.filter(pk=objective.pk).update(number=TEMPORARY_OFFSET + objective.pk % 20000)
    for objective in changing:
        objective.number = wanted[objective.pk]
        objective.save(update_fields=["number"])
        objective.enjeu = enjeu
        _renumber_actions(objective)


def _moved(items: list[Item], item: Item, direction: int) -> list[Item] | None:
    index = next(i for i, x in enumerate(items) if x.pk == item.pk)
    target = index + (1 if direction > 0 else -1)
    if not 0 <= target < len(items):
        return None
    items[index], items[target] = items[target], items[index]
    return items


@transaction.atomic
def move_objective(*, objective: Objective, direction: int) -> bool:
    """Monte (direction < 0) ou descend l'objectif dans son enjeu ; False s'il est déjà au bout."""
    enjeu = objective.enjeu
    ordered = _moved(list(Objective.objects.select_for_update().filter(enjeu=enjeu)), objective, direction)
    if ordered is None:
        return False
    _renumber_objectives(enjeu, ordered)
    return True


# --- Actions --------------------------------------------------------------------------------------


def _apply_action(
    action: Action,
    *,
    qpvs: Iterable[Territory] | None,
    all_qpvs: bool,
    contributors: Iterable[Partner] | None,
) -> Action:
    """Enregistre l'action et ses quartiers. « Tous les QPV du contrat » : échelle métropolitaine."""
    qpvs = list(qpvs or [])
    action.scope = ActionScope.METROPOLITAN if all_qpvs else ActionScope.QPV
    if all_qpvs:
        qpvs = []
    action.full_clean(exclude=["code"] if not action.code else None)
    validate_action_qpvs(action, qpvs)
    contract = action.contract
    if action.pilot_partner_id and not _takes_part(contract, [action.pilot_partner]):
        raise ValidationError({"pilot_partner": "Ce partenaire ne prend pas part au contrat."})
    if contributors and not _takes_part(contract, contributors):
        raise ValidationError({"contributors": "Un des partenaires choisis ne prend pas part au contrat."})
    action.save()
    action.qpvs.set(qpvs)
    action.contributors.set(list(contributors or []))
    return action


def _takes_part(contract: Contract, partners: Iterable[Partner]) -> bool:
    from cdv.partners.models import Partner

    ids = {p.pk for p in partners}
    return Partner.objects.taking_part_in(contract).filter(pk__in=ids).count() == len(ids)


ACTION_FIELDS = ("title", "summary_plain", "description", "pilot_partner", "status", "start_on", "end_on")


@transaction.atomic
def create_action(
    *,
    objective: Objective,
    qpvs: Iterable[Territory] = (),
    all_qpvs: bool = False,
    contributors: Iterable[Partner] = (),
    **fields: Any,
) -> Action:
    existing = Action.objects.select_for_update().filter(objective=objective)
    n = max((_code_number(c) for c in existing.values_list("code", flat=True)), default=0) + 1
    action = Action(objective=objective, code=f"{objective.enjeu.number}.{objective.number}.{n}")
    for name in ACTION_FIELDS:
        if name in fields:
            setattr(action, name, fields[name])
    return _apply_action(action, qpvs=qpvs, all_qpvs=all_qpvs, contributors=contributors)


@transaction.atomic
def update_action(
    *,
    action: Action,
    qpvs: Iterable[Territory] = (),
    all_qpvs: bool = False,
    contributors: Iterable[Partner] = (),
    **fields: Any,
) -> Action:
    for name in ACTION_FIELDS:
        if name in fields:
            setattr(action, name, fields[name])
    return _apply_action(action, qpvs=qpvs, all_qpvs=all_qpvs, contributors=contributors)


@transaction.atomic
def move_action(*, action: Action, direction: int) -> bool:
    """Monte ou descend l'action dans son objectif (codes renumérotés) ; False si déjà au bout."""
    objective = action.objective
    list(Action.objects.select_for_update().filter(objective=objective))
    ordered = _moved(ordered_actions(objective), action, direction)
    if ordered is None:
        return False
    _renumber_actions(objective, ordered)
    return True


# --- Archiver, restaurer, supprimer ---------------------------------------------------------------


def references(item: Objective | Action) -> list[str]:
    """Ce qui se réfère à un objectif ou une action, en mots ; vide : la suppression est permise."""
    from cdv.evaluation.models import EvaluationQuestion, Recommendation

    found = []

    def add(count: int, singular: str, plural: str) -> None:
        if count:
            found.append(f"{count} {singular if count == 1 else plural}")

    add(item.commitments.count(), "engagement", "engagements")
    if isinstance(item, Objective):
        add(item.actions.count(), "action", "actions")
        evaluations = (
            EvaluationQuestion.objects.filter(objectives=item).count()
            + Recommendation.objects.filter(objectives=item).count()
        )
        add(evaluations, "élément d'évaluation", "éléments d'évaluation")
    else:
        add(item.feedbacks.count(), "retour", "retours")
        add(item.decisions.count(), "décision", "décisions")
    return found


@transaction.atomic
def archive(*, item: Objective | Action) -> None:
    if item.archived_at is None:
        item.archived_at = timezone.now()
        item.save(update_fields=["archived_at"])


@transaction.atomic
def restore(*, item: Objective | Action) -> None:
    if item.archived_at is not None:
        item.archived_at = None
        item.save(update_fields=["archived_at"])


@transaction.atomic
def delete(*, item: Objective | Action) -> None:
    """Supprime un objectif ou une action auquel rien ne se réfère ; sinon refuse (archivez-le)."""
    found = references(item)
    if found:
        raise ValidationError(
            f"« {item} » ne peut pas être supprimé : {', '.join(found)} s'y réfèrent. Archivez-le plutôt."
        )
    if isinstance(item, Objective):
        enjeu = item.enjeu
        item.delete()
        _renumber_objectives(enjeu, list(Objective.objects.filter(enjeu=enjeu)))
    else:
        objective = item.objective
        item.delete()
        _renumber_actions(objective)
