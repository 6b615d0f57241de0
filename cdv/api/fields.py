"""Types des corps reçus, déclarés dans le document OpenAPI tels que le serveur les vérifie.

Un montant ou un nombre d'ETP est un nombre JSON ou un texte décimal (« 12000.50 ») : le schéma
donne, pour chacun, le motif du texte, les bornes et le pas (deux décimales) que la validation
applique, pour qu'un client généré ou un outil de test n'envoie que ce qui sera accepté.
Une règle qui lie deux champs (portée QPV et liste de QPV…) est vérifiée par le schéma de
l'opération (``if``/``then``, ``oneOf``) et par la validation, avec le même message français.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

NON_BLANK = r"\S"
ACTION_CODE_PATTERN = r"^[-A-Za-z0-9._]{1,20}$"
# Le caractère nul (U+0000), que PostgreSQL refuse dans un texte, n'est admis dans aucune valeur :
# le document OpenAPI le déclare sur chaque texte reçu (``declare_no_nul``).
NO_NUL = r"^[^\x00]*$"
NON_BLANK_NO_NUL = r"^[^\x00]*[^\s\x00][^\x00]*$"
NUL_MESSAGE = "le caractère nul (U+0000) n'est admis dans aucune valeur"


def rule_error(message: str) -> PydanticCustomError:
    """Refus d'une règle entre champs, rendu tel quel (en français) par cdv.api.errors."""
    return PydanticCustomError("regle", "{message}", {"message": message})


def _text_matches(pattern: str):
    compiled = re.compile(pattern)

    def check(value):
        if isinstance(value, bool):
            raise PydanticCustomError("decimal_type", "nombre décimal attendu")
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise PydanticCustomError(
                "string_pattern_mismatch", "texte décimal invalide", {"pattern": pattern}
            )
        return value

    return check


def _text_date(value):
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "date attendue")
    return value


def _json_integer(value):
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "nombre entier attendu")
    return value  # 12 et 12.0 (même entier en JSON) passent, 12.5 est refusé


def integer(ge: int, le: int):
    """Un entier est un nombre JSON entier, jamais un texte ni un booléen, de ``ge`` à ``le``."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_integer)]


# Une date ne s'écrit qu'en texte AAAA-MM-JJ (la validation « souple » de pydantic prendrait aussi
# un nombre de secondes) ; les nombres et booléens reçus en JSON
# sont stricts pour la même raison.
Day = Annotated[date, BeforeValidator(_text_date)]


def decimal(max_digits: int, *, decimal_places: int = 2, maximum: Decimal | None = None, text=None):
    """Un décimal positif : nombre JSON (multiple de 0,01) ou texte (motif ``text``, par défaut
    chiffres [0-9], point, au plus ``decimal_places`` décimales), au plus ``maximum``. Les motifs
    écrivent [0-9] plutôt que \\d, qui admet d'autres chiffres Unicode en Python (pas en JSON Schema)."""
    whole = max_digits - decimal_places
    largest = Decimal(10**whole) - Decimal(1).scaleb(-decimal_places)
    top = largest if maximum is None else min(largest, maximum)
    text = text or rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{decimal_places}}})?$"
    schema = {
        "anyOf": [
            {
                "type": "number",
                "minimum": 0,
                "maximum": float(top),
                "multipleOf": float(Decimal(1).scaleb(-decimal_places)),
            },
            {"type": "string", "pattern": text},
        ]
    }
    return Annotated[
        Decimal,
        BeforeValidator(_text_matches(text)),
        Field(ge=0, le=top, max_digits=max_digits, decimal_places=decimal_places, allow_inf_nan=False),
        WithJsonSchema(schema),
    ]


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value)


class Body(Schema):
    """Corps JSON reçu : chaque champ déclaré refuse le caractère nul (422 nommant le champ). Un
    champ inconnu est ignoré, son contenu avec ; un objet imbriqué (moyens, lignes…) est lui-même
    un ``Body`` et vérifie ses propres champs."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        if _has_nul(value):
            raise rule_error(NUL_MESSAGE)
        return value


def declare_no_nul(schema: dict) -> None:
    """Déclare dans le document OpenAPI le refus du caractère nul : sur chaque texte des corps
    reçus et des paramètres sans motif, ``NO_NUL`` ; le motif « non vide » devient
    ``NON_BLANK_NO_NUL``. Les autres motifs, ancrés, n'admettent déjà que des caractères choisis."""
    components = schema.get("components", {}).get("schemas", {})
    seen = set()

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and ref not in seen:
            seen.add(ref)
            walk(components.get(ref.rsplit("/", 1)[1]))
        if node.get("type") == "string" and not {"enum", "const", "format"} & node.keys():
            if "pattern" not in node:
                node["pattern"] = NO_NUL
            elif node["pattern"] == NON_BLANK:
                node["pattern"] = NON_BLANK_NO_NUL
        for key, value in node.items():
            if key not in {"examples", "example", "default", "$ref"}:
                walk(value)

    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict):
                walk(operation.get("parameters", []))
                walk(operation.get("requestBody", {}))
