"""Lectures composées sur les engagements : ce que les pages assemblent à partir de plusieurs
requêtes (le tableau de pilotage). Les vues appellent ces fonctions et affichent."""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count

from cdv.core.french import plural
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu
from cdv.territories.models import Territory

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
    partenaire (une valeur vide ou inconnue ne filtre pas).

    Les effectifs sont comptés par la base (``GROUP BY``) : aucun engagement ni quartier n'est
    chargé pour être compté (un contrat de 450 engagements chargeait ses quartiers avec leurs
    contours, 1 000 contours décodés par affichage). Nombre de requêtes fixe."""
    enjeux = list(Enjeu.objects.filter(contract=contract))
    commitments = Commitment.objects.for_contract(contract).in_status(status)
    if partner_slug:
        commitments = commitments.filter(partner__slug=partner_slug)

    def counted(key):
        matrix = defaultdict(lambda: defaultdict(Counter))
        rows = (
            commitments.filter(**{f"{key}__isnull": False})
            .order_by()
            .values_list(key, "objective__enjeu_id", "status")
            .annotate(n=Count("id"))
        )
        for pk, enjeu_id, state, n in rows:
            matrix[pk][enjeu_id][state] += n
        return matrix

    partner_matrix, qpv_matrix = counted("partner_id"), counted("qpvs")
    partners = Partner.objects.filter(pk__in=list(partner_matrix)).only("pk", "name", "slug")
    qpvs = Territory.objects.filter(pk__in=list(qpv_matrix)).only("pk", "name")

    def rows(matrix, objects):
        result = []
        for obj in sorted(objects, key=lambda o: (o.name, o.pk)):
            cells = []
            for enjeu in enjeux:
                counter = matrix[obj.pk][enjeu.pk]
                statuses = sorted((S(status).label, n) for status, n in counter.items())
                cells.append({"enjeu": enjeu, "total": sum(counter.values()), "statuses": statuses})
            result.append((obj, cells))
        return result

    partner_rows = rows(partner_matrix, partners)
    return PilotMatrix(
        enjeux=enjeux,
        partner_rows=partner_rows,
        qpv_rows=rows(qpv_matrix, qpvs),
        queue=list(
            commitments.filter(status=S.PROPOSED)
            .select_related("partner")
            .only("pk", "title", "partner__name", "partner__slug")
        ),
        not_confirmed=[
            partner
            for partner, _ in partner_rows
            if any(
                state in NOT_CONFIRMED_STATUSES
                for by_status in partner_matrix[partner.pk].values()
                for state, n in by_status.items()
                if n
            )
        ],
        # Les identifiants d'abord (index du contrat), puis les partenaires par clé : une jointure
        # avec DISTINCT parcourait les 20 000 partenaires de l'instance nationale.
        all_partners=Partner.objects.filter(
            pk__in=list(
                Commitment.objects.for_contract(contract)
                .order_by()
                .values_list("partner_id", flat=True)
                .distinct()
            )
        )
        .only("pk", "name", "slug")
        .order_by("name"),
        total=sum(n for by_enjeu in partner_matrix.values() for c in by_enjeu.values() for n in c.values()),
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
