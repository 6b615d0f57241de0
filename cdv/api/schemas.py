from datetime import date
from decimal import Decimal

from ninja import Schema


class TerritoryRef(Schema):
    code: str
    name: str


class QpvOut(Schema):
    code: str
    name: str
    geography: str
    status: str
    commune_codes: list[str]
    communes: list[TerritoryRef]
    predecessor: TerritoryRef | None
    bbox: list[float] | None

    @staticmethod
    def resolve_communes(obj):
        return [{"code": c.code, "name": c.name} for c in obj.commune_list]

    @staticmethod
    def resolve_predecessor(obj):
        p = obj.predecessor
        return {"code": p.code, "name": p.name} if p else None


class QpvDetailOut(QpvOut):
    geometry: dict | None
    geometry_repaired: bool
    source: str
    contracts: list[str]

    @staticmethod
    def resolve_contracts(obj):
        return [c.slug for c in obj.public_contracts]


class ContractOut(Schema):
    slug: str
    title: str
    epci: TerritoryRef
    start_year: int
    end_year: int
    signed_on: date | None
    status: str
    qpv_count: int


class EnjeuOut(Schema):
    number: int
    title: str
    slug: str
    summary_plain: str


class SignatoryOut(Schema):
    partner: str
    partner_kind: str
    kind: str
    signed_on: date | None
    signatory_role: str

    @staticmethod
    def resolve_partner(obj):
        return obj.partner.name

    @staticmethod
    def resolve_partner_kind(obj):
        return obj.partner.kind


class MilestoneOut(Schema):
    kind: str
    title: str
    year: int
    when: str
    due_on: date | None
    done_on: date | None

    @staticmethod
    def resolve_when(obj):
        return obj.when_label or str(obj.year)


class KeyFigureOut(Schema):
    code: str
    label: str
    perimeter: str
    geography: str
    value: Decimal
    unit: str
    comparison_value: Decimal | None
    comparison_perimeter: str
    gap_points: Decimal | None
    gap_ratio: Decimal | None
    published_on: str
    source_label: str
    source_url: str
    note: str

    @staticmethod
    def resolve_gap_points(obj):
        gap = obj.gap()
        return gap.points if gap else None

    @staticmethod
    def resolve_gap_ratio(obj):
        gap = obj.gap()
        return gap.ratio if gap else None


class ContractDetailOut(ContractOut):
    reference_territory: TerritoryRef
    summary_plain: str
    qpvs: list[TerritoryRef]
    enjeux: list[EnjeuOut]
    signatories: list[SignatoryOut]
    milestones: list[MilestoneOut]
    key_figures: list[KeyFigureOut]

    @staticmethod
    def resolve_reference_territory(obj):
        ref = obj.reference
        return {"code": ref.code, "name": ref.name}

    @staticmethod
    def resolve_qpvs(obj):
        return [{"code": q.code, "name": q.name} for q in obj.qpvs.all()]


class Error(Schema):
    detail: str
