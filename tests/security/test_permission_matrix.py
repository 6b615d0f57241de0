"""Chaque rôle × chaque action d'écriture × un engagement de son partenaire, d'un autre
partenaire ou d'un autre contrat : autorisé ou refusé (403/404, ou connexion demandée), et rien
n'est écrit en cas de refus. Aucun partenaire ne modifie les données d'un autre en devinant un
identifiant.

L'opérateur de l'instance (superutilisateur, rôle « operator ») a partout les droits d'un pilote.
Les lectures : engagements, bilans, retours d'expérience, instances et décisions, évaluations et
traitements de géoréférencement, par les pages et par l'API."""

import datetime
import json

import pytest
from django.urls import reverse

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from cdv.users.models import CrossContractReader
from tests import factories
from tests.worlds import built_once

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

ROLES = [
    "anonymous",
    "pilot",
    "editor_a",
    "editor_b",
    "reader_a",
    "council",
    "evaluator",
    "pilot_other",
    "operator",
    "state_reader",
]
TARGETS = ["own_partner", "other_partner", "other_contract"]
# action : (état de départ, qui peut, s'agissant d'un engagement du partenaire A du contrat C)
ACTIONS = {
    "edit": (S.DRAFT, {"pilot", "editor_a"}),
    "propose": (S.DRAFT, {"pilot", "editor_a"}),
    "validate": (S.PROPOSED, {"pilot"}),
    "return": (S.PROPOSED, {"pilot"}),
    "start": (S.CONFIRMED, {"pilot", "editor_a"}),
    "close": (S.IN_PROGRESS, {"pilot", "editor_a"}),
    "delete": (S.DRAFT, {"pilot", "editor_a"}),
    "create": (None, {"pilot", "editor_a"}),
    "confirm_cahier": (S.VALIDATED, {"pilot", "editor_a"}),
}


@pytest.fixture(scope="module")
def world(demo_data, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        yield _build_world()


def _build_world():
    from cdv.contracts.models import Contract

    nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
    other_contract = factories.ContractFactory(slug="autre-contrat")
    other_contract.qpvs.add(*nantes.qpvs.all()[:2])
    factories.EnjeuFactory(contract=other_contract, number=1)
    partner_a = factories.PartnerFactory(name="Partenaire A")
    partner_b = factories.PartnerFactory(name="Partenaire B")
    for contract in (nantes, other_contract):
        for partner in (partner_a, partner_b):
            factories.SignatoryFactory(contract=contract, partner=partner)
    users = {"anonymous": None}
    specs = {
        "pilot": (nantes, None, Role.PILOT),
        "editor_a": (nantes, partner_a, Role.EDITOR),
        "editor_b": (nantes, partner_b, Role.EDITOR),
        "reader_a": (nantes, partner_a, Role.READER),
        "council": (nantes, partner_b, Role.COUNCIL_MEMBER),
        "evaluator": (nantes, None, Role.EVALUATOR),
        "pilot_other": (other_contract, None, Role.PILOT),
    }
    for name, (contract, partner, role) in specs.items():
        users[name] = factories.MembershipFactory(contract=contract, partner=partner, role=role).user
    users["operator"] = factories.UserFactory(is_superuser=True, is_staff=True)
    # Lecture inter-contrats d'un État qui signe Nantes seul : la vue de l'État, rien de non publié.
    state = factories.PartnerFactory(name="État signataire", kind="ETAT")
    factories.SignatoryFactory(contract=nantes, partner=state)
    users["state_reader"] = factories.UserFactory()
    CrossContractReader.objects.create(user=users["state_reader"], partner=state)
    return {
        "users": users,
        "sessions": _sessions(users),
        "contracts": {"nantes": nantes, "other": other_contract},
        "partners": {"a": partner_a, "b": partner_b},
    }


def _sessions(users):
    """Une session ouverte par rôle, une fois pour le fichier (dans la transaction du module) : celle
    que ``force_login`` du client de test ouvrirait à chaque cas. Ce qu'un cas écrit dans sa session
    est annulé avec lui."""
    from django.test import Client

    sessions = {}
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[role] = client.session.session_key
    return sessions


def log_in(client, world, role):
    """Connecte le client de test sous ce rôle (rien pour « anonymous ») avec la session du monde."""
    from django.conf import settings

    if role in world["sessions"]:
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]


def target_of(world, target):
    """(contrat, partenaire) de l'objet visé : A dans C, B dans C, A dans un autre contrat."""
    c, p = world["contracts"], world["partners"]
    return {
        "own_partner": (c["nantes"], p["a"]),
        "other_partner": (c["nantes"], p["b"]),
        "other_contract": (c["other"], p["a"]),
    }[target]


def expected_allowed(role, target, action):
    allowed = ACTIONS[action][1]
    if role == "operator":  # les droits d'un pilote, dans chaque contrat
        return "pilot" in allowed
    if target == "own_partner":
        return role in allowed
    if target == "other_partner":  # les droits du référent A valent pour B à son référent seul
        owners = {"editor_b"} if "editor_a" in allowed else set()
        return role in (allowed - {"editor_a"}) | owners
    return role == "pilot_other" and "pilot" in allowed  # un autre contrat : seul son pilote


def request_for(action, contract, partner, commitment):
    slug = contract.slug
    if action == "create":
        url = reverse("www:commitment_create", args=[slug, partner.slug])
        objective = contract.enjeux.first().objectives.first() or factories.ObjectiveFactory(
            enjeu=contract.enjeux.first()
        )
        return url, {"objective": objective.pk, "title": "Nouvel engagement", "scope": "CONTRAT"}
    if action == "confirm_cahier":
        url = reverse("www:confirm_cahier", args=[slug, partner.slug])
        return url, {"signatory_name": "Nom", "signatory_role": "Qualité", "agree": "on"}
    if action == "edit":
        url = reverse("www:commitment_edit", args=[slug, commitment.pk])
        return url, {
            "objective": commitment.objective_id,
            "title": "Titre modifié",
            "scope": "CONTRAT",
            "version": commitment.version,
        }
    names = {
        "propose": "proposer",
        "validate": "valider",
        "return": "renvoyer",
        "start": "demarrer",
        "close": "clore",
        "delete": "supprimer",
    }
    url = reverse("www:commitment_transition", args=[slug, commitment.pk, names[action]])
    return url, {"comment": "À revoir", "outcome": S.DONE}


def state(contract, partner):
    return sorted(
        Commitment.objects.filter(contract=contract, partner=partner).values_list(
            "pk", "status", "title", "version"
        )
    )


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, world, role, target, action):
    contract, partner = target_of(world, target)
    start_status = ACTIONS[action][0]
    commitment = factories.CommitmentFactory(
        contract=contract, partner=partner, status=start_status or S.DRAFT, title="Engagement à protéger"
    )
    user = world["users"][role]
    log_in(client, world, role)
    before = state(contract, partner)
    url, data = request_for(action, contract, partner, commitment)
    response = client.post(url, data)
    allowed = expected_allowed(role, target, action)
    if allowed:
        assert response.status_code == 302, (response.status_code, response.content.decode()[:500])
        assert state(contract, partner) != before
    else:
        if user is None:
            assert response.status_code == 302 and reverse("www:login") in response["Location"]
        else:
            assert response.status_code in {403, 404}, response.status_code
        assert state(contract, partner) == before


@pytest.mark.parametrize("role", ROLES)
def test_reading_a_draft_of_another_contract_is_a_404(client, world, role):
    contract, partner = target_of(world, "other_contract")
    commitment = factories.CommitmentFactory(
        contract=contract, partner=partner, status=S.DRAFT, title="Engagement à protéger"
    )
    log_in(client, world, role)
    response = client.get(reverse("www:commitment", args=[contract.slug, commitment.pk]))
    assert response.status_code == (200 if role in {"pilot_other", "operator"} else 404)


def test_an_id_from_another_contract_under_this_contract_url_is_a_404(client, world):
    """L'identifiant est cherché dans le contrat de l'URL : le deviner ne sert à rien."""
    other, partner = target_of(world, "other_contract")
    commitment = factories.CommitmentFactory(
        contract=other, partner=partner, status=S.DRAFT, title="Engagement à protéger"
    )
    log_in(client, world, "pilot")
    nantes = world["contracts"]["nantes"]
    for url in [
        reverse("www:commitment", args=[nantes.slug, commitment.pk]),
        reverse("www:commitment_edit", args=[nantes.slug, commitment.pk]),
    ]:
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "proposer"])
    )
    assert response.status_code == 404
    assert Commitment.objects.get(pk=commitment.pk).status == S.DRAFT


API_ACTIONS = ["edit", "propose", "validate", "return", "start", "close", "create"]


def api_call(client, action, contract, partner, commitment, headers):
    base = f"/api/v1/contracts/{contract.slug}/commitments"
    if action == "create":
        objective = factories.ObjectiveFactory(enjeu=contract.enjeux.first())
        body = {
            "partner": partner.slug,
            "objective": f"{objective.enjeu.number}.{objective.number}",
            "title": "Créé par l'API",
            "scope": "CONTRAT",
        }
        return client.post(base, body, content_type="application/json", **headers)
    if action == "edit":
        body = {"version": commitment.version, "title": "Titre modifié"}
        return client.patch(f"{base}/{commitment.pk}", body, content_type="application/json", **headers)
    body = {"action": action, "comment": "À revoir", "outcome": S.DONE}
    return client.post(
        f"{base}/{commitment.pk}/transitions", body, content_type="application/json", **headers
    )


@pytest.mark.parametrize("action", API_ACTIONS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_api_permission_matrix(client, world, role, target, action):
    from cdv.users.services import create_api_token

    contract, partner = target_of(world, target)
    commitment = factories.CommitmentFactory(
        contract=contract,
        partner=partner,
        status=ACTIONS[action][0] or S.DRAFT,
        title="Engagement à protéger",
    )
    user = world["users"][role]
    headers = {}
    if user is not None:
        headers = {"HTTP_AUTHORIZATION": "Bearer " + create_api_token(user=user, name="matrice")[1]}
    before = state(contract, partner)
    response = api_call(client, action, contract, partner, commitment, headers)
    if expected_allowed(role, target, action):
        assert response.status_code in {200, 201}, (response.status_code, response.content[:300])
        assert state(contract, partner) != before
    else:
        assert response.status_code in ({401} if user is None else {403, 404}), response.status_code
        assert state(contract, partner) == before


# --- Lectures : qui voit le non-publié d'un partenaire -------------------------------------------
#
# Un engagement non publié (brouillon, proposé, validé, renvoyé), un bilan annuel et ses pièces
# jointes se lisent par le partenaire (ses référents et ses lecteurs), les pilotes et les
# évaluateurs — jamais par un autre partenaire, un membre de conseil citoyen ni le public, qui ne
# voient que le publié. Le tableau de pilotage, la file de validation, le tableau de complétude,
# le bilan annuel et l'instantané de l'année (tous partenaires confondus) sont aux pilotes et aux
# évaluateurs. Chaque lecture ci-dessous × chaque rôle × un objet de son partenaire, d'un autre
# partenaire ou d'un autre contrat.

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


def _pdf_text(content: bytes) -> str:
    """Le texte d'un PDF, lu une fois par contenu : deux rôles qui voient les mêmes engagements
    reçoivent le même document, octet pour octet (sa lecture par pypdf coûte autant que son rendu)."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    if digest not in _PDF_TEXTS:
        _PDF_TEXTS[digest] = _read_pdf_text(content)
    return _PDF_TEXTS[digest]


_PDF_TEXTS: dict[str, str] = {}


def _read_pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def _xlsx_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(
        str(value)
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
        for value in row
        if value
    )


def _text(response) -> str:
    kind = response.get("Content-Type", "")
    if response.status_code != 200:
        return ""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("application/pdf") and b"piece jointe secrete" not in content:
        return _pdf_text(content)
    if "spreadsheetml" in kind:
        return _xlsx_text(content)
    return content.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def read_world(world, django_db_blocker, tmp_path_factory):
    """Pour chaque cible : un engagement validé (non publié), un engagement confirmé avec son bilan
    (non publié) et une pièce jointe, une année figée dont l'instantané porte le bilan.

    Bâti une fois pour les lectures du fichier (tests/worlds.py)."""
    with built_once(django_db_blocker, MEDIA_ROOT=tmp_path_factory.mktemp("read_world")):
        yield _build_read_world(world)


def _build_read_world(world):
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
READS = {
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
    "pilot_dashboard": (
        lambda o: reverse("www:dashboard", args=[o["contract"].slug]),
        None,  # la page entière est réservée
        "steering",
    ),
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
    "api_commitment": (_api("/commitments/{commitment.pk}"), SECRET_COMMITMENT, "partner"),
    "api_commitments": (_api("/commitments?limit=500"), SECRET_COMMITMENT, "partner"),
    "api_partner": (_api("/partners/{partner.slug}"), '"commitments": [', "api_ids"),
}


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


@pytest.fixture(scope="module")
def read_responses():
    """(rôle, URL) -> (statut, texte) : une lecture du contrat (compilation, recherche, tableaux de
    bord…) est la même pour les cibles « own_partner » et « other_partner » ; le monde du module
    étant le même à chaque test, elle n'est rendue qu'une fois par rôle (les PDF coûtent)."""
    return {}


@pytest.mark.parametrize("read", list(READS))
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(client, world, read_world, read_responses, role, target, read):
    url_for, secret, scope = READS[read]
    objects = read_world[target]
    url = url_for(objects)
    if (role, url) not in read_responses:
        log_in(client, world, role)
        response = client.get(url)
        # Le texte seulement s'il sert (une même URL est toujours la même lecture, donc le même secret).
        text = _text(response) if secret is not None or scope == "api_ids" else ""
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


# --- Lectures réservées du contrat (sans partenaire propriétaire) ---------------------------------

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

    nantes = world["contracts"]["nantes"]
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
    "evaluation_in_progress": (_www("www:evaluation", "mi-parcours"), None, MEMBERS),
    "evaluation_list": (_www("www:evaluations"), EVALUATION_SECRET, MEMBERS),
    "api_evaluation_in_progress": (_contract_api("/evaluations/MI_PARCOURS"), None, MEMBERS),
    "api_evaluation_list": (_contract_api("/evaluations?limit=500"), EVALUATION_SECRET, MEMBERS),
    # Le conseil citoyen du monde de test ne couvre pas les Dervallières : pilote et évaluateur seuls.
    "council_results_in_progress": (
        _www("www:questionnaire_results", "mi-parcours", "QN04406M"),
        None,
        PILOTS | {"evaluator"},
    ),
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
    url_for, secret, readers = CONTRACT_READS[read]
    log_in(client, world, role)
    response = client.get(url_for(contract_world))
    if secret is None:
        shown = response.status_code == 200
    else:
        shown = response.status_code == 200 and secret in _text(response)
    response.close()  # un téléchargement non lu garde son fichier ouvert
    assert shown == (role in readers), (read, role, response.status_code)
    if not shown and response.status_code != 200:
        assert response.status_code in {302, 401, 403, 404}, response.status_code


# --- Garde de couverture : chaque page et chaque lecture de l'API est classée ---------------------
# Une nouvelle URL fait échouer ce test tant qu'on n'a pas dit où sa lecture est vérifiée.

COVERED_ELSEWHERE = {
    # appel à projets : tests/grants/test_grants_permissions.py (chaque rôle × chaque page et écriture)
    **dict.fromkeys(
        [
            "call_list",
            "call_create",
            "call",
            "call_edit",
            "call_funders",
            "call_settings",
            "call_publish",
            "call_archive",
            "call_copy",
            "call_drafts",
            "partner_applications",
            "partner_identity",
            "partner_documents",
            "application_create",
            "application",
            "application_project",
            "application_budget",
            "application_documents",
            "application_submit",
            "application_withdraw",
            "application_delete",
            "application_answer",
            "application_receipt",
            "call_queue",
            "application_instruction",
            "funder_line_edit",
            "quartier_opinion",
            "scores_edit",
            "request_info",
            "application_pdf",
            "programmation",
            "programmation_xlsx",
            "simulate_line",
            "committee_vote",
        ],
        "tests/grants/test_grants_permissions.py",
    ),
    # actes attributifs (AAP, partie 2) : chaque rôle dans tests/grants/test_acts_pages.py
    **dict.fromkeys(
        [
            "act_templates",
            "act_template_edit",
            "call_acts",
            "line_act",
            "act_docx",
            "act_pdf",
            "act_sign",
            "act_signed_file",
        ],
        "tests/grants/test_acts_pages.py",
    ),
    # appel à projets, import de Dauphin (pilote) : chaque rôle refusé, et le parcours
    "call_import": "tests/grants/test_import_pages.py",
    # appel à projets après le vote : versements, compte-rendu, examen, blocages, page publique
    **dict.fromkeys(
        ["line_payments", "payment_cancel", "call_payments", "call_payments_xlsx"],
        "tests/grants/test_payments_pages.py",
    ),
    **dict.fromkeys(
        ["report", "report_budget", "report_beneficiaries", "report_submit", "report_pdf"],
        "tests/grants/test_reports_pages.py",
    ),
    **dict.fromkeys(
        ["report_review", "call_reports", "call_blocks", "call_block_lift"],
        "tests/grants/test_review_pages.py",
    ),
    "call_results": "tests/grants/test_public_results.py",
    # agenda et fil d'un contrat : rien de non public pour un anonyme, les dates internes aux membres
    **dict.fromkeys(["agenda_ics", "news_atom"], "tests/www/test_feeds.py"),
    # publiques : rien de non publié (engagements filtrés par visible_commitments, vérifiés ci-dessus)
    **dict.fromkeys(
        [
            "home",
            "contracts",
            "contract",
            "indicators",
            "indicator",
            "action",
            "partners",
            "map",
            "map_geojson",
            "accessibility",
            "readability",
            "opendata",
            "datapackage",
            "opendata_file",
            "amendments",
            "questionnaires",
        ],
        "public ou filtré par les mêmes fonctions de droits",
    ),
    # comptes et pages personnelles
    **dict.fromkeys(
        [
            "login",
            "logout",
            "password_reset",
            "password_reset_done",
            "password_reset_confirm",
            "password_reset_complete",
            "invitation",
            "proconnect_login",
            "login_code",
            "my_space",
            "two_factor",
            "my_data",
            "delete_account",
        ],
        "la personne elle-même (tests/users/test_accounts.py, tests/users/test_rgpd.py)",
    ),
    # notifications : les siennes seulement ; « Relancer maintenant » : pilote seul
    "notifications": "la personne elle-même (tests/notifications/test_notifications.py)",
    "review_remind": "pilote seul, aperçu puis envoi (tests/notifications/test_notifications.py)",
    # géoréférencement : l'enregistrement comme valeur d'indicateur (écriture)
    "georef_record": "tests/georef/test_georef_web.py, tests/security/test_attack_probes.py",
    # écritures (et leurs formulaires) : test_permission_matrix (engagements), test_attack_probes
    **dict.fromkeys(
        [
            "commitment_create",
            "confirm_cahier",
            "commitment_edit",
            "commitment_transition",
            "action_options",
            "cahier_template",
            "cahier_upload",
            "feedback_create",
            "feedback_edit",
            "feedback_moderate",
            "meeting_create",
            "meeting_edit",
            "decision_create",
            "decision_edit",
            "evaluation_judgement",
            "evaluation_recommendation",
            "evaluation_freeze",
            "evaluation_adopt",
            "questionnaire",
            "questionnaire_paper",
            "questionnaire_status",
            "questionnaire_pdf",
            "review_campaigns",
            "review_close",
            "review_freeze",
            "review_accept",
            "review_return",
            "review_attachment_delete",
        ],
        "écriture ou formulaire : tests/security/test_attack_probes.py",
    ),
    # opérateur de l'instance (superutilisateur) seul
    "new_contract": "tests/contracts/test_new_contract.py",
    # vue de l'État : accorder la lecture inter-contrats, l'opérateur seul
    "cross_contract_readers": "tests/contracts/test_state_view.py",
    # import des valeurs d'indicateurs à l'écran : pilotes du contrat seulement
    **dict.fromkeys(
        ["indicator_import", "indicator_import_preview"],
        "tests/indicators/test_indicator_import_screen.py, tests/security/test_attack_probes.py",
    ),
    # éditeur du plan d'action : pilotes du contrat seulement
    **dict.fromkeys(
        [
            "plan",
            "plan_export",
            "plan_import",
            "plan_enjeu_create",
            "plan_enjeu_edit",
            "plan_objective_create",
            "plan_objective_edit",
            "plan_action_create",
            "plan_action_edit",
            "plan_move",
            "plan_archive",
            "plan_restore",
            "plan_delete",
            "plan_history",
        ],
        "tests/plan/test_plan_editor.py",
    ),
    # avis des conseils dans les documents et versions : tests/evaluation/test_council_visibility.py
    **dict.fromkeys(
        ["evaluation_document", "evaluation_version_document", "evaluation_version_json"],
        "tests/evaluation/test_council_visibility.py",
    ),
}
WWW_READS = {
    "commitment": "commitment_page",
    "partner_space": "partner_space",
    "partner": "partner_page",
    "enjeu": "enjeu_page",
    "qpv": "qpv_page",
    "search": "search",
    "cahier": "cahier_pdf",
    "compilation": "compilation_pdf",
    "dashboard": "pilot_dashboard",
    "review_report": "report_page",
    "review_partner": "partner_reports",
    "review_attachment": "report_attachment",
    "review_campaign": "completeness_dashboard",
    "annual_report": "annual_report_pdf",
    "review_snapshot": "year_snapshot",
    "audit": "audit_log",
    "moderation": "moderation_queue",
    "feedback_list": "feedback_unpublished_list",
    "meeting": "meeting_not_copil",
    "evaluation": "evaluation_in_progress",
    "questionnaire_results": "council_results_in_progress",
    "invitations": "invitations",
    "my_feedback": "my_feedback",
    "meetings": "meeting_list",
    "decisions": "decisions_not_copil",
    "evaluations": "evaluation_list",
    "georef": "georef_list",
    "georef_job": "georef_job",
    "georef_job_status": "georef_job_status",
    "georef_download": "georef_download",
    "state_dashboard": "state_dashboard",
    "state_dashboard_xlsx": "state_dashboard_xlsx",
}
API_READS = {
    "get_commitment": "api_commitment",
    "list_commitments": "api_commitments",
    "get_partner": "api_partner",
    "get_feedback": "api_feedback_unpublished",
    "get_meeting": "api_meeting_not_copil",
    "get_evaluation": "api_evaluation_in_progress",
    "list_evaluations": "api_evaluation_list",
    "list_meetings": "api_meeting_list",
    "list_decisions": "api_decisions_not_copil",
    "list_feedback": "api_feedback_list",
    # appel à projets : chaque rôle × chaque lecture dans tests/grants/
    **dict.fromkeys(
        ["list_calls", "get_call", "list_applications", "get_application"], "tests/grants/test_grants_api.py"
    ),
    # publiques : référentiel, plan, indicateurs ; listes filtrées par les fonctions de droits
    **dict.fromkeys(
        [
            "list_qpv",
            "get_qpv",
            "list_contracts",
            "get_contract",
            "list_enjeux",
            "get_enjeu",
            "list_objectives",
            "get_objective",
            "list_actions",
            "get_action",
            "list_partners",
            "list_indicators",
            "indicator_values",
            "georef_point",
        ],
        "public ou filtré par les mêmes fonctions de droits",
    ),
}


def test_every_page_and_api_read_is_classified():
    from cdv.api.urls import api
    from cdv.www.urls import urlpatterns

    matrix = set(READS) | set(CONTRACT_READS)
    for name, read in WWW_READS.items():
        assert read in matrix, name
    for name, read in API_READS.items():
        assert read in matrix or read.startswith("tests/") or read.startswith("public"), name
    names = {p.name for p in urlpatterns}
    assert names - set(WWW_READS) - set(COVERED_ELSEWHERE) == set(), "pages non classées"
    assert (set(WWW_READS) | set(COVERED_ELSEWHERE)) - names == set(), "pages disparues"
    operations = {
        op.operation_id
        for _, router in api._routers
        for path_view in router.path_operations.values()
        for op in path_view.operations
        if "GET" in op.methods
    }
    assert operations - set(API_READS) == set(), "lectures de l'API non classées"
