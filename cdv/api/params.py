"""Paramètres de chemin partagés : format documenté, bornes, exemple réel (Nantes).

Les exemples servent la documentation interactive (``/api/v1/docs``) et la phase « exemples » des
tests de propriétés (schemathesis) : ils désignent des objets qui existent.
"""

from typing import Annotated

from ninja import Path

SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,80}$"
QPV_CODE_PATTERN = r"^[A-Za-z0-9]{1,12}$"
OBJECTIVE_CODE_PATTERN = r"^[0-9]{1,4}\.[0-9]{1,4}$"
MAX_ID = 2**63 - 1
MAX_SMALL = 32767

ContractSlug = Annotated[
    str,
    Path(
        description="identifiant (slug) du contrat de ville",
        pattern=SLUG_PATTERN,
        example="nantes-metropole-2024-2030",
    ),
]
QpvCode = Annotated[
    str,
    Path(
        description="code du QPV (ex. QN04413M en géographie 2024, QP044005 en 2015) ; la casse est libre",
        pattern=QPV_CODE_PATTERN,
        example="QN04413M",
    ),
]
EnjeuNumber = Annotated[
    int, Path(description="numéro de l'enjeu dans le contrat", ge=1, le=MAX_SMALL, example=1)
]
ObjectiveCode = Annotated[
    str,
    Path(description="code de l'objectif (enjeu.objectif)", pattern=OBJECTIVE_CODE_PATTERN, example="1.1"),
]
PartnerSlug = Annotated[
    str,
    Path(description="identifiant (slug) du partenaire", pattern=SLUG_PATTERN, example="nantes-metropole"),
]
IndicatorCode = Annotated[
    str,
    Path(
        description="code de l'indicateur dans le catalogue du contrat",
        pattern=SLUG_PATTERN,
        example="taux-pauvrete",
    ),
]


def object_id(description: str):
    return Annotated[int, Path(description=description, ge=1, le=MAX_ID, example=1)]


ActionId = object_id("numéro de l'action (champ « id »)")
CommitmentId = object_id("numéro de l'engagement (champ « id »)")
MeetingId = object_id("numéro de l'instance (champ « id »)")
FeedbackId = object_id("numéro du retour d'expérience (champ « id »)")
