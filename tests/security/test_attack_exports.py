"""XSS stocké et injection de formules dans chaque export (ticket n° 8).

Des charges (``<script>``, ``"><img onerror>``, ``=HYPERLINK("http://x")``, ``+cmd|' /C calc'!A0``,
``@SUM(1)``, ``-1+2``, une tabulation puis ``=``) sont posées dans les textes que les exports
reprennent : intitulé, résumé, description et cible d'un engagement, nom du partenaire, intitulé
d'objectif, nom, source et commentaire d'un indicateur, retour d'expérience, instance et décision,
évaluation (titre, méthode, question, jugement, recommandation), questionnaire (titre,
introduction, questions) et réponse d'un conseil citoyen. Puis chaque export est téléchargé par
sa page, comme le ferait une personne :

- PDF (cahier d'un partenaire, bilan annuel, rapport d'évaluation, questionnaire à imprimer) : la
  charge se lit telle quelle dans le texte extrait (pypdf) ; aucun objet du PDF ne porte d'action
  JavaScript (``/JS``, ``/JavaScript``), d'action d'ouverture ou de lien vers l'adresse de la charge ;
- DOCX (rapport d'évaluation) : la charge est du texte, sans champ ni lien hypertexte ;
- XLSX (cahier d'un partenaire et compilation, modèle de saisie, données ouvertes) : chaque texte
  est une cellule de type texte (``s``), aucune n'est une formule ni une erreur, et la charge se
  relit identique, sans apostrophe ajoutée (règle XLSX de ``cdv.core.formulas``) ;
- CSV (données ouvertes, journal d'audit) : aucun texte ne commence par ``=``, ``+``, ``-``, ``@``,
  une tabulation ou un retour chariot sans l'apostrophe de ``csv_text`` (un nombre négatif reste un
  nombre) ; la charge, apostrophe retirée, est intacte.
"""

import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.core.formulas import NEEDS_QUOTE_RE
from cdv.core.spreadsheets import unsafe_text
from cdv.evaluation import services as evaluation_services
from cdv.evaluation.enums import Criterion, EvaluationKind, ItemKind, QuestionnaireStatus
from cdv.indicators.enums import Scope
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.monitoring.enums import MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting, ProgressReport, ReviewCampaign
from cdv.opendata.resources import RESOURCES
from cdv.partners.enums import PartnerKind
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import pdf_page_texts
from tests.worlds import built_once, remove_demo_reviews

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HYPERLINK = '=HYPERLINK("http://x")'
DDE = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1)"
MINUS = "-1+2"
PAYLOAD_HOST = "http://x"

# Chaque texte commence par une formule et porte une charge XSS.
TEXTS = {
    "commitment_title": f"{HYPERLINK} {SCRIPT}",
    "commitment_summary": f"{DDE} {IMG}",
    "commitment_description": f"{AT_SUM} {SCRIPT}",
    "commitment_target": f"\t=1+1 {IMG}",
    "partner_name": f"{MINUS} {IMG}",
    "objective_title": f"{AT_SUM} {IMG}",
    "indicator_name": f"{HYPERLINK} {IMG}",
    "indicator_source": f"{DDE} {SCRIPT}",
    "value_comment": f"{AT_SUM} {SCRIPT}",
    "feedback_text": f"{HYPERLINK} {IMG}",
    "meeting_title": f"{AT_SUM} {SCRIPT}",
    "decision_text": f"{DDE} {SCRIPT}",
    "evaluation_title": f"{MINUS} {SCRIPT}",
    "evaluation_method": f"{AT_SUM} {IMG}",
    "question_text": f"{DDE} {IMG} ?",
    "judgement_text": f"{HYPERLINK} {SCRIPT}",
    "recommendation_text": f"{MINUS} {IMG}",
    "questionnaire_title": f"{HYPERLINK} {SCRIPT}",
    "questionnaire_intro": f"{DDE} {IMG}",
    "item_scale": f"{AT_SUM} {SCRIPT} ?",
    "item_text": f"{MINUS} {IMG} ?",
    "council_answer": f"{HYPERLINK} {IMG}",
    "project_title": f"{DDE} {SCRIPT}",
    "funder_name": f"{HYPERLINK} {SCRIPT}",
}
YEAR = 2025


@pytest.fixture(scope="module")
def poisoned(demo_data, django_db_blocker):
    """Les textes piégés, posés dans le contrat de Nantes (données de démonstration autour), une fois
    pour le fichier (tests/worlds.py). Ces tests ouvrent leur propre campagne de suivi sur ce contrat :
    le suivi annuel de la démonstration est retiré d'abord. Chaque test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        remove_demo_reviews()
        world = build_poisoned(Contract.objects.get(slug="nantes-metropole-2024-2030"))
        world["pilot_session"] = open_session(world["pilot"])
        yield world


def open_session(user):
    """La session du pilote, ouverte une fois pour le fichier (dans la transaction du module) : celle
    que ``force_login`` ouvrirait à chaque export. Ce qu'une requête y écrit est annulé avec son test."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.session.session_key


def build_poisoned(nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    partner = factories.PartnerFactory(name=TEXTS["partner_name"], slug="partenaire-piege")
    factories.SignatoryFactory(contract=nantes, partner=partner)
    enjeu = nantes.enjeux.order_by("number").first()
    objective = factories.ObjectiveFactory(enjeu=enjeu, title=TEXTS["objective_title"])
    qpv = nantes.qpvs.order_by("code").first()
    indicator = Indicator.objects.create(
        contract=nantes,
        code="indicateur-piege",
        name=TEXTS["indicator_name"],
        unit="%",
        source=TEXTS["indicator_source"],
        enjeu=enjeu,
    )
    IndicatorValue.objects.create(
        indicator=indicator,
        scope=Scope.TERRITORY,
        territory=qpv,
        year=YEAR,
        value=Decimal("-1.5"),
        comment=TEXTS["value_comment"],
    )
    commitment = Commitment.objects.create(
        contract=nantes,
        partner=partner,
        objective=objective,
        title=TEXTS["commitment_title"],
        summary_plain=TEXTS["commitment_summary"],
        description=TEXTS["commitment_description"],
        target=TEXTS["commitment_target"],
        scope=CommitmentScope.CONTRACT,
        status=S.CONFIRMED,
    )
    commitment.indicators.add(indicator)

    campaign = ReviewCampaign.objects.create(
        contract=nantes, year=YEAR, opens_on="2026-01-10", deadline="2026-02-28", opened_by=pilot
    )
    ProgressReport.objects.create(
        campaign=campaign, commitment=commitment, partner=partner, progress_pct=40, state="ACCEPTE"
    )
    meeting = Meeting.objects.create(
        contract=nantes, kind=MeetingKind.COPIL, title=TEXTS["meeting_title"], date="2026-03-15"
    )
    Decision.objects.create(meeting=meeting, text=TEXTS["decision_text"], owner=partner)
    feedback = Feedback.objects.create(
        contract=nantes,
        kind="REUSSITE",
        text=TEXTS["feedback_text"],
        moderation=Moderation.PUBLISHED,
        enjeu=enjeu,
    )
    feedback.qpvs.add(qpv)

    evaluation = evaluation_services.create_evaluation(
        user=pilot,
        contract=nantes,
        kind=EvaluationKind.FINAL,
        title=TEXTS["evaluation_title"],
        period_start=2024,
        period_end=2030,
        method=TEXTS["evaluation_method"],
    )
    question = evaluation_services.add_question(
        user=pilot,
        evaluation=evaluation,
        text=TEXTS["question_text"],
        criterion=Criterion.EFFECTIVENESS,
        enjeux=[enjeu],
    )
    evaluation_services.save_judgement(user=pilot, question=question, scale=2, text=TEXTS["judgement_text"])
    evaluation_services.add_recommendation(
        user=pilot, evaluation=evaluation, text=TEXTS["recommendation_text"], enjeux=[enjeu]
    )
    council = factories.PartnerFactory(name="Conseil citoyen attaqué", kind=PartnerKind.CITIZEN_COUNCIL)
    council.qpvs.add(qpv)
    member = factories.MembershipFactory(contract=nantes, role=Role.COUNCIL_MEMBER, partner=council).user
    questionnaire = evaluation_services.create_questionnaire(
        user=pilot,
        evaluation=evaluation,
        qpv=qpv,
        title=TEXTS["questionnaire_title"],
        introduction=TEXTS["questionnaire_intro"],
        items=[
            (TEXTS["item_scale"], ItemKind.SCALE, question),
            (TEXTS["item_text"], ItemKind.TEXT, question),
        ],
    )
    evaluation_services.set_questionnaire_status(
        user=pilot, questionnaire=questionnaire, status=QuestionnaireStatus.OPEN
    )
    evaluation_services.submit_answers(
        user=member, questionnaire=questionnaire, answers={1: 4, 2: TEXTS["council_answer"]}
    )
    # Une subvention votée et signée (fichiers SCDL) : projet et association piégés.
    funder = factories.CallFunderFactory(
        call=factories.CallFactory(contract=nantes, voted=True),
        partner=factories.PartnerFactory(siret="21440109300015", name=TEXTS["funder_name"]),
    )
    line = factories.FunderLineFactory(
        application=factories.ApplicationFactory(
            call=funder.call, partner=partner, decided=True, title=TEXTS["project_title"]
        ),
        funder=funder,
        voted=True,
    )
    factories.GrantActFactory(line=line, signed=True)
    return {"contract": nantes, "pilot": pilot, "partner": partner, "qpv": qpv, "call": funder.call}


# ---------------------------------------------------------------------------------------------
# Exports et ce que chacun doit reprendre
# ---------------------------------------------------------------------------------------------

COMMITMENT_TEXTS = [
    "commitment_title",
    "commitment_summary",
    "commitment_description",
    "commitment_target",
    "partner_name",
    "objective_title",
    "indicator_name",
]


def _url(name, *args, query=""):
    def build(world):
        values = [world["contract"].slug, *(arg(world) if callable(arg) else arg for arg in args)]
        return reverse(f"www:{name}", args=values) + query

    return build


PARTNER = lambda world: world["partner"].slug  # noqa: E731
QPV = lambda world: world["qpv"].code  # noqa: E731
CALL_YEAR = lambda world: world["call"].year  # noqa: E731

# (nom, format, URL, textes attendus)
EXPORTS = [
    ("cahier", "pdf", _url("cahier", PARTNER, "pdf"), COMMITMENT_TEXTS),
    ("cahier", "xlsx", _url("cahier", PARTNER, "xlsx"), COMMITMENT_TEXTS),
    ("compilation", "xlsx", _url("compilation", "xlsx"), COMMITMENT_TEXTS),
    (
        "modele",
        "xlsx",
        _url("cahier_template", PARTNER),
        [t for t in COMMITMENT_TEXTS if t not in {"partner_name", "indicator_name"}],
    ),
    (
        "bilan-annuel",
        "pdf",
        _url("annual_report", YEAR),
        [
            "commitment_title",
            "partner_name",
            "indicator_name",
            "feedback_text",
            "decision_text",  # l'instance y est nommée par sa nature et sa date, pas son intitulé
        ],
    ),
    *(
        (
            "rapport-evaluation",
            fmt,
            _url("evaluation_document", "finale", fmt),
            [
                "evaluation_title",
                "evaluation_method",
                "question_text",
                "judgement_text",
                "recommendation_text",
            ],
        )
        for fmt in ("pdf", "docx")
    ),
    (
        "questionnaire",
        "pdf",
        _url("questionnaire_pdf", "finale", QPV),
        ["questionnaire_title", "questionnaire_intro", "item_scale", "item_text"],
    ),
    ("journal-audit", "csv", _url("audit", query="?format=csv"), ["commitment_title"]),
    # Appel à projets : programmation et suivi des versements (association et projet piégés).
    (
        "programmation",
        "xlsx",
        _url("programmation_xlsx", CALL_YEAR),
        ["partner_name", "project_title", "funder_name"],
    ),
    (
        "versements",
        "xlsx",
        _url("call_payments_xlsx", CALL_YEAR),
        ["partner_name", "project_title", "funder_name"],
    ),
]
OPENDATA_TEXTS = {
    "partenaires": ["partner_name"],
    "objectifs": ["objective_title"],
    "engagements": ["commitment_title", "commitment_summary", "partner_name"],
    "valeurs-indicateurs": ["indicator_name", "value_comment"],
    "subventions": ["project_title", "partner_name"],
    "subventions-cofinancement": ["partner_name"],
}
EXPORTS += [
    (
        f"donnees-{resource.name}",
        fmt,
        _url("opendata_file", resource.name, fmt),
        OPENDATA_TEXTS.get(resource.name, []),
    )
    for resource in RESOURCES
    for fmt in ("csv", "xlsx")
]


def squeeze(text: str) -> str:
    """Sans aucun blanc : un retour à la ligne du PDF ou une tabulation ne comptent pas."""
    return re.sub(r"\s+", "", text.replace("\u00a0", " ").replace("\u202f", " "))


# ---------------------------------------------------------------------------------------------
# Lecture des fichiers
# ---------------------------------------------------------------------------------------------


def pdf_objects(reader: PdfReader):
    """Tous les dictionnaires et tableaux atteignables depuis la fin de fichier (chaque objet une fois)."""
    seen, stack = set(), [reader.trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def outside_streams(content: bytes) -> bytes:
    """Le PDF sans les données de ses flux (entre ``stream`` et ``endstream``)."""
    return re.sub(rb"stream\r?\n.*?endstream", b"stream endstream", content, flags=re.S)


def test_the_raw_check_reads_the_pdf_syntax_not_the_bytes_of_its_streams():
    """Une action écrite dans la syntaxe du PDF est vue ; les mêmes octets au hasard d'un flux
    compressé (une police, un contenu) ne le sont pas : ils faisaient échouer la vérification une
    fois de temps en temps, selon le contenu du document."""
    syntax = b"1 0 obj\n<< /Type /Catalog /OpenAction 2 0 R >>\nendobj\n"
    stream = (
        b"3 0 obj\n<< /Length 9 /Filter /FlateDecode >>\nstream\n\x9c/JS)\x01/AA\xff\nendstream\nendobj\n"
    )
    kept = outside_streams(syntax + stream)
    assert b"/OpenAction" in kept and b"/JS" not in kept and b"/AA" not in kept
    assert kept.endswith(b"stream endstream\nendobj\n")


def check_pdf(content: bytes, expected: list[str]):
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    text = "".join(squeeze(" " + page) for page in pdf_page_texts(content))
    for key in expected:
        assert squeeze(TEXTS[key]) in text, key
    # Hors des flux : leurs octets (polices, contenu compressé) sont quelconques, et « /JS » suivi d'un
    # octet hors mot s'y rencontre par hasard. Les dictionnaires rangés dans un flux d'objets sont
    # vus par le parcours ci-dessous.
    assert not re.search(
        rb"/JavaScript|/JS\b|/OpenAction|/AA\b|/Launch|/SubmitForm", outside_streams(content)
    )
    for obj in pdf_objects(reader):
        keys = set(obj.keys())
        assert not keys & {"/JS", "/JavaScript", "/OpenAction", "/AA"}, keys
        assert obj.get("/S") not in {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData"}
        uri = obj.get("/URI")
        if uri is not None:
            assert PAYLOAD_HOST not in str(uri) and not str(uri).lower().startswith("javascript:"), uri


def check_docx(content: bytes, expected: list[str]):
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
    text = squeeze("\n".join(parts))
    for key in expected:
        assert squeeze(TEXTS[key]) in text, key
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            xml = archive.read(name).decode("utf-8")
            assert "<script" not in xml and "<img" not in xml, name
            assert not re.search(r'Target="http://x"', xml), name  # aucun lien vers la charge
            if name.startswith(("word/document", "word/header", "word/footer")):
                assert not re.search(r"<w:(instrText|fldSimple|hyperlink)\b", xml), name


NUMBER_RE = re.compile(r"^-\d+([.,]\d+)?$")


def dangerous(value: str) -> bool:
    """Un texte qu'un tableur prendrait pour une formule (un nombre négatif n'en est pas une)."""
    return bool(NEEDS_QUOTE_RE.match(value)) and not value.startswith("'") and not NUMBER_RE.match(value)


def check_cells(cells: list[str], expected: list[str], where: str):
    bad = [value for value in cells if dangerous(value)]
    assert bad == [], where
    restored = [unsafe_text(value) for value in cells]
    for key in expected:
        assert any(TEXTS[key] in value for value in restored), (where, key)
    for value in cells:
        if value.startswith("'") and NEEDS_QUOTE_RE.match(value[1:]):
            assert unsafe_text(value) == value[1:]


def check_xlsx(content: bytes, expected: list[str]):
    workbook = load_workbook(io.BytesIO(content))  # pas data_only : une formule se verrait
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    cells.append(cell.value)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode("utf-8"), name
    # La charge est relue identique : pas d'apostrophe ajoutée devant.
    for key in expected:
        assert any(TEXTS[key] in value for value in cells), ("xlsx", key)
    assert not [v for v in cells if v.startswith("'") and NEEDS_QUOTE_RE.match(v[1:])], "xlsx"


def check_csv(content: bytes, expected: list[str]):
    text = content.decode("utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert len(rows) > 1
    check_cells([value for row in rows for value in row], expected, "csv")


CHECKS = {"pdf": check_pdf, "docx": check_docx, "xlsx": check_xlsx, "csv": check_csv}


@pytest.mark.parametrize(
    ("fmt", "url", "expected"),
    [pytest.param(fmt, url, expected, id=f"{name}.{fmt}") for name, fmt, url, expected in EXPORTS],
)
def test_every_export_keeps_payloads_as_inert_text(client, poisoned, fmt, url, expected):
    client.cookies[settings.SESSION_COOKIE_NAME] = poisoned["pilot_session"]  # le pilote, connecté
    response = client.get(url(poisoned))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\n" not in disposition
    CHECKS[fmt](content, expected)


def test_the_payloads_really_are_dangerous():
    """Garde-fou du test lui-même : chaque charge de formule serait exécutée sans neutralisation."""
    for key, value in TEXTS.items():
        assert dangerous(value) or not NEEDS_QUOTE_RE.match(value), key
    assert sum(dangerous(value) for value in TEXTS.values()) == len(TEXTS)
    assert not dangerous("-1.5") and dangerous("-1+2") and dangerous("\t=1+1")


def test_opendata_exports_are_the_same_for_the_pilot_and_the_public(client, poisoned):
    """Les données ouvertes sont lues pour un visiteur anonyme : l'engagement confirmé y est."""
    url = reverse("www:opendata_file", args=[poisoned["contract"].slug, "engagements", "csv"])
    check_csv(client.get(url).content, ["commitment_title"])
