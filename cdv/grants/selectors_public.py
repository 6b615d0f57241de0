"""Ce que le public voit des projets financés par l'appel à projets : la page d'un appel après le
comité (« projets financés »), la section des pages d'un quartier, d'un enjeu et d'une action, et
la recherche du site.

Seuls y entrent les dossiers de ``Application.objects.publicly_funded()`` (appel publié, comité
tenu, au moins une ligne votée avec un montant) et, de chacun, ses seules lignes votées
(``FunderLine.objects.public_funding()``) : jamais un brouillon, une ligne rejetée, un avis, une
note, un budget, un montant demandé ni le nom d'une personne. L'état de chaque financement est
l'état de suivi (``followup.stage_of``) ramené à trois mots publics : Voté, Conventionné, Payé.

Chaque lecture fait un nombre FIXE de requêtes, quel que soit le nombre de projets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, Value, When, prefetch_related_objects

from cdv.territories.models import Territory

from .enums import FollowUpStage, ProjectScope
from .followup import PUBLIC_STAGE_WORDS, public_stage
from .models import Application, CallFunder, FunderLine
from .programmation import QPV_SPLIT_RULE

ZERO = Decimal("0")
# Les projets montrés sur la page d'un quartier, d'un enjeu ou d'une action (les plus récents) ;
# la liste complète est sur la page de chaque appel.
PAGE_LIMIT = 20
GROUPINGS = {"enjeu": "par enjeu", "quartier": "par quartier"}
DEFAULT_GROUPING = "enjeu"
WHOLE_TERRITORY = "Tout le territoire"


# Ce que les pages lisent d'un dossier et d'une ligne votée (le reste n'est pas chargé).
PROJECT_FIELDS = (
    "pk",
    "title",
    "summary",
    "scope",
    "status",
    "is_demo",
    "call__year",
    "call__contract_id",
    "partner__name",
    "enjeu__slug",
    "enjeu__number",
    "enjeu__title",
    "objective__number",
    "objective__title",
    "objective__enjeu__number",
    "action__code",
    "action__title",
    "action__archived_at",
    "action__objective__archived_at",
)
LINE_FIELDS = ("pk", "application_id", "status", "voted_amount", "funder__order", "funder__partner__name")


class PublicState:
    """L'état d'un financement en mots publics (``followup.PUBLIC_STAGE_WORDS``)."""

    VOTED = PUBLIC_STAGE_WORDS[FollowUpStage.VOTED]
    SIGNED = PUBLIC_STAGE_WORDS[FollowUpStage.SIGNED]
    PAID = PUBLIC_STAGE_WORDS[FollowUpStage.PAID]


PUBLIC_STATE_HELP = (
    "Voté : le comité des financeurs a accordé la subvention ; Conventionné : l'acte (arrêté ou "
    "convention) est signé ; Payé : la subvention est entièrement versée."
)


def public_state(line) -> str:
    """« Voté », « Conventionné » (acte signé, ou un premier versement fait) ou « Payé » (versé en
    entier). Le compte-rendu de l'association n'est pas public : il ne change pas ce mot."""
    return PUBLIC_STAGE_WORDS[public_stage(line)]


def _public_lines() -> Prefetch:
    lines = (
        FunderLine.objects.public_funding()
        .select_related("funder__partner")
        .only(*LINE_FIELDS)
        .with_follow_up()
        .order_by("funder__order", "funder_id")
    )
    return Prefetch("funder_lines", queryset=lines, to_attr="public_lines")


def _public_qpvs() -> Prefetch:
    return Prefetch(
        "qpvs", queryset=Territory.objects.only("pk", "code", "name").order_by("name"), to_attr="public_qpvs"
    )


def _rows(queryset):
    """Les dossiers avec ce que les pages affichent (l'appel, l'association, le plan du contrat),
    et rien d'autre : ni budget, ni montant demandé, ni nom d'une personne."""
    return queryset.select_related("call", "partner", "enjeu", "objective__enjeu", "action__objective").only(
        *PROJECT_FIELDS
    )


def _decorate(projects) -> None:
    """Après le préchargement : l'état public de chaque ligne, le total voté, les quartiers."""
    for project in projects:
        for line in project.public_lines:
            line.public_state = public_state(line)
        project.voted_total = sum((line.voted_amount for line in project.public_lines), ZERO)
        project.in_qpv = project.scope == ProjectScope.QPV and bool(project.public_qpvs)
        action = project.action
        project.action_is_public = bool(
            action and action.archived_at is None and action.objective.archived_at is None
        )


def load(projects) -> list:
    """Précharge lignes votées et quartiers (deux requêtes pour toute la liste) et les décore."""
    projects = list(projects)
    if projects:
        prefetch_related_objects(projects, _public_lines(), _public_qpvs())
        _decorate(projects)
    return projects


# ---------------------------------------------------------------------------------------------
# La page d'un appel : les projets financés, groupés par enjeu ou par quartier


@dataclass
class FunderTotal:
    name: str
    label: str
    voted: Decimal = ZERO
    projects: int = 0


@dataclass
class Group:
    anchor: str
    label: str
    projects: list = field(default_factory=list)
    voted: Decimal = ZERO
    enjeu: object = None
    qpv: object = None


@dataclass
class CallResults:
    grouping: str
    projects: list
    groups: list[Group]
    funders: list[FunderTotal]
    total: Decimal
    in_qpv_total: Decimal
    associations: int
    qpv_rule: str = QPV_SPLIT_RULE

    @property
    def share_in_qpv(self) -> Decimal | None:
        """Part (en %) des montants votés qui va aux projets situés en QPV."""
        if not self.total:
            return None
        return (self.in_qpv_total * 100 / self.total).quantize(Decimal("0.1"))


def _by_enjeu(projects) -> list[Group]:
    groups: dict[int | None, Group] = {}
    for project in projects:
        enjeu = project.enjeu
        key = enjeu.pk if enjeu else None
        group = groups.get(key)
        if group is None:
            group = groups[key] = (
                Group(f"enjeu-{enjeu.slug}", f"Enjeu {enjeu.number} : {enjeu.title}", enjeu=enjeu)
                if enjeu
                else Group("sans-enjeu", "Sans enjeu du contrat")
            )
        group.projects.append(project)
        group.voted += project.voted_total
    return sorted(groups.values(), key=lambda g: (g.enjeu is None, g.enjeu.number if g.enjeu else 0))


def _by_quartier(projects) -> list[Group]:
    """Un projet de plusieurs quartiers est listé dans chacun et y compte à parts égales."""
    groups: dict[int | None, Group] = {}
    for project in projects:
        if project.in_qpv:
            share = project.voted_total / len(project.public_qpvs)
            for qpv in project.public_qpvs:
                group = groups.get(qpv.pk)
                if group is None:
                    group = groups[qpv.pk] = Group(f"quartier-{qpv.code}", qpv.name, qpv=qpv)
                group.projects.append(project)
                group.voted += share
        else:
            group = groups.get(None)
            if group is None:
                group = groups[None] = Group("tout-le-territoire", WHOLE_TERRITORY)
            group.projects.append(project)
            group.voted += project.voted_total
    ordered = sorted((g for g in groups.values() if g.qpv is not None), key=lambda g: g.label)
    if None in groups:
        ordered.append(groups[None])
    for group in ordered:  # arrondi au centime après la somme
        group.voted = group.voted.quantize(Decimal("0.01"))
    return ordered


def call_results(call, *, grouping: str = DEFAULT_GROUPING) -> CallResults:
    """Les projets financés d'un appel dont le comité s'est tenu (quatre requêtes)."""
    grouping = grouping if grouping in GROUPINGS else DEFAULT_GROUPING
    projects = load(_rows(Application.objects.for_call(call).publicly_funded()).order_by("title", "pk"))
    funders = {
        f.pk: FunderTotal(f.partner.name, f.label)
        for f in CallFunder.objects.filter(call=call).select_related("partner").order_by("order", "pk")
    }
    total = in_qpv = ZERO
    for project in projects:
        for line in project.public_lines:
            funder = funders[line.funder_id]
            funder.voted += line.voted_amount
            funder.projects += 1
        total += project.voted_total
        if project.in_qpv:
            in_qpv += project.voted_total
    groups = _by_quartier(projects) if grouping == "quartier" else _by_enjeu(projects)
    return CallResults(
        grouping=grouping,
        projects=projects,
        groups=groups,
        funders=list(funders.values()),
        total=total,
        in_qpv_total=in_qpv,
        associations=len({p.partner_id for p in projects}),
    )


# ---------------------------------------------------------------------------------------------
# Les pages d'un quartier, d'un enjeu, d'une action


@dataclass
class ProjectList:
    """Les projets financés d'une page : les ``PAGE_LIMIT`` plus récents, et combien chaque appel
    en a financé (pour le lien vers la liste complète de l'appel)."""

    projects: list = field(default_factory=list)
    per_call: list[tuple[int, int]] = field(default_factory=list)  # (année de l'appel, projets)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.per_call)

    @property
    def more(self) -> bool:
        return self.total > len(self.projects)


def page_projects(contract, *, qpv=None, enjeu=None, action=None, limit: int = PAGE_LIMIT) -> dict:
    """Les projets financés rattachés à un quartier (``local`` ; ceux de tout le territoire à part,
    ``whole``), à un enjeu ou à une action (``local``), appel le plus récent d'abord.

    Une requête compte les projets par appel ; puis, s'il y en a, une requête par liste et deux
    pour les lignes votées et les quartiers : cinq au plus, quel que soit le nombre de projets."""
    if qpv is not None:
        in_qpv = Application.qpvs.through.objects.filter(application=OuterRef("pk"), territory=qpv)
        parts = {"local": Q(scope=ProjectScope.QPV) & Exists(in_qpv), "whole": Q(scope=ProjectScope.WHOLE)}
    elif enjeu is not None:
        parts = {"local": Q(enjeu=enjeu)}
    elif action is not None:
        parts = {"local": Q(action=action)}
    else:
        raise ValueError("Un quartier, un enjeu ou une action.")
    base = Application.objects.for_contract(contract).publicly_funded()
    result = {name: ProjectList() for name in parts}
    counts = (
        base.filter(reduce(or_, parts.values()))
        .annotate(
            part=Case(*[When(cond, then=Value(name)) for name, cond in parts.items()], default=Value(""))
        )
        .order_by()
        .values("part", "call__year")
        .annotate(n=Count("pk"))
    )
    for row in sorted(counts, key=lambda r: -r["call__year"]):
        if row["part"] in result:
            result[row["part"]].per_call.append((row["call__year"], row["n"]))
    shown = []
    for name, cond in parts.items():
        if result[name].total:
            rows = list(_rows(base.filter(cond)).order_by("-call__year", "title", "pk")[:limit])
            result[name].projects = rows
            shown += rows
    load(shown)
    return result


# ---------------------------------------------------------------------------------------------
# La recherche du site


def searchable_projects(contract):
    """Les projets financés du contrat, avec ce que la recherche lit (intitulé, association,
    résumé) ; une requête."""
    return (
        Application.objects.for_contract(contract)
        .publicly_funded()
        .select_related("partner", "call")
        .only("pk", "title", "summary", "is_demo", "partner__name", "call__year", "call__contract_id")
        .order_by("-call__year", "title", "pk")
    )
