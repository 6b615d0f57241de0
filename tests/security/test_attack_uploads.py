"""Téléversements attaqués : chaque point de dépôt × chaque attaque (ticket n° 8).

Points de dépôt (tout ``request.FILES`` du site, plus l'administration) :

- ``cahier`` : import du modèle XLSX d'un cahier d'engagements (``www:cahier_upload``) ;
- ``bilan`` : pièce jointe d'un bilan annuel (``www:review_report``, champ ``attachment``) ;
- ``georef`` : fichier CSV ou XLSX à géoréférencer (``/georeferencement/``) ;
- l'administration Django : les pièces jointes y sont en lecture seule (aucun dépôt possible).

L'API n'accepte aucun fichier (``POST /api/…/georef`` reçoit du JSON).

Attaques : fichier qui ment sur son type (page HTML, SVG à script, programme Windows ou ELF, archive
ZIP quelconque, nommés comme le type attendu et annoncés sous le bon type MIME), bombes ZIP (un
élément de 300 Mo compressé en quelques centaines de Ko, 5 000 éléments, tailles déclarées
mensongères, bombe XML « milliard de rires »), fichier vide, fichier trop gros, noms de fichiers
hostiles (« ../ », chemin absolu, barres obliques inverses, octet nul, entités HTML, guillemets,
balise HTML, 300 caractères). Les requêtes sont des corps multipart écrits à la main : le client
de test de Django réduirait de lui-même le nom du fichier à son dernier segment.

Chaque attaque reçoit un refus en français (erreur de formulaire, statut 422 ou 200 selon la page)
et n'écrit rien : ni ligne en base, ni fichier sous MEDIA_ROOT (un dossier jetable par test). Un
nom hostile sur un fichier valide est accepté, mais le fichier stocké reste sous MEDIA_ROOT avec un
nom assaini, et le nom proposé au téléchargement est sûr.
"""

import csv
import datetime
import html
import io
import re
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from cdv.commitments import xlsx_import, xlsx_template
from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment, CommitmentAmendment, CommitmentMeans
from cdv.core import validators
from cdv.georef.models import GeorefJob
from cdv.monitoring import services as monitoring
from cdv.monitoring.models import ProgressReport, ReportAttachment
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories
from tests.worlds import built_once, fresh_copy, remove_demo_reviews

# Ces tests ouvrent leurs propres campagnes de suivi sur le contrat de Nantes : leurs mondes (plus
# bas) retirent d'abord celles de la démonstration.
pytestmark = [pytest.mark.django_db, pytest.mark.demo]

MB = 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOUNDARY = "----attaque-cdv-7d1f"


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root: Path) -> list[Path]:
    return sorted(p for p in Path(media_root).rglob("*") if p.is_file()) if Path(media_root).exists() else []


def page_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


# ---------------------------------------------------------------------------------------------
# Fichiers
# ---------------------------------------------------------------------------------------------


def zip_of(members: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def workbook_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@cache
def small_workbook_members() -> dict[str, bytes]:
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes([["longitude", "latitude"], [-1.5536, 47.2184]])))
    return {name: source.read(name) for name in source.namelist()}


SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def _with_shared_strings(members: dict) -> dict:
    members = dict(members)
    types = members["[Content_Types].xml"]
    if b"sharedStrings" not in types:
        members["[Content_Types].xml"] = types.replace(b"</Types>", SHARED_STRINGS_TYPE + b"</Types>")
    return members


def _bomb_archive(megabytes: int) -> tuple[bytes, zipfile.ZipInfo]:
    """Un vrai classeur dont les textes partagés font ``megabytes`` Mo une fois décompressés."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _with_shared_strings(small_workbook_members()).items():
            archive.writestr(name, data)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=megabytes >= 4000) as member:
            member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            chunk = b"A" * MB
            for _ in range(megabytes):
                member.write(chunk)
            member.write(b"</t></si></sst>")
    data = buffer.getvalue()
    return data, zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/sharedStrings.xml")


@cache
def zip_bomb() -> bytes:
    """300 Mo de textes partagés, compressés en quelques centaines de Ko."""
    data, info = _bomb_archive(300)
    assert len(data) < 600_000 and info.file_size > 300 * MB
    return data


@cache
def many_members() -> bytes:
    members = dict(small_workbook_members())
    members.update({f"xl/media/image{n}.png": b"" for n in range(5000)})
    data = zip_of(members, zipfile.ZIP_STORED)
    assert len(data) < 2 * MB
    return data


@cache
def lying_sizes() -> bytes:
    """Bombe dont le répertoire central annonce 1 Ko pour un élément de 64 Mo."""
    data, info = _bomb_archive(64)
    data = bytearray(data)
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    data[local + 22 : local + 26] = (1024).to_bytes(4, "little")
    name = info.filename.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = (1024).to_bytes(4, "little")
    return bytes(data)


@cache
def xml_bomb() -> bytes:
    """« Milliard de rires » : des entités XML imbriquées dans la feuille."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    )
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    members = dict(small_workbook_members())
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    return zip_of(members)


HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(1)</script></svg>"
)
WINDOWS_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + (b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200)
)
ELF_BINARY = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
ANY_ZIP = zip_of({"index.html": HTML_PAGE, "evil.js": b"alert(1)"})


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# ---------------------------------------------------------------------------------------------
# Points de dépôt
# ---------------------------------------------------------------------------------------------


def multipart(fields: dict, file_field: str, filename: str, content: bytes, content_type: str):
    """Corps multipart écrit à la main : le nom du fichier arrive au serveur tel quel."""
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{quoted}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


@dataclass
class Point:
    """Un point de dépôt : où poster, quel fichier valide, ce que « rien n'est écrit » veut dire."""

    name: str
    client: object
    url: str
    file_field: str
    fields: dict
    extension: str
    content_type: str
    valid: bytes
    refused_status: int
    world: dict

    def post(self, filename, content, content_type=None):
        body = multipart(self.fields, self.file_field, filename, content, content_type or self.content_type)
        return self.client.post(self.url, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")

    def state(self):
        return {
            "commitments": sorted(Commitment.objects.values_list("pk", "version")),
            "amendments": CommitmentAmendment.objects.count(),
            "means": CommitmentMeans.objects.count(),
            "attachments": ReportAttachment.objects.count(),
            "reports": sorted(ProgressReport.objects.values_list("pk", "version")),
            "jobs": GeorefJob.objects.count(),
        }


def cahier_world(nantes):
    partner = Partner.objects.get(name__startswith="Association Tremplin Quartiers")
    return {
        "contract": nantes,
        "partner": partner,
        "user": factories.MembershipFactory(contract=nantes, role=Role.PILOT).user,
        "valid": xlsx_template.build_template_xlsx(contract=nantes, partner=partner),
    }


def cahier_point(client, world):
    log_in(client, world)
    return Point(
        name="cahier",
        client=client,
        url=reverse("www:cahier_upload", args=[world["contract"].slug, world["partner"].slug]),
        file_field="fichier",
        fields={},
        extension=".xlsx",
        content_type=XLSX_TYPE,
        valid=world["valid"],
        refused_status=422,
        world=world,
    )


def bilan_world(nantes):
    partner = factories.PartnerFactory(name="Partenaire attaqué")
    factories.SignatoryFactory(contract=nantes, partner=partner)
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    editor = factories.MembershipFactory(contract=nantes, partner=partner, role=Role.EDITOR).user
    commitment = Commitment.objects.create(
        contract=nantes,
        partner=partner,
        objective=factories.ObjectiveFactory(enjeu=nantes.enjeux.order_by("number").first()),
        title="Ateliers numériques",
        scope=CommitmentScope.CONTRACT,
        status=S.CONFIRMED,
    )
    campaign = monitoring.open_campaign(
        user=pilot, contract=nantes, year=2025, deadline=timezone.localdate() + datetime.timedelta(days=30)
    )
    report = ProgressReport.objects.get(campaign=campaign, commitment=commitment)
    return {"contract": nantes, "report": report, "editor": editor}


def bilan_point(client, world):
    report = world["report"]
    log_in(client, world)
    return Point(
        name="bilan",
        client=client,
        url=reverse("www:review_report", args=[world["contract"].slug, 2025, report.pk]),
        file_field="attachment",
        fields={
            "reported_status": S.IN_PROGRESS,
            "progress_pct": "60",
            "what_worked": "Les habitants sont venus.",
            "difficulties": "",
            "version": str(report.version),
            "action": "save",
        },
        extension=".pdf",
        content_type="application/pdf",
        valid=pdf_bytes(),
        refused_status=200,  # la page du bilan se réaffiche, erreurs en tête du formulaire
        world=world,
    )


def georef_world(nantes):
    return {"user": factories.UserFactory()}


def georef_point(client, world):
    log_in(client, world)
    return Point(
        name="georef",
        client=client,
        url=reverse("www:georef"),
        file_field="fichier",
        fields={"mode": "auto", "geographie": "2024", "score_min": "0.5"},
        extension=".csv",
        content_type="text/csv",
        valid=b"id;longitude;latitude\n1;-1.5536;47.2184\n2;-1.5537;47.2184\n",
        refused_status=422,
        world={},
    )


# point : (monde, bâti une fois pour le fichier ; point de dépôt, pour un test et son client ; qui dépose)
POINTS = {
    "cahier": (cahier_world, cahier_point, "user"),
    "bilan": (bilan_world, bilan_point, "editor"),
    "georef": (georef_world, georef_point, "user"),
}


def session_of(user) -> str:
    """La session de ``user``, ouverte une fois pour le fichier (dans la transaction du monde) :
    son cookie."""
    browser = Client()
    browser.force_login(user)
    return browser.cookies[django_settings.SESSION_COOKIE_NAME].value


def log_in(client, world):
    """Le client connecté sous la personne qui dépose (sa session ouverte une fois ; ce qu'un test
    y écrit est annulé avec lui)."""
    client.cookies[django_settings.SESSION_COOKIE_NAME] = world["session"]


@pytest.fixture(scope="module")
def point_worlds(demo_data, django_db_blocker):
    """Les mondes des trois points, bâtis une fois pour le fichier (tests/worlds.py) après le retrait
    du suivi annuel de la démonstration ; chaque test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        remove_demo_reviews()
        nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
        worlds = {name: build(nantes) for name, (build, _, _) in POINTS.items()}
        for name, (_, _, who) in POINTS.items():
            worlds[name]["session"] = session_of(worlds[name][who])
        yield worlds


def make_point(name, client, point_worlds):
    """Le point de dépôt ``name`` pour un test : les objets de son monde copiés, le client connecté."""
    return POINTS[name][1](client, fresh_copy(point_worlds[name]))


@pytest.fixture
def point(request, client, point_worlds):
    return make_point(request.param, client, point_worlds)


# ---------------------------------------------------------------------------------------------
# Attaques refusées
# ---------------------------------------------------------------------------------------------


MARKUP = "une page web ou un document balisé (HTML, SVG ou XML)"


def named(what):
    """Le refus dit ce qu'est vraiment le fichier, quel que soit son nom."""
    return {
        "cahier": f"n'est pas un classeur XLSX (quel que soit son nom) : c'est {what}",
        "bilan": f"Ce fichier est {what} (quel que soit son nom)",
        "georef": f"c'est {what}, quel que soit son nom",
    }


# (attaque, contenu, {point: fragment du message de refus} ; un point absent : non concerné)
ATTACKS = [
    ("page HTML", lambda: HTML_PAGE, named(MARKUP)),
    ("SVG à script", lambda: SVG_SCRIPT, named(MARKUP)),
    ("programme Windows", lambda: WINDOWS_EXE, named("un programme Windows")),
    ("programme ELF", lambda: ELF_BINARY, named("un programme exécutable")),
    (
        "archive ZIP quelconque",
        lambda: ANY_ZIP,
        {
            "cahier": "archive ZIP mais pas un classeur XLSX",
            "bilan": "Ce type de fichier n'est pas accepté (quel que soit son nom)",
            "georef": "le classeur XLSX ne s'ouvre pas",
        },
    ),
    ("bombe ZIP de 300 Mo", zip_bomb, dict.fromkeys(POINTS, "volume anormalement grand")),
    ("5 000 éléments", many_members, dict.fromkeys(POINTS, "trop d'éléments")),
    # Le serveur ne décompresse jamais une pièce jointe : seuls les points qui lisent le classeur
    # sont concernés par les tailles mensongères et les entités XML.
    (
        "tailles déclarées mensongères",
        lying_sizes,
        {"cahier": "n'a pas pu être lu", "georef": "Fichier illisible"},
    ),
    ("bombe XML", xml_bomb, {"cahier": "n'a pas pu être lu", "georef": "Fichier illisible"}),
    ("fichier vide", lambda: b"", dict.fromkeys(POINTS, "vide")),
]


def attack_cases():
    for attack, content, messages in ATTACKS:
        for name in POINTS:
            if name in messages:
                yield pytest.param(name, content, messages[name], id=f"{name}-{attack}")


@pytest.mark.parametrize(("point", "content", "message"), list(attack_cases()), indirect=["point"])
def test_hostile_file_is_refused_in_french_and_writes_nothing(point, media, content, message):
    before = point.state()
    data = content()
    response = point.post("fichier" + (".xlsx" if data.startswith(b"PK") else point.extension), data)
    assert response.status_code == point.refused_status
    text = page_text(response)
    assert message in text
    assert "<script>alert" not in response.content.decode()
    if point.name == "bilan":
        assert "Le formulaire contient des erreurs" in text
    assert point.state() == before
    assert stored_files(media) == []


@pytest.mark.parametrize("point", list(POINTS), indirect=True)
def test_oversize_file_is_refused_before_anything_is_written(point, media, settings):
    settings.GEOREF_MAX_UPLOAD_MB = 1  # 50 Mo en vrai : 1 Mo suffit à la preuve
    limit = {
        "cahier": xlsx_import.MAX_UPLOAD_BYTES,
        "bilan": monitoring.MAX_ATTACHMENT_BYTES,
        "georef": MB,
    }[point.name]
    head = point.valid if point.name != "cahier" else b"PK\x03\x04"
    content = head + b"0" * (limit + 1 - len(head))
    before = point.state()
    response = point.post("gros" + point.extension, content)
    assert response.status_code == point.refused_status
    text = page_text(response)
    assert "trop volumineux" in text
    assert f"{limit // MB} Mo au plus" in text
    assert point.state() == before
    assert stored_files(media) == []


# ---------------------------------------------------------------------------------------------
# Noms de fichiers hostiles sur un contenu valide
# ---------------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd{ext}",
    "/etc/passwd{ext}",
    "..\\..\\windows\\system32\\evil{ext}",
    "..&#x2F;..&#x2F;etc&#x2F;passwd{ext}",
    "nul\x00byte{ext}",
    'evil"; filename="evil.html{ext}',
    "<img src=x onerror=alert(1)>{ext}",
    "a" * 300 + "{ext}",  # au-delà de 255 ; plus de 1 000 octets d'en-tête : Django répond 400
]
SAFE_STORED_NAME = re.compile(r"^[\w-]+\.\w+$")


def download_name(response) -> str:
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    match = re.search(
        r"filename\*=utf-8''(?P<star>[^;]+)|filename=\"(?P<plain>(?:[^\"\\]|\\.)*)\"", disposition
    )
    assert match, disposition
    name = unquote(match["star"]) if match["star"] else re.sub(r"\\(.)", r"\1", match["plain"])
    assert "/" not in name and "\\" not in name and ".." not in name, name
    assert all(ch.isprintable() for ch in name), name
    return name


def assert_under_media(media, files):
    root = Path(media).resolve()
    for path in files:
        assert path.resolve().is_relative_to(root), path


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
@pytest.mark.parametrize("point", list(POINTS), indirect=True)
def test_hostile_file_name_stays_under_media_root_with_a_safe_name(point, media, hostile):
    filename = hostile.format(ext=point.extension)
    response = point.post(filename, point.valid)
    body = response.content.decode() if not response.streaming else ""
    assert "<img src=x onerror" not in body
    files = stored_files(media)
    assert_under_media(media, files)
    for path in files:
        assert SAFE_STORED_NAME.match(path.name), path.name
        assert ".." not in str(path.relative_to(media))
    if point.name == "cahier":
        assert response.status_code == 200 and "Import réussi" in page_text(response)
        assert files == []  # l'import ne garde aucun fichier
    elif point.name == "bilan":
        assert response.status_code == 302, page_text(response)
        attachment = ReportAttachment.objects.get()
        report = point.world["report"]
        assert attachment.file.name.startswith(f"bilans/{point.world['contract'].pk}/2025/{report.pk}/")
        assert attachment.file.name.endswith(".pdf")
        assert files == [Path(media) / attachment.file.name]
        for shown in (attachment.original_name,):
            assert "/" not in shown and "\\" not in shown and "\x00" not in shown and len(shown) <= 200
        page = point.client.get(point.url)
        assert "<img src=x onerror" not in page.content.decode()
        download = point.client.get(
            reverse(
                "www:review_attachment",
                args=[point.world["contract"].slug, 2025, report.pk, attachment.pk],
            )
        )
        assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
        assert download["Content-Type"] == "application/pdf"
        assert download_name(download).endswith(".pdf")
        assert b"".join(download.streaming_content).startswith(b"%PDF")  # lu : le fichier se referme
    else:
        assert response.status_code == 302, page_text(response)
        job = GeorefJob.objects.get()
        assert not job.input_file  # le fichier déposé est effacé après le traitement
        assert "/" not in job.original_name and "\\" not in job.original_name
        assert "\x00" not in job.original_name and len(job.original_name) <= 200
        assert [p.name for p in files] == ["resultat.csv"]
        assert re.fullmatch(r"georef/[0-9a-f]{32}/resultat\.csv", str(files[0].relative_to(media)))
        listing = point.client.get(reverse("www:georef"))
        assert "<img src=x onerror" not in listing.content.decode()
        download = point.client.get(reverse("www:georef_download", args=[job.pk]))
        assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
        assert download_name(download).endswith("-qpv.csv")
        rows = list(
            csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig")), delimiter=";")
        )
        assert rows[0][:3] == ["id", "longitude", "latitude"]


def test_stored_names_are_generated_whatever_the_name_given():
    """Les fonctions de nommage elles-mêmes, sans l'assainissement de Django devant."""
    from cdv.georef.models import input_path, output_path

    for hostile in HOSTILE_NAMES:
        name = hostile.format(ext=".csv")
        for path in (input_path(None, name), output_path(None, name)):
            assert re.fullmatch(r"georef/[0-9a-f]{32}/(entree|resultat)\.(csv|bin)", path), path
        stored = monitoring.safe_filename(name, "pdf")
        assert SAFE_STORED_NAME.match(stored), stored
        assert len(stored) <= 84


# ---------------------------------------------------------------------------------------------
# Administration : aucun dépôt de fichier
# ---------------------------------------------------------------------------------------------


def test_the_admin_cannot_upload_or_replace_an_attachment(client, admin_user, point_worlds, media):
    point = make_point("bilan", client, point_worlds)
    client.force_login(admin_user)
    report = point.world["report"]
    body = multipart({"report": str(report.pk)}, "file", "page.pdf", HTML_PAGE, "application/pdf")
    response = client.post(
        reverse("admin:monitoring_reportattachment_add"),
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 403
    assert not ReportAttachment.objects.exists()

    attachment = monitoring.add_attachment(
        user=point.world["editor"], report=report, uploaded_file=SimpleUploadedFile("bilan.pdf", pdf_bytes())
    )
    change = reverse("admin:monitoring_reportattachment_change", args=[attachment.pk])
    page = client.get(change).content.decode()
    assert 'type="file"' not in page
    body = multipart(
        {"original_name": "x", "content_type": "text/html", "report": str(report.pk)},
        "file",
        "page.html",
        HTML_PAGE,
        "text/html",
    )
    client.post(change, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    attachment.refresh_from_db()
    assert attachment.content_type == "application/pdf" and attachment.file.name.endswith(".pdf")
    assert (Path(media) / attachment.file.name).read_bytes() == pdf_bytes()
    inline_page = client.get(reverse("admin:monitoring_progressreport_change", args=[report.pk])).content
    assert b'type="file"' not in inline_page


# ---------------------------------------------------------------------------------------------
# Le validateur commun
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"pas une archive", "zip_unreadable"),
        (zip_of({}), "zip_empty"),
        (many_members(), "zip_members"),
        (zip_bomb(), "zip_bomb"),
    ],
)
def test_check_zip_archive_refuses_before_decompressing(content, code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        validators.check_zip_archive(content)
    assert error.value.code == code
    assert error.value.messages[0][0].isupper()


def test_check_zip_archive_accepts_a_real_workbook():
    members = validators.check_zip_archive(workbook_bytes([["a", "b"], [1, 2]]))
    assert "xl/workbook.xml" in {m.filename for m in members}


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (HTML_PAGE, "page web"),
        (b"\xef\xbb\xbf  <html>", "page web"),
        ("<html>".encode("utf-16"), "page web"),
        (SVG_SCRIPT, "page web"),
        (WINDOWS_EXE, "programme Windows"),
        (ELF_BINARY, "programme"),
        (pdf_bytes(), "PDF"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"id;longitude;latitude\n", None),
        (b"MZone;commune\nA;Nantes\n", None),  # une colonne qui commence par « MZ » reste un tableau
        (b"<5 ans;total\n1;2\n", None),
    ],
)
def test_foreign_content_recognises_what_is_not_a_table(sample, expected):
    found = validators.foreign_content(sample)
    assert (found is None) if expected is None else (expected in found)
