"""Banc d'essai des cahiers d'engagements : import d'un XLSX de 5 000 lignes, PDF de 300 engagements.

    .venv/bin/python bench/commitments.py

Crée une base SQLite jetable (dans un dossier temporaire), y charge les données de référence et la
démonstration, puis mesure. Cible : moins de 10 s pour chacune des deux opérations sur la
machine de développement (2 cœurs). Affiche les temps et la comparaison à la cible.
"""

import io
import os
import sys
import time

from benchdb import load_data, start_django, verdict

WORKDIR = start_django()

from openpyxl import load_workbook  # noqa: E402

from cdv.commitments.documents import build_cahier_pdf  # noqa: E402
from cdv.commitments.enums import CommitmentScope, FundingKind  # noqa: E402
from cdv.commitments.models import Commitment, CommitmentMeans  # noqa: E402
from cdv.commitments.xlsx_import import import_commitments_xlsx  # noqa: E402
from cdv.commitments.xlsx_template import build_template_xlsx  # noqa: E402
from cdv.contracts.models import Contract, Signatory  # noqa: E402
from cdv.core.actors import SystemActor  # noqa: E402
from cdv.partners.models import Partner  # noqa: E402
from cdv.plan.models import Objective  # noqa: E402

TARGET_SECONDS = 10.0
ROWS = 5_000
PDF_COMMITMENTS = 300


def main():
    load_data()
    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    objectives = list(Objective.objects.filter(enjeu__contract=contract).select_related("enjeu"))
    qpv_codes = [q.code for q in contract.qpvs.order_by("code")]

    partner = Partner.objects.create(name="Partenaire du banc d'essai", slug="banc-essai", kind="ASSOCIATION")
    Signatory.objects.create(contract=contract, partner=partner, kind="PARTICIPANT")
    workbook = load_workbook(io.BytesIO(build_template_xlsx(contract=contract, partner=partner)))
    sheet = workbook["Engagements"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for index in range(ROWS):
        row = index + 2
        objective = objectives[index % len(objectives)]
        sheet.cell(row=row, column=headers["Objectif"], value=f"{objective.code} — {objective.title}")
        sheet.cell(row=row, column=headers["Intitulé"], value=f"Engagement de test n° {index + 1}")
        sheet.cell(row=row, column=headers["Portée"], value=CommitmentScope.QPV.label)
        sheet.cell(row=row, column=headers["QPV"], value=", ".join(qpv_codes[index % 15 : index % 15 + 2]))
        sheet.cell(row=row, column=headers["Cible"], value=f"{index % 200 + 10} personnes")
        sheet.cell(row=row, column=headers["ETP droit commun 2025"], value=0.5)
        sheet.cell(row=row, column=headers["€ droit commun 2025"], value=12000)
    buffer = io.BytesIO()
    workbook.save(buffer)
    size_mb = buffer.tell() / 1024 / 1024

    started = time.perf_counter()
    buffer.seek(0)
    report = import_commitments_xlsx(
        user=SystemActor(), contract=contract, partner=partner, fileobj=buffer, filename="banc.xlsx"
    )
    import_seconds = time.perf_counter() - started
    if not report.ok:
        print("Import refusé :", report.errors[:5])
        return 1

    started = time.perf_counter()
    buffer.seek(0)
    again = import_commitments_xlsx(
        user=SystemActor(), contract=contract, partner=partner, fileobj=buffer, filename="banc.xlsx"
    )
    reimport_seconds = time.perf_counter() - started

    pdf_partner = Partner.objects.create(name="Partenaire du PDF", slug="banc-pdf", kind="ASSOCIATION")
    Signatory.objects.create(contract=contract, partner=pdf_partner, kind="PARTICIPANT")
    created = Commitment.objects.bulk_create(
        [
            Commitment(
                contract=contract,
                partner=pdf_partner,
                objective=objectives[i % len(objectives)],
                title=f"Engagement du PDF n° {i + 1}",
                summary_plain="Un engagement de démonstration pour mesurer la génération du PDF.",
                scope=CommitmentScope.QPV,
                target="100 personnes",
            )
            for i in range(PDF_COMMITMENTS)
        ]
    )
    through = Commitment.qpvs.through
    qpv_ids = list(contract.qpvs.values_list("pk", flat=True))
    through.objects.bulk_create(
        [through(commitment_id=c.pk, territory_id=qpv_ids[i % len(qpv_ids)]) for i, c in enumerate(created)]
    )
    CommitmentMeans.objects.bulk_create(
        [
            CommitmentMeans(commitment=c, year=year, fte=1, amount_eur=10000, funding=FundingKind.ORDINARY)
            for c in created
            for year in (2025, 2026)
        ]
    )
    started = time.perf_counter()
    pdf = build_cahier_pdf(contract=contract, partner=pdf_partner)
    pdf_seconds = time.perf_counter() - started

    print(f"Machine : {os.cpu_count()} cœurs ; base SQLite jetable dans {WORKDIR}")
    print(
        f"Import XLSX de {ROWS} lignes ({size_mb:.1f} Mo) : {import_seconds:.2f} s "
        f"[{report.created} créés] — cible < {TARGET_SECONDS:.0f} s : "
        f"{verdict(import_seconds, TARGET_SECONDS)}"
    )
    print(
        f"Même fichier téléversé une seconde fois : {reimport_seconds:.2f} s "
        f"[{again.created} créé, {again.updated} modifié, {again.unchanged} inchangés]"
    )
    print(
        f"PDF de {PDF_COMMITMENTS} engagements ({len(pdf) / 1024:.0f} Ko) : {pdf_seconds:.2f} s "
        f"— cible < {TARGET_SECONDS:.0f} s : {verdict(pdf_seconds, TARGET_SECONDS)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
