"""Un appel prêt à recevoir les exports de Dauphin de tests/grants/data/ : deux financeurs (l'État,
une ville), deux quartiers du contrat, une association déjà connue par son SIRET."""

from dataclasses import dataclass
from pathlib import Path

from cdv.partners.enums import PartnerKind
from tests import factories

DATA = Path(__file__).parent / "data"
CSV = DATA / "dauphin_2031.csv"
XLSX = DATA / "dauphin_2031.xlsx"
YEAR = 2031


@dataclass
class DauphinWorld:
    contract: object
    call: object
    state: object  # CallFunder
    city: object  # CallFunder
    hauts: object  # QPV QN09898M
    bourg: object  # QPV QN09899M
    known: object  # Partner
    pilot: object


def build_world(**call_kwargs) -> DauphinWorld:
    hauts = factories.QpvFactory(code="QN09898M", name="Les Hauts (test)")
    bourg = factories.QpvFactory(code="QN09899M", name="Quartier du Bourg (test)")
    contract = factories.ContractFactory(qpvs=[hauts, bourg])
    call = factories.CallFactory(contract=contract, year=YEAR, **call_kwargs)
    state = factories.CallFunderFactory(
        call=call,
        partner=factories.PartnerFactory(name="Préfecture (test import)", kind=PartnerKind.STATE),
        order=1,
    )
    city = factories.CallFunderFactory(
        call=call,
        partner=factories.PartnerFactory(
            name="Ville de Testville", short_name="Testville", kind=PartnerKind.COMMUNE
        ),
        order=2,
    )
    known = factories.PartnerFactory(name="Association connue (test import)", siret="77990004210001")
    pilot = factories.MembershipFactory(contract=contract, role="PILOTE").user
    return DauphinWorld(contract, call, state, city, hauts, bourg, known, pilot)
