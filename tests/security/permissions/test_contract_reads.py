"""Lectures réservées d'un contrat, sans partenaire propriétaire : journal d'audit, file de
modération et retours d'expérience en attente, instances et décisions hors comité de pilotage,
invitations, traitements de géoréférencement (leur auteur seul), vue de l'État (le lecteur
inter-contrats seul) ; chaque lecture × chaque rôle, par les pages et par l'API. L'évaluation en
cours, sur le même monde : test_evaluation_reads.py."""

import datetime

import pytest
from django.urls import reverse

from tests.worlds import built_once

from .matrix_world import ROLES, log_in, response_text

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


FEEDBACK_SECRET = "Retour en attente Ornithorynque"
MEETING_SECRET = "Comite technique Narval"
DECISION_SECRET = "Decision du comite technique Morse"
EVALUATION_SECRET = "Evaluation en cours Lamantin"
GEOREF_SECRET = "beneficiaires-Dugong.csv"
MEMBERS = {"pilot", "editor_a", "editor_b", "reader_a", "council", "evaluator", "operator"}
PILOTS = {"pilot", "operator"}


@pytest.fixture(scope="module")
def contract_world(world, django_db_blocker, tmp_path_factory):
    """Bâti une fois pour les lectures du contrat (tests/worlds.py)."""
    with built_once(django_db_blocker, MEDIA_ROOT=tmp_path_factory.mktemp("contract_world")):
        yield _build_contract_world(world)


def _build_contract_world(world):
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from cdv.evaluation.enums import EvaluationKind
    from cdv.evaluation.models import Evaluation
    from cdv.georef.models import GeorefJob, JobStatus
    from cdv.monitoring.enums import FeedbackKind, MeetingKind, Moderation
    from cdv.monitoring.models import Decision, Feedback, Meeting

    nantes = world["contracts"]["main"]
    feedback = Feedback.objects.create(
        contract=nantes,
        author=world["users"]["editor_b"],
        partner=world["partners"]["b"],
        kind=FeedbackKind.NEED,
        text=FEEDBACK_SECRET,
        moderation=Moderation.PENDING,
    )
    meeting = Meeting.objects.create(
        contract=nantes, kind=MeetingKind.COTECH, title=MEETING_SECRET, date=datetime.date(2026, 2, 3)
    )
    Decision.objects.create(meeting=meeting, text=DECISION_SECRET)
    evaluation = Evaluation.objects.get(contract=nantes, kind=EvaluationKind.MID_TERM)
    assert not evaluation.is_adopted
    Evaluation.objects.filter(pk=evaluation.pk).update(title=EVALUATION_SECRET)
    # Un traitement de géoréférencement terminé, lancé par le référent A pour le contrat.
    job = GeorefJob(
        owner=world["users"]["editor_a"],
        contract=nantes,
        original_name=GEOREF_SECRET,
        options={"mode": "lonlat", "geography": "2024"},
        status=JobStatus.DONE,
        finished_at=timezone.now(),
        summary={"rows": 2, "by_status": {"DANS_QPV": 1, "HORS_QPV": 1}, "by_qpv": {}},
    )
    job.output_file.save("resultat.csv", ContentFile(b"nom;statut_qpv\nA;DANS_QPV\n"), save=False)
    job.save()
    return {"contract": nantes, "feedback": feedback, "meeting": meeting, "georef_job": job}


def _www(name, *args):
    return lambda o: reverse(name, args=[o["contract"].slug, *args])


def _contract_api(path):
    return lambda o: f"/api/v1/contracts/{o['contract'].slug}{path.format(**o)}"


def _georef(name):
    return lambda o: reverse(name, args=[o["georef_job"].pk])


NANTES_URL = "/contrats/nantes-metropole-2024-2030/"
OTHER_URL = "/contrats/autre-contrat/"
# lecture : (URL, marque attendue ou None pour « la page entière », rôles qui la lisent)
CONTRACT_READS = {
    "audit_log": (_www("www:audit"), None, PILOTS),
    "moderation_queue": (_www("www:moderation"), FEEDBACK_SECRET, PILOTS),
    # La liste publique des retours ne montre que le publié, à tous (la file de modération à part).
    "feedback_unpublished_list": (_www("www:feedback_list"), FEEDBACK_SECRET, set()),
    # « Mes retours » : ceux de la personne connectée, en attente compris.
    "my_feedback": (_www("www:my_feedback"), FEEDBACK_SECRET, {"editor_b"}),
    "api_feedback_unpublished": (
        _contract_api("/feedback/{feedback.pk}"),
        FEEDBACK_SECRET,
        PILOTS | {"editor_b"},
    ),
    "api_feedback_list": (_contract_api("/feedback?limit=500"), FEEDBACK_SECRET, PILOTS | {"editor_b"}),
    "meeting_not_copil": (
        lambda o: reverse("www:meeting", args=[o["contract"].slug, o["meeting"].pk]),
        MEETING_SECRET,
        MEMBERS,
    ),
    "meeting_list": (_www("www:meetings"), MEETING_SECRET, MEMBERS),
    "decisions_not_copil": (_www("www:decisions"), DECISION_SECRET, MEMBERS),
    "api_meeting_not_copil": (_contract_api("/meetings/{meeting.pk}"), MEETING_SECRET, MEMBERS),
    "api_meeting_list": (_contract_api("/meetings?limit=500"), MEETING_SECRET, MEMBERS),
    "api_decisions_not_copil": (_contract_api("/decisions?limit=500"), DECISION_SECRET, MEMBERS),
    # Évaluation en cours (page, liste, API, résultats des questionnaires) : test_evaluation_reads.py.
    "invitations": (_www("www:invitations"), None, PILOTS),
    # Un traitement de géoréférencement : son auteur seul (l'opérateur passe par l'administration).
    "georef_job": (_georef("www:georef_job"), GEOREF_SECRET, {"editor_a"}),
    "georef_job_status": (_georef("www:georef_job_status"), None, {"editor_a"}),
    "georef_download": (_georef("www:georef_download"), None, {"editor_a"}),
    "georef_list": (lambda o: reverse("www:georef"), GEOREF_SECRET, {"editor_a"}),
    # Vue de l'État : le lecteur inter-contrats seul, et seulement les contrats que l'État a signés.
    "state_dashboard": (lambda o: reverse("www:state_dashboard"), NANTES_URL, {"state_reader"}),
    "state_dashboard_other_contract": (lambda o: reverse("www:state_dashboard"), OTHER_URL, set()),
    "state_dashboard_xlsx": (lambda o: reverse("www:state_dashboard_xlsx"), None, {"state_reader"}),
}


@pytest.mark.parametrize("read", list(CONTRACT_READS))
@pytest.mark.parametrize("role", ROLES)
def test_contract_read_matrix(client, world, contract_world, role, read):
    check_read(client, world, contract_world, role, CONTRACT_READS[read], read)


def check_read(client, world, contract_world, role, spec, read):
    """La lecture ``spec`` (URL, marque, lecteurs) sous ce rôle : montrée aux seuls lecteurs."""
    url_for, secret, readers = spec
    log_in(client, world, role)
    response = client.get(url_for(contract_world))
    if secret is None:
        shown = response.status_code == 200
    else:
        shown = response.status_code == 200 and secret in response_text(response)
    response.close()  # un téléchargement non lu garde son fichier ouvert
    assert shown == (role in readers), (read, role, response.status_code)
    if not shown and response.status_code != 200:
        assert response.status_code in {302, 401, 403, 404}, response.status_code
