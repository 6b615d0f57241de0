"""Banc d'essai du bilan annuel : PDF de l'année pour le contrat de Nantes avec la démonstration.

    .venv/bin/python bench/annual_report.py

Base SQLite jetable ; données de référence et démonstration, dont la campagne de suivi 2025 ouverte
(un bilan par engagement confirmé ou suivant, en partie remplis ; l'année 2024 y est déjà figée).
Mesure le bilan sur les données du moment, le gel de l'année, puis le bilan reconstruit depuis
l'instantané. Cible : moins de 10 s.
"""

import os
import sys
import time

from benchdb import load_data, start_django, verdict

WORKDIR = start_django()

import datetime  # noqa: E402

from cdv.contracts.models import Contract  # noqa: E402
from cdv.core.actors import SystemActor  # noqa: E402
from cdv.monitoring import services, yearly  # noqa: E402
from cdv.monitoring.models import ReviewCampaign  # noqa: E402

TARGET_SECONDS = 10.0


def timed(label, function):
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    print(f"{label} : {seconds:.2f} s — cible < {TARGET_SECONDS:.0f} s : {verdict(seconds, TARGET_SECONDS)}")
    return result


def main():
    load_data()
    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    actor = SystemActor()
    # La campagne 2025 de la démonstration, ouverte ; une démonstration qui n'en aurait pas : ouverte ici.
    campaign = ReviewCampaign.objects.filter(contract=contract, year=2025).first() or services.open_campaign(
        user=actor,
        contract=contract,
        year=2025,
        deadline=datetime.date(2026, 2, 28),
        opens_on=datetime.date(2026, 1, 5),
    )
    print(f"Machine : {os.cpu_count()} cœurs ; base SQLite jetable dans {WORKDIR}")
    live = timed(
        "Bilan annuel 2025 sur les données du moment",
        lambda: yearly.build_annual_report_pdf(contract=contract, year=2025),
    )
    timed(
        "Gel de l'année (instantané)",
        lambda: yearly.freeze_year(user=actor, campaign=campaign, confirmed=True),
    )
    frozen = timed(
        "Bilan annuel 2025 depuis l'instantané",
        lambda: yearly.build_annual_report_pdf(contract=contract, year=2025),
    )
    print(f"Tailles : {len(live) // 1024} Ko (du moment), {len(frozen) // 1024} Ko (figé)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
