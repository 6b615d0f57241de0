"""La programmation d'un appel : chaque dossier déposé × chaque financeur de l'appel, avec les
montants demandé, proposé, simulé et voté ; les totaux par financeur (face à son enveloppe), par
enjeu, par quartier, et la part des montants qui va aux projets situés en QPV.

Tout est lu en un nombre FIXE de requêtes (``values()`` puis agrégation en Python), quel que soit
le nombre de dossiers : 450 dossiers × 6 financeurs doivent s'afficher en moins de 300 ms.

Règle de comptage par quartier : un projet qui concerne plusieurs quartiers compte pour une part
égale dans chacun (un projet sur 2 quartiers : la moitié de ses montants dans chacun) ; un projet
de tout le territoire est compté à part (« Tout le territoire »). Ainsi la somme des quartiers et
du territoire retombe sur le total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .enums import INSTRUCTED_APPLICATION_STATUSES, ApplicationStatus, LineStatus, ProjectScope, Simulation
from .models import Application, CallFunder, FunderLine

ZERO = Decimal("0")
KINDS = ("requested", "proposed", "simulated", "voted")
KIND_LABELS = {
    "requested": "Demandé",
    "proposed": "Proposé",
    "simulated": "Simulé",
    "voted": "Voté",
}
QPV_SPLIT_RULE = (
    "Un projet qui concerne plusieurs quartiers compte à parts égales dans chacun (sur deux "
    "quartiers : la moitié de ses montants dans chacun) ; un projet de tout le territoire est "
    "compté à part."
)
# Les dossiers qui passent en comité : déposés, rendus pour compléments, ou déjà décidés.
PROGRAMMED_STATUSES = [ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED, ApplicationStatus.DECIDED]


@dataclass
class Amounts:
    requested: Decimal = ZERO
    proposed: Decimal = ZERO
    simulated: Decimal = ZERO
    voted: Decimal = ZERO

    def add(self, other: Amounts) -> None:
        self.requested += other.requested
        self.proposed += other.proposed
        self.simulated += other.simulated
        self.voted += other.voted

    def add_share(self, other: Amounts, factor: Decimal) -> None:
        self.requested += other.requested * factor
        self.proposed += other.proposed * factor
        self.simulated += other.simulated * factor
        self.voted += other.voted * factor


@dataclass(slots=True)
class Cell:
    """La ligne d'un financeur dans un dossier (champs simples, précalculés : 2 700 par page)."""

    line_id: int
    funder_id: int
    status: str
    status_label: str
    requested: Decimal
    proposed: Decimal | None
    simulation: str
    simulated: Decimal | None
    voted: Decimal | None
    decided: bool
    is_simulated: bool
    simulated_value: Decimal  # ce que la simulation engage : le montant si « oui », zéro sinon
    amounts: Amounts


@dataclass
class Row:
    """Un dossier de la programmation."""

    application_id: int
    number: str
    title: str
    partner: str
    status: str
    status_label: str
    enjeu_id: int | None
    enjeu: str
    scope: str
    qpvs: list[tuple[int, str]]
    cells: list[Cell | None]  # une par financeur de l'appel, dans l'ordre des financeurs
    totals: Amounts = field(default_factory=Amounts)
    columns: list[tuple[FunderColumn, Cell | None]] = field(default_factory=list)

    @property
    def in_qpv(self) -> bool:
        return self.scope == ProjectScope.QPV and bool(self.qpvs)

    @property
    def in_instruction(self) -> bool:
        """Déposé ou rendu pour compléments : le comité peut encore le simuler."""
        return self.status in INSTRUCTED_APPLICATION_STATUSES

    @property
    def qpv_names(self) -> str:
        return ", ".join(name for _, name in self.qpvs) if self.qpvs else "Tout le territoire"


@dataclass
class FunderColumn:
    funder_id: int
    name: str
    label: str
    envelope: Decimal
    totals: Amounts = field(default_factory=Amounts)
    lines: int = 0
    not_simulated: int = 0

    @property
    def engaged(self) -> Decimal:
        """Ce que le comité engage : le voté s'il a voté, sinon le simulé."""
        return self.totals.voted if self.totals.voted else self.totals.simulated

    @property
    def remaining(self) -> Decimal:
        return self.envelope - self.engaged

    @property
    def over_envelope(self) -> bool:
        return self.remaining < 0


@dataclass
class GroupTotal:
    key: int | str | None
    label: str
    applications: Decimal = ZERO  # nombre de dossiers (fractionnaire pour les quartiers partagés)
    totals: Amounts = field(default_factory=Amounts)


@dataclass
class Programmation:
    funders: list[FunderColumn]
    rows: list[Row]
    by_enjeu: list[GroupTotal]
    by_qpv: list[GroupTotal]
    grand_total: Amounts
    in_qpv_total: Amounts
    voted: bool
    qpv_rule: str = QPV_SPLIT_RULE

    def share_in_qpv(self, kind: str) -> Decimal | None:
        """Part (en %) des montants ``kind`` qui va aux projets situés en QPV."""
        total = getattr(self.grand_total, kind)
        if not total:
            return None
        return (getattr(self.in_qpv_total, kind) * 100 / total).quantize(Decimal("0.1"))

    @property
    def shares(self) -> list[tuple[str, Decimal | None, Decimal, Decimal]]:
        """(libellé, part en QPV en %, montant en QPV, montant total) par nature de montant."""
        return [
            (
                KIND_LABELS[kind],
                self.share_in_qpv(kind),
                getattr(self.in_qpv_total, kind),
                getattr(self.grand_total, kind),
            )
            for kind in KINDS
        ]

    @property
    def over_envelope(self) -> list[FunderColumn]:
        return [f for f in self.funders if f.over_envelope]

    @property
    def not_simulated(self) -> list[tuple[Row, Cell]]:
        """Lignes encore ouvertes sans simulation (à décider avant le vote)."""
        return [
            (row, cell)
            for row in self.rows
            for cell in row.cells
            if cell is not None and not cell.decided and not cell.is_simulated
        ]

    @property
    def awaiting_information(self) -> list[Row]:
        """Dossiers rendus à leur association pour compléments : sa réponse n'est pas encore là."""
        return [row for row in self.rows if row.status == ApplicationStatus.RETURNED]

    def filtered(
        self, *, enjeu: int | None = None, qpv: int | None = None, funder: int | None = None
    ) -> list[Row]:
        rows = self.rows
        if enjeu:
            rows = [r for r in rows if r.enjeu_id == enjeu]
        if qpv:
            rows = [r for r in rows if any(q == qpv for q, _ in r.qpvs)]
        if funder:
            index = next((i for i, f in enumerate(self.funders) if f.funder_id == funder), None)
            if index is not None:
                rows = [r for r in rows if r.cells[index] is not None]
        return rows


def _rows_qs(call):
    return Application.objects.filter(call=call, status__in=PROGRAMMED_STATUSES)


def build_programmation(call) -> Programmation:
    """La programmation de ``call`` en 4 requêtes, quel que soit le nombre de dossiers."""
    status_labels = dict(LineStatus.choices)
    app_labels = dict(ApplicationStatus.choices)
    funders = [
        FunderColumn(
            funder_id=f["id"],
            name=f["partner__name"],
            label=f["label"],
            envelope=f["envelope"],
        )
        for f in CallFunder.objects.filter(call=call)
        .order_by("order", "id")
        .values("id", "partner__name", "label", "envelope")
    ]
    position = {f.funder_id: i for i, f in enumerate(funders)}
    applications = _rows_qs(call)
    rows: dict[int, Row] = {}
    for a in applications.order_by("number", "id").values(
        "id", "number", "title", "partner__name", "status", "enjeu_id", "enjeu__title", "scope"
    ):
        rows[a["id"]] = Row(
            application_id=a["id"],
            number=a["number"],
            title=a["title"],
            partner=a["partner__name"],
            status=a["status"],
            status_label=app_labels.get(a["status"], a["status"]),
            enjeu_id=a["enjeu_id"],
            enjeu=a["enjeu__title"] or "Sans enjeu",
            scope=a["scope"],
            qpvs=[],
            cells=[None] * len(funders),
        )
    through = Application.qpvs.through
    for link in (
        through.objects.filter(application__call=call, application__status__in=PROGRAMMED_STATUSES)
        .order_by("territory__name")
        .values_list("application_id", "territory_id", "territory__name")
    ):
        row = rows.get(link[0])
        if row is not None:
            row.qpvs.append((link[1], link[2]))
    decided = {str(s) for s in (LineStatus.VOTED, LineStatus.REJECTED, LineStatus.CLOSED)}
    yes, no = str(Simulation.YES), str(Simulation.NO)
    for line in FunderLine.objects.filter(
        application__call=call, application__status__in=PROGRAMMED_STATUSES
    ).values(
        "id",
        "application_id",
        "funder_id",
        "status",
        "requested_amount",
        "proposed_amount",
        "simulation",
        "simulated_amount",
        "voted_amount",
    ):
        row = rows.get(line["application_id"])
        index = position.get(line["funder_id"])
        if row is None or index is None:
            continue
        simulation = line["simulation"]
        simulated_value = (line["simulated_amount"] or ZERO) if simulation == yes else ZERO
        row.cells[index] = Cell(
            line_id=line["id"],
            funder_id=line["funder_id"],
            status=line["status"],
            status_label=status_labels.get(line["status"], line["status"]),
            requested=line["requested_amount"],
            proposed=line["proposed_amount"],
            simulation=line["simulation"],
            simulated=line["simulated_amount"],
            voted=line["voted_amount"],
            decided=line["status"] in decided,
            is_simulated=simulation == yes or simulation == no,
            simulated_value=simulated_value,
            amounts=Amounts(
                requested=line["requested_amount"],
                proposed=line["proposed_amount"] or ZERO,
                simulated=simulated_value,
                voted=line["voted_amount"] or ZERO,
            ),
        )
    return _aggregate(call, funders, list(rows.values()))


def _aggregate(call, funders: list[FunderColumn], rows: list[Row]) -> Programmation:
    grand, in_qpv = Amounts(), Amounts()
    enjeux: dict[int | None, GroupTotal] = {}
    qpvs: dict[int | None, GroupTotal] = {}
    for row in rows:
        row.columns = list(zip(funders, row.cells, strict=True))
        for index, cell in enumerate(row.cells):
            if cell is None:
                continue
            amounts = cell.amounts
            row.totals.add(amounts)
            column = funders[index]
            column.totals.add(amounts)
            column.lines += 1
            if not cell.decided and not cell.is_simulated:
                column.not_simulated += 1
        grand.add(row.totals)
        enjeu = enjeux.setdefault(row.enjeu_id, GroupTotal(row.enjeu_id, row.enjeu))
        enjeu.applications += 1
        enjeu.totals.add(row.totals)
        if row.in_qpv:
            in_qpv.add(row.totals)
            share = Decimal("1") / len(row.qpvs)
            for qpv_id, name in row.qpvs:
                group = qpvs.setdefault(qpv_id, GroupTotal(qpv_id, name))
                group.applications += share
                group.totals.add_share(row.totals, share)
        else:
            group = qpvs.setdefault(None, GroupTotal(None, "Tout le territoire"))
            group.applications += 1
            group.totals.add(row.totals)
    by_qpv = sorted((g for g in qpvs.values() if g.key is not None), key=lambda g: g.label)
    if None in qpvs:
        by_qpv.append(qpvs[None])
    for group in by_qpv:  # arrondi au centime, après la somme (les parts sont exactes avant)
        for kind in KINDS:
            setattr(group.totals, kind, getattr(group.totals, kind).quantize(Decimal("0.01")))
        group.applications = group.applications.quantize(Decimal("0.01")).normalize()
    return Programmation(
        funders=funders,
        rows=rows,
        by_enjeu=sorted(enjeux.values(), key=lambda g: g.label),
        by_qpv=by_qpv,
        grand_total=grand,
        in_qpv_total=in_qpv,
        voted=call.committee_held_at is not None,
    )


def row_of(call, line_id: int) -> tuple[Programmation, Row | None]:
    """La programmation et la ligne du tableau qui porte la ligne de financeur ``line_id``
    (réponse htmx après une simulation : la ligne et les totaux à jour)."""
    programmation = build_programmation(call)
    for row in programmation.rows:
        if any(cell is not None and cell.line_id == line_id for cell in row.cells):
            return programmation, row
    return programmation, None
