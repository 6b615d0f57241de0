"""Les erreurs des services de l'appel à projets, communes à toutes ses étapes.

- ``GrantsError`` : une règle métier refuse l'acte (message en français, par champ si possible) ;
  rien n'a changé.
- ``PermissionDenied`` (de Django) : la personne n'a pas ce droit (voir ``abilities.py``).
- ``ConflictError`` : quelqu'un d'autre a enregistré l'objet entre-temps (verrou optimiste sur
  ``version``) ; elle porte chaque champ qui diffère (le vôtre, l'enregistré) pour que la page les
  montre tous et que rien ne soit perdu.
"""

from django.core.exceptions import ValidationError


class GrantsError(ValidationError):
    """Refus métier : ``GrantsError("message")`` ou ``GrantsError({"champ": "message"})``."""


class ConflictError(Exception):
    def __init__(self, obj, changes: list[tuple[str, str, object, object]]) -> None:
        """``changes`` : (champ, libellé, valeur enregistrée par l'autre, valeur saisie)."""
        self.obj = obj
        self.changes = changes
        super().__init__(
            "Ceci a été modifié par quelqu'un d'autre pendant que vous le modifiiez "
            f"(version {obj.version}). Vos modifications n'ont pas été enregistrées : comparez et "
            "reprenez-les ci-dessous."
        )


def check_version(obj, submitted_version: int | None, mine: dict[str, object]) -> None:
    """Lève ``ConflictError`` si ``obj`` (relu en base, verrouillé) a changé depuis la version
    qu'avait le formulaire et que l'un de ces champs diffère ; ``mine`` : {champ: valeur saisie}."""
    if submitted_version is None or obj.version == submitted_version:
        return
    changes = []
    for field, value in mine.items():
        current = getattr(obj, field)
        if current != value:
            label = obj._meta.get_field(field).verbose_name
            changes.append((field, str(label), current, value))
    if changes:  # l'autre enregistrement ne touche rien de ce qu'on enregistre : on poursuit
        raise ConflictError(obj, changes)
