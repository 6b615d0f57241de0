"""Écriture idempotente : ne sauvegarde un objet que si une valeur change.

Les chargeurs de données de référence s'en servent pour qu'une seconde exécution ne change
rien (ni ligne, ni entrée d'historique).
"""

from dataclasses import dataclass, field


@dataclass
class UpsertStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_model: dict = field(default_factory=dict)

    def add(self, model_name: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        counts = self.by_model.setdefault(model_name, {"created": 0, "updated": 0, "unchanged": 0})
        counts[outcome] += 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def upsert(model, *, lookup: dict, values: dict, stats: UpsertStats | None = None):
    """Crée ou met à jour l'objet désigné par ``lookup`` ; ne sauvegarde que s'il diffère."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj.save()
        outcome = "created"
    else:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.full_clean()
            obj.save()
            outcome = "updated"
        else:
            outcome = "unchanged"
    if stats is not None:
        stats.add(model.__name__, outcome)
    return obj


def sync_m2m(manager, objects, stats: UpsertStats | None = None, label: str = "") -> None:
    """Aligne une relation plusieurs-à-plusieurs sur ``objects`` sans écrire si rien ne change."""
    wanted = {obj.pk for obj in objects}
    current = set(manager.values_list("pk", flat=True))
    if wanted != current:
        manager.set(list(objects))
        if stats is not None:
            stats.add(label or "relation", "updated")
