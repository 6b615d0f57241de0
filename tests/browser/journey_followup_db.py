"""Prépare, pour le parcours « après le vote » (issue 17), une copie de la base des tests navigateur.

Usage : ``python tests/browser/journey_followup_db.py FICHIER.sqlite3 FICHIER.json``

Le point de départ du parcours : le comité a voté. Sur l'appel voté de la démonstration, la
référente de démonstration a un dossier de plus, décidé : 24 000 € votés par l'État (une
convention) et 4 000 € par la Métropole (un arrêté), un budget prévu équilibré, l'action finie
depuis dix jours dans le quartier des Dervallières. Le financeur État reçoit un SIRET valide s'il
n'en a pas (``idAttribuant`` du SCDL). Les repères (dossier, lignes, financeurs, un point du
quartier pour le fichier des bénéficiaires) sont ajoutés au JSON.
"""

import datetime
import os
import sys
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TITLE = "Ateliers numériques des familles (parcours après le vote)"
SUMMARY = "Des ateliers pour faire ses démarches en ligne en famille."
STATE_AMOUNT, METROPOLE_AMOUNT = Decimal("24000"), Decimal("4000")


def valid_siret(partner) -> str:
    """Un SIRET valide (clé de Luhn) qui commence par le SIREN de l'organisation s'il est connu."""
    from cdv.core.validators import luhn_ok

    base = ((partner.siren or f"1{partner.pk:08d}") + "0000")[:13]
    return next(base + str(d) for d in range(10) if luhn_ok(base + str(d)))


def main(db_path: str, json_path: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import json

    import django

    django.setup()
    import shapely
    from django.db import transaction
    from django.utils import timezone

    from cdv.contracts.models import Contract
    from cdv.core.validators import luhn_ok
    from cdv.georef import engine
    from cdv.grants.enums import ApplicationStatus, LineStatus
    from cdv.grants.models import Application, BudgetLine, Call, FunderLine
    from cdv.partners.models import Partner
    from cdv.seed.demo_grants import CORRESPONDENT_QPV
    from cdv.territories.models import Qpv
    from cdv.users.models import User

    data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    today = timezone.localdate()
    with transaction.atomic():
        contract = Contract.objects.get(slug=data["contract"])
        call = Call.objects.select_for_update().get(contract=contract, year=data["aap_voted_year"])
        association = Partner.objects.get(slug=data["aap_partner"])
        state_partner = (
            User.objects.get(email=data["instructor_email"]).memberships.get(contract=contract).partner
        )
        metro_partner = (
            User.objects.get(email=data["instructor2_email"]).memberships.get(contract=contract).partner
        )
        state, metro = call.funders.get(partner=state_partner), call.funders.get(partner=metro_partner)
        if not (state_partner.siret and luhn_ok(state_partner.siret)):
            state_partner.siret = valid_siret(state_partner)
            state_partner.save(update_fields=["siret"])
        call.last_number += 1
        call.save(update_fields=["last_number"])
        qpv = Qpv.objects.get(code=CORRESPONDENT_QPV)
        application = Application.objects.create(
            call=call,
            partner=association,
            status=ApplicationStatus.DECIDED,
            number=f"{call.year}-{call.last_number:04d}",
            title=TITLE,
            summary=SUMMARY,
            scope="QPV",
            beneficiaries=120,
            qpv_share=Decimal("75"),
            enjeu=contract.enjeux.order_by("number").first(),
            start_date=today - datetime.timedelta(days=200),
            end_date=today - datetime.timedelta(days=10),
            evaluation_indicators="Familles accueillies, démarches réussies.",
            submitted_at=call.committee_held_at - datetime.timedelta(days=60),
            sworn_name="Nadia Référente, présidente",
            sworn_statement=True,
            republican_contract=True,
        )
        application.qpvs.set([qpv])
        for account, label, amount in (
            ("60", "Matériel informatique", "10000"),
            ("64", "Animatrice", "20000"),
            ("70", "Participations des familles", "2000"),
        ):
            BudgetLine.objects.create(
                application=application, account=account, label=label, amount=Decimal(amount)
            )
        decided_on = call.committee_held_at.date()
        lines = {}
        for key, funder, amount in (("state", state, STATE_AMOUNT), ("metro", metro, METROPOLE_AMOUNT)):
            lines[key] = FunderLine.objects.create(
                application=application,
                funder=funder,
                status=LineStatus.VOTED,
                requested_amount=amount,
                proposed_amount=amount,
                voted_amount=amount,
                decision_date=decided_on,
                decision_reference=f"CF-{call.year}-PARCOURS",
            )
    index = engine.get_index()
    geometry = index.geometries[list(index.codes).index(CORRESPONDENT_QPV)]
    lon, lat = shapely.get_coordinates(geometry.representative_point())[0]
    data.update(
        {
            "followup_application": application.pk,
            "followup_number": application.number,
            "followup_state_line": lines["state"].pk,
            "followup_metro_line": lines["metro"].pk,
            "followup_state_name": state_partner.name,
            "followup_metro_name": metro_partner.name,
            "followup_state_siret": state_partner.siret,
            "followup_state_funder": state.pk,
            "followup_metro_funder": metro.pk,
            "followup_qpv": CORRESPONDENT_QPV,
            "followup_point": [float(lon), float(lat)],
        }
    )
    from tests.browser.prepare_db import save_database

    save_database(db_path, json_path, data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
