"""Recherches d'objets par l'identifiant reçu dans la requête, toujours dans le contrat visible.

Un identifiant venu de la requête n'est jamais cru : tout passe par le contrat déjà résolu pour
l'appelant (``auth.visible_contract``), si bien qu'un objet d'un autre contrat n'existe pas.
"""

import re

from django.db.models import Q

from cdv.commitments.abilities import can_read_contract_internals, visible_commitments
from cdv.commitments.models import Commitment
from cdv.contracts.models import Signatory
from cdv.partners.models import Partner
from cdv.plan.models import Action, Objective
from cdv.users.models import Membership

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
        Objective.objects.filter(enjeu__contract=contract, enjeu__number=enjeu, number=number)
        .select_related("enjeu")
        .first()
    )


def contract_qpv(contract, code: str):
    """Le QPV de ce code s'il relève du contrat, sinon None."""
    return contract.qpvs.filter(code=(code or "").strip().upper()).only("pk", "code").first()


def contract_partners(user, contract):
    """Partenaires qui ont une place visible de ``user`` dans le contrat.

    Pour tous : signataires et participants, pilotes et contributeurs des actions, partenaires qui
    portent un engagement visible (publié pour le public). Pour les membres du contrat, aussi les
    partenaires au nom desquels des personnes y ont un rôle, et ceux qui n'ont que des brouillons.
    """
    actions = Action.objects.for_contract(contract)
    place = (
        Q(pk__in=Signatory.objects.filter(contract=contract).values("partner_id"))
        | Q(pk__in=actions.exclude(pilot_partner=None).values("pilot_partner_id"))
        | Q(pk__in=Action.contributors.through.objects.filter(action__in=actions).values("partner_id"))
        | Q(pk__in=visible_commitments(user, Commitment.objects.all(), contract).values("partner_id"))
    )
    if can_read_contract_internals(user, contract):
        members = Membership.objects.filter(contract=contract).exclude(partner=None)
        place |= Q(pk__in=members.values("partner_id"))
    return Partner.objects.filter(place)


def partners_active_in(user, contract, qpv):
    """Partenaires actifs dans un quartier, comme sur sa page publique : engagements visibles qui s'y
    appliquent (y compris de portée générale), pilotes et contributeurs des actions de sa feuille de
    route, conseils citoyens qui le couvrent."""
    actions = Action.objects.for_contract(contract).applying_to(qpv)
    commitments = visible_commitments(user, Commitment.objects.all(), contract).applying_to(qpv)
    return (
        Q(pk__in=commitments.values("partner_id"))
        | Q(pk__in=actions.exclude(pilot_partner=None).values("pilot_partner_id"))
        | Q(pk__in=Action.contributors.through.objects.filter(action__in=actions).values("partner_id"))
        | Q(pk__in=Partner.qpvs.through.objects.filter(territory=qpv).values("partner_id"))
    )
