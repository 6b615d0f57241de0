"""Recherches d'objets par l'identifiant reçu dans la requête, toujours dans le contrat visible.

Un identifiant venu de la requête n'est jamais cru : tout passe par le contrat déjà résolu pour
l'appelant (``auth.visible_contract``), si bien qu'un objet d'un autre contrat n'existe pas.
"""

import re

from cdv.plan.models import Objective

from .params import MAX_SMALL

OBJECTIVE_CODE = re.compile(r"^(\d{1,5})\.(\d{1,5})$")


def objective_by_code(contract, code: str):
    """L'objectif « 1.2 » du contrat, ou None (code mal formé ou inconnu)."""
    match = OBJECTIVE_CODE.match((code or "").strip())
    if not match:
        return None
    enjeu, number = int(match.group(1)), int(match.group(2))
    if enjeu > MAX_SMALL or number > MAX_SMALL:
        return None
    return (
        Objective.objects.for_contract(contract)
        .filter(enjeu__number=enjeu, number=number)
        .select_related("enjeu")
        .first()
    )


def contract_qpv(contract, code: str):
    """Le QPV de ce code s'il relève du contrat, sinon None."""
    return contract.qpvs.filter(code=(code or "").strip().upper()).only("pk", "code").first()
