"""Banc d'essai de l'import des valeurs d'indicateurs : un CSV long de 100 000 valeurs.

    .venv/bin/python bench/indicators.py

Crée une base SQLite jetable (dans un dossier temporaire), y charge les données de référence, ajoute
au contrat de Nantes un indicateur trimestriel de banc d'essai, puis génère un CSV au format long
(1 584 QPV × 64 trimestres, tronqué à 100 000 valeurs ; virgule décimale, quelques cellules « s »).
Mesure : le premier import (tout est créé), le même fichier une seconde fois (tout est inchangé),
puis un fichier où chaque valeur a changé (tout est modifié), enfin ce dernier fichier converti en
XLSX (tout est inchangé : mesure la lecture du classeur par openpyxl). Cible : moins de 10 s pour chacun
sur la machine de développement (2 cœurs). Affiche les temps et la comparaison à la cible.
"""

import io
import os
import sys
import time

from benchdb import load_data, start_django, verdict

WORKDIR = start_django()

from openpyxl import Workbook  # noqa: E402

from cdv.contracts.models import Contract  # noqa: E402
from cdv.indicators.enums import Aggregation  # noqa: E402
from cdv.indicators.importer import import_indicator_values  # noqa: E402
from cdv.indicators.models import Indicator, IndicatorValue  # noqa: E402
from cdv.territories.models import Territory  # noqa: E402

TARGET_SECONDS = 10.0
VALUES = 100_000
CODE = "banc-essai-trimestriel"


def build_csv(qpv_codes, *, shift=0) -> bytes:
    lines = ["indicateur;territoire;periode;valeur;statut;millesime"]
    count = 0
    for year in range(2010, 2026):
        for quarter in range(1, 5):
            for index, code in enumerate(qpv_codes):
                if count == VALUES:
                    return ("\n".join(lines) + "\n").encode("utf-8")
                if (index + year + quarter) % 50 == 0:
                    value = "s"
                else:
                    value = f"{(index * 7 + year + quarter * 3 + shift) % 5000},{quarter}5"
                lines.append(f"{CODE};{code};{year}-T{quarter};{value};provisoire;banc {year}")
                count += 1
    return ("\n".join(lines) + "\n").encode("utf-8")


def to_xlsx(content: bytes) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Valeurs")
    for number, line in enumerate(content.decode("utf-8").splitlines()):
        cells = line.split(";")
        if number and cells[3] != "s":
            cells[3] = float(cells[3].replace(",", "."))  # un nombre, comme dans un vrai classeur
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed(contract, content, filename="banc-essai.csv"):
    started = time.perf_counter()
    report = import_indicator_values(
        contract=contract,
        fileobj=io.BytesIO(content),
        filename=filename,
        source="Banc d'essai",
        vintage="2024",
    )
    return report, time.perf_counter() - started


def main():
    load_data(demo=False)
    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    Indicator.objects.get_or_create(
        contract=contract,
        code=CODE,
        defaults={
            "name": "Indicateur trimestriel du banc d'essai",
            "unit": "personnes",
            "aggregation": Aggregation.SUM,
            "is_demo": True,
        },
    )
    qpv_codes = list(Territory.objects.qpvs().order_by("code").values_list("code", flat=True))
    content = build_csv(qpv_codes)
    size_mb = len(content) / 1024 / 1024

    first, first_seconds = timed(contract, content)
    if not first.ok:
        print("Import refusé :", first.errors[:5])
        return 1
    second, second_seconds = timed(contract, content)
    changed_content = build_csv(qpv_codes, shift=1)
    changed, changed_seconds = timed(contract, changed_content)
    workbook = to_xlsx(changed_content)
    from_xlsx, xlsx_seconds = timed(contract, workbook, "banc-essai.xlsx")
    stored = IndicatorValue.objects.filter(indicator__code=CODE).count()

    print(f"Machine : {os.cpu_count()} cœurs ; base SQLite jetable dans {WORKDIR}")
    print(f"Fichier : CSV long de {VALUES} valeurs sur {len(qpv_codes)} QPV ({size_mb:.1f} Mo)")
    print(
        f"Premier import : {first_seconds:.2f} s "
        f"[{first.created} créées, {first.updated} modifiées, {first.unchanged} inchangées] "
        f"— cible < {TARGET_SECONDS:.0f} s : {verdict(first_seconds, TARGET_SECONDS)}"
    )
    print(
        f"Même fichier une seconde fois : {second_seconds:.2f} s "
        f"[{second.created} créée, {second.updated} modifiée, {second.unchanged} inchangées] "
        f"— cible < {TARGET_SECONDS:.0f} s : {verdict(second_seconds, TARGET_SECONDS)}"
    )
    print(
        f"Fichier aux valeurs toutes changées : {changed_seconds:.2f} s "
        f"[{changed.created} créée, {changed.updated} modifiées, {changed.unchanged} inchangées] "
        f"— cible < {TARGET_SECONDS:.0f} s : {verdict(changed_seconds, TARGET_SECONDS)}"
    )
    print(
        f"Même contenu en XLSX ({len(workbook) / 1024 / 1024:.1f} Mo) : {xlsx_seconds:.2f} s "
        f"[{from_xlsx.created} créée, {from_xlsx.updated} modifiée, {from_xlsx.unchanged} inchangées] "
        f"— cible < {TARGET_SECONDS:.0f} s : {verdict(xlsx_seconds, TARGET_SECONDS)}"
    )
    print(f"Valeurs enregistrées pour l'indicateur du banc : {stored}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
