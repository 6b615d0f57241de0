"""Lectures composées sur les engagements : ce que les pages assemblent à partir de plusieurs
requêtes (le tableau de pilotage). Les vues appellent ces fonctions et affichent."""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count

from cdv.core.french import plural
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu

from .enums import FINAL_STATUSES, NOT_CONFIRMED_STATUSES, REALISED_STATUSES, STATUS_COUNT_WORDS
from .enums import CommitmentStatus as S
from .models import Commitment


@dataclass
class PilotMatrix:
    enjeux: list
    partner_rows: list  # [(partenaire, [{"total", "statuses"} par enjeu])]
    qpv_rows: list  # [(quartier, [{"total", "statuses"} par enjeu])]
    queue: list  # engagements proposés, à valider
    not_confirmed: list  # partenaires dont un engagement n'est pas encore confirmé
    all_partners: object  # QuerySet des partenaires engagés dans le contrat (filtre de la page)
    total: int


def pilot_matrix(contract, *, status: str = "", partner_slug: str = "") -> PilotMatrix:
    """Le tableau de pilotage : engagements comptés par état, partenaire × enjeu et quartier × enjeu,
    la file de validation et les partenaires qui n'ont pas tout confirmé ; filtrés par état et
    partenaire (une valeur vide ou inconnue ne filtre pas)."""
    enjeux = list(Enjeu.objects.filter(contract=contract))
    commitments = (
        Commitment.objects.for_contract(contract)
        .in_status(status)
        .select_related("partner", "objective__enjeu")
    )
    if partner_slug:
        commitments = commitments.filter(partner__slug=partner_slug)
    commitments = list(commitments.prefetch_related("qpvs"))

    partner_matrix = defaultdict(lambda: defaultdict(Counter))
    qpv_matrix = defaultdict(lambda: defaultdict(Counter))
    partners, qpvs = {}, {}
    for c in commitments:
        enjeu_id = c.objective.enjeu_id
        partners[c.partner_id] = c.partner
        partner_matrix[c.partner_id][enjeu_id][c.status] += 1
        for q in c.qpvs.all():
            qpvs[q.pk] = q
            qpv_matrix[q.pk][enjeu_id][c.status] += 1

    def rows(matrix, objects):
        result = []
        for key, obj in sorted(objects.items(), key=lambda item: item[1].name):
            cells = []
            for enjeu in enjeux:
                counter = matrix[key][enjeu.pk]
                statuses = sorted((S(status).label, n) for status, n in counter.items())
                cells.append({"total": sum(counter.values()), "statuses": statuses})
            result.append((obj, cells))
        return result

    return PilotMatrix(
        enjeux=enjeux,
        partner_rows=rows(partner_matrix, partners),
        qpv_rows=rows(qpv_matrix, qpvs),
        queue=[c for c in commitments if c.status == S.PROPOSED],
        not_confirmed=sorted(
            {c.partner for c in commitments if c.status in NOT_CONFIRMED_STATUSES}, key=lambda p: p.name
        ),
        all_partners=Partner.objects.filter(commitments__contract=contract).distinct().order_by("name"),
        total=len(commitments),
    )


def status_counts(commitments) -> list[tuple[str, int]]:
    """Combien d'engagements dans chaque état, dans l'ordre du cycle de vie, en mots :
    [(« 3 confirmés », 3), (« 1 réalisé », 1)] ; les états absents sont omis. Une requête."""
    by_status = {
        row["status"]: row["n"]
        for row in commitments.order_by().values("status").annotate(n=Count("id", distinct=True))
    }
    return [
        (plural(by_status[value], *STATUS_COUNT_WORDS[value]), by_status[value])
        for value in S.values
        if by_status.get(value)
    ]


def progress_summary(commitments) -> dict:
    """Où en sont des engagements (déjà lus) : effectifs par état, réalisés (tout ou partie), clos et
    part réalisée parmi eux."""
    counts = Counter(c.status for c in commitments)
    total = len(commitments)
    done = sum(counts[s] for s in REALISED_STATUSES)
    rows = [(label, counts[value], value) for value, label in S.choices if counts[value]]
    return {
        "total": total,
        "rows": rows,
        "done": done,
        "closed": sum(counts[s] for s in FINAL_STATUSES),
        "done_pct": round(100 * done / total) if total else None,
    }
