"""Un petit comité bâti à la main : 2 financeurs, 3 dossiers (dont un sur 2 quartiers et un de tout
le territoire), utilisé par les tests du comité des financeurs."""

from dataclasses import dataclass
from decimal import Decimal

from cdv.grants.enums import ProjectScope
from cdv.users.enums import Role
from tests import factories
from tests.factories.base import qpv_of


@dataclass
class World:
    contract: object
    call: object
    state: object
    city: object
    a1: object
    a2: object
    a3: object
    pilot: object
    qpv1: object
    qpv2: object

    @property
    def url(self):
        return f"/contrats/{self.contract.slug}/aap/{self.call.year}/programmation/"

    def line(self, application, funder):
        return application.funder_lines.get(funder=funder)


def build_world(*, state_envelope="10000", city_envelope="3000") -> World:
    call = factories.CallFactory(closed=True)
    contract = call.contract
    qpv1 = qpv_of(contract)
    qpv2 = factories.QpvFactory(name="Zz second quartier")
    contract.qpvs.add(qpv2)
    enjeu1 = factories.EnjeuFactory(contract=contract, title="Emploi")
    enjeu2 = factories.EnjeuFactory(contract=contract, title="Éducation")
    state = factories.CallFunderFactory(call=call, state=True, envelope=Decimal(state_envelope), order=1)
    city = factories.CallFunderFactory(call=call, envelope=Decimal(city_envelope), order=2)
    a1 = factories.ApplicationFactory(
        call=call, submitted=True, enjeu=enjeu1, qpvs=[qpv1], funders=[state, city]
    )
    a2 = factories.ApplicationFactory(
        call=call, submitted=True, enjeu=enjeu1, qpvs=[qpv1, qpv2], funders=[state]
    )
    a3 = factories.ApplicationFactory(
        call=call, submitted=True, enjeu=enjeu2, scope=ProjectScope.WHOLE, funders=[city]
    )
    # Un brouillon n'est jamais dans la programmation.
    factories.ApplicationFactory(call=call, enjeu=enjeu2, funders=[state])
    amounts = {
        (a1, state): ("4000", "3000"),
        (a1, city): ("2000", "1500"),
        (a2, state): ("6000", "6000"),
        (a3, city): ("1000", None),
    }
    for (application, funder), (requested, proposed) in amounts.items():
        application.funder_lines.filter(funder=funder).update(
            requested_amount=Decimal(requested), proposed_amount=Decimal(proposed) if proposed else None
        )
    pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
    return World(contract, call, state, city, a1, a2, a3, pilot, qpv1, qpv2)
