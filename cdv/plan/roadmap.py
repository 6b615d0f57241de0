"""Feuille de route d'un QPV : par enjeu, ses priorités locales et les actions qui s'y appliquent."""

from dataclasses import dataclass, field

from .models import Action, Enjeu, QpvPriority


@dataclass
class RoadmapEntry:
    enjeu: Enjeu
    priority: QpvPriority | None = None
    actions: list[Action] = field(default_factory=list)


def qpv_roadmap(contract, qpv) -> list[RoadmapEntry]:
    """En trois requêtes, quel que soit le nombre d'enjeux et d'actions."""
    entries = {e.pk: RoadmapEntry(enjeu=e) for e in Enjeu.objects.filter(contract=contract)}
    for priority in QpvPriority.objects.filter(enjeu__contract=contract, qpv=qpv):
        entries[priority.enjeu_id].priority = priority
    actions = (
        Action.objects.for_contract(contract)
        .active()
        .applying_to(qpv)
        .select_related("objective", "pilot_partner")
        .order_by("objective__enjeu__number", "objective__number", "code")
    )
    for action in actions:
        entries[action.objective.enjeu_id].actions.append(action)
    return list(entries.values())
