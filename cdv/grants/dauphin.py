"""Import des dossiers et des décisions d'un appel à projets depuis un export de Dauphin (CSV ou XLSX).

``import_dauphin(user=…, call=…, fileobj=…, filename=…, mapping=None, dry_run=False, progress=None)``
lit le fichier, vérifie tout en mémoire (financeurs de l'appel, associations, quartiers du contrat,
libellés d'état de Dauphin, montants et dates à la française), puis écrit dans une transaction. Tout
ou rien : à la moindre erreur rien n'est écrit, et chaque erreur nomme sa ligne et sa colonne
(« Ligne 12, colonne « Montant voté » : « 12,5x » n'est pas un montant. »). Idempotent : un dossier
est retrouvé par son numéro Dauphin (``Application.external_ref``), une ligne par son financeur ;
seul ce qui diffère est écrit, et un second import du même fichier ne change rien.

La commande ``import_aap`` et l'écran d'import du pilote (``cdv/www/views/grants_import.py``)
appellent cette même fonction ; l'écran lit d'abord l'en-tête (``inspect_file``) et laisse le pilote
désigner les colonnes (``mapping``), puis montre la simulation (``dry_run``).

La lecture des octets (CSV : encodage, séparateur ; XLSX : contrôles de l'archive, formules) est
celle de l'import des valeurs d'indicateurs (``cdv.indicators.importer``), reprise telle quelle.

Une ligne du fichier = un dossier × un financeur (le cofinancement de Dauphin : le même numéro de
dossier revient sur autant de lignes que de financeurs sollicités). Le format, les libellés d'état
reconnus et les choix faits sont décrits pour les utilisateurs dans docs/aap/import-dauphin.md.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from cdv.core import uploads, validators
from cdv.core.numbers import NumberFormatError, parse_french_decimal
from cdv.core.slugs import unique_slug
from cdv.core.uploads import ErrorCollector
from cdv.indicators.importer import TableRefused, open_table, read_bytes
from cdv.indicators.mapper import NullBar, clip, header_key
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner

from .abilities import follow_up_call_abilities
from .enums import DECIDED_LINE_STATUSES, ApplicationStatus, CallStatus, EventKind, LineStatus, ProjectScope
from .errors import GrantsError
from .models import Application, ApplicationEvent, Call, FunderLine, GrantAct, Payment
from .services.applications import MAX_AMOUNT, format_eur

logger = logging.getLogger(__name__)

MAX_ROWS = 20_000  # un appel de Nantes : ~450 dossiers × 6 financeurs
MAX_ERRORS = 500
STATUS_KEY = "_statuts"  # clé réservée d'un fichier de correspondance : libellés d'état en plus


# ---------------------------------------------------------------------------------------------
# Les colonnes : clé (celle du fichier de correspondance), intitulé français, obligatoire, intitulés
# reconnus dans les exports de Dauphin (comparés sans casse ni accents ni ponctuation).


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool
    aliases: tuple[str, ...]


COLUMNS = [
    Column(
        "numero",
        "N° dossier",
        True,
        (
            "N° dossier",
            "N° de dossier",
            "Numéro du dossier",
            "Numéro de dossier",
            "N° du dossier",
            "Référence du dossier",
            "Référence",
            "reference",
            "Code dossier",
            "codeActionProjet",
            "Code action projet",
            "Référence administrative",
        ),
    ),
    Column(
        "intitule",
        "Intitulé du projet",
        True,
        ("Intitulé du projet", "Intitulé de l'action", "Intitulé", "intituleProjet", "Projet", "Action"),
    ),
    Column(
        "porteur",
        "Porteur",
        True,
        (
            "Porteur",
            "Porteur du projet",
            "Raison sociale",
            "Nom de la structure",
            "Structure",
            "Demandeur",
            "Bénéficiaire",
            "Association",
        ),
    ),
    Column(
        "siret",
        "SIRET",
        False,
        ("SIRET", "N° SIRET", "Numéro SIRET", "SIRET du porteur", "SIRET du demandeur", "siretDemandeur"),
    ),
    Column("rna", "RNA", False, ("RNA", "N° RNA", "Numéro RNA", "RNA du porteur", "Numéro RNA du porteur")),
    Column(
        "financeur",
        "Financeur",
        True,
        ("Financeur", "Nom du financeur", "Financeur sollicité", "Financeurs", "Service instructeur"),
    ),
    Column(
        "statut",
        "Statut",
        True,
        (
            "Statut",
            "Statut du financement",
            "Statut de la demande",
            "Statut du dossier",
            "État",
            "Etat du financement",
            "virtualStatusLabel",
        ),
    ),
    Column(
        "montant_sollicite",
        "Montant sollicité",
        True,
        (
            "Montant sollicité",
            "Montant demandé",
            "montantDemande",
            "Montant sollicité (€)",
            "Montant demandé (€)",
        ),
    ),
    Column("montant_propose", "Montant proposé", False, ("Montant proposé", "Montant proposé (€)")),
    Column(
        "montant_vote",
        "Montant voté",
        False,
        (
            "Montant voté",
            "Montant accordé",
            "Montant attribué",
            "montantVote",
            "montantAccorde",
            "Montant voté (€)",
            "Montant accordé (€)",
        ),
    ),
    Column(
        "date_decision",
        "Date de décision",
        False,
        ("Date de décision", "Date de la décision", "Date du vote", "Date de vote", "Date du comité"),
    ),
    Column(
        "reference_decision",
        "Référence de la décision",
        False,
        ("Référence de la décision", "Référence décision", "N° de décision", "Numéro de décision"),
    ),
    Column(
        "date_depot",
        "Date de dépôt",
        False,
        ("Date de dépôt", "Date de la demande", "dateDemande", "Date de transmission", "Déposé le"),
    ),
    Column(
        "quartiers",
        "Quartier(s)",
        False,
        ("Quartier(s)", "Quartiers", "Quartier", "Code QPV", "Codes QPV", "QPV", "Quartiers prioritaires"),
    ),
    Column("date_debut", "Date de début", False, ("Date de début", "Début", "Date de début de l'action")),
    Column("date_fin", "Date de fin", False, ("Date de fin", "Fin", "Date de fin de l'action")),
    Column("resume", "Description", False, ("Description", "Objectifs du projet", "Résumé")),
]
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
ALIASES = {header_key(alias): column.key for column in COLUMNS for alias in column.aliases}

# Les libellés d'état de Dauphin (au masculin comme au féminin : « Transmis », « Transmise ») →
# l'état de la ligne de financeur. Après le vote, Dauphin suit la justification et le paiement
# (« À justifier », « Justifiée », « A été versé »…) : pour la plateforme la ligne est votée, et la
# suite (acte, versements, compte-rendu) se tient ici ; l'export ne dit pas ce qui a été payé.
STATUS_LABELS = {
    LineStatus.DRAFT: (
        "En cours de saisie",
        "En attente de validation",
        "En attente de validation (signataire)",
        "En attente d'attestation",
        "Brouillon",
    ),
    LineStatus.TRANSMITTED: ("Transmis", "Transmise", "En attente d'instruction"),
    LineStatus.TAKEN: ("Pris en charge", "Prise en charge"),
    LineStatus.ADMISSIBLE: ("Recevable",),
    LineStatus.INADMISSIBLE: ("Non recevable",),
    LineStatus.INSTRUCTING: ("En instruction", "En cours d'instruction", "En cours"),
    LineStatus.VOTED: (
        "Voté",
        "Votée",
        "Accordé",
        "Accordée",
        "À justifier",
        "Justification en cours",
        "Justifié",
        "Justifiée",
        "Justification à modifier",
        "Payé",
        "Payée",
        "A été versé",
        "Versé",
        "Versée",
        "Soldé",
        "Soldée",
    ),
    LineStatus.REJECTED: ("Rejeté", "Rejetée", "Refusé", "Refusée"),
    LineStatus.CLOSED: ("Clôturé", "Clôturée", "Cloturée"),
}
STATUSES = {header_key(label): status for status, labels in STATUS_LABELS.items() for label in labels}
# Chaque état de la plateforme peut aussi s'écrire par son code ou son libellé (« VOTE », « Voté »).
for _status in LineStatus:
    STATUSES.setdefault(header_key(_status.value), _status)
    STATUSES.setdefault(header_key(_status.label), _status)

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")  # date Excel (nombre de jours) : 10000 → 1927, 80000 → 2119
_QPV_CODE = re.compile(r"\bQ[NP]\s?\d{3}\s?[0-9A-Z]{3,4}\b", re.IGNORECASE)
_STATE = re.compile(r"(^|_)etat(_|$)")
EXCEL_EPOCH = datetime.date(1899, 12, 30)
TITLE_MAX = Application._meta.get_field("title").max_length
REF_MAX = Application._meta.get_field("external_ref").max_length
NAME_MAX = Partner._meta.get_field("name").max_length
DECISION_REF_MAX = FunderLine._meta.get_field("decision_reference").max_length


# ---------------------------------------------------------------------------------------------
# Lecture des cellules


def parse_amount(text: str) -> tuple[Decimal | None, str]:
    """Un montant en euros à la française (« 1 234,56 », « 1234.56 », « 12 000 € ») ou un message."""
    try:
        amount = parse_french_decimal(text, unit="€")
    except NumberFormatError:
        return None, f"« {clip(text)} » n'est pas un montant (écrivez par exemple 12 000,50 ou 12000.50)."
    if amount is None:
        return None, ""
    if amount < 0:
        return None, f"« {clip(text)} » : un montant ne peut pas être négatif."
    if amount >= MAX_AMOUNT:
        return None, f"« {clip(text)} » : {format_eur(amount)} est un montant invraisemblable."
    if amount != amount.quantize(Decimal("0.01")):
        return None, f"« {clip(text)} » : un montant a au plus deux décimales (les centimes)."
    return amount.quantize(Decimal("0.01")), ""


def parse_date(text: str) -> tuple[datetime.date | None, str]:
    """Une date JJ/MM/AAAA, AAAA-MM-JJ (avec ou sans heure) ou une date Excel, ou un message."""
    text = (text or "").strip()
    if not text:
        return None, ""
    try:
        match = _DAY_FIRST.match(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return datetime.date(year, month, day), ""
        match = _ISO.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return datetime.date(year, month, day), ""
        if _SERIAL.match(text) and 10_000 <= float(text) <= 80_000:
            return EXCEL_EPOCH + datetime.timedelta(days=int(float(text))), ""
    except ValueError:
        return None, f"« {clip(text)} » n'est pas une date qui existe."
    return None, f"« {clip(text)} » n'est pas une date : écrivez-la JJ/MM/AAAA (06/02/2025) ou AAAA-MM-JJ."


def _siret(text: str) -> tuple[str, str]:
    digits = re.sub(r"[\s.\u00a0\u202f-]", "", text or "")
    if not digits:
        return "", ""
    try:
        validators.validate_siret(digits)
    except ValidationError as error:
        return "", error.messages[0]
    return digits, ""


def _rna(text: str) -> tuple[str, str]:
    value = re.sub(r"\s", "", text or "").upper()
    if not value:
        return "", ""
    try:
        validators.validate_rna(value)
    except ValidationError as error:
        return "", error.messages[0]
    return value, ""


# ---------------------------------------------------------------------------------------------
# Rapport


@dataclass
class ImportReport(uploads.ImportReport):
    WORDS = {
        "created": ("dossier créé", "dossiers créés"),
        "would_create": ("dossier serait créé", "dossiers seraient créés"),
        "updated": ("modifié", "modifiés"),
        "unchanged": ("inchangé", "inchangés"),
    }

    lines_created: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0
    rows: int = 0  # lignes de données lues
    partners_created: list[str] = field(default_factory=list)  # noms des associations créées
    created_items: list[tuple[str, str, str]] = field(default_factory=list)  # (n° Dauphin, intitulé, porteur)
    updated_items: list[tuple[str, str, list[str]]] = field(
        default_factory=list
    )  # (n°, intitulé, changements)
    error_details: list[tuple[int | None, str, str]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # clé → intitulé du fichier retenu
    ignored_columns: list[str] = field(default_factory=list)

    def refuse(self, errors: ErrorCollector) -> None:
        super().refuse(errors)
        self.lines_created = self.lines_updated = self.lines_unchanged = 0
        self.partners_created, self.created_items, self.updated_items = [], [], []

    @property
    def summary(self) -> str:
        text = super().summary
        if not self.ok:
            return text
        would = " serait" if self.dry_run else ""
        many = " seraient" if self.dry_run else ""
        created = uploads.plural(self.lines_created, f"{would} créée".strip(), f"{many} créées".strip())
        lines = (
            f"lignes de financeur : {created}, "
            f"{uploads.plural(self.lines_updated, 'modifiée', 'modifiées')}, "
            f"{uploads.plural(self.lines_unchanged, 'inchangée', 'inchangées')}"
        )
        partners = uploads.plural(
            len(self.partners_created), f"association{would} créée", f"associations{many} créées"
        )
        return f"{text.rstrip('.')} ; {lines} ; {partners}."


# ---------------------------------------------------------------------------------------------
# L'en-tête


def _resolve(header: list[str], mapping: dict[str, str] | None, errors: ErrorCollector):
    """(clé → index de colonne, index → intitulé) : les intitulés reconnus, puis ceux désignés."""
    labels = {index: str(text or "").strip() for index, text in enumerate(header)}
    found: dict[str, int] = {}
    for index, text in labels.items():
        key = ALIASES.get(header_key(text))
        if key and key not in found:
            found[key] = index
    for key, wanted in (mapping or {}).items():
        if key not in COLUMNS_BY_KEY:
            known = ", ".join(f"« {c.key} »" for c in COLUMNS)
            errors.file(f"« {clip(str(key))} » n'est pas une colonne de l'import (clés connues : {known}).")
            continue
        wanted = str(wanted or "").strip()
        if not wanted:
            found.pop(key, None)  # « aucune colonne »
            continue
        matches = [i for i, text in labels.items() if text == wanted] or [
            i for i, text in labels.items() if header_key(text) == header_key(wanted)
        ]
        if not matches:
            errors.file(
                f"la colonne « {clip(wanted)} » choisie pour « {COLUMNS_BY_KEY[key].label} » "
                "n'existe pas dans le fichier."
            )
            continue
        for other, index in list(found.items()):
            if index == matches[0] and other != key:
                del found[other]
        found[key] = matches[0]
    return found, labels


def _header_hints() -> frozenset:
    return frozenset(ALIASES)


@dataclass
class FileColumns:
    headers: list[str] = field(default_factory=list)  # intitulés non vides, dans l'ordre du fichier
    columns: dict[str, str] = field(default_factory=dict)  # clé reconnue → intitulé du fichier
    errors: list[str] = field(default_factory=list)  # fichier refusé d'emblée


def inspect_file(*, fileobj, filename) -> FileColumns:
    """Les intitulés d'un export et les colonnes reconnues, sans lire ses lignes ni toucher la base."""
    result = FileColumns()
    errors = ErrorCollector(filename or "", limit=MAX_ERRORS)
    table = None
    try:
        data = read_bytes(fileobj, errors)
        table = open_table(data, filename or "", errors, _header_hints())
        found, labels = _resolve(table.header, None, errors)
    except TableRefused:
        result.errors = errors.sorted()
        return result
    finally:
        if table is not None:
            table.close()
    result.headers = [text for text in labels.values() if text]
    result.columns = {key: labels[index] for key, index in found.items()}
    return result


# ---------------------------------------------------------------------------------------------
# Les lignes


@dataclass
class Row:
    number: int
    ref: str
    title: str
    partner_name: str
    siret: str
    rna: str
    funder: object  # CallFunder
    status: str
    requested: Decimal
    proposed: Decimal | None
    voted: Decimal | None
    decision_date: datetime.date | None
    decision_reference: str
    submitted_on: datetime.date | None
    qpv_ids: frozenset | None
    start: datetime.date | None
    end: datetime.date | None
    summary: str


# Ce qui doit être pareil sur toutes les lignes d'un même dossier (colonne, attribut).
SHARED = [
    ("intitule", "title"),
    ("porteur", "partner_name"),
    ("siret", "siret"),
    ("rna", "rna"),
    ("date_depot", "submitted_on"),
    ("quartiers", "qpv_ids"),
    ("date_debut", "start"),
    ("date_fin", "end"),
    ("resume", "summary"),
]


@dataclass
class Dossier:
    """Un dossier du fichier : ses lignes (une par financeur) et l'association qui le porte."""

    rows: list[Row]
    partner: Partner | None = None  # existante
    new_partner: tuple | None = None  # clé de l'association à créer

    @property
    def first(self) -> Row:
        return self.rows[0]


class Reader:
    def __init__(self, *, call: Call, errors: ErrorCollector, mapping, statuses, progress):
        self.call = call
        self.errors = errors
        self.mapping = mapping
        self.progress = progress
        self.statuses = dict(STATUSES)
        for label, code in (statuses or {}).items():
            if code not in LineStatus.values:
                codes = ", ".join(LineStatus.values)
                errors.file(
                    f"correspondance des états : « {clip(str(code))} » n'est pas un état de ligne ({codes})."
                )
            else:
                self.statuses[header_key(label)] = LineStatus(code)
        self.funders = list(call.funders.select_related("partner"))
        self.funder_names: dict[str, object] = {}
        for funder in self.funders:
            partner = funder.partner
            for name in (partner.name, partner.short_name, partner.siret, partner.siren, funder.label):
                if name:
                    self.funder_names.setdefault(header_key(name), funder)
        self.qpvs = {}
        self.qpv_names = {}
        for qpv in call.contract.qpvs.all():
            self.qpvs[qpv.code.upper()] = qpv
            self.qpv_names[header_key(qpv.name)] = qpv
        self.columns: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self.dossiers: dict[str, Dossier] = {}
        self.seen: dict[tuple[str, int], int] = {}
        self.ignored: list[str] = []
        self.rows_read = 0

    # -- en-tête -----------------------------------------------------------------------------

    def read_header(self, table) -> bool:
        self.columns, self.labels = _resolve(table.header, self.mapping, self.errors)
        for column in COLUMNS:
            if column.required and column.key not in self.columns:
                examples = ", ".join(f"« {alias} »" for alias in column.aliases[:3])
                self.errors.file(
                    f"colonne obligatoire « {column.label} » absente (intitulés reconnus : {examples}…) : "
                    "désignez-la dans la correspondance des colonnes."
                )
        used = set(self.columns.values())
        self.ignored = [text for index, text in self.labels.items() if text and index not in used]
        return not self.errors

    # -- lignes ------------------------------------------------------------------------------

    def read_rows(self, table) -> None:
        bar = (
            self.progress(total=table.total_rows, desc="Lecture", unit="ligne")
            if self.progress
            else NullBar()
        )
        try:
            for number, cells, failed in table.rows:
                if not any(cell.strip() for cell in cells if cell):
                    continue
                self.rows_read += 1
                bar.update(1)
                if self.rows_read > MAX_ROWS:
                    self.errors.at(
                        f"le fichier dépasse {MAX_ROWS} lignes : découpez-le en plusieurs fichiers.",
                        row=number,
                    )
                    return
                if not failed:
                    self._row(number, cells)
        finally:
            bar.close()
        if self.rows_read == 0:
            self.errors.file("le fichier ne contient aucune ligne de données sous l'en-tête.")

    def _row(self, number: int, cells: list[str]) -> None:
        columns, labels, width = self.columns, self.labels, len(cells)
        failed = False

        def cell(key) -> str:
            index = columns.get(key)
            return (cells[index] or "").strip() if index is not None and index < width else ""

        def error(key, message) -> None:
            nonlocal failed
            failed = True
            index = columns.get(key, 0)
            self.errors.at(message, row=number, column=labels.get(index), column_index=index + 1)

        def text(key, limit, what) -> str:
            value = re.sub(r"\s+", " ", cell(key))
            if COLUMNS_BY_KEY[key].required and not value:
                error(key, f"{what} manquant.")
            elif len(value) > limit:
                error(key, f"{what} trop long ({len(value)} caractères, {limit} au plus).")
            return value

        def amount(key) -> Decimal | None:
            value, message = parse_amount(cell(key))
            if message:
                error(key, message)
            return value

        def date(key) -> datetime.date | None:
            value, message = parse_date(cell(key))
            if message:
                error(key, message)
            return value

        ref = text("numero", REF_MAX, "numéro du dossier")
        title = text("intitule", TITLE_MAX, "intitulé du projet")
        partner_name = text("porteur", NAME_MAX, "nom du porteur")
        siret, message = _siret(cell("siret"))
        if message:
            error("siret", message)
        rna, message = _rna(cell("rna"))
        if message:
            error("rna", message)
        funder = self._funder(cell("financeur"), error)
        status = self._status(cell("statut"), error)
        requested = amount("montant_sollicite")
        if requested is None and not cell("montant_sollicite"):
            error("montant_sollicite", "montant sollicité manquant.")
        proposed = amount("montant_propose")
        voted = amount("montant_vote")
        if (
            status == LineStatus.VOTED
            and not voted
            and "montant_vote" in columns
            and cell("montant_vote") == ""
        ):
            error("montant_vote", "montant voté manquant : la ligne est votée.")
        elif status == LineStatus.VOTED and "montant_vote" not in columns:
            error("statut", "ligne votée, mais le fichier n'a pas de colonne « Montant voté ».")
        elif status == LineStatus.VOTED and voted is not None and voted == 0:
            error("montant_vote", "une ligne votée a un montant voté plus grand que zéro.")
        elif status is not None and status != LineStatus.VOTED and voted:
            error(
                "montant_vote",
                f"montant voté {format_eur(voted)}, mais l'état « {cell('statut')} » n'est pas un vote.",
            )
        decision_date = date("date_decision")
        decision_reference = text("reference_decision", DECISION_REF_MAX, "référence de la décision")
        submitted_on = date("date_depot")
        start = date("date_debut")
        end = date("date_fin")
        if start and end and end < start:
            error("date_fin", f"la fin ({end:%d/%m/%Y}) précède le début ({start:%d/%m/%Y}).")
        qpv_ids = self._qpvs(cell("quartiers"), error) if "quartiers" in columns else None
        summary = cell("resume")
        if failed:
            return
        row = Row(
            number=number,
            ref=ref,
            title=title,
            partner_name=partner_name,
            siret=siret,
            rna=rna,
            funder=funder,
            status=status,
            requested=requested,
            proposed=proposed,
            voted=voted if status == LineStatus.VOTED else None,
            decision_date=decision_date,
            decision_reference=decision_reference,
            submitted_on=submitted_on,
            qpv_ids=qpv_ids,
            start=start,
            end=end,
            summary=summary,
        )
        first = self.seen.get((ref, funder.pk))
        if first is not None:
            error("financeur", f"doublon de la ligne {first} : même dossier « {ref} », même financeur.")
            return
        self.seen[(ref, funder.pk)] = number
        dossier = self.dossiers.get(ref)
        if dossier is None:
            self.dossiers[ref] = Dossier(rows=[row])
            return
        base = dossier.first
        for key, attribute in SHARED:
            if key in columns and getattr(row, attribute) != getattr(base, attribute):
                error(
                    key,
                    f"diffère de la ligne {base.number} du même dossier « {ref} » "
                    f"(« {clip(str(getattr(base, attribute) or ''))} ») : un dossier a une seule valeur.",
                )
        if not failed:
            dossier.rows.append(row)

    def _funder(self, text: str, error):
        if not text:
            error("financeur", "financeur manquant.")
            return None
        key = header_key(text)
        funder = self.funder_names.get(key)
        digits = re.sub(r"[\s.\u00a0\u202f]", "", text)
        if funder is None and digits.isdigit():  # SIRET ou SIREN écrit avec des espaces
            funder = self.funder_names.get(digits)
        if funder is None and _STATE.search(key):
            # Dauphin nomme le service de l'État (« 44-ETAT-POLITIQUE-VILLE ») : l'État de l'appel.
            states = [f for f in self.funders if f.partner.kind == PartnerKind.STATE]
            if len(states) == 1:
                funder = states[0]
        if funder is None:
            known = ", ".join(f"« {f.partner.name} »" for f in self.funders) or "aucun"
            error(
                "financeur",
                f"« {clip(text)} » n'est pas un financeur de l'appel (financeurs de l'appel : {known}).",
            )
        return funder

    def _status(self, text: str, error):
        if not text:
            error("statut", "état manquant.")
            return None
        status = self.statuses.get(header_key(text))
        if status is None:
            known = ", ".join(f"« {label} »" for labels in STATUS_LABELS.values() for label in labels[:2])
            error(
                "statut",
                f"« {clip(text)} » n'est pas un état de Dauphin reconnu (états reconnus : {known}).",
            )
        return status

    def _qpvs(self, text: str, error) -> frozenset | None:
        if not text:
            return None
        found = set()
        for piece in re.split(r"[;,|\n]+", text):
            piece = piece.strip()
            if not piece:
                continue
            codes = [re.sub(r"\s", "", code).upper() for code in _QPV_CODE.findall(piece)]
            if not codes:
                qpv = self.qpv_names.get(header_key(piece))
                if qpv is None:
                    error(
                        "quartiers",
                        f"« {clip(piece)} » n'est pas un quartier du contrat ({self._known_qpvs()}).",
                    )
                else:
                    found.add(qpv.pk)
                continue
            for code in codes:
                qpv = self.qpvs.get(code)
                if qpv is None:
                    error(
                        "quartiers",
                        f"le code « {code} » n'est pas un quartier du contrat ({self._known_qpvs()}).",
                    )
                else:
                    found.add(qpv.pk)
        return frozenset(found)

    def _known_qpvs(self) -> str:
        codes = sorted(self.qpvs)
        return "quartiers du contrat : " + (
            ", ".join(codes[:12]) + ("…" if len(codes) > 12 else "") or "aucun"
        )

    # -- les associations ----------------------------------------------------------------------

    def match_partners(self) -> None:
        """L'association de chaque dossier : par SIRET, puis RNA, puis nom exact ; sinon à créer.
        Un nom déjà pris par une autre organisation est une erreur (le nom d'un partenaire est unique)."""
        dossiers = list(self.dossiers.values())
        sirets = {d.first.siret for d in dossiers if d.first.siret}
        rnas = {d.first.rna for d in dossiers if d.first.rna}
        names = {d.first.partner_name.lower() for d in dossiers}
        by_siret, by_rna, by_name = {}, {}, {}
        query = Partner.objects.filter(siret__in=sirets) | Partner.objects.filter(rna__in=rnas)
        for partner in query:
            if partner.siret:
                by_siret.setdefault(partner.siret, partner)
            if partner.rna:
                by_rna.setdefault(partner.rna, partner)
        for partner in Partner.objects.annotate(lowered=Lower("name")).filter(lowered__in=names):
            by_name.setdefault(partner.name.lower(), partner)
        new_keys: list[tuple[int, tuple]] = []  # (ligne, clé) des associations à créer
        for dossier in dossiers:
            row = dossier.first
            partner = by_siret.get(row.siret) if row.siret else None
            partner = partner or (by_rna.get(row.rna) if row.rna else None)
            if partner is None:
                named = by_name.get(row.partner_name.lower())
                if named is not None:
                    if row.siret and named.siret and named.siret != row.siret:
                        self._partner_error(
                            row,
                            "siret",
                            f"« {named.name} » existe déjà avec le SIRET {named.siret}, différent "
                            f"de {row.siret} : vérifiez le SIRET ou le nom du porteur.",
                        )
                        continue
                    if named.kind not in (
                        PartnerKind.ASSOCIATION,
                        PartnerKind.COLLECTIVE,
                        PartnerKind.CITIZEN_COUNCIL,
                    ):
                        self._partner_error(
                            row,
                            "porteur",
                            f"« {named.name} » est déjà le nom d'un partenaire qui n'est pas une association "
                            f"({named.get_kind_display()}).",
                        )
                        continue
                    partner = named
            if partner is not None:
                dossier.partner = partner
                continue
            # Une association à créer : un seul nom, un seul SIRET, un seul RNA dans tout le fichier.
            key = (row.siret, row.rna, row.partner_name.lower())
            clash = next(
                (
                    (number, other)
                    for number, other in new_keys
                    if other != key
                    and (
                        other[2] == key[2]
                        or (key[0] and other[0] == key[0])
                        or (key[1] and other[1] == key[1])
                    )
                ),
                None,
            )
            if clash is not None:
                number, other = clash
                column = (
                    "porteur" if other[2] == key[2] else "siret" if key[0] and other[0] == key[0] else "rna"
                )
                self._partner_error(
                    row,
                    column,
                    f"l'association « {row.partner_name} » n'a pas le même nom, SIRET ou RNA qu'à la "
                    f"ligne {number} : une association à créer a un seul nom, un seul SIRET, un seul RNA.",
                )
                continue
            new_keys.append((row.number, key))
            dossier.new_partner = key

    def _partner_error(self, row: Row, key: str, message: str) -> None:
        index = self.columns.get(key, self.columns.get("porteur", 0))
        self.errors.at(message, row=row.number, column=self.labels.get(index), column_index=index + 1)


# ---------------------------------------------------------------------------------------------
# L'écriture


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12, 0)))


def _application_status(rows: list[Row]) -> str:
    statuses = {row.status for row in rows}
    if statuses & DECIDED_LINE_STATUSES:
        return ApplicationStatus.DECIDED
    if statuses == {LineStatus.DRAFT}:
        return ApplicationStatus.DRAFT
    return ApplicationStatus.SUBMITTED


LINE_FIELDS = [
    ("status", "état", None),
    ("requested_amount", "montant sollicité", "montant_sollicite"),
    ("proposed_amount", "montant proposé", "montant_propose"),
    ("voted_amount", "montant voté", None),
    ("decision_date", "date de décision", "date_decision"),
    ("decision_reference", "référence de la décision", "reference_decision"),
]


def _shown_value(value) -> str:
    if value is None or value == "":
        return "vide"
    if isinstance(value, Decimal):
        return format_eur(value)
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if value in LineStatus.values:
        return LineStatus(value).label
    return str(value)


class Writer:
    """Écrit ce que dit le fichier ; en simulation (``dry_run``) compare seulement, sans rien
    enregistrer : l'aperçu fait alors le même petit nombre de requêtes quel que soit le fichier."""

    def __init__(
        self, *, call: Call, user, reader: Reader, report: ImportReport, filename: str, progress, dry_run
    ):
        self.dry_run = dry_run
        self.call = call
        self.user = user
        self.reader = reader
        self.report = report
        self.filename = filename
        self.progress = progress
        self.present = set(reader.columns)
        self.errors = reader.errors
        self.followed: dict[int, str] = {}  # lignes qui ont un acte ou des versements → référence de l'acte

    def write(self) -> None:
        calls = Call.objects.all() if self.dry_run else Call.objects.select_for_update()
        call = calls.get(pk=self.call.pk)
        last_number = call.last_number
        dossiers = self.reader.dossiers
        existing = {
            a.external_ref: a
            for a in Application.objects.filter(call=call, external_ref__in=list(dossiers))
            .select_related("partner")
            .prefetch_related("funder_lines", "qpvs")
        }
        line_ids = [line.pk for a in existing.values() for line in a.funder_lines.all()]
        if line_ids:
            acts = GrantAct.objects.filter(line_id__in=line_ids).values_list("line_id", "reference")
            self.followed = dict(acts)
            paid = Payment.objects.filter(line_id__in=line_ids).values_list("line_id", flat=True)
            for line_id in paid.distinct():
                self.followed.setdefault(line_id, "")
        partners = self._create_partners()
        bar = (
            self.progress(total=len(dossiers), desc="Écriture", unit="dossier")
            if self.progress
            else NullBar()
        )
        try:
            for ref, dossier in dossiers.items():
                partner = dossier.partner or partners[dossier.new_partner]
                application = existing.get(ref)
                if application is None:
                    self._create(call, ref, dossier, partner)
                else:
                    self._update(call, application, dossier, partner)
                bar.update(1)
        finally:
            bar.close()
        if call.last_number != last_number and not self.dry_run:
            # Le compteur technique des numéros, sans une version de l'appel par dossier numéroté.
            Call.objects.filter(pk=call.pk).update(last_number=call.last_number)

    def _create_partners(self) -> dict[tuple, Partner]:
        created = {}
        for dossier in self.reader.dossiers.values():
            key = dossier.new_partner
            if key is None or key in created:
                continue
            row = dossier.first
            partner = Partner(
                name=row.partner_name,
                kind=PartnerKind.ASSOCIATION,
                siret=row.siret,
                siren=row.siret[:9] if row.siret else "",
                rna=row.rna,
            )
            if not self.dry_run:
                partner.slug = unique_slug(Partner.objects.all(), row.partner_name, fallback="association")
                partner._history_user = self.user
                partner.save()
            created[key] = partner
            self.report.partners_created.append(partner.name)
        return created

    def _number(self, call: Call, application: Application) -> None:
        call.last_number += 1  # enregistré une fois, à la fin de ``write`` (l'appel est verrouillé)
        application.number = f"{call.year}-{call.last_number:04d}"

    def _project(self, application: Application, dossier: Dossier, partner: Partner) -> list[str]:
        """Pose sur ``application`` ce que dit le fichier ; rend les changements lisibles."""
        row = dossier.first
        wanted = {
            "title": row.title,
            "status": _application_status(dossier.rows),
        }
        if "date_depot" in self.present and row.submitted_on:
            wanted["submitted_at"] = _aware(row.submitted_on)
        if "date_debut" in self.present:
            wanted["start_date"] = row.start
        if "date_fin" in self.present:
            wanted["end_date"] = row.end
        if "resume" in self.present:
            wanted["summary"] = row.summary
        changes = []
        if application.partner_id != partner.pk:
            if application.pk:
                changes.append(f"association : {application.partner.name} → {partner.name}")
            application.partner = partner
        for name, value in wanted.items():
            current = getattr(application, name)
            if current != value:
                label = application._meta.get_field(name).verbose_name
                if application.pk:
                    changes.append(
                        f"{label} : {_shown_value(_plain(current))} → {_shown_value(_plain(value))}"
                    )
                setattr(application, name, value)
        if application.status != ApplicationStatus.DRAFT and application.submitted_at is None:
            application.submitted_at = timezone.now()
        return changes

    def _create(self, call: Call, ref: str, dossier: Dossier, partner: Partner) -> None:
        application = Application(call=call, external_ref=ref, created_by=self.user)
        self._project(application, dossier, partner)
        if dossier.first.qpv_ids is not None:
            application.scope = ProjectScope.QPV
        if application.status != ApplicationStatus.DRAFT:
            self._number(call, application)
            application.submitted_by = self.user
        self._save(application)
        if dossier.first.qpv_ids and not self.dry_run:
            application.qpvs.set(sorted(dossier.first.qpv_ids))
        lines = []
        for row in dossier.rows:
            line = FunderLine(application=application, funder=row.funder, updated_by=self.user)
            self._line_values(line, row)
            self._save(line)
            lines.append(line)
        self.report.created += 1
        self.report.lines_created += len(lines)
        self.report.created_items.append((ref, application.title, partner.name))
        self._event(
            application, f"Dossier Dauphin {ref} importé{self._from()} : {self._lines_text(dossier)}."
        )

    def _update(self, call: Call, application: Application, dossier: Dossier, partner: Partner) -> None:
        changes = self._project(application, dossier, partner)
        if application.status != ApplicationStatus.DRAFT and not application.number:
            self._number(call, application)
            changes.append(f"numéro de dossier : {application.number}")
        qpv_ids = dossier.first.qpv_ids
        qpvs_changed = qpv_ids is not None and set(qpv_ids) != {q.pk for q in application.qpvs.all()}
        if qpvs_changed:
            changes.append("quartiers concernés")
        if changes:
            application.version += 1
            self._save(application)
        if qpvs_changed and not self.dry_run:
            application.qpvs.set(sorted(qpv_ids))
        lines = {line.funder_id: line for line in application.funder_lines.all()}
        for row in dossier.rows:
            line = lines.get(row.funder.pk)
            if line is None:
                line = FunderLine(application=application, funder=row.funder, updated_by=self.user)
                self._line_values(line, row)
                self._save(line)
                self.report.lines_created += 1
                changes.append(f"{row.funder.partner.name} : ligne ajoutée")
                continue
            decided = (line.status, line.voted_amount)
            line_changes = self._line_values(line, row)
            if line.pk in self.followed and decided != (line.status, line.voted_amount):
                self._followed_error(line, row)
                continue
            if line_changes:
                line.version += 1
                line.updated_by = self.user
                self._save(line)
                self.report.lines_updated += 1
                changes.append(f"{row.funder.partner.name} : {', '.join(line_changes)}")
            else:
                self.report.lines_unchanged += 1
        if changes:
            self.report.updated += 1
            self.report.updated_items.append((application.external_ref, application.title, changes))
            self._event(
                application,
                f"Dossier Dauphin {application.external_ref} mis à jour{self._from()} : "
                f"{'; '.join(changes)}.",
            )
        else:
            self.report.unchanged += 1

    def _followed_error(self, line: FunderLine, row: Row) -> None:
        reference = self.followed[line.pk]
        what = f"un acte ({reference})" if reference else "des versements"
        key = "montant_vote" if "montant_vote" in self.reader.columns else "statut"
        index = self.reader.columns[key]
        self.errors.at(
            f"la ligne de « {row.funder.partner.name} » du dossier « {row.ref} » a déjà {what} : "
            "son état et son montant voté ne changent plus par import (voyez la suite de la ligne "
            "sur la plateforme).",
            row=row.number,
            column=self.reader.labels.get(index),
            column_index=index + 1,
        )

    def _line_values(self, line: FunderLine, row: Row) -> list[str]:
        values = {"status": row.status, "requested_amount": row.requested, "voted_amount": row.voted}
        if "montant_propose" in self.present:
            values["proposed_amount"] = row.proposed
        if "date_decision" in self.present:
            values["decision_date"] = row.decision_date
        if "reference_decision" in self.present:
            values["decision_reference"] = row.decision_reference
        changes = []
        for name, label, _ in LINE_FIELDS:
            if name not in values:
                continue
            current, value = getattr(line, name), values[name]
            if current != value:
                if line.pk:
                    changes.append(f"{label} {_shown_value(current)} → {_shown_value(value)}")
                setattr(line, name, value)
        return changes

    def _lines_text(self, dossier: Dossier) -> str:
        parts = []
        for row in dossier.rows:
            amount = f" {format_eur(row.voted)}" if row.voted else ""
            parts.append(f"{row.funder.partner.name} — {LineStatus(row.status).label.lower()}{amount}")
        return "; ".join(parts)

    def _from(self) -> str:
        return f" (fichier « {self.filename} »)" if self.filename else ""

    def _save(self, obj) -> None:
        if not self.dry_run:
            obj._history_user = self.user
            obj.save()

    def _event(self, application: Application, message: str) -> None:
        if self.dry_run:
            return
        ApplicationEvent.objects.create(
            application=application, kind=EventKind.IMPORTED, actor=self.user, message=message
        )


def _plain(value):
    """Une valeur comparée, réduite à ce qui se montre (un partenaire par son nom, une date et
    heure de dépôt par sa date)."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date()
    if value in ApplicationStatus.values:
        return ApplicationStatus(value).label
    return value


# ---------------------------------------------------------------------------------------------
# Point d'entrée


class _DryRun(Exception):
    """Défait la simulation (qui n'écrit rien) : un filet de sécurité."""


def import_dauphin(
    *,
    user,
    call: Call,
    fileobj,
    filename: str = "",
    mapping: dict | None = None,
    dry_run: bool = False,
    progress=None,
) -> ImportReport:
    """Importe un export de Dauphin dans ``call`` : tout ou rien.

    - ``user`` : la personne qui importe (revérifié : ``follow_up_call_abilities(user, call)["import"]``) ;
      None pour la commande ``import_aap``, lancée par l'exploitant sur le serveur.
    - ``fileobj`` : octets, fichier binaire ouvert ou fichier téléversé ; ``filename`` ne sert qu'aux
      messages (le format est reconnu au contenu).
    - ``mapping`` : ``{"clé": "intitulé de la colonne du fichier", …}`` (clés de ``COLUMNS`` ; une
      valeur vide : aucune colonne), et la clé réservée ``"_statuts"`` :
      ``{"libellé d'état": "CODE", …}`` pour des libellés propres à un export.
    - ``dry_run`` : tout vérifier et comparer à la base sans rien écrire ; le rapport dit ce qui serait
      fait (dossiers et associations créés, changements de chaque dossier).
    - ``progress`` : fabrique de barres de progression à la manière de ``tqdm``.

    Lève ``PermissionDenied`` ou ``GrantsError`` (appel archivé) ; les erreurs du fichier sont dans
    le rapport (``errors``, ``error_details``)."""
    if user is not None and not follow_up_call_abilities(user, call)["import"]:
        raise PermissionDenied("Seul le pilote du contrat importe les dossiers de Dauphin.")
    if call.status == CallStatus.ARCHIVED:
        raise GrantsError("Cet appel est archivé : il ne reçoit plus d'import.")
    mapping = dict(mapping or {})
    statuses = mapping.pop(STATUS_KEY, None)
    report = ImportReport(dry_run=dry_run)
    errors = ErrorCollector(filename or "", limit=MAX_ERRORS)
    if statuses is not None and not isinstance(statuses, dict):
        errors.file(f'« {STATUS_KEY} » : attendu un dictionnaire {{"libellé": "CODE"}}.')
        statuses = None
    reader = Reader(call=call, errors=errors, mapping=mapping, statuses=statuses, progress=progress)
    table = None
    try:
        data = read_bytes(fileobj, errors)
        table = open_table(data, filename or "", errors, _header_hints())
        errors.header_row = table.header_row
        if reader.read_header(table):
            reader.read_rows(table)
        report.columns = {key: reader.labels[index] for key, index in reader.columns.items()}
        report.ignored_columns = reader.ignored
    except TableRefused:
        pass
    finally:
        if table is not None:
            table.close()
    if not errors:
        reader.match_partners()
    report.rows = reader.rows_read
    if errors:
        report.refuse(errors)
        report.error_details = errors.details()
        return report
    writer = Writer(
        call=call,
        user=user,
        reader=reader,
        report=report,
        filename=filename,
        progress=progress,
        dry_run=dry_run,
    )
    try:
        with transaction.atomic():
            writer.write()
            if dry_run or errors:
                raise _DryRun
    except _DryRun:
        if errors:
            report.refuse(errors)
            report.error_details = errors.details()
    except IntegrityError:
        logger.warning("Import Dauphin en conflit", exc_info=True)
        report.created = report.updated = report.unchanged = 0
        report.lines_created = report.lines_updated = report.lines_unchanged = 0
        report.partners_created, report.created_items, report.updated_items = [], [], []
        report.errors = [
            "Des dossiers ou des associations ont été enregistrés par quelqu'un d'autre pendant cet import : "
            "rien n'a été écrit, recommencez l'import."
        ]
    return report
