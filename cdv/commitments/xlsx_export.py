"""Cahier d'engagements au format XLSX, à lire ou à diffuser : ``export_cahier_xlsx``.

Les engagements d'un partenaire (ou de tout le contrat) par enjeu, feuilles « Engagements » et
« Moyens ». L'export ne vérifie pas qui lit : l'appelant filtre (``user=``) ou contrôle l'accès.
Le modèle de saisie est dans ``xlsx_template``, son import dans ``xlsx_import``.
"""

from django.db.models import Prefetch
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from cdv.core.spreadsheets import header_row, save_workbook, set_text, xlsx_text
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import Territory

from . import abilities
from .models import Commitment

SHEET = "Engagements"
MEANS_SHEET = "Moyens"
DATE_FORMAT = "DD/MM/YYYY"
FTE_FORMAT = "0.00"
EUR_FORMAT = "#,##0.00"


def qpv_queryset():
    return Territory.objects.filter(kind=TerritoryKind.QPV).only("id", "kind", "code", "name")


def commitments_of(contract, partner=None):
    queryset = Commitment.objects.filter(contract=contract)
    if partner is not None:
        queryset = queryset.filter(partner=partner)
    return queryset.select_related("partner", "objective__enjeu", "action").prefetch_related(
        Prefetch("qpvs", queryset=qpv_queryset()), "means", "indicators"
    )


def sort_key(commitment):
    return (
        commitment.objective.enjeu.number,
        commitment.objective.number,
        commitment.partner.name,
        commitment.action.code if commitment.action_id else "",
        commitment.title,
        commitment.pk,
    )


def qpv_codes(commitment) -> str:
    return ", ".join(sorted(q.code for q in commitment.qpvs.all()))


def export_cahier_xlsx(*, contract, partner=None, user=None) -> bytes:
    """Engagements d'un partenaire, ou de tout le contrat si ``partner`` est None, par enjeu.

    Avec ``user``, seuls les engagements qu'il peut voir sont exportés (``visible_commitments``).
    """
    queryset = commitments_of(contract, partner)
    if user is not None:
        queryset = abilities.visible_commitments(user, queryset, contract)
    commitments = sorted(queryset, key=sort_key)

    workbook = Workbook()
    ws = workbook.active
    ws.title = SHEET
    headers = [
        ("Partenaire", 30),
        ("Enjeu", 30),
        ("Code objectif", 9),
        ("Objectif", 36),
        ("Code action", 9),
        ("Action", 36),
        ("Intitulé", 50),
        ("Résumé en langage clair", 50),
        ("Description", 40),
        ("Portée", 22),
        ("QPV", 24),
        ("État", 24),
        ("Cible", 30),
        ("Échéance", 12),
        ("Indicateurs de suivi", 40),
    ]
    header_row(ws, [h for h, _ in headers], [w for _, w in headers])
    for row, c in enumerate(commitments, start=2):
        values = [
            c.partner.name,
            str(c.objective.enjeu),
            c.objective.code,
            c.objective.title,
            c.action.code if c.action_id else "",
            c.action.title if c.action_id else "",
            c.title,
            c.summary_plain,
            c.description,
            c.get_scope_display(),
            qpv_codes(c),
            c.get_status_display(),
            c.target,
        ]
        for column, value in enumerate(values, start=1):
            set_text(ws.cell(row=row, column=column), value)
        deadline = ws.cell(row=row, column=len(values) + 1, value=c.deadline)
        deadline.number_format = DATE_FORMAT
        set_text(ws.cell(row=row, column=len(values) + 2), " ; ".join(i.name for i in c.indicators.all()))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(len(commitments) + 1, 1)}"

    means_ws = workbook.create_sheet(MEANS_SHEET)
    means_headers = [
        ("Partenaire", 30),
        ("Enjeu", 30),
        ("Code objectif", 9),
        ("Engagement", 50),
        ("Année", 8),
        ("ETP", 8),
        ("Montant (€)", 14),
        ("Nature des moyens", 40),
    ]
    header_row(means_ws, [h for h, _ in means_headers], [w for _, w in means_headers])
    row = 2
    for c in commitments:
        for m in sorted(c.means.all(), key=lambda m: (m.year, m.funding)):
            for column, value in enumerate(
                [c.partner.name, str(c.objective.enjeu), c.objective.code, c.title], 1
            ):
                set_text(means_ws.cell(row=row, column=column), value)
            means_ws.cell(row=row, column=5, value=m.year)
            means_ws.cell(row=row, column=6, value=m.fte).number_format = FTE_FORMAT
            means_ws.cell(row=row, column=7, value=m.amount_eur).number_format = EUR_FORMAT
            set_text(means_ws.cell(row=row, column=8), m.get_funding_display())
            row += 1
    means_ws.auto_filter.ref = f"A1:H{max(row - 1, 1)}"

    scope = partner.name if partner is not None else "tous les partenaires"
    workbook.properties.title = xlsx_text(f"Cahier d'engagements — {scope} — {contract.title}")
    workbook.properties.creator = "Plateforme contrat de ville"
    return save_workbook(workbook)
