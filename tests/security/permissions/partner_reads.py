"""Lectures : qui voit le non-publié d'un partenaire, par les pages, les exports (PDF, XLSX) et
l'API — ce qui est commun aux quatre fichiers de cette matrice (test_partner_reads_*.py : pages,
suivi annuel, exports, API).

Un engagement non publié (brouillon, proposé, validé, renvoyé), un bilan annuel et ses pièces
jointes se lisent par le partenaire (ses référents et ses lecteurs), les pilotes et les
évaluateurs — jamais par un autre partenaire, un membre de conseil citoyen ni le public, qui ne
voient que le publié. Le tableau de pilotage, la file de validation, le tableau de complétude,
le bilan annuel et l'instantané de l'année (tous partenaires confondus) sont aux pilotes et aux
évaluateurs. Chaque lecture × chaque rôle × un objet de son partenaire, d'un autre partenaire ou
d'un autre contrat.

Les fixtures ``read_world`` et ``read_responses`` (conftest.py) s'en servent : de portée ``module``,
elles sont bâties une fois par fichier, sur le petit contrat du monde."""

import datetime
import json
from contextlib import contextmanager

from django.urls import reverse

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from tests import factories

from .matrix_world import TARGETS, log_in, response_text, target_of

# Des marques propres à chaque cible : une liste du contrat montre les objets de plusieurs cibles.
WORDS = {"own_partner": "Zephyr", "other_partner": "Yucca", "other_contract": "Xylophone"}
SECRET_COMMITMENT = "commitment"
SECRET_REPORT = "report"
SECRET_FILE = "file"
PUBLISHED = "published"
READ_YEAR = 2025


def markers(target) -> dict:
    word = WORDS[target]
    return {
        SECRET_COMMITMENT: f"Engagement secret {word}",
        SECRET_REPORT: f"Bilan secret {word}",
        SECRET_FILE: f"piece jointe secrete {word}",
        PUBLISHED: f"Engagement publie {word}",
    }


@contextmanager
def one_generation_time():
    """L'heure de génération des cahiers et de la compilation (« généré le … à … h … ») figée pour
    les lectures du fichier : deux rôles qui voient les mêmes engagements reçoivent alors le même
    HTML, que le cache des PDF (``html_to_pdf``) ne compose qu'une fois, même quand leurs lectures
    tombent à des minutes différentes. Ce que chaque rôle voit dans le document ne change pas."""
    import types
    from unittest import mock

    from django.utils import timezone

    from cdv.commitments import documents

    moment = timezone.localtime()
    clock = types.ModuleType("horloge_figee")
    clock.__dict__.update(vars(timezone))
    clock.localtime = lambda value=None, tz=None: timezone.localtime(moment if value is None else value, tz)
    with mock.patch.object(documents, "timezone", clock):
        yield


def build_read_world(world):
    from django.core.files.base import ContentFile

    from cdv.monitoring.models import ProgressReport, ReportAttachment, ReviewCampaign, Snapshot
    from cdv.monitoring.yearly import year_payload

    objects = {}
    for target in TARGETS:
        contract, partner = target_of(world, target)
        marks = markers(target)
        secret = factories.CommitmentFactory(
            contract=contract, partner=partner, status=S.VALIDATED, title="Engagement à protéger"
        )
        Commitment.objects.filter(pk=secret.pk).update(title=marks[SECRET_COMMITMENT])
        published = factories.CommitmentFactory(
            contract=contract, partner=partner, status=S.CONFIRMED, title="Engagement à protéger"
        )
        Commitment.objects.filter(pk=published.pk).update(title=marks[PUBLISHED])
        content = f"%PDF-1.4\n% {marks[SECRET_FILE]}\n".encode()
        campaign, _ = ReviewCampaign.objects.get_or_create(
            contract=contract,
            year=READ_YEAR,
            defaults={"opens_on": datetime.date(2026, 1, 5), "deadline": datetime.date(2026, 3, 31)},
        )
        report = ProgressReport.objects.create(
            campaign=campaign, commitment=published, partner=partner, what_worked=marks[SECRET_REPORT]
        )
        attachment = ReportAttachment.objects.create(
            report=report,
            file=ContentFile(content, name="piece.pdf"),
            original_name="piece.pdf",
            content_type="application/pdf",
            size=len(content),
        )
        Snapshot.objects.filter(campaign=campaign).delete()  # refait avec les bilans de chaque cible
        payload = year_payload(contract, READ_YEAR)
        assert marks[SECRET_REPORT] in json.dumps(payload, ensure_ascii=False)
        Snapshot.objects.create(campaign=campaign, payload=payload, checksum="0" * 64)
        objects[target] = {
            "contract": contract,
            "partner": partner,
            "commitment": secret,
            "report": report,
            "attachment": attachment,
            "enjeu": secret.objective.enjeu,
            "qpv": contract.qpvs.order_by("code").first(),
            "markers": marks,
        }
    return objects


def _api(path):
    return lambda o: f"/api/v1/contracts/{o['contract'].slug}{path.format(**o)}"


# lecture : (URL à partir des objets de la cible, marque du secret, portée)
# portée « partner » : le partenaire de l'objet, les pilotes et les évaluateurs ;
# portée « steering » : les pilotes et les évaluateurs seulement (tous partenaires confondus).
# pages du contrat et du partenaire, tableau de pilotage
PAGES = {
    "commitment_page": (
        lambda o: reverse("www:commitment", args=[o["contract"].slug, o["commitment"].pk]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "partner_space": (
        lambda o: reverse("www:partner_space", args=[o["contract"].slug, o["partner"].slug]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "partner_page": (
        lambda o: reverse("www:partner", args=[o["contract"].slug, o["partner"].slug]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "enjeu_page": (
        lambda o: reverse("www:enjeu", args=[o["contract"].slug, o["enjeu"].slug]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "qpv_page": (
        lambda o: reverse("www:qpv", args=[o["contract"].slug, o["qpv"].code]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "search": (
        lambda o: reverse("www:search", args=[o["contract"].slug]) + "?q=secret",
        SECRET_COMMITMENT,
        "partner",
    ),
    "pilot_dashboard": (
        lambda o: reverse("www:dashboard", args=[o["contract"].slug]),
        None,  # la page entière est réservée
        "steering",
    ),
}
# suivi annuel : bilans, pièce jointe, tableau de complétude, bilan annuel en PDF, instantané
REVIEW = {
    "report_page": (
        lambda o: reverse("www:review_report", args=[o["contract"].slug, READ_YEAR, o["report"].pk]),
        SECRET_REPORT,
        "partner",
    ),
    "partner_reports": (
        lambda o: reverse("www:review_partner", args=[o["contract"].slug, READ_YEAR, o["partner"].slug]),
        PUBLISHED,
        "partner",
    ),
    "report_attachment": (
        lambda o: reverse(
            "www:review_attachment",
            args=[o["contract"].slug, READ_YEAR, o["report"].pk, o["attachment"].pk],
        ),
        SECRET_FILE,
        "partner",
    ),
    "completeness_dashboard": (
        lambda o: reverse("www:review_campaign", args=[o["contract"].slug, READ_YEAR]),
        None,  # la page entière est réservée
        "steering",
    ),
    "annual_report_pdf": (
        lambda o: reverse("www:annual_report", args=[o["contract"].slug, READ_YEAR]),
        None,  # la page entière est réservée
        "steering",
    ),
    "year_snapshot": (
        lambda o: reverse("www:review_snapshot", args=[o["contract"].slug, READ_YEAR]),
        SECRET_REPORT,
        "steering",
    ),
}
# exports : cahiers et compilations, en PDF et en XLSX
DOCUMENTS = {
    "cahier_pdf": (
        lambda o: reverse("www:cahier", args=[o["contract"].slug, o["partner"].slug, "pdf"]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "cahier_xlsx": (
        lambda o: reverse("www:cahier", args=[o["contract"].slug, o["partner"].slug, "xlsx"]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "compilation_pdf": (
        lambda o: reverse("www:compilation", args=[o["contract"].slug, "pdf"]),
        SECRET_COMMITMENT,
        "partner",
    ),
    "compilation_xlsx": (
        lambda o: reverse("www:compilation", args=[o["contract"].slug, "xlsx"]),
        SECRET_COMMITMENT,
        "partner",
    ),
}
# API
API = {
    "api_commitment": (_api("/commitments/{commitment.pk}"), SECRET_COMMITMENT, "partner"),
    "api_commitments": (_api("/commitments?limit=500"), SECRET_COMMITMENT, "partner"),
    "api_partner": (_api("/partners/{partner.slug}"), '"commitments": [', "api_ids"),
}
READS = {**PAGES, **REVIEW, **DOCUMENTS, **API}


def sees(role, target, scope) -> bool:
    if role == "operator":
        return True
    if target == "other_contract":
        return role == "pilot_other"
    if role in {"pilot", "evaluator"}:
        return True
    if scope == "steering":
        return False
    return role in {"own_partner": {"editor_a", "reader_a"}, "other_partner": {"editor_b"}}[target]


def check_read(client, world, read_world, read_responses, role, target, read):
    """Ce rôle lit-il le secret de la cible par cette lecture, et seulement s'il le doit ?"""
    url_for, secret, scope = READS[read]
    objects = read_world[target]
    url = url_for(objects)
    if (role, url) not in read_responses:
        log_in(client, world, role)
        response = client.get(url)
        # Le texte seulement s'il sert (une même URL est toujours la même lecture, donc le même secret).
        text = response_text(response) if secret is not None or scope == "api_ids" else ""
        read_responses[role, url] = (response.status_code, text)
        response.close()  # un téléchargement non lu garde son fichier ouvert
    status, text = read_responses[role, url]
    if scope == "api_ids":  # la liste des numéros d'engagements visibles du partenaire
        ids = json.loads(text).get("commitments", []) if status == 200 else []
        shown = objects["commitment"].pk in ids
        scope = "partner"
    elif secret is None:
        shown = status == 200
    else:
        shown = status == 200 and objects["markers"][secret] in text
    assert shown == sees(role, target, scope), (read, role, target, status)
    if not shown and status != 200:
        assert status in {302, 403, 404}, status
