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

import datetime
import re
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from cdv.commitments import xlsx as cx
from cdv.partners.models import Partner

from .enums import ActionScope, ActionStatus
from .models import Action, Enjeu, Objective, validate_action_qpvs
from .services import _unique_enjeu_slug

ENJEUX, OBJECTIVES, ACTIONS = "Enjeux", "Objectifs", "Actions"
ALL_QPVS = "Tous les QPV du contrat"
YES = "oui"
LIST_SEPARATOR = ";"

ENJEU_COLUMNS = [("number", "Numéro", 10), ("title", "Intitulé", 50), ("summary_plain", "Résumé", 60)]
ENJEU_COLUMNS += [("description", "Description", 60)]
OBJECTIVE_COLUMNS = [
    ("code", "Code", 10),
    ("title", "Intitulé", 60),
    ("description", "Description", 60),
    ("archived", "Archivé", 10),
]
ACTION_COLUMNS = [
    ("code", "Code", 10),
    ("title", "Intitulé", 50),
    ("summary_plain", "Résumé en langage clair", 60),
    ("description", "Description", 40),
    ("qpvs", "Quartiers (codes QPV)", 30),
    ("pilot_partner", "Partenaire pilote", 30),
    ("contributors", "Partenaires contributeurs", 40),
    ("status", "État", 14),
    ("start_on", "Début", 12),
    ("end_on", "Fin", 12),
    ("archived", "Archivée", 10),
]
SHEETS = [(ENJEUX, ENJEU_COLUMNS), (OBJECTIVES, OBJECTIVE_COLUMNS), (ACTIONS, ACTION_COLUMNS)]
OBJECTIVE_CODE = re.compile(r"^(\d{1,4})\.(\d{1,4})$")
ACTION_CODE = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,4})$")
STATUS_BY_LABEL = {label.casefold(): value for value, label in ActionStatus.choices}


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
        cx._header_row(ws, [c[1] for c in columns], [c[2] for c in columns])
        for r, values in enumerate(rows[title], start=2):
            for c, value in enumerate(values, start=1):
                cx._set_text(ws.cell(row=r, column=c), value)
    workbook.properties.title = cx.safe_text(f"Plan d'action — {contract.title}")
    return cx._save(workbook)


def ordered_key(code):
    return tuple(int(p) if p.isdigit() else 0 for p in str(code).split("."))


# --- Import ---------------------------------------------------------------------------------------


@dataclass
class PlanImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        def n(count, one, many):
            return f"{count} {one if count < 2 else many}"

        created = n(self.created, "élément créé", "éléments créés")
        updated = n(self.updated, "modifié", "modifiés")
        return f"{created}, {updated}, {n(self.unchanged, 'inchangé', 'inchangés')}."


class _Rollback(Exception):
    pass


def _text(value) -> str:
    return cx.unsafe_text(cx._norm_text(value))


def _rows(workbook, title, columns, errors):
    """Lignes de la feuille en dictionnaires {clé: texte brut}, avec leur numéro de ligne."""
    if title not in workbook.sheetnames:
        errors.at(f"la feuille « {title} » manque (repartez du fichier exporté).", sheet=title)
        return []
    ws = workbook[title]
    lines = ws.iter_rows(values_only=True, max_row=cx.MAX_SHEET_ROWS)
    header = [cx._normalize_header(v) for v in next(lines, ())]
    positions = {}
    for key, label, _ in columns:
        wanted = cx._normalize_header(label)
        if wanted not in header:
            errors.at(f"la colonne « {label} » manque.", sheet=title, row=1, column=label)
        else:
            positions[key] = header.index(wanted)
    result = []
    for number, values in enumerate(lines, start=2):
        if not values or all(v in (None, "") for v in values):
            continue
        row = {key: (values[i] if i < len(values) else None) for key, i in positions.items()}
        result.append((number, row))
    return result


def _label(columns, key):
    return next(label for k, label, _ in columns if k == key)


def _parse_date(value, at):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value).strip(), "%d/%m/%Y").date()
    except ValueError:
        at(f"« {value} » n'est pas une date au format JJ/MM/AAAA.")
        return None


def _archived(value, at):
    text = _text(value).casefold()
    if text in ("", "non"):
        return False
    if text == YES:
        return True
    at(f"« {value} » : écrivez « oui » ou laissez vide.")
    return False


def _saved(obj, columns, at_column, at_row) -> bool:
    """Valide puis enregistre ``obj`` ; une erreur de validation est rapportée sur sa ligne (faux)."""
    try:
        obj.full_clean()
        obj.save()
    except ValidationError as error:
        _model_errors(error, columns, at_column, at_row)
        return False
    return True


def _model_errors(error, columns, at_column, at_row):
    for name, messages in getattr(error, "message_dict", {None: error.messages}).items():
        key = {"qpvs": "qpvs", "scope": "qpvs"}.get(name, name)
        if key in {k for k, _, _ in columns}:
            for message in messages:
                at_column(key, message)
        else:
            for message in messages:
                at_row(message)


def _set(obj, values) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _archive_value(current, archived):
    if archived:
        return current or timezone.now()
    return None


def import_plan_xlsx(*, contract, fileobj, filename="", dry_run=False) -> PlanImportReport:
    """Lève ``ValidationError`` (liste de messages en français) et n'écrit rien en cas d'erreur."""
    errors = cx._Errors(filename)
    data = cx._read_bytes(fileobj, errors)
    workbook = None
    if data is not None and cx._check_container(data, errors):
        workbook = cx._open_workbook(data, errors)
    if workbook is None:
        raise ValidationError(errors.sorted())
    sheets = {title: _rows(workbook, title, columns, errors) for title, columns in SHEETS}
    workbook.close()
    if errors:
        raise ValidationError(errors.sorted())
    report = PlanImportReport()
    try:
        with transaction.atomic():
            _write(contract, sheets, errors, report)
            if errors:
                raise _Rollback
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    if errors:
        raise ValidationError(errors.sorted())
    return report


def _count(report, created, changed, what):
    if created:
        report.created += 1
        report.changes.append(f"{what} : créé")
    elif changed:
        report.updated += 1
        report.changes.append(f"{what} : modifié")
    else:
        report.unchanged += 1


def _write(contract, sheets, errors, report):
    qpvs_of_contract = {q.code: q for q in contract.qpvs.only("id", "code", "name")}
    known_qpv_codes = set(cx._qpv_queryset().values_list("code", flat=True))
    partners = {p.name.casefold(): p for p in Partner.objects.taking_part_in(contract).only("id", "name")}
    enjeux = {e.number: e for e in Enjeu.objects.filter(contract=contract)}
    objectives = {
        o.code: o for o in Objective.objects.filter(enjeu__contract=contract).select_related("enjeu")
    }
    actions = {
        a.code: a
        for a in Action.objects.for_contract(contract)
        .select_related("objective__enjeu")
        .prefetch_related("qpvs", "contributors")
    }

    def locator(sheet, columns, row):
        def at_column(key, message):
            errors.at(cx._sentence(message), sheet=sheet, row=row, column=_label(columns, key))

        def at_row(message):
            errors.at(cx._sentence(message), sheet=sheet, row=row)

        return at_column, at_row

    # Enjeux
    for row_number, row in sheets[ENJEUX]:
        at_column, at_row = locator(ENJEUX, ENJEU_COLUMNS, row_number)
        raw = _text(row.get("number"))
        if not raw.isdigit() or int(raw) < 1:
            at_column("number", f"« {raw} » n'est pas un numéro d'enjeu (1, 2, 3…)")
            continue
        values = {k: _text(row.get(k)) for k in ("title", "summary_plain", "description")}
        enjeu = enjeux.get(int(raw))
        created = enjeu is None
        if created:
            enjeu = Enjeu(
                contract=contract, number=int(raw), slug=_unique_enjeu_slug(contract, values["title"])
            )
        changed = _set(enjeu, values)
        if (created or changed) and not _saved(enjeu, ENJEU_COLUMNS, at_column, at_row):
            continue
        enjeux[enjeu.number] = enjeu
        _count(report, created, changed, f"Enjeu {enjeu.number}")

    # Objectifs
    for row_number, row in sheets[OBJECTIVES]:
        at_column, at_row = locator(OBJECTIVES, OBJECTIVE_COLUMNS, row_number)
        code = _text(row.get("code"))
        match = OBJECTIVE_CODE.match(code)
        if not match:
            at_column(
                "code", f"« {code} » n'est pas un code d'objectif (numéro d'enjeu, point, numéro : 1.2)"
            )
            continue
        enjeu = enjeux.get(int(match[1]))
        if enjeu is None:
            at_column("code", f"l'enjeu {match[1]} n'existe pas (ajoutez-le dans la feuille « {ENJEUX} »)")
            continue
        archived = _archived(row.get("archived"), partial(at_column, "archived"))
        objective = objectives.get(f"{enjeu.number}.{int(match[2])}")
        created = objective is None
        if created:
            objective = Objective(enjeu=enjeu, number=int(match[2]))
        values = {
            "title": _text(row.get("title")),
            "description": _text(row.get("description")),
            "archived_at": _archive_value(objective.archived_at, archived),
        }
        changed = _set(objective, values)
        if (created or changed) and not _saved(objective, OBJECTIVE_COLUMNS, at_column, at_row):
            continue
        objectives[objective.code] = objective
        _count(report, created, changed, f"Objectif {objective.code}")

    # Actions
    for row_number, row in sheets[ACTIONS]:
        at_column, at_row = locator(ACTIONS, ACTION_COLUMNS, row_number)
        code = _text(row.get("code"))
        match = ACTION_CODE.match(code)
        if not match:
            at_column("code", f"« {code} » n'est pas un code d'action (par exemple 1.2.3)")
            continue
        code = ".".join(str(int(p)) for p in match.groups())
        objective = objectives.get(f"{int(match[1])}.{int(match[2])}")
        if objective is None:
            at_column(
                "code", f"l'objectif {int(match[1])}.{int(match[2])} n'existe pas (feuille « {OBJECTIVES} »)"
            )
            continue
        failed = len(errors.items)
        qpv_text = _text(row.get("qpvs"))
        all_qpvs = qpv_text.casefold() == ALL_QPVS.casefold()
        qpvs = []
        if not all_qpvs:
            for qpv_code in filter(None, (c.strip() for c in qpv_text.split(LIST_SEPARATOR))):
                if qpv_code in qpvs_of_contract:
                    qpvs.append(qpvs_of_contract[qpv_code])
                elif qpv_code in known_qpv_codes:
                    at_column("qpvs", f"le quartier « {qpv_code} » ne relève pas du contrat")
                else:
                    at_column("qpvs", f"le code QPV « {qpv_code} » est inconnu")
        pilot = None
        pilot_name = _text(row.get("pilot_partner"))
        if pilot_name:
            pilot = partners.get(pilot_name.casefold())
            if pilot is None:
                at_column("pilot_partner", f"« {pilot_name} » ne prend pas part au contrat (ou n'existe pas)")
        contributors = []
        for name in filter(None, (n.strip() for n in _text(row.get("contributors")).split(LIST_SEPARATOR))):
            partner = partners.get(name.casefold())
            if partner is None:
                at_column("contributors", f"« {name} » ne prend pas part au contrat (ou n'existe pas)")
            else:
                contributors.append(partner)
        status_text = _text(row.get("status"))
        status = STATUS_BY_LABEL.get(status_text.casefold()) if status_text else ActionStatus.PLANNED
        if status is None:
            choices = ", ".join(label for _, label in ActionStatus.choices)
            at_column("status", f"« {status_text} » n'est pas un état ({choices})")
        start_on = _parse_date(row.get("start_on"), partial(at_column, "start_on"))
        end_on = _parse_date(row.get("end_on"), partial(at_column, "end_on"))
        archived = _archived(row.get("archived"), partial(at_column, "archived"))
        if len(errors.items) > failed:
            continue
        action = actions.get(code)
        created = action is None
        if created:
            action = Action(objective=objective, code=code)
        values = {
            "title": _text(row.get("title")),
            "summary_plain": _text(row.get("summary_plain")),
            "description": _text(row.get("description")),
            "scope": ActionScope.METROPOLITAN if all_qpvs else ActionScope.QPV,
            "pilot_partner": pilot,
            "status": status,
            "start_on": start_on,
            "end_on": end_on,
            "archived_at": _archive_value(action.archived_at, archived),
        }
        changed = _set(action, values)
        m2m_changed = created or (
            {q.pk for q in action.qpvs.all()} != {q.pk for q in qpvs}
            or {p.pk for p in action.contributors.all()} != {p.pk for p in contributors}
        )
        if created or changed or m2m_changed:
            try:
                action.full_clean()
                validate_action_qpvs(action, qpvs)
                action.save()
                action.qpvs.set(qpvs)
                action.contributors.set(contributors)
            except ValidationError as error:
                _model_errors(error, ACTION_COLUMNS, at_column, at_row)
                continue
        actions[code] = action
        _count(report, created, changed or m2m_changed, f"Action {code}")
