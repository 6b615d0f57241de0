"""Prépare, pour le parcours 4 (le suivi annuel), une copie de la base des tests navigateur.

Usage : ``python tests/browser/journey_review_db.py FICHIER.sqlite3 FICHIER.json``

Le parcours ouvre lui-même la campagne 2025 : la campagne 2025 de la démonstration (en cours) est
retirée ; la campagne 2024 (figée) reste, c'est l'histoire du contrat. S'y ajoutent, comme les
fabriques des tests le feraient, des personnes dont le parcours a besoin et que la démonstration n'a
pas (ou pas avec un mot de passe connu) :

- le pilote de démonstration reçoit le mot de passe de démonstration ;
- une régie de quartier, avec un seul engagement confirmé (moyens 2025 prévus) et sa référente :
  elle remplit tout son bilan, donc n'est pas en retard ;
- le référent de l'association Tremplin (mot de passe des tests navigateur) remplit une partie des
  bilans de son association seulement ;
- le bailleur et l'association des Petits Débrouillards ne transmettent rien : en retard.
"""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
REGIE_EMAIL = "referente.regie@example.org"
REGIE_PASSWORD = "parcours-regie-2025-mdp"
REGIE_NAME = "Régie de quartier Nantes Nord (parcours)"
REGIE_COMMITMENT = "Entretenir les pieds d'immeubles avec des habitants en insertion"
TREMPLIN_NAME = "Association Tremplin Quartiers (démonstration)"
BAILLEUR_NAME = "Bailleur Habitat Solidaire (démonstration)"
DEBROUILLARDS_NAME = "Association Les Petits Débrouillards du quartier (démonstration)"


def main(db_path: str, json_path: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import datetime
    from decimal import Decimal

    import django

    django.setup()
    from django.db import transaction

    from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
    from cdv.commitments.models import Commitment, CommitmentMeans
    from cdv.contracts.models import Contract
    from cdv.monitoring.models import ReviewCampaign, Snapshot
    from cdv.partners.enums import PartnerKind
    from cdv.partners.models import Partner
    from cdv.plan.models import Action
    from cdv.seed.demo import DEMO_PASSWORD, DEMO_PILOT_EMAIL
    from cdv.users.enums import Role
    from cdv.users.models import Membership, User

    slug = os.environ.get("DEFAULT_CONTRACT_SLUG", "nantes-metropole-2024-2030")
    with transaction.atomic():
        contract = Contract.objects.get(slug=slug)
        campaigns = ReviewCampaign.objects.filter(contract=contract, year=2025)
        Snapshot.objects.filter(campaign__in=campaigns).delete()
        campaigns.delete()

        pilot = User.objects.get(email=DEMO_PILOT_EMAIL)
        pilot.set_password(DEMO_PASSWORD)
        pilot.save()

        regie = Partner.objects.create(
            name=REGIE_NAME, slug="regie-de-quartier-nantes-nord", kind=PartnerKind.ASSOCIATION
        )
        action = Action.objects.for_contract(contract).filter(qpvs__isnull=False).order_by("pk").first()
        commitment = Commitment.objects.create(
            contract=contract,
            partner=regie,
            objective=action.objective,
            action=action,
            scope=CommitmentScope.QPV,
            title=REGIE_COMMITMENT,
            summary_plain="Des habitants en insertion entretiennent les abords des immeubles.",
            target="12 salariés en insertion par an",
            deadline=datetime.date(2026, 12, 31),
            status=CommitmentStatus.CONFIRMED,
            confirmed_name="Dominique Lefèvre",
            confirmed_role="Directrice",
            confirmed_at=datetime.datetime(2025, 2, 3, 10, tzinfo=datetime.UTC),
        )
        commitment.qpvs.set([action.qpvs.order_by("code").first()])
        CommitmentMeans.objects.create(
            commitment=commitment,
            year=2025,
            funding=FundingKind.ORDINARY,
            fte=Decimal("0.5"),
            amount_eur=Decimal("12000"),
        )
        referent = User.objects.create_user(
            email=REGIE_EMAIL, password=REGIE_PASSWORD, first_name="Dominique", last_name="Lefèvre"
        )
        Membership.objects.create(user=referent, contract=contract, role=Role.EDITOR, partner=regie)

    data = {
        "pilot_email": DEMO_PILOT_EMAIL,
        "pilot_password": DEMO_PASSWORD,
        "regie_email": REGIE_EMAIL,
        "regie_password": REGIE_PASSWORD,
        "regie": REGIE_NAME,
        "regie_commitment": REGIE_COMMITMENT,
        "tremplin": TREMPLIN_NAME,
        "bailleur": BAILLEUR_NAME,
        "debrouillards": DEBROUILLARDS_NAME,
    }
    from tests.browser.prepare_db import save_database

    save_database(db_path, json_path, data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
