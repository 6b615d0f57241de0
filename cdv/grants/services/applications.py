"""Le dossier côté association : création (ou renouvellement), projet, budget CERFA, demandes aux
financeurs de l'appel, pièces, liste de ce qui manque, dépôt, retrait, suppression d'un brouillon,
réponse à une demande de compléments.

Chaque fonction revérifie les droits (``application_abilities``), relit et verrouille le dossier,
compare la version du formulaire (verrou optimiste) et ne change rien si elle refuse
(``GrantsError`` au message français, ``PermissionDenied``, ``ConflictError``).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cdv.core.figures import french_number
from cdv.core.uploads import UploadError, read_upload
from cdv.core.validators import check_zip_archive, foreign_content
from cdv.notifications.enums import NotificationKind
from cdv.notifications.services import applicant_referents, notify
from cdv.partners.models import Partner
from cdv.users.enums import Role
from cdv.users.models import Membership, User
from cdv.users.roles import applicant_partner_ids

from ..abilities import application_abilities, call_abilities
from ..blocking import blocking_message, missing_reports
from ..enums import (
    CHARGE_ACCOUNTS,
    Account,
    ApplicationStatus,
    DocumentKind,
    EventKind,
    LineStatus,
    ProjectScope,
    ReportStatus,
)
from ..errors import ConflictError, GrantsError, check_version
from ..models import (
    MAX_YEARS,
    Application,
    ApplicationEvent,
    BudgetLine,
    Call,
    CallFunder,
    FunderLine,
    InfoRequest,
    PartnerDocument,
)
from ..receipts import build_receipt_pdf, receipt_filename

# Un montant au-delà est une erreur de saisie (un projet d'association, pas un budget d'État).
MAX_AMOUNT = Decimal("100000000")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DEFAULT_TITLE = "Nouveau projet"

# Champs du projet qu'écrit ``update_project`` (les quartiers à part : relation multiple).
PROJECT_FIELDS = [
    "title",
    "summary",
    "objectives",
    "public",
    "beneficiaries",
    "qpv_share",
    "scope",
    "places",
    "start_date",
    "end_date",
    "enjeu",
    "objective",
    "action",
    "evaluation_indicators",
    "human_means",
    "years",
]


# ---------------------------------------------------------------------------------------------
# Montants


def format_eur(value: Decimal | int | None) -> str:
    """« 12 000,50 € » (espaces fines insécables)."""
    value = Decimal(value or 0).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    text = "\u202f".join(groups)
    return f"{sign}{text},{cents}\u00a0€" if cents != "00" else f"{sign}{text}\u00a0€"


def check_amount(value: Any, what: str) -> Decimal:
    """Un montant positif et plausible, ou ``GrantsError`` nommant ``what``."""
    try:
        amount = Decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        raise GrantsError(f"{what} : « {value} » n'est pas un montant.") from None
    if not amount.is_finite():
        raise GrantsError(f"{what} : « {value} » n'est pas un montant.")
    if amount < 0:
        raise GrantsError(f"{what} : un montant ne peut pas être négatif.")
    if amount >= MAX_AMOUNT:
        raise GrantsError(f"{what} : {format_eur(amount)} est un montant invraisemblable.")
    return amount.quantize(Decimal("0.01"))


@dataclass
class BudgetTotals:
    charges: Decimal
    own_income: Decimal  # produits du budget (70-75, 87)
    requested: Decimal  # demandé aux financeurs de l'appel (compte 74, première année)
    income: Decimal

    @property
    def difference(self) -> Decimal:
        """Charges − produits : zéro quand le budget est équilibré."""
        return self.charges - self.income

    @property
    def balanced(self) -> bool:
        return self.difference == 0


def budget_totals(application: Application) -> BudgetTotals:
    """Totaux lus sur ``budget_lines`` et ``funder_lines`` (préchargez-les pour une liste)."""
    charges = Decimal("0")
    own = Decimal("0")
    for line in application.budget_lines.all():
        if line.account in CHARGE_ACCOUNTS:
            charges += line.amount
        else:
            own += line.amount
    requested = sum((line.requested_amount for line in application.funder_lines.all()), Decimal("0"))
    return BudgetTotals(charges=charges, own_income=own, requested=requested, income=own + requested)


# ---------------------------------------------------------------------------------------------
# Outils


def _locked(application: Application) -> Application:
    """Le dossier relu en base et verrouillé, avec ce que lisent les droits."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("call", "partner")
        .prefetch_related("funder_lines__funder__partner", "qpvs", "budget_lines")
        .get(pk=application.pk)
    )


def _require(user: User, application: Application, ability: str) -> dict[str, bool]:
    abilities = application_abilities(user, application)
    if not abilities[ability]:
        raise PermissionDenied("Vous ne pouvez pas faire cela sur ce dossier.")
    return abilities


def _event(application: Application, kind: str, user: User | None, message: str = "", funder=None) -> None:
    ApplicationEvent.objects.create(
        application=application, kind=kind, actor=user, message=message, funder=funder
    )


def _bump(application: Application, *fields: str) -> None:
    application.version += 1
    application.save(update_fields=[*fields, "version", "updated_at"])


def application_path(application: Application) -> str:
    call = application.call
    return reverse("www:application", args=[call.contract.slug, call.year, application.pk])


def receipt_path(application: Application) -> str:
    call = application.call
    return reverse("www:application_receipt", args=[call.contract.slug, call.year, application.pk])


# ---------------------------------------------------------------------------------------------
# Création, renouvellement


@transaction.atomic
def create_application(
    *,
    user: User,
    call: Call,
    partner: Partner,
    renewal_of: Application | None = None,
    title: str = "",
) -> Application:
    """Un brouillon de dossier de ``partner`` pour ``call`` ; ``renewal_of`` (un dossier de
    l'association à un appel précédent du même contrat) en recopie le projet, le budget, les
    demandes aux financeurs (ceux de cet appel, reconnus à leur organisation) et les pièces."""
    if not call_abilities(user, call)["apply"]:
        raise PermissionDenied("Le dépôt de dossiers n'est pas ouvert pour vous sur cet appel.")
    if partner.pk not in applicant_partner_ids(user, call.contract_id):
        raise PermissionDenied("Vous n'êtes pas référent de cette association.")
    missing = missing_reports(partner, call)
    if missing:
        raise GrantsError(blocking_message(missing))
    application = Application(
        call=call, partner=partner, title=title.strip() or DEFAULT_TITLE, created_by=user
    )
    if renewal_of is None:
        application.save()
        _event(application, EventKind.CREATED, user)
        return application
    if renewal_of.partner_id != partner.pk or renewal_of.call.contract_id != call.contract_id:
        raise GrantsError("Ce dossier n'est pas un dossier de votre association dans ce contrat.")
    if renewal_of.call_id == call.pk:
        raise GrantsError("On renouvelle un dossier d'un appel précédent, pas de celui-ci.")
    for field in PROJECT_FIELDS:
        if field not in ("title", "start_date", "end_date"):
            setattr(application, field, getattr(renewal_of, field))
    application.title = title.strip() or renewal_of.title
    application.renewal_of = renewal_of
    application.save()
    contract_qpvs = set(call.contract.qpvs.values_list("pk", flat=True))
    application.qpvs.set([q.pk for q in renewal_of.qpvs.all() if q.pk in contract_qpvs])
    BudgetLine.objects.bulk_create(
        BudgetLine(application=application, account=b.account, label=b.label, amount=b.amount, order=b.order)
        for b in renewal_of.budget_lines.all()
    )
    funders = {f.partner_id: f for f in call.funders.all()}
    lines = []
    for old in renewal_of.funder_lines.select_related("funder"):
        funder = funders.get(old.funder.partner_id)
        if funder is not None:
            lines.append(
                FunderLine(
                    application=application,
                    funder=funder,
                    requested_amount=old.requested_amount,
                    later_amounts=list(old.later_amounts or [])[: max(application.years - 1, 0)],
                )
            )
    FunderLine.objects.bulk_create(lines)
    application.documents.set(renewal_of.documents.all())
    _event(
        application,
        EventKind.CREATED,
        user,
        f"Repris du dossier {renewal_of.number or renewal_of.title} ({renewal_of.call.year}).",
    )
    return application


# ---------------------------------------------------------------------------------------------
# Le projet


def _check_project(application: Application, data: dict[str, Any], qpvs: list | None) -> None:
    call = application.call
    contract = call.contract
    errors: dict[str, list[str]] = {}
    years = data.get("years", application.years)
    if years is not None and not 1 <= int(years) <= MAX_YEARS:
        errors.setdefault("years", []).append(f"La durée va de 1 à {MAX_YEARS} ans.")
    share = data.get("qpv_share", application.qpv_share)
    if share is not None and not Decimal(0) <= Decimal(share) <= Decimal(100):
        errors.setdefault("qpv_share", []).append("La part des bénéficiaires en QPV va de 0 à 100 %.")
    start = data.get("start_date", application.start_date)
    end = data.get("end_date", application.end_date)
    if start and end and end < start:
        errors.setdefault("end_date", []).append("La fin du projet ne peut pas précéder son début.")
    enjeu = data.get("enjeu", application.enjeu)
    objective = data.get("objective", application.objective)
    action = data.get("action", application.action)
    if enjeu is not None and enjeu.contract_id != contract.pk:
        errors.setdefault("enjeu", []).append("Cet enjeu n'est pas un enjeu du contrat.")
    if objective is not None:
        if objective.enjeu.contract_id != contract.pk:
            errors.setdefault("objective", []).append("Cet objectif n'est pas un objectif du contrat.")
        elif enjeu is not None and objective.enjeu_id != enjeu.pk:
            errors.setdefault("objective", []).append(
                f"L'objectif « {objective} » ne relève pas de l'enjeu choisi."
            )
    if action is not None:
        if action.objective.enjeu.contract_id != contract.pk:
            errors.setdefault("action", []).append("Cette action n'est pas une action du contrat.")
        elif objective is not None and action.objective_id != objective.pk:
            errors.setdefault("action", []).append(
                f"L'action « {action} » ne relève pas de l'objectif choisi."
            )
    if qpvs is not None:
        allowed = set(contract.qpvs.values_list("pk", flat=True))
        foreign = [q for q in qpvs if q.pk not in allowed]
        if foreign:
            names = ", ".join(str(q) for q in foreign)
            errors.setdefault("qpvs", []).append(
                f"Quartier hors du contrat : {names}. Choisissez parmi les quartiers prioritaires du contrat."
            )
        eligible = set(call.eligible_qpvs.values_list("pk", flat=True))
        if eligible and not foreign:
            outside = [q for q in qpvs if q.pk not in eligible]
            if outside:
                names = ", ".join(str(q) for q in outside)
                errors.setdefault("qpvs", []).append(f"Quartier non retenu par cet appel : {names}.")
    scope = data.get("scope", application.scope)
    if scope == ProjectScope.WHOLE and not call.allow_whole_territory:
        errors.setdefault("scope", []).append(
            "Cet appel n'admet pas de projets à l'échelle de tout le territoire."
        )
    if errors:
        raise GrantsError(errors)


@transaction.atomic
def update_project(
    *,
    user: User,
    application: Application,
    version: int | None,
    data: dict[str, Any],
    qpvs: list | None = None,
) -> Application:
    """Enregistre une étape du projet (à tout moment) : ``data`` {champ: valeur} parmi
    ``PROJECT_FIELDS`` ; ``qpvs`` (facultatif) : les quartiers concernés, ceux du contrat seulement."""
    application = _locked(application)
    _require(user, application, "edit")
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise GrantsError(f"Champ inconnu : {', '.join(sorted(unknown))}.")
    if "title" in data and not str(data["title"] or "").strip():
        raise GrantsError({"title": "Donnez un intitulé au projet."})
    check_version(application, version, data)
    _check_project(application, data, qpvs)
    for field, value in data.items():
        setattr(application, field, value)
    if application.years < MAX_YEARS:
        for line in application.funder_lines.all():
            if len(line.later_amounts or []) > application.years - 1:
                line.later_amounts = line.later_amounts[: application.years - 1]
                line.save(update_fields=["later_amounts", "updated_at"])
    if qpvs is not None:
        application.qpvs.set(qpvs)
    _bump(application, *[f for f in data])
    return application


# ---------------------------------------------------------------------------------------------
# Le budget et les demandes aux financeurs


def _budget_conflict(application: Application, version: int | None, mine: object, current: object) -> None:
    if version is not None and version != application.version and mine != current:
        raise ConflictError(application, [("budget", "budget", current, mine)])


def _clean_budget_lines(lines: list[tuple[str, str, Any]]) -> list[tuple[str, str, Decimal]]:
    cleaned = []
    for number, (account, label, amount) in enumerate(lines, start=1):
        if account not in Account.values:
            raise GrantsError(
                f"Ligne {number} : le compte « {account} » n'est pas un compte du budget CERFA."
            )
        label = (label or "").strip()[:200]
        value = check_amount(
            amount, f"Ligne {number} ({Account(account).label}{', ' + label if label else ''})"
        )
        if value:
            cleaned.append((account, label, value))
    return cleaned


def _write_budget(application: Application, lines: list[tuple[str, str, Decimal]]) -> None:
    application.budget_lines.all().delete()
    BudgetLine.objects.bulk_create(
        BudgetLine(application=application, account=a, label=label, amount=amount, order=i)
        for i, (a, label, amount) in enumerate(lines)
    )


def _clean_requests(
    application: Application, requests: dict[CallFunder, tuple[Any, list[Any]]]
) -> dict[CallFunder, tuple[Decimal, list[str]]]:
    cleaned = {}
    for funder, (first, later) in requests.items():
        if funder.call_id != application.call_id:
            raise GrantsError(f"« {funder} » n'est pas un financeur de cet appel.")
        what = f"Demande à {funder.partner}"
        amount = check_amount(first if first not in (None, "") else 0, f"{what} (année 1)")
        later = list(later or [])
        if len(later) > application.years - 1:
            extra = [v for v in later[application.years - 1 :] if v not in (None, "") and Decimal(v) != 0]
            if extra:
                raise GrantsError(
                    f"{what} : des montants sont donnés au-delà de la durée du projet "
                    f"({application.years} an(s))."
                )
            later = later[: application.years - 1]
        amounts = [
            str(check_amount(v if v not in (None, "") else 0, f"{what} (année {i})"))
            for i, v in enumerate(later, start=2)
        ]
        cleaned[funder] = (amount, amounts)
    return cleaned


def _write_requests(application: Application, requests: dict[CallFunder, tuple[Decimal, list[str]]]) -> None:
    existing = {line.funder_id: line for line in application.funder_lines.all()}
    for funder, (amount, later) in requests.items():
        line = existing.get(funder.pk)
        empty = amount == 0 and not any(Decimal(v) for v in later)
        if line is None:
            if not empty:
                FunderLine.objects.create(
                    application=application, funder=funder, requested_amount=amount, later_amounts=later
                )
        elif empty and line.status == LineStatus.DRAFT:
            line.delete()
        elif empty:
            raise GrantsError(
                f"La demande à {funder.partner} est déjà entre les mains de ce financeur : "
                "elle ne peut pas être retirée ici (écrivez-lui ou retirez le dossier)."
            )
        elif line.requested_amount != amount or list(line.later_amounts or []) != later:
            line.requested_amount = amount
            line.later_amounts = later
            line.save(update_fields=["requested_amount", "later_amounts", "updated_at"])


def _current_budget(application: Application) -> list[tuple[str, str, Decimal]]:
    return [(b.account, b.label, b.amount) for b in application.budget_lines.all()]


def _current_requests(application: Application) -> dict[int, tuple[Decimal, list[str]]]:
    return {
        line.funder_id: (line.requested_amount, list(line.later_amounts or []))
        for line in application.funder_lines.all()
    }


@transaction.atomic
def set_budget(
    *,
    user: User,
    application: Application,
    version: int | None,
    lines: list[tuple[str, str, Any]],
) -> Application:
    """Remplace les lignes du budget du projet : (compte, détail, montant) ; une ligne à zéro est
    ignorée."""
    application = _locked(application)
    _require(user, application, "edit")
    cleaned = _clean_budget_lines(lines)
    _budget_conflict(application, version, cleaned, _current_budget(application))
    _write_budget(application, cleaned)
    _bump(application)
    return application


@transaction.atomic
def set_funder_requests(
    *,
    user: User,
    application: Application,
    version: int | None,
    requests: dict[CallFunder, tuple[Any, list[Any]]],
) -> Application:
    """Les montants demandés à chaque financeur de l'appel : {financeur: (année 1, [années
    suivantes])} ; un financeur à zéro n'est pas sollicité."""
    application = _locked(application)
    _require(user, application, "edit")
    cleaned = _clean_requests(application, requests)
    mine = {f.pk: v for f, v in cleaned.items()}
    current = {k: v for k, v in _current_requests(application).items() if k in mine}
    _budget_conflict(application, version, mine, current)
    _write_requests(application, cleaned)
    _bump(application)
    return application


@transaction.atomic
def save_budget(
    *,
    user: User,
    application: Application,
    version: int | None,
    lines: list[tuple[str, str, Any]],
    requests: dict[CallFunder, tuple[Any, list[Any]]],
) -> Application:
    """Le formulaire du budget en une fois : lignes CERFA et demandes aux financeurs."""
    application = _locked(application)
    _require(user, application, "edit")
    cleaned = _clean_budget_lines(lines)
    cleaned_requests = _clean_requests(application, requests)
    mine = (cleaned, {f.pk: v for f, v in cleaned_requests.items()})
    current_requests = {k: v for k, v in _current_requests(application).items() if k in mine[1]}
    _budget_conflict(application, version, mine, (_current_budget(application), current_requests))
    _write_budget(application, cleaned)
    _write_requests(application, cleaned_requests)
    _bump(application)
    return application


# ---------------------------------------------------------------------------------------------
# Les pièces


# Formats acceptés : signature des premiers octets → (libellé, extensions admises).
SIGNATURES = [
    (b"%PDF-", "PDF", {".pdf"}),
    (b"\x89PNG\r\n\x1a\n", "PNG", {".png"}),
    (b"\xff\xd8\xff", "JPEG", {".jpg", ".jpeg"}),
]
OFFICE_EXTENSIONS = {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"}
ACCEPTED = "PDF, JPEG, PNG, ou document bureautique (.docx, .xlsx, .odt, .ods)"


def _office_kind(data: bytes) -> bool:
    """Un document bureautique moderne (Office Open XML ou OpenDocument) : une archive ZIP vérifiée
    par ``check_zip_archive`` et qui contient le manifeste de son format."""
    members = check_zip_archive(data)
    names = {m.filename for m in members}
    if "[Content_Types].xml" in names:
        return True
    if "mimetype" in names:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read("mimetype")[:60].startswith(b"application/vnd.oasis.opendocument")
    return False


def check_document(name: str, data: bytes) -> str:
    """Le type MIME de ``data`` d'après son contenu, ou ``GrantsError`` : type non admis, ou un
    fichier dont le nom annonce un autre type que son contenu."""
    extension = os.path.splitext(name)[1].lower()
    for signature, label, extensions in SIGNATURES:
        if data.startswith(signature):
            if extension not in extensions:
                raise GrantsError(
                    f"« {name} » est en réalité une image ou un document {label} : "
                    f"son nom ne correspond pas à son contenu. Renommez-le en {sorted(extensions)[0]}."
                )
            return {"PDF": "application/pdf", "PNG": "image/png", "JPEG": "image/jpeg"}[label]
    if data.startswith(b"PK\x03\x04"):
        try:
            office = _office_kind(data)
        except ValidationError as error:
            raise GrantsError(f"« {name} » : {error.messages[0]}") from None
        if office and extension in OFFICE_EXTENSIONS:
            return {
                ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                ".odt": "application/vnd.oasis.opendocument.text",
                ".ods": "application/vnd.oasis.opendocument.spreadsheet",
                ".odp": "application/vnd.oasis.opendocument.presentation",
            }[extension]
        raise GrantsError(f"« {name} » est une archive, pas un document accepté ({ACCEPTED}).")
    real = foreign_content(data[:512])
    if real:
        raise GrantsError(f"« {name} » est en réalité {real} : il est refusé. Formats acceptés : {ACCEPTED}.")
    raise GrantsError(f"« {name} » n'est pas dans un format accepté ({ACCEPTED}).")


@transaction.atomic
def upload_document(*, user: User, call: Call, partner: Partner, kind: str, uploaded: Any) -> PartnerDocument:
    """Ajoute une pièce au jeu réutilisable de l'association (vérifiée sur son contenu et sa
    taille, 10 Mo au plus)."""
    if partner.pk not in applicant_partner_ids(user, call.contract_id):
        raise PermissionDenied("Vous n'êtes pas référent de cette association.")
    if kind not in DocumentKind.values:
        raise GrantsError({"kind": "Choisissez le type de pièce."})
    name = os.path.basename(getattr(uploaded, "name", "") or "piece")[:200]
    try:
        data = read_upload(
            uploaded, max_bytes=MAX_DOCUMENT_BYTES, too_large=" : réduisez-le (scan en 150 dpi)."
        )
    except UploadError as error:
        raise GrantsError({"file": f"« {name} » : {error}"}) from None
    try:
        content_type = check_document(name, data)
    except GrantsError as error:
        raise GrantsError({"file": error.messages}) from None
    document = PartnerDocument(
        partner=partner,
        kind=kind,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user,
    )
    document.file.save(name, ContentFile(data), save=False)
    document.save()
    return document


@transaction.atomic
def attach_documents(
    *, user: User, application: Application, version: int | None, documents: list[PartnerDocument]
) -> Application:
    """Les pièces jointes au dossier, choisies parmi celles de l'association."""
    application = _locked(application)
    _require(user, application, "edit")
    foreign = [d for d in documents if d.partner_id != application.partner_id]
    if foreign:
        raise GrantsError({"documents": "Ces pièces ne sont pas celles de votre association."})
    mine = sorted(d.pk for d in documents)
    current = sorted(application.documents.values_list("pk", flat=True))
    if version is not None and version != application.version and mine != current:
        raise ConflictError(application, [("documents", "pièces jointes", current, mine)])
    application.documents.set(documents)
    _bump(application)
    return application


@transaction.atomic
def delete_document(*, user: User, call: Call, document: PartnerDocument) -> None:
    """Retire une pièce du jeu de l'association si aucun dossier déposé ne la cite."""
    if document.partner_id not in applicant_partner_ids(user, call.contract_id):
        raise PermissionDenied("Vous n'êtes pas référent de cette association.")
    if document.applications.exclude(status=ApplicationStatus.DRAFT).exists():
        raise GrantsError("Cette pièce est jointe à un dossier déposé : elle est gardée.")
    if document.final_reports.exclude(status=ReportStatus.DRAFT).exists():
        raise GrantsError("Cette pièce est jointe à un compte-rendu transmis : elle est gardée.")
    document.file.delete(save=False)
    document.delete()


# ---------------------------------------------------------------------------------------------
# Ce qui manque


def checklist(application: Application) -> list[str]:
    """Ce qui manque ou ne va pas pour déposer, en phrases françaises (vide : prêt au dépôt)."""
    call = application.call
    partner = application.partner
    missing = []
    if not partner.siret and not partner.rna:
        missing.append("L'identité de l'association : son SIRET ou son numéro RNA.")
    if not (partner.address and partner.postal_code and partner.city):
        missing.append("L'adresse du siège de l'association.")
    if not partner.legal_representative:
        missing.append("Le représentant légal de l'association.")
    if not application.title or application.title == DEFAULT_TITLE:
        missing.append("L'intitulé du projet.")
    for field, label in [
        ("summary", "Le résumé du projet en langage clair."),
        ("objectives", "Les objectifs du projet."),
        ("public", "Le public visé."),
        ("places", "Les lieux de l'action."),
        ("evaluation_indicators", "Les indicateurs d'évaluation."),
    ]:
        if not getattr(application, field).strip():
            missing.append(label)
    if not application.beneficiaries:
        missing.append("Le nombre de bénéficiaires prévus.")
    if application.qpv_share is None:
        missing.append("La part des bénéficiaires habitant un quartier prioritaire.")
    elif application.qpv_share < call.min_qpv_share:
        missing.append(
            "La part des bénéficiaires habitant un quartier prioritaire "
            f"({french_number(application.qpv_share, '%')}) est sous le minimum de l'appel "
            f"({french_number(call.min_qpv_share, '%')})."
        )
    qpvs = list(application.qpvs.all())
    if application.scope == ProjectScope.QPV and not qpvs:
        missing.append("Le ou les quartiers prioritaires concernés.")
    if application.scope == ProjectScope.WHOLE and not call.allow_whole_territory:
        missing.append(
            "Cet appel n'admet pas les projets à l'échelle de tout le territoire : choisissez des quartiers."
        )
    contract_qpvs = set(call.contract.qpvs.values_list("pk", flat=True))
    eligible_qpvs = set(call.eligible_qpvs.values_list("pk", flat=True)) or contract_qpvs
    bad = [str(q) for q in qpvs if q.pk not in eligible_qpvs]
    if bad:
        missing.append(f"Quartiers non éligibles à cet appel : {', '.join(bad)}.")
    if not application.start_date or not application.end_date:
        missing.append("Les dates de début et de fin du projet.")
    if application.enjeu_id is None:
        missing.append("L'enjeu du contrat que sert le projet.")
    else:
        eligible = set(call.eligible_enjeux.values_list("pk", flat=True))
        if eligible and application.enjeu_id not in eligible:
            missing.append(f"L'enjeu « {application.enjeu} » n'est pas retenu par cet appel.")
    if application.objective_id is not None:
        eligible = set(call.eligible_objectives.values_list("pk", flat=True))
        if eligible and application.objective_id not in eligible:
            missing.append(f"L'objectif « {application.objective} » n'est pas retenu par cet appel.")
    totals = budget_totals(application)
    if totals.charges == 0:
        missing.append("Le budget du projet : ses charges (comptes 60 à 68, 86).")
    elif not totals.balanced:
        missing.append(
            f"Le budget n'est pas équilibré : charges {format_eur(totals.charges)}, produits "
            f"{format_eur(totals.income)}, écart {format_eur(totals.difference)}."
        )
    lines = [line for line in application.funder_lines.all() if line.requested_amount > 0]
    if len(lines) < max(call.min_funders, 1):
        missing.append(
            f"Au moins {max(call.min_funders, 1)} financeur(s) de l'appel sollicité(s) "
            f"(aujourd'hui : {len(lines)})."
        )
    if call.min_amount is not None and totals.requested < call.min_amount:
        missing.append(
            f"Le montant demandé ({format_eur(totals.requested)}) est sous le minimum de l'appel "
            f"({format_eur(call.min_amount)})."
        )
    if call.max_amount is not None and totals.requested > call.max_amount:
        missing.append(
            f"Le montant demandé ({format_eur(totals.requested)}) dépasse le maximum de l'appel "
            f"({format_eur(call.max_amount)})."
        )
    if totals.charges and totals.requested * 100 > call.max_call_share * totals.charges:
        share = (totals.requested * 100 / totals.charges).quantize(Decimal("0.1"))
        missing.append(
            f"Les financeurs de l'appel couvriraient {french_number(share, '%')} du budget : "
            f"{french_number(call.max_call_share, '%')} au plus, le reste doit venir d'autres ressources."
        )
    if application.years > 1:
        for line in application.funder_lines.all():
            later = line.later_amounts or []
            if len(later) < application.years - 1 or any(v in (None, "") for v in later):
                missing.append(
                    f"Projet sur {application.years} ans : le montant demandé à {line.funder.partner} "
                    "pour chaque année."
                )
    present = {d.kind for d in application.documents.all()}
    for required in call.required_documents.all():
        if required.required and required.kind not in present:
            missing.append(f"La pièce « {required} ».")
    return missing


# ---------------------------------------------------------------------------------------------
# Dépôt


def _closed_message(call: Call) -> str:
    return (
        f"Le dépôt de cet appel est clos depuis le {call.filing_closes:%d/%m/%Y} à minuit : le dossier "
        "n'a pas été déposé. Votre brouillon est gardé ; pour toute question, écrivez aux contacts "
        "de l'appel."
    )


def _notify_submitted(application: Application, user: User, *, resubmitted: bool) -> None:
    call = application.call
    verb = "déposé à nouveau" if resubmitted else "déposé"
    text = f"Dossier {application.number} « {application.title} » {verb} le {timezone.localtime():%d/%m/%Y}."
    totals = budget_totals(application)
    body = (
        f"Bonjour,\n\nLe dossier {application.number} « {application.title} » de {application.partner} a été "
        f"{verb} sur l'appel à projets « {call.title} » ({call.year}).\n"
        f"Montant demandé aux financeurs de l'appel : {format_eur(totals.requested)}.\n\n"
        "Le récépissé est joint à ce courriel (PDF) ; il se télécharge aussi ici : "
        f"{_link(receipt_path(application))}\n"
        f"Le dossier et son suivi, financeur par financeur : {_link(application_path(application))}\n"
    )
    notify(
        kind=NotificationKind.APPLICATION_SUBMITTED,
        recipients=[user, *applicant_referents(application.call.contract_id, [application.partner_id])],
        contract=call.contract,
        text=text,
        path=application_path(application),
        subject=f"Récépissé de dépôt — dossier {application.number}",
        body=body,
        attachments=[(receipt_filename(application), build_receipt_pdf(application), "application/pdf")],
    )


def _link(path: str) -> str:
    from cdv.notifications.services import link

    return link(path)


@transaction.atomic
def submit_application(
    *,
    user: User,
    application: Application,
    sworn_name: str,
    sworn_statement: bool,
    republican_contract: bool,
    today: datetime.date | None = None,
) -> Application:
    """Dépose le dossier : acte explicite d'une personne nommée. Refusé (rien ne change) si
    quelque chose manque (``checklist``), si la fenêtre de dépôt est close, si la déclaration
    ou le contrat d'engagement républicain ne sont pas cochés. Donne le numéro, fige le dossier,
    transmet chaque ligne de financeur, écrit l'historique et envoie le récépissé."""
    application = _locked(application)
    today = today or timezone.localdate()
    owner = application.partner_id in applicant_partner_ids(user, application.call.contract_id)
    if not owner:
        raise PermissionDenied("Vous n'êtes pas référent de cette association.")
    call = application.call
    if application.status == ApplicationStatus.DRAFT and today > call.filing_closes:
        raise GrantsError(_closed_message(call))
    if not application_abilities(user, application, today=today)["submit"]:
        raise PermissionDenied("Ce dossier ne peut pas être déposé maintenant.")
    if application.status == ApplicationStatus.DRAFT:  # un dossier rendu pour compléments se redépose
        missing = missing_reports(application.partner, call, today=today)
        if missing:
            raise GrantsError(blocking_message(missing))
    errors: dict[str, str] = {}
    sworn_name = (sworn_name or "").strip()
    if not sworn_name:
        errors["sworn_name"] = (
            "Indiquez le nom de la personne qui dépose (représentant légal ou délégataire)."
        )
    if not sworn_statement:
        errors["sworn_statement"] = "Cochez la déclaration sur l'honneur."
    if not republican_contract:
        errors["republican_contract"] = "Cochez le contrat d'engagement républicain."
    if errors:
        raise GrantsError(errors)
    missing = checklist(application)
    if missing:
        raise GrantsError(["Le dossier n'est pas complet :", *missing])
    resubmitted = application.status == ApplicationStatus.RETURNED
    if not application.number:
        locked_call = Call.objects.select_for_update().get(pk=call.pk)
        locked_call.last_number += 1
        locked_call.save(update_fields=["last_number"])
        application.number = f"{call.year}-{locked_call.last_number:04d}"
    application.status = ApplicationStatus.SUBMITTED
    application.sworn_name = sworn_name[:200]
    application.sworn_statement = True
    application.republican_contract = True
    application.submitted_at = timezone.now()
    application.submitted_by = user
    _bump(
        application,
        "number",
        "status",
        "sworn_name",
        "sworn_statement",
        "republican_contract",
        "submitted_at",
        "submitted_by",
    )
    FunderLine.objects.filter(application=application, status=LineStatus.DRAFT).update(
        status=LineStatus.TRANSMITTED, updated_at=timezone.now()
    )
    _event(
        application,
        EventKind.SUBMITTED,
        user,
        f"Déposé par {sworn_name} (déclaration sur l'honneur et contrat d'engagement républicain).",
    )
    _notify_submitted(application, user, resubmitted=resubmitted)
    return application


@transaction.atomic
def answer_info_request(
    *, user: User, application: Application, answer: str, today: datetime.date | None = None
) -> Application:
    """L'association répond aux questions d'un instructeur et redépose le dossier (état
    « Déposé ») ; les instructeurs des financeurs sollicités sont prévenus."""
    application = _locked(application)
    _require(user, application, "edit")
    if application.status != ApplicationStatus.RETURNED:
        raise GrantsError("Aucune demande de compléments n'attend de réponse sur ce dossier.")
    answer = (answer or "").strip()
    if not answer:
        raise GrantsError({"answer": "Écrivez votre réponse aux questions posées."})
    missing = checklist(application)
    if missing:
        raise GrantsError(["Le dossier n'est pas complet :", *missing])
    request = (
        InfoRequest.objects.select_for_update()
        .filter(application=application, answered_at__isnull=True)
        .order_by("-asked_at", "-id")
        .first()
    )
    if request is None:
        raise GrantsError("Aucune demande de compléments n'attend de réponse sur ce dossier.")
    request.answer = answer
    request.answered_by = user
    request.answered_at = timezone.now()
    request.save(update_fields=["answer", "answered_by", "answered_at"])
    application.status = ApplicationStatus.SUBMITTED
    _bump(application, "status")
    _event(application, EventKind.INFO_ANSWERED, user, answer, funder=request.funder)
    funder_partners = {line.funder.partner_id for line in application.funder_lines.all()}
    if request.funder is not None:
        funder_partners = {request.funder.partner_id}
    instructors = User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(
            contract_id=application.call.contract_id, role=Role.INSTRUCTOR, partner_id__in=funder_partners
        ).values("user_id"),
    )
    notify(
        kind=NotificationKind.INFO_ANSWERED,
        recipients=[request.asked_by, *instructors],
        contract=application.call.contract,
        text=(
            f"{application.partner} a répondu à la demande de compléments sur le dossier "
            f"{application.number}."
        ),
        path=reverse(
            "www:application_instruction",
            args=[application.call.contract.slug, application.call.year, application.pk],
        ),
    )
    return application


resubmit = answer_info_request


@transaction.atomic
def withdraw_application(*, user: User, application: Application, reason: str = "") -> Application:
    """L'association retire son dossier : il n'est plus instruit ; ses lignes sont clôturées."""
    application = _locked(application)
    _require(user, application, "withdraw")
    application.status = ApplicationStatus.WITHDRAWN
    _bump(application, "status")
    application.funder_lines.exclude(status__in=[LineStatus.VOTED, LineStatus.REJECTED]).update(
        status=LineStatus.CLOSED, updated_at=timezone.now()
    )
    _event(application, EventKind.WITHDRAWN, user, (reason or "").strip())
    return application


@transaction.atomic
def delete_draft(*, user: User, application: Application) -> None:
    """Supprime un brouillon jamais déposé (et son budget) ; les pièces restent à l'association."""
    application = _locked(application)
    _require(user, application, "delete")
    application.delete()


# ---------------------------------------------------------------------------------------------
# L'identité de l'association (tenue sur sa fiche de partenaire)

IDENTITY_FIELDS = [
    "siret",
    "rna",
    "address",
    "postal_code",
    "city",
    "legal_representative",
    "legal_representative_title",
    "employees",
    "volunteers",
    "fte",
]


@transaction.atomic
def update_partner_identity(
    *, user: User, contract_id: int, partner: Partner, data: dict[str, Any]
) -> Partner:
    """Met à jour l'identité de l'association (SIRET, RNA, adresse, représentant légal,
    effectifs) : son référent seul ; les contrôles du modèle (clé du SIRET, format du RNA)
    refusent une saisie fausse sans rien changer."""
    if partner.pk not in applicant_partner_ids(user, contract_id):
        raise PermissionDenied("Vous n'êtes pas référent de cette association.")
    unknown = set(data) - set(IDENTITY_FIELDS)
    if unknown:
        raise GrantsError(f"Champ inconnu : {', '.join(sorted(unknown))}.")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    for field, value in data.items():
        setattr(partner, field, "" if value is None and field in ("siret", "rna") else value)
    try:
        partner.full_clean(exclude=["name", "slug", "kind", "member_of", "qpvs"])
    except ValidationError as error:
        raise GrantsError(error.message_dict) from None
    partner.save(update_fields=list(data))
    return partner
