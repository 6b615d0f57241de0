from datetime import date
from decimal import Decimal

from ninja import Field, Schema


class TerritoryRef(Schema):
    code: str = Field(description="code officiel (QPV, INSEE, SIREN)")
    name: str = Field(description="nom")


class QpvOut(Schema):
    code: str = Field(description="code du QPV")
    name: str = Field(description="nom du quartier")
    geography: str = Field(description="géographie prioritaire : 2024 ou 2015")
    status: str = Field(description="par rapport à 2015 : NOUVEAU, MODIFIE ou INCHANGE")
    commune_codes: list[str] = Field(description="codes INSEE des communes, tels que donnés par l'ANCT")
    communes: list[TerritoryRef] = Field(description="communes chargées sur la plateforme")
    predecessor: TerritoryRef | None = Field(description="QPV 2015 remplacé, s'il y en a un")
    bbox: list[float] | None = Field(description="emprise [ouest, sud, est, nord] en WGS84")

    @staticmethod
    def resolve_communes(obj):
        return [{"code": c.code, "name": c.name} for c in obj.commune_list]

    @staticmethod
    def resolve_predecessor(obj):
        p = obj.predecessor
        return {"code": p.code, "name": p.name} if p else None


class QpvDetailOut(QpvOut):
    geometry: dict | None = Field(description="contour GeoJSON (MultiPolygon, WGS84)")
    geometry_repaired: bool = Field(description="contour de la source invalide, réparé")
    source: str = Field(description="source du contour")
    contracts: list[str] = Field(description="contrats visibles qui couvrent ce QPV (slugs)")

    @staticmethod
    def resolve_contracts(obj):
        return [c.slug for c in obj.public_contracts]


class ContractOut(Schema):
    slug: str = Field(description="identifiant du contrat dans les adresses de l'API")
    title: str = Field(description="intitulé")
    epci: TerritoryRef = Field(description="EPCI porteur")
    start_year: int = Field(description="année de début")
    end_year: int = Field(description="année de fin")
    signed_on: date | None = Field(description="date de signature")
    status: str = Field(description="PREPARATION (membres seulement), EN_VIGUEUR ou ACHEVE")
    qpv_count: int = Field(description="nombre de QPV couverts")


class EnjeuOut(Schema):
    number: int = Field(description="numéro de l'enjeu")
    title: str = Field(description="intitulé")
    slug: str = Field(description="identifiant d'URL du site public")
    summary_plain: str = Field(description="résumé en langage clair")
    is_demo: bool = Field(description="donnée de démonstration")


class SignatoryOut(Schema):
    partner: str = Field(description="nom du partenaire")
    partner_slug: str = Field(description="identifiant (slug) du partenaire")
    partner_kind: str = Field(description="type de partenaire")
    kind: str = Field(description="SIGNATAIRE ou PARTICIPANT (participe au pilotage sans signer)")
    signed_on: date | None = Field(description="date de signature")
    signatory_role: str = Field(description="qualité du signataire")

    @staticmethod
    def resolve_partner(obj):
        return obj.partner.name

    @staticmethod
    def resolve_partner_slug(obj):
        return obj.partner.slug

    @staticmethod
    def resolve_partner_kind(obj):
        return obj.partner.kind


class MilestoneOut(Schema):
    kind: str = Field(description="type de jalon")
    title: str = Field(description="intitulé")
    year: int = Field(description="année")
    when: str = Field(description="échéance en clair")
    due_on: date | None = Field(description="date limite, si elle est connue")
    done_on: date | None = Field(description="date de réalisation")

    @staticmethod
    def resolve_when(obj):
        return obj.when_label or str(obj.year)


class KeyFigureOut(Schema):
    code: str = Field(description="code du chiffre")
    label: str = Field(description="libellé")
    perimeter: str = Field(description="périmètre")
    geography: str = Field(description="géographie prioritaire du chiffre (2015 ou 2024)")
    value: Decimal = Field(description="valeur publiée")
    unit: str = Field(description="unité")
    comparison_value: Decimal | None = Field(description="valeur de comparaison")
    comparison_perimeter: str = Field(description="périmètre de comparaison")
    gap_points: Decimal | None = Field(description="écart en points")
    gap_ratio: Decimal | None = Field(description="écart en rapport")
    published_on: str = Field(description="date de publication (AAAA, AAAA-MM ou AAAA-MM-JJ)")
    source_label: str = Field(description="source")
    source_url: str = Field(description="adresse de la source")
    note: str = Field(description="précisions (millésime, limites)")

    @staticmethod
    def resolve_gap_points(obj):
        gap = obj.gap()
        return gap.points if gap else None

    @staticmethod
    def resolve_gap_ratio(obj):
        gap = obj.gap()
        return gap.ratio if gap else None


class ContractDetailOut(ContractOut):
    reference_territory: TerritoryRef = Field(description="territoire de référence des écarts")
    summary_plain: str = Field(description="résumé en langage clair")
    qpvs: list[TerritoryRef] = Field(description="QPV couverts, par code")
    enjeux: list[EnjeuOut] = Field(description="enjeux, par numéro")
    signatories: list[SignatoryOut] = Field(description="signataires et participants")
    milestones: list[MilestoneOut] = Field(description="jalons du calendrier")
    key_figures: list[KeyFigureOut] = Field(description="chiffres clés tels que publiés")

    @staticmethod
    def resolve_reference_territory(obj):
        ref = obj.reference
        return {"code": ref.code, "name": ref.name}

    @staticmethod
    def resolve_qpvs(obj):
        return [{"code": q.code, "name": q.name} for q in obj.qpvs.all()]


class Error(Schema):
    detail: str = Field(description="message en français")


class FieldError(Schema):
    parametre: str = Field(description="paramètre en cause")
    message: str = Field(description="ce qui ne va pas")


class ValidationErrorOut(Schema):
    detail: str = Field(description="résumé en français")
    errors: list[FieldError] = Field([], description="une entrée par paramètre en cause")


# Réponses d'erreur documentées sur chaque lecture.
READ_ERRORS = {401: Error, 404: Error, 422: ValidationErrorOut}

# Réponses d'erreur documentées sur chaque écriture : 422 pour un corps que le schéma refuse (avec
# ``errors``), 409 pour un corps conforme que l'état des données refuse (``errors.REFUSED``).
WRITE_ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: ValidationErrorOut}

# Schéma de sécurité « jeton d'API » (déclaré dans cdv/api/urls.py) ; exigé par les écritures.
SECURITY_SCHEME = "jeton"
WRITE_SECURITY = {"security": [{SECURITY_SCHEME: []}]}
