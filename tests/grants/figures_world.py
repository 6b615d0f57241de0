"""Un petit appel construit à la main pour les chiffres du bilan annuel et de l'évaluation.

Deux quartiers (Bellevue, Dervallières), deux financeurs (État, Ville), quatre dossiers :
- A1 (association X, enjeu 1, Bellevue + Dervallières) : État 4 000 demandés / 3 000 votés,
  1 000 versés ; Ville 2 000 / 1 000 ; compte-rendu accepté ;
- A2 (association X, enjeu 1, Bellevue) : État 1 000 demandés, rejeté ;
- A3 (association Y, tout le territoire) : Ville 500 / 500, action finie il y a un an, aucun
  compte-rendu (manquant) ;
- A4 (association Z) : un brouillon qui demande 9 999 € à l'État (ne compte pas).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from cdv.grants.enums import ApplicationStatus, LineStatus, ProjectScope
from tests import factories

YEAR = 2031


@dataclass
class FiguresWorld:
    contract: object
    call: object
    state: object
    city: object
    bellevue: object
    dervallieres: object
    enjeu: object
    a1: object
    a2: object
    a3: object
    a4: object


def build_figures_world(year=YEAR, suffix="") -> FiguresWorld:
    contract = factories.ContractFactory(end_year=2033)
    bellevue = factories.QpvFactory(name="Bellevue")
    dervallieres = factories.QpvFactory(name="Dervallières")
    contract.qpvs.set([bellevue, dervallieres])
    enjeu = factories.EnjeuFactory(contract=contract, number=1, title="Emploi")
    call = factories.CallFactory(contract=contract, year=year, voted=True)
    state = factories.CallFunderFactory(call=call, partner=factories.PartnerFactory(name="État" + suffix))
    city = factories.CallFunderFactory(call=call, partner=factories.PartnerFactory(name="Ville" + suffix))
    x = factories.PartnerFactory(name="Association X" + suffix, kind="ASSOCIATION")
    y = factories.PartnerFactory(name="Association Y" + suffix, kind="ASSOCIATION")
    z = factories.PartnerFactory(name="Association Z" + suffix, kind="ASSOCIATION")
    today = timezone.localdate()

    def line(application, funder, requested, voted=None, status=LineStatus.VOTED):
        return factories.FunderLineFactory(
            application=application,
            funder=funder,
            requested_amount=Decimal(requested),
            status=status,
            voted_amount=Decimal(voted) if voted is not None else None,
        )

    a1 = factories.ApplicationFactory(
        call=call,
        partner=x,
        decided=True,
        enjeu=enjeu,
        title="Ateliers emploi",
        qpvs=[bellevue, dervallieres],
    )
    state_line = line(a1, state, "4000", "3000")
    line(a1, city, "2000", "1000")
    factories.PaymentFactory(line=state_line, amount=Decimal("1000"))
    factories.FinalReportFactory(application=a1, accepted=True)
    a2 = factories.ApplicationFactory(call=call, partner=x, decided=True, enjeu=enjeu, qpvs=[bellevue])
    line(a2, state, "1000", status=LineStatus.REJECTED)
    a3 = factories.ApplicationFactory(
        call=call,
        partner=y,
        decided=True,
        scope=ProjectScope.WHOLE,
        end_date=today - datetime.timedelta(days=365),
    )
    line(a3, city, "500", "500")
    a4 = factories.ApplicationFactory(call=call, partner=z, status=ApplicationStatus.DRAFT, enjeu=enjeu)
    line(a4, state, "9999", status=LineStatus.DRAFT)
    return FiguresWorld(contract, call, state, city, bellevue, dervallieres, enjeu, a1, a2, a3, a4)
