"""Écritures du suivi annuel : ouverture et clôture des campagnes, bilans (enregistrement avec
verrou optimiste, transmission, acceptation, renvoi) et pièces jointes.

Chaque fonction, à arguments nommés et sous ``@transaction.atomic``, revérifie les droits avec
``abilities`` et lève une erreur au message français : ``PermissionDenied`` quand le rôle ne le
permet pas, ``ReviewError`` (une ``ValidationError``) quand le moment ou la donnée ne conviennent
pas, ``ReportConflictError`` quand quelqu'un a enregistré le bilan entre-temps. Rien n'est écrit
en cas d'erreur.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import PUBLIC_STATUSES
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.core.actors import person_or_none
from cdv.core.figures import french_number
from cdv.core.validators import check_zip_archive
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind

from . import abilities
from .enums import CampaignStatus, ReportState
from .models import ProgressReport, ReportAttachment, ReviewCampaign

if TYPE_CHECKING:
    import datetime

    from django.core.files.uploadedfile import UploadedFile

    from cdv.contracts.models import Contract
    from cdv.indicators.models import Indicator
    from cdv.territories.models import Territory
    from cdv.users.models import User

# Un partenaire déclare dans son bilan l'un des états publics (confirmé et tous les états suivants).
NEEDS_EXPLANATION = {S.NOT_DONE, S.ABANDONED, S.PARTLY_DONE}

EDITABLE_FIELDS = [
    "reported_status",
    "progress_pct",
    "fte_actual",
    "amount_actual",
    "what_worked",
    "difficulties",
]
FIELD_LABELS = {
    "reported_status": "état déclaré",
    "progress_pct": "avancement (%)",
    "fte_actual": "ETP mobilisés",
    "amount_actual": "euros mobilisés",
    "what_worked": "ce qui a marché",
    "difficulties": "difficultés",
}
# Clés étrangères posées par les services à partir d'objets déjà lus.
TRUSTED_FKS = ["campaign", "commitment", "partner", "submitted_by", "reviewed_by"]

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS_PER_REPORT = 10
MAX_ZIP_MEMBERS = 1000
MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

# type détecté → (type MIME enregistré, extension imposée, libellé)
ATTACHMENT_KINDS = {
    "pdf": ("application/pdf", "pdf", "PDF"),
    "png": ("image/png", "png", "image PNG"),
    "jpeg": ("image/jpeg", "jpg", "image JPEG"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        "document Word (DOCX)",
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "classeur Excel (XLSX)",
    ),
    "odt": ("application/vnd.oasis.opendocument.text", "odt", "texte OpenDocument (ODT)"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ods", "classeur OpenDocument (ODS)"),
}
ALLOWED_LABEL = "PDF, PNG, JPEG, DOCX, XLSX, ODT ou ODS"


class ReviewError(ValidationError):
    """Opération refusée par une règle du suivi annuel (moment, état, donnée incohérente)."""


class ReportConflictError(Exception):
    """Quelqu'un a enregistré le bilan entre-temps : ``changes`` dit quoi."""

    def __init__(self, report: ProgressReport, changes: Iterable[tuple[str, object, object]] = ()) -> None:
        self.report = report
        self.changes = list(changes)  # [(libellé, valeur vue, valeur enregistrée)]
        super().__init__(
            "Ce bilan a été modifié par quelqu'un d'autre pendant que vous le remplissiez "
            f"(version {report.version}). Vos modifications n'ont pas été enregistrées."
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} Mo"


# ---------------------------------------------------------------------------------------------
# Droits : un seul endroit pour dire « interdit » (rôle) ou « pas maintenant » (état)
# ---------------------------------------------------------------------------------------------

ROLE_MESSAGES = {
    "view": "Ce bilan est réservé aux membres du contrat.",
    "edit": "Seul le référent du partenaire remplit ce bilan.",
    "submit": "Seul le référent du partenaire transmet ce bilan.",
    "upload": "Seul le référent du partenaire joint des pièces à ce bilan.",
    "delete_attachment": "Seul le référent du partenaire retire des pièces de ce bilan.",
    "accept": "Seul le pilote du contrat accepte un bilan.",
    "return": "Seul le pilote du contrat renvoie un bilan au partenaire.",
}


def refusal_message(user: User, report: ProgressReport, ability: str) -> str:
    """Pourquoi ``ability`` est refusée sur ce bilan, en français (rôle, campagne ou état)."""
    if not abilities.role_allows(user, report, ability):
        return ROLE_MESSAGES[ability]
    campaign = report.campaign
    if campaign.status == CampaignStatus.FROZEN and ability != "accept":
        return (
            f"La campagne {campaign.year} est figée : ses bilans ne changent plus, "
            "sauf ceux renvoyés pour complément."
        )
    state = report.get_state_display().lower()
    if ability == "accept":
        return f"Seul un bilan transmis peut être accepté (ce bilan est « {state} »)."
    if ability == "return":
        if campaign.status != CampaignStatus.OPEN:
            return f"La campagne {campaign.year} est close : un bilan ne peut plus être renvoyé."
        return f"Seul un bilan transmis peut être renvoyé au partenaire (ce bilan est « {state} »)."
    if campaign.status != CampaignStatus.OPEN:
        return f"La campagne {campaign.year} est close : ses bilans ne se modifient plus."
    if report.state == ReportState.SUBMITTED:
        return "Ce bilan est transmis au pilote : il ne se modifie plus, sauf s'il vous est renvoyé."
    if report.state == ReportState.ACCEPTED:
        return "Ce bilan a été accepté par le pilote : il ne se modifie plus."
    return ROLE_MESSAGES[ability]


def _require(user: User, report: ProgressReport, ability: str) -> None:
    if abilities.report_abilities(user, report)[ability]:
        return
    message = refusal_message(user, report, ability)
    if not abilities.role_allows(user, report, ability):
        raise PermissionDenied(message)
    raise ReviewError(message)


def _locked(report: ProgressReport) -> ProgressReport:
    return (
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("campaign", "commitment", "partner")
        .get(pk=report.pk)
    )


# ---------------------------------------------------------------------------------------------
# Campagnes
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def open_campaign(
    *,
    user: User,
    contract: Contract,
    year: int | str,
    deadline: datetime.date | None,
    opens_on: datetime.date | None = None,
) -> ReviewCampaign:
    """Ouvre la campagne ``year`` et crée un bilan en brouillon par engagement confirmé ou suivant."""
    if not abilities.can_open_campaign(user, contract):
        raise PermissionDenied("Seul le pilote du contrat ouvre une campagne de suivi annuel.")
    opens_on = opens_on or timezone.localdate()
    errors = {}
    try:
        year = int(year)
    except (TypeError, ValueError):
        errors["year"] = "Indiquez l'année suivie (ex. : 2025)."
    else:
        if not contract.start_year <= year <= contract.end_year:
            errors["year"] = f"L'année {year} sort de la période du contrat ({contract.period_label})."
        elif ReviewCampaign.objects.filter(contract=contract, year=year).exists():
            errors["year"] = f"Une campagne de suivi {year} existe déjà pour ce contrat."
    if deadline is None:
        errors["deadline"] = "Indiquez la date limite des bilans."
    elif deadline < opens_on:
        errors["deadline"] = "La date limite des bilans ne peut pas précéder l'ouverture de la campagne."
    if errors:
        raise ReviewError(errors)
    campaign = ReviewCampaign(
        contract=contract,
        year=year,
        opens_on=opens_on,
        deadline=deadline,
        status=CampaignStatus.OPEN,
        opened_by=person_or_none(user),
    )
    try:
        campaign.full_clean(exclude=["contract", "opened_by"])
    except ValidationError as error:
        raise ReviewError(error.message_dict) from error
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as error:  # deux pilotes au même instant
        raise ReviewError({"year": f"Une campagne de suivi {year} existe déjà pour ce contrat."}) from error
    # Engagements qui ont un bilan annuel : les engagements publiés (confirmés et tous les états suivants).
    commitments = (
        Commitment.objects.for_contract(contract).published().values_list("pk", "partner_id", "status")
    )
    reports = [
        ProgressReport(
            campaign=campaign,
            commitment_id=pk,
            partner_id=partner_id,
            reported_status=status,
            state=ReportState.DRAFT,
        )
        for pk, partner_id, status in commitments
    ]
    if reports:
        created = ProgressReport.objects.bulk_create(reports, batch_size=500)
        ProgressReport.history.bulk_history_create(
            created, batch_size=500, default_user=person_or_none(user), default_date=timezone.now()
        )
    notifications.notify(
        kind=NotificationKind.CAMPAIGN_OPENED,
        recipients=notifications.referents(contract, {partner_id for _, partner_id, _ in commitments}),
        contract=contract,
        text=(
            f"La campagne de bilans {year} est ouverte : les bilans de vos engagements sont à "
            f"transmettre au pilote avant le {deadline:%d/%m/%Y}."
        ),
        path=reverse("www:review_campaigns", args=[contract.slug]),
    )
    return campaign


@transaction.atomic
def close_campaign(*, user: User, campaign: ReviewCampaign, confirmed: bool = False) -> ReviewCampaign:
    """Clôt une campagne ouverte : les bilans non transmis restent tels quels, en retard. Seulement
    sur confirmation explicite (``confirmed=True``)."""
    current = ReviewCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not abilities.campaign_abilities(user, current)["manage"]:
        raise PermissionDenied("Seul le pilote du contrat clôt une campagne de suivi annuel.")
    if current.status != CampaignStatus.OPEN:
        state = current.get_status_display()
        raise ReviewError(f"La campagne {current.year} n'est pas ouverte (état : « {state} »).")
    if confirmed is not True:
        raise ReviewError(
            f"Clore la campagne {current.year} est irréversible : une confirmation explicite est requise."
        )
    current.status = CampaignStatus.CLOSED
    current.save(update_fields=["status"])
    return current


# ---------------------------------------------------------------------------------------------
# Bilans
# ---------------------------------------------------------------------------------------------


def _plain(value: object) -> str:
    if isinstance(value, Decimal):
        return french_number(value)  # « 0,5 » et non « 0.50 » dans le tableau du conflit
    return "" if value is None else str(value)


def report_state_at(report: ProgressReport, version: int) -> dict | None:
    record = report.history.filter(version=version).order_by("-history_date").first()
    if record is None:
        return None
    return {name: getattr(record, name) for name in EDITABLE_FIELDS}


@transaction.atomic
def save_report(*, user: User, report: ProgressReport, expected_version: int, data: dict) -> ProgressReport:
    """Enregistre le bilan si personne ne l'a fait entre-temps (sinon ``ReportConflictError``).

    ``data`` ne contient que des champs de ``EDITABLE_FIELDS`` ; sans changement, rien n'est écrit.
    """
    current = _locked(report)
    _require(user, current, "edit")
    if current.version != expected_version:
        seen = report_state_at(current, expected_version)
        changes = []
        if seen is not None:
            changes = [
                (FIELD_LABELS[name], _plain(seen[name]), _plain(getattr(current, name)))
                for name in EDITABLE_FIELDS
                if _plain(seen[name]) != _plain(getattr(current, name))
            ]
        raise ReportConflictError(current, changes)
    before = {name: getattr(current, name) for name in EDITABLE_FIELDS}
    for name in EDITABLE_FIELDS:
        if name in data:
            value = data[name]
            if name in {"reported_status", "what_worked", "difficulties"}:
                value = (value or "").strip()
            setattr(current, name, value)
    if current.reported_status and current.reported_status not in PUBLIC_STATUSES:
        raise ReviewError(
            {"reported_status": "Choisissez un état d'engagement confirmé, en cours ou terminé."}
        )
    try:
        current.full_clean(exclude=TRUSTED_FKS)
    except ValidationError as error:
        raise ReviewError(error.message_dict) from error
    # Après full_clean, les valeurs ont leur type (Decimal, int) : 0,5 et 0,50 sont égaux.
    if all(before[name] == getattr(current, name) for name in EDITABLE_FIELDS):
        return current
    current.version += 1
    current.save()
    return current


def _completeness_errors(report: ProgressReport) -> dict:
    errors = {}
    if not report.reported_status:
        errors["reported_status"] = "Indiquez où en est l'engagement."
    if report.progress_pct is None:
        errors["progress_pct"] = "Indiquez l'avancement de l'engagement, de 0 à 100 %."
    if not report.what_worked.strip() and not report.difficulties.strip():
        errors["what_worked"] = "Dites en quelques mots ce qui a marché ou ce qui a été difficile."
    if report.reported_status in NEEDS_EXPLANATION and not report.difficulties.strip():
        label = S(report.reported_status).label.lower()
        errors["difficulties"] = f"L'engagement est déclaré « {label} » : expliquez les difficultés."
    return errors


@transaction.atomic
def submit_report(
    *, user: User, report: ProgressReport, expected_version: int | None = None
) -> ProgressReport:
    """Transmet au pilote un bilan complet (état, avancement, et ce qui a marché ou non)."""
    current = _locked(report)
    _require(user, current, "submit")
    if expected_version is not None and current.version != expected_version:
        raise ReportConflictError(current)
    errors = _completeness_errors(current)
    if errors:
        raise ReviewError(errors)
    current.state = ReportState.SUBMITTED
    current.submitted_at = timezone.now()
    current.submitted_by = person_or_none(user)
    current.version += 1
    current.save()
    return current


@transaction.atomic
def accept_report(*, user: User, report: ProgressReport) -> ProgressReport:
    current = _locked(report)
    _require(user, current, "accept")
    current.state = ReportState.ACCEPTED
    current.reviewed_at = timezone.now()
    current.reviewed_by = person_or_none(user)
    current.version += 1
    current.save()
    _apply_reported_status(user, current)
    _notify_report(NotificationKind.REPORT_ACCEPTED, current, "Le pilote a accepté le bilan")
    return current


def _notify_report(kind: str, report: ProgressReport, what: str, comment: str = "") -> None:
    """Prévient les référents du partenaire qu'un pilote a accepté ou renvoyé son bilan."""
    campaign = report.campaign
    contract = campaign.contract
    text = f"{what} {campaign.year} de {report.partner.name} sur « {report.commitment.title} »"
    text += f" : « {comment} »" if comment else "."
    notifications.notify(
        kind=kind,
        recipients=notifications.referents(contract, [report.partner_id]),
        contract=contract,
        text=text,
        path=reverse("www:review_report", args=[contract.slug, campaign.year, report.pk]),
    )


def _apply_reported_status(user: User, report: ProgressReport) -> None:
    """Un bilan accepté fait avancer l'engagement vers l'état déclaré, jamais en arrière.

    Confirmé → en cours ; confirmé ou en cours → réalisé, partiellement réalisé, non réalisé ou
    abandonné (le motif d'abandon est repris des difficultés du bilan). Les autres cas ne changent
    rien : l'état de l'engagement reste celui que les services ont fixé.
    """
    from cdv.commitments import services as commitment_services
    from cdv.commitments.enums import CommitmentStatus as CS

    commitment = report.commitment
    reported = report.reported_status
    if reported == CS.IN_PROGRESS and commitment.status == CS.CONFIRMED:
        commitment_services.start(user=user, commitment=commitment)
    elif reported in commitment_services.CLOSING and commitment.status in {CS.CONFIRMED, CS.IN_PROGRESS}:
        reason = ""
        if reported == CS.ABANDONED:
            reason = report.difficulties.strip() or f"Abandon déclaré dans le bilan {report.campaign.year}."
        commitment_services.close(user=user, commitment=commitment, outcome=reported, reason=reason)


@transaction.atomic
def return_report(*, user: User, report: ProgressReport, comment: str) -> ProgressReport:
    """Renvoie un bilan transmis au partenaire, avec ce qu'il doit compléter (obligatoire)."""
    current = _locked(report)
    _require(user, current, "return")
    comment = (comment or "").strip()
    if not comment:
        raise ReviewError(
            {"reviewer_comment": "Expliquez au partenaire ce qu'il doit compléter ou corriger."}
        )
    current.state = ReportState.RETURNED
    current.reviewer_comment = comment
    current.reviewed_at = timezone.now()
    current.reviewed_by = person_or_none(user)
    current.version += 1
    current.save()
    _notify_report(
        NotificationKind.REPORT_RETURNED, current, "Le pilote a renvoyé pour complément le bilan", comment
    )
    return current


# ---------------------------------------------------------------------------------------------
# Pièces jointes
# ---------------------------------------------------------------------------------------------


def _zip_kind(data: bytes) -> str | None:
    """DOCX, XLSX, ODT ou ODS d'après le contenu de l'archive ; None pour toute autre archive."""
    try:
        # Archive illisible, vide, chiffrée, trop d'éléments ou bombe ZIP : pas un document accepté.
        members = check_zip_archive(
            data,
            max_members=MAX_ZIP_MEMBERS,
            max_uncompressed=MAX_UNCOMPRESSED_BYTES,
            max_ratio=MAX_COMPRESSION_RATIO,
        )
    except ValidationError:
        return None
    names = {m.filename for m in members}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            if members[0].filename == "mimetype" and members[0].file_size < 200:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return {
                    "application/vnd.oasis.opendocument.text": "odt",
                    "application/vnd.oasis.opendocument.spreadsheet": "ods",
                }.get(mimetype)
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size > 1024 * 1024:
                    return None
                types = archive.read(info).decode("utf-8", "replace")
                if "macroEnabled" in types or any("vbaProject" in name for name in names):
                    return None  # documents à macros : refusés
                if "word/document.xml" in names and "wordprocessingml.document.main+xml" in types:
                    return "docx"
                if "xl/workbook.xml" in names and "spreadsheetml.sheet.main+xml" in types:
                    return "xlsx"
        except (KeyError, zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError):
            return None
    return None


def detect_kind(data: bytes) -> str | None:
    """Le type réel d'un fichier d'après sa signature, jamais d'après son nom ni le type déclaré."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def clean_display_name(name: str) -> str:
    """Le nom montré aux personnes : sans chemin, sans caractère de contrôle, 200 caractères au plus."""
    base = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return "" if base.strip(".") == "" else base[:200]


def safe_filename(name: str, extension: str) -> str:
    """Nom de fichier stocké : lettres, chiffres, tirets ; l'extension est celle du type détecté."""
    base = clean_display_name(name)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w-]+", "-", stem, flags=re.UNICODE)
    stem = re.sub(r"-{2,}", "-", stem).strip("-_.")[:80]
    return f"{stem or 'piece-jointe'}.{extension}"


def _read_upload(uploaded_file: UploadedFile) -> bytes:
    size = getattr(uploaded_file, "size", None)
    if isinstance(size, int) and size > MAX_ATTACHMENT_BYTES:
        raise ReviewError({"file": f"Fichier trop volumineux : {_mb(MAX_ATTACHMENT_BYTES)} au plus."})
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data = uploaded_file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ReviewError({"file": f"Fichier trop volumineux : {_mb(MAX_ATTACHMENT_BYTES)} au plus."})
    if not data:
        raise ReviewError({"file": "Le fichier est vide."})
    return data


@transaction.atomic
def add_attachment(*, user: User, report: ProgressReport, uploaded_file: UploadedFile) -> ReportAttachment:
    """Joint un fichier au bilan après avoir vérifié sa taille et son contenu réel.

    Seuls les PDF, images PNG et JPEG, DOCX, XLSX, ODT et ODS sont acceptés, reconnus à leur
    signature ; le nom stocké est assaini (ni chemin ni « .. ») et porte l'extension du type réel.
    """
    current = _locked(report)
    _require(user, current, "upload")
    if current.attachments.count() >= MAX_ATTACHMENTS_PER_REPORT:
        raise ReviewError(
            {"file": f"Un bilan compte au plus {MAX_ATTACHMENTS_PER_REPORT} pièces jointes : retirez-en une."}
        )
    data = _read_upload(uploaded_file)
    kind = detect_kind(data)
    if kind is None:
        raise ReviewError(
            {
                "file": "Ce type de fichier n'est pas accepté (quel que soit son nom) : "
                f"{ALLOWED_LABEL} seulement, sans macro."
            }
        )
    content_type, extension, _ = ATTACHMENT_KINDS[kind]
    original = getattr(uploaded_file, "name", "") or ""
    stored_name = safe_filename(original, extension)
    attachment = ReportAttachment(
        report=current,
        original_name=clean_display_name(original) or stored_name,
        content_type=content_type,
        size=len(data),
        uploaded_by=person_or_none(user),
    )
    attachment.file.save(stored_name, ContentFile(data), save=False)
    storage, name = attachment.file.storage, attachment.file.name
    try:
        attachment.save()
    except Exception:
        storage.delete(name)
        raise
    # Une transaction englobante encore annulée laisserait le fichier orphelin : l'appelant
    # l'efface alors avec ``discard_files``.
    attachment._stored = (storage, name)
    return attachment


def discard_files(attachments: Iterable[ReportAttachment]) -> None:
    """Efface du stockage les fichiers de pièces jointes dont l'enregistrement a été annulé."""
    for attachment in attachments:
        storage, name = getattr(attachment, "_stored", (None, None))
        if storage is not None and name:
            storage.delete(name)


@transaction.atomic
def delete_attachment(*, user: User, attachment: ReportAttachment) -> None:
    current = _locked(attachment.report)
    _require(user, current, "delete_attachment")
    attachment = ReportAttachment.objects.get(pk=attachment.pk, report=current)
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def save_indicator_values(
    *,
    user: User,
    report: ProgressReport,
    values: Iterable[tuple[Indicator, Territory | None, Decimal]],
) -> int:
    """Valeurs des indicateurs que l'engagement alimente, pour l'année de la campagne.

    ``values`` : des triplets (indicateur, QPV ou None pour l'ensemble des QPV du contrat, valeur).
    Seuls les indicateurs de l'engagement et ses quartiers sont admis ; une valeur définitive venue
    d'une source officielle n'est jamais écrasée. Renvoie le nombre de valeurs écrites.
    """
    from cdv.indicators.enums import Scope, ValueStatus
    from cdv.indicators.models import IndicatorValue
    from cdv.indicators.origins import indicators_seen_at_validation, with_official_values

    current = _locked(report)
    _require(user, current, "edit")
    commitment = current.commitment
    allowed_indicators = set(commitment.indicators.values_list("pk", flat=True))
    allowed_qpvs = set(commitment.qpvs.values_list("pk", flat=True))
    year = current.campaign.year
    comment = abilities.report_value_comment(current)
    written = 0
    validated = indicators_seen_at_validation(commitment)
    values = list(values)
    official = with_official_values({indicator.pk for indicator, _, _ in values})
    for indicator, territory, value in values:
        if indicator.pk not in allowed_indicators:
            raise ReviewError(f"L'indicateur « {indicator.name} » ne suit pas cet engagement.")
        if validated is not None and indicator.pk not in validated:
            raise ReviewError(
                f"L'indicateur « {indicator.name} » a été attaché à l'engagement après sa validation par "
                "le pilote : il ne reçoit pas de valeur tant que le pilote ne l'a pas validé."
            )
        if indicator.pk in official:
            raise ReviewError(
                f"« {indicator.name} » est une série officielle (données publiées, import du pilote) : "
                "un bilan n'y écrit pas de valeur. Demandez au pilote un indicateur propre à l'engagement."
            )
        if territory is not None and territory.pk not in allowed_qpvs:
            raise ReviewError(f"Le quartier {territory} ne relève pas de cet engagement.")
        scope = Scope.TERRITORY if territory is not None else Scope.CONTRACT_QPVS
        existing = IndicatorValue.objects.filter(
            indicator=indicator, scope=scope, territory=territory, year=year, quarter=0
        ).first()
        if existing is not None and existing.status == ValueStatus.FINAL and existing.comment != comment:
            where = f" pour {territory}" if territory else ""
            raise ReviewError(
                f"La valeur {year} de « {indicator.name} »{where} est définitive : "
                "elle ne se modifie pas ici."
            )
        if abilities.value_locked_for_report(current, existing):
            where = f" pour {territory}" if territory else ""
            raise ReviewError(
                f"La valeur {year} de « {indicator.name} »{where} a été saisie ailleurs "
                f"({existing.comment.strip().rstrip('.') or 'autre source'}) : elle ne se remplace pas "
                "depuis ce bilan."
            )
        if existing is not None and existing.value == value:
            continue
        obj = existing or IndicatorValue(
            indicator=indicator, scope=scope, territory=territory, year=year, quarter=0
        )
        obj.value, obj.is_secret, obj.status, obj.comment = value, False, ValueStatus.PROVISIONAL, comment
        obj.commitment = commitment
        obj.full_clean(exclude=["indicator", "territory"])
        obj.save()
        written += 1
    return written
