"""Le petit monde du test de grappe, écrit dans la base commune par un processus Django configuré
comme les nœuds (réglages de production) : un contrat avec un QPV, son pilote (et un jeton d'API),
des partenaires avec chacun un référent, un engagement confirmé et un bilan en brouillon dans une
campagne ouverte, et une personne extérieure au contrat. Écrit en JSON sur la sortie standard.

Lancé par tests/cluster/harness.py : ``python tests/cluster/seed.py``.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from cdv.users.enums import Role  # noqa: E402
from cdv.users.services import create_api_token  # noqa: E402
from tests import factories  # noqa: E402

PASSWORD = "motdepasse-de-test"
PARTNERS = 3  # autant de référents, donc autant de relances attendues


@transaction.atomic
def seed() -> dict:
    # Un carré de 0,01° autour de ce point (tests/factories/territories.py : SQUARE) : le QPV.
    qpv = factories.QpvFactory(code="QN09901M", name="Quartier de la grappe")
    contract = factories.ContractFactory(slug="grappe", title="Contrat de la grappe", qpvs=[qpv])
    pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
    _, api_key = create_api_token(user=pilot, name="test de grappe")
    campaign = factories.ReviewCampaignFactory(contract=contract, opened_by=pilot)
    partners = []
    for n in range(PARTNERS):
        partner = factories.PartnerFactory(name=f"Association de la grappe {n + 1}")
        factories.SignatoryFactory(contract=contract, partner=partner)
        referent = factories.MembershipFactory(
            contract=contract, partner=partner, role=Role.EDITOR, user__email=f"referent{n + 1}@example.org"
        ).user
        commitment = factories.CommitmentFactory(
            contract=contract,
            partner=partner,
            qpvs=[qpv],
            title=f"Permanences emploi, association {n + 1}",
            target="Deux permanences par semaine",
            confirmed=True,
        )
        report = factories.ProgressReportFactory(campaign=campaign, commitment=commitment)
        partners.append(
            {
                "slug": partner.slug,
                "referent": referent.email,
                "commitment": commitment.pk,
                "report": report.pk,
            }
        )
    outsider = factories.UserFactory(email="exterieur@example.org")
    return {
        "password": PASSWORD,
        "contract": contract.slug,
        "qpv": qpv.code,
        "objective": commitment.objective.code,
        "pilot": pilot.email,
        "api_key": api_key,
        "campaign_year": campaign.year,
        "campaign_deadline": campaign.deadline.isoformat(),
        "partners": partners,
        "outsider": outsider.email,
    }


if __name__ == "__main__":
    json.dump(seed(), sys.stdout)
