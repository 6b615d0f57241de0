"""Plan d'action : écriture, tout ou rien, des lignes vérifiées par le ``mapper``.

Crée ce qui manque et modifie ce qui diffère, par code ; ne supprime rien. Un élément identique
n'est pas réenregistré (pas de ligne d'historique). Chaque élément est validé (``full_clean``)
avant d'être enregistré ; ses erreurs sont rapportées sur sa ligne.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .mapper import ACTION_COLUMNS, ACTIONS, ENJEU_COLUMNS, ENJEUX, OBJECTIVE_COLUMNS, OBJECTIVES, locator
from .models import Action, Enjeu, Objective, validate_action_qpvs
from .services import _unique_enjeu_slug


class Rollback(Exception):
    """Annule l'écriture : une erreur a été relevée, ou ce n'est qu'un aperçu."""


@transaction.atomic
def write_plan(*, contract, plan, errors, report, dry_run=False) -> None:
    """Écrit ``plan`` (les lignes de ``mapper.read_plan``) dans ``contract`` et compte dans ``report``.

    Lève ``Rollback`` (rien n'est écrit) si ``errors`` a relevé une erreur, ou pour un aperçu
    (``dry_run`` : tout est fait, compté, puis annulé)."""
    enjeux = {e.number: e for e in Enjeu.objects.filter(contract=contract)}
    objectives = {
        o.code: o for o in Objective.objects.filter(enjeu__contract=contract).select_related("enjeu")
    }
    actions = {
        a.code: a
        for a in Action.objects.for_contract(contract)
        .select_related("objective__enjeu")
        .prefetch_related("qpvs", "contributors")
    }
    for row in plan[ENJEUX]:
        if not row.failed:
            _write_enjeu(row, contract, enjeux, errors, report)
    for row in plan[OBJECTIVES]:
        if not row.failed:
            _write_objective(row, enjeux, objectives, errors, report)
    for row in plan[ACTIONS]:
        if not row.failed:
            _write_action(row, objectives, actions, errors, report)
    if errors or dry_run:
        raise Rollback


def _write_enjeu(row, contract, enjeux, errors, report):
    at_column, at_row = locator(errors, ENJEUX, ENJEU_COLUMNS, row.row)
    enjeu, created, changed = _apply(
        enjeux.get(row.number),
        lambda: Enjeu(
            contract=contract, number=row.number, slug=_unique_enjeu_slug(contract, row.values["title"])
        ),
        row.values,
    )
    if (created or changed) and not _saved(enjeu, ENJEU_COLUMNS, at_column, at_row):
        return
    enjeux[enjeu.number] = enjeu
    _count(report, created, changed, f"Enjeu {enjeu.number}")


def _write_objective(row, enjeux, objectives, errors, report):
    at_column, at_row = locator(errors, OBJECTIVES, OBJECTIVE_COLUMNS, row.row)
    enjeu = enjeux.get(row.parent)
    if enjeu is None:
        at_column("code", f"l'enjeu {row.parent} n'existe pas (ajoutez-le dans la feuille « {ENJEUX} »)")
        return
    objective, created, changed = _apply(
        objectives.get(f"{enjeu.number}.{row.number}"),
        lambda: Objective(enjeu=enjeu, number=row.number),
        row.values,
        archived=row.archived,
    )
    if (created or changed) and not _saved(objective, OBJECTIVE_COLUMNS, at_column, at_row):
        return
    objectives[objective.code] = objective
    _count(report, created, changed, f"Objectif {objective.code}")


def _write_action(row, objectives, actions, errors, report):
    at_column, at_row = locator(errors, ACTIONS, ACTION_COLUMNS, row.row)
    objective = objectives.get(row.parent)
    if objective is None:
        at_column("code", f"l'objectif {row.parent} n'existe pas (feuille « {OBJECTIVES} »)")
        return
    action, created, changed = _apply(
        actions.get(row.code),
        lambda: Action(objective=objective, code=row.code),
        row.values,
        archived=row.archived,
    )
    m2m_changed = created or (
        {q.pk for q in action.qpvs.all()} != {q.pk for q in row.qpvs}
        or {p.pk for p in action.contributors.all()} != {p.pk for p in row.contributors}
    )
    if created or changed or m2m_changed:
        try:
            action.full_clean()
            validate_action_qpvs(action, row.qpvs)
            action.save()
            action.qpvs.set(row.qpvs)
            action.contributors.set(row.contributors)
        except ValidationError as error:
            _model_errors(error, ACTION_COLUMNS, at_column, at_row)
            return
    actions[row.code] = action
    _count(report, created, changed or m2m_changed, f"Action {row.code}")


def _saved(obj, columns, at_column, at_row) -> bool:
    """Valide puis enregistre ``obj`` ; une erreur de validation est rapportée sur sa ligne (faux)."""
    try:
        obj.full_clean()
        obj.save()
    except ValidationError as error:
        _model_errors(error, columns, at_column, at_row)
        return False
    return True


def _model_errors(error, columns, at_column, at_row):
    for name, messages in getattr(error, "message_dict", {None: error.messages}).items():
        key = {"qpvs": "qpvs", "scope": "qpvs"}.get(name, name)
        if key in {k for k, _, _ in columns}:
            for message in messages:
                at_column(key, message)
        else:
            for message in messages:
                at_row(message)


def _apply(current, make, values, archived=None):
    """(élément, créé ?, modifié ?) : ``current`` (ou ``make()`` s'il manque) reçoit ``values`` et,
    pour un élément qu'on archive (``archived`` vrai ou faux), sa date d'archivage."""
    created = current is None
    obj = make() if created else current
    if archived is not None:
        values = {**values, "archived_at": _archive_value(obj.archived_at, archived)}
    return obj, created, _set(obj, values)


def _set(obj, values) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _archive_value(current, archived):
    if archived:
        return current or timezone.now()
    return None


def _count(report, created, changed, what):
    if created:
        report.created += 1
        report.changes.append(f"{what} : créé")
    elif changed:
        report.updated += 1
        report.changes.append(f"{what} : modifié")
    else:
        report.unchanged += 1
