"""L'historique d'un objet en mots, pour les pages qui le montrent (engagement, élément du plan).

django-simple-history garde des numéros et des codes : les quartiers, partenaires ou objectifs d'un
changement sont relus par leur nom (une requête par sorte de lien, quel que soit le nombre de
changements), les choix par leur libellé, chaque champ par son intitulé.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Related:
    """Comment nommer les objets d'un champ lié : ``key``, la colonne de la table de liaison d'un
    plusieurs-à-plusieurs (« territory ») ou None pour une clé étrangère ; ``queryset`` où les lire ;
    ``by_str`` : nommés par ``str(obj)`` plutôt que par ``obj.name``."""

    key: str | None
    queryset: object
    by_str: bool = False


def field_label(model, name) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - un champ disparu garde son nom technique
        return name


def history_in_words(records, *, model, related=None, skip=frozenset(), date_format=None) -> list[dict]:
    """``records`` (les plus récents d'abord) → ``[{"record": …, "changes": [(intitulé, avant, après)]}]``.

    Une valeur vide reste vide (les gabarits la montrent « — ») ; ``date_format`` écrit les dates."""
    related = related or {}
    history = []
    for newer, older in zip(records, records[1:] + [None], strict=False):
        changes = []
        if older is not None:
            changes = [
                (c.field, c.old, c.new) for c in newer.diff_against(older).changes if c.field not in skip
            ]
        history.append({"record": newer, "changes": changes})

    def ids(field, value):
        key = related[field].key
        return [row[key] for row in value] if key else ([value] if value else [])

    wanted = {field: set() for field in related}
    for item in history:
        for field, old, new in item["changes"]:
            if field in related:
                wanted[field].update(ids(field, old or []) + ids(field, new or []))
    names = {}
    for field, spec in related.items():
        if wanted[field]:
            found = spec.queryset.filter(pk__in=wanted[field])
            names[field] = {obj.pk: str(obj) if spec.by_str else obj.name for obj in found}

    def words(field, value):
        if field in related:
            return ", ".join(sorted(names.get(field, {}).get(pk, str(pk)) for pk in ids(field, value or [])))
        try:
            choices = dict(model._meta.get_field(field).flatchoices)
        except Exception:  # noqa: BLE001 - un champ disparu garde sa valeur brute
            choices = {}
        if value in choices:
            return choices[value]
        if date_format and hasattr(value, "strftime"):
            return value.strftime(date_format)
        return value

    for item in history:
        item["changes"] = [
            (field_label(model, f), words(f, old), words(f, new)) for f, old, new in item["changes"]
        ]
    return history
