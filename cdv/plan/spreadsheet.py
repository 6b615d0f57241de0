"""Le plan d'action d'un contrat au format XLSX : export complet et import (tout ou rien).

Trois feuilles, « Enjeux », « Objectifs », « Actions », repérées par leur numéro ou leur code
(« 1 », « 1.2 », « 1.2.3 »). L'import crée ce qui manque et modifie ce qui diffère, par code ; il ne
supprime rien (une ligne absente du fichier est laissée telle quelle). Réimporter le fichier exporté
ne change rien : un élément identique n'est pas réenregistré (pas de ligne d'historique).

La moindre erreur (code mal formé, quartier inconnu ou hors du contrat, partenaire qui ne prend pas
part au contrat, date illisible, champ obligatoire vide…) refuse tout le fichier : chaque erreur
nomme sa feuille, sa ligne et sa colonne, et rien n'est écrit. ``dry_run`` fait tout le travail puis
l'annule : c'est l'aperçu montré avant d'écrire.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from openpyxl import Workbook

from cdv.core import uploads
from cdv.core.spreadsheets import header_row, save_workbook, set_text, xlsx_text
from cdv.core.uploads import ErrorCollector, UploadError

from .enums import ActionScope
from .mapper import ACTIONS, ALL_QPVS, ENJEUX, OBJECTIVES, SHEETS, YES, read_plan
from .models import Action, Enjeu, Objective
from .writer import Rollback, write_plan

# Un plan d'action tient en quelques dizaines de kilo-octets, comme un cahier d'engagements.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
XLSX_LIMITS = uploads.XlsxLimits(max_members=500, max_uncompressed=50 * 1024 * 1024, max_ratio=200)
TOO_LARGE = ". Un plan d'action tient en quelques dizaines de kilo-octets : repartez du fichier exporté."
ADVICE = " Repartez du fichier exporté."


# --- Export ---------------------------------------------------------------------------------------


def _date(value):
    return value.strftime("%d/%m/%Y") if value else ""


def export_plan_xlsx(*, contract) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    enjeux = list(Enjeu.objects.filter(contract=contract).order_by("number"))
    objectives = list(
        Objective.objects.filter(enjeu__contract=contract)
        .select_related("enjeu")
        .order_by("enjeu__number", "number")
    )
    actions = (
        Action.objects.for_contract(contract)
        .select_related("objective__enjeu", "pilot_partner")
        .prefetch_related("qpvs", "contributors")
    )
    by_objective = {}
    for action in actions:
        by_objective.setdefault(action.objective_id, []).append(action)
    rows = {
        ENJEUX: [[e.number, e.title, e.summary_plain, e.description] for e in enjeux],
        OBJECTIVES: [[o.code, o.title, o.description, YES if o.archived_at else ""] for o in objectives],
        ACTIONS: [],
    }
    for objective in objectives:
        for a in sorted(by_objective.get(objective.pk, []), key=lambda a: ordered_key(a.code)):
            qpvs = (
                ALL_QPVS
                if a.scope == ActionScope.METROPOLITAN
                else "; ".join(sorted(q.code for q in a.qpvs.all()))
            )
            rows[ACTIONS].append(
                [
                    a.code,
                    a.title,
                    a.summary_plain,
                    a.description,
                    qpvs,
                    a.pilot_partner.name if a.pilot_partner else "",
                    "; ".join(sorted(p.name for p in a.contributors.all())),
                    a.get_status_display(),
                    _date(a.start_on),
                    _date(a.end_on),
                    YES if a.archived_at else "",
                ]
            )
    for title, columns in SHEETS:
        ws = workbook.create_sheet(title)
        header_row(ws, [c[1] for c in columns], [c[2] for c in columns])
        for r, values in enumerate(rows[title], start=2):
            for c, value in enumerate(values, start=1):
                set_text(ws.cell(row=r, column=c), value)
    workbook.properties.title = xlsx_text(f"Plan d'action — {contract.title}")
    return save_workbook(workbook)


def ordered_key(code):
    return tuple(int(p) if p.isdigit() else 0 for p in str(code).split("."))


# --- Import ---------------------------------------------------------------------------------------


@dataclass
class PlanImportReport(uploads.ImportReport):
    changes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"{self.counts()}."


def import_plan_xlsx(*, contract, fileobj, filename="", dry_run=False) -> PlanImportReport:
    """Lève ``ValidationError`` (liste de messages en français) et n'écrit rien en cas d'erreur."""
    errors = ErrorCollector(filename)
    try:
        workbook = uploads.read_workbook(
            fileobj, max_bytes=MAX_UPLOAD_BYTES, limits=XLSX_LIMITS, too_large=TOO_LARGE, advice=ADVICE
        )
    except UploadError as error:
        errors.file(error.message)
        raise ValidationError(errors.sorted()) from error
    try:
        plan = read_plan(workbook, contract=contract, errors=errors)
    finally:
        workbook.close()
    if errors:
        raise ValidationError(errors.sorted())
    report = PlanImportReport()
    try:
        write_plan(contract=contract, plan=plan, errors=errors, report=report, dry_run=dry_run)
    except Rollback:
        pass
    if errors:
        raise ValidationError(errors.sorted())
    return report
