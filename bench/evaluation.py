"""Banc d'essai du rapport d'évaluation : l'évaluation à mi-parcours de démonstration de Nantes,
en PDF puis en DOCX (le « document de travail » que le pilote télécharge).

    .venv/bin/python bench/evaluation.py

Base SQLite jetable ; données de référence et démonstration. Mesure chaque format composé à neuf
(cache des PDF vidé avant), puis le PDF redemandé sans changement (servi par le cache des PDF,
``html_to_pdf``). Cible : les deux formats en moins de 30 s (temps écoulé), temps processeur donné
à côté, parce qu'une machine chargée allonge le premier sans changer le second.
"""

import logging
import os
import sys
import time

from benchdb import load_data, start_django, verdict

WORKDIR = start_django()

from django.core.cache import cache  # noqa: E402

from cdv.contracts.models import Contract  # noqa: E402
from cdv.evaluation import documents  # noqa: E402
from cdv.evaluation.enums import EvaluationKind  # noqa: E402

TARGET_SECONDS = 30.0


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main():
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # ses étapes page par page
    load_data()
    contract = Contract.objects.get(slug="nantes-metropole-2024-2030")
    evaluation = contract.evaluations.get(kind=EvaluationKind.MID_TERM)
    load = os.getloadavg()[0]
    print(f"Machine : {os.cpu_count()} cœurs, charge {load:.1f} ; base SQLite jetable dans {WORKDIR}")
    cache.clear()
    (pdf, _name), pdf_wall, pdf_cpu = timed(lambda: documents.evaluation_document(evaluation, "pdf"))
    (docx, _name), docx_wall, docx_cpu = timed(lambda: documents.evaluation_document(evaluation, "docx"))
    _again, again_wall, again_cpu = timed(lambda: documents.evaluation_document(evaluation, "pdf"))
    total = pdf_wall + docx_wall
    print(f"PDF composé : {pdf_wall:.2f} s écoulées, {pdf_cpu:.2f} s de processeur ({len(pdf) // 1024} Ko)")
    print(f"DOCX : {docx_wall:.2f} s écoulées, {docx_cpu:.2f} s de processeur ({len(docx) // 1024} Ko)")
    within = verdict(total, TARGET_SECONDS)
    print(f"Les deux formats : {total:.2f} s — cible < {TARGET_SECONDS:.0f} s : {within}")
    print(
        f"PDF redemandé sans changement (cache des PDF) : {again_wall:.2f} s, {again_cpu:.2f} s de processeur"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
