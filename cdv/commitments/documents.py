"""Cahier d'engagements en PDF (WeasyPrint) : celui d'un partenaire, ou la compilation du contrat.

Le document est rendu par le gabarit ``documents/cahier.html`` (échappement automatique de Django :
un texte saisi par un partenaire reste du texte) et la feuille ``documents/cahier.css``, lue sur le
disque. Aucune ressource distante n'est jamais chargée : ``LocalOnlyFetcher`` refuse toute adresse
hors du dossier des gabarits de documents. Polices : celles du système (DejaVu Sans).

Les lectures sont bornées : trois requêtes pour les engagements (avec objectifs, enjeux, actions,
partenaires, quartiers et moyens), une pour la place des partenaires dans le contrat, quel que soit
le nombre d'engagements. Les droits ne sont pas vérifiés ici : une vue passe ``commitments``
restreint par ``abilities.visible_commitments``.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from cdv.contracts.enums import SignatoryKind
from cdv.contracts.models import Signatory
from cdv.territories.models import Territory
from cdv.users.models import Membership

from .enums import CommitmentScope, FundingKind
from .enums import CommitmentStatus as S
from .models import Commitment

DOCUMENTS_DIR = Path(__file__).resolve().parent.parent / "templates" / "documents"
TEMPLATE_NAME = "documents/cahier.html"
CSS_PATH = DOCUMENTS_DIR / "cahier.css"

NOT_CONFIRMED = "Cahier non encore confirmé"
DEMO_LABEL = "Données de démonstration"
# États d'avant la signature du cahier : ce qui reste à confirmer.
BEFORE_CONFIRMATION = {S.DRAFT, S.PROPOSED, S.RETURNED, S.VALIDATED}

NBSP = "\u00a0"
ZERO = Decimal("0")


class PartnerNotInContract(ValueError):
    """Le partenaire n'a aucune place dans le contrat (ni signataire, ni membre, ni engagement)."""


# --- Mise en forme française -------------------------------------------------------------------


def _group(digits: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return "\u202f".join(parts)  # espace fine insécable, comme cdv.core.figures.french_number


def format_number(value, decimals: int) -> str:
    """12345.5 → « 12 345,50 » (espace fine insécable entre les milliers, virgule décimale) ;
    décimales fixes, pour aligner les colonnes des tableaux du cahier."""
    value = Decimal(value or 0).quantize(Decimal(1).scaleb(-decimals))
    sign = "-" if value < 0 else ""
    integer, _, fraction = f"{abs(value):f}".partition(".")
    text = sign + _group(integer)
    return f"{text},{fraction}" if fraction else text


def format_fte(value) -> str:
    return format_number(value, 2)


def format_eur(value) -> str:
    value = Decimal(value or 0)
    decimals = 0 if value == value.to_integral_value() else 2
    return f"{format_number(value, decimals)}{NBSP}€"


def format_means(fte, amount) -> str:
    if not fte and not amount:
        return "—"
    return f"{format_fte(fte)}{NBSP}ETP · {format_eur(amount)}"


def format_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return date_format(value, "j F Y")


# --- Ce que le gabarit affiche -----------------------------------------------------------------


@dataclass
class MeansRow:
    label: str
    ordinary_fte: Decimal = ZERO
    ordinary_eur: Decimal = ZERO
    specific_fte: Decimal = ZERO
    specific_eur: Decimal = ZERO

    def add(self, funding, fte, amount) -> None:
        if funding == FundingKind.SPECIFIC:
            self.specific_fte += fte
            self.specific_eur += amount
        else:
            self.ordinary_fte += fte
            self.ordinary_eur += amount

    def absorb(self, other: MeansRow) -> None:
        self.ordinary_fte += other.ordinary_fte
        self.ordinary_eur += other.ordinary_eur
        self.specific_fte += other.specific_fte
        self.specific_eur += other.specific_eur

    @property
    def funding_cells(self) -> list[str]:
        """Droit commun, crédits spécifiques (sans la colonne total)."""
        return [
            format_means(self.ordinary_fte, self.ordinary_eur),
            format_means(self.specific_fte, self.specific_eur),
        ]

    @property
    def cells(self) -> list[str]:
        """Droit commun, crédits spécifiques, total : « 1,50 ETP · 12 000 € » ou « — » si rien."""
        return [
            format_means(self.ordinary_fte, self.ordinary_eur),
            format_means(self.specific_fte, self.specific_eur),
            format_means(self.ordinary_fte + self.specific_fte, self.ordinary_eur + self.specific_eur),
        ]


@dataclass
class MeansTable:
    rows: list[MeansRow]
    total: MeansRow

    @classmethod
    def build(cls, items) -> MeansTable:
        """``items`` : (année, nature, ETP, euros)."""
        by_year: dict[int, MeansRow] = {}
        total = MeansRow("Total")
        for year, funding, fte, amount in items:
            row = by_year.setdefault(year, MeansRow(str(year)))
            row.add(funding, fte, amount)
            total.add(funding, fte, amount)
        return cls(rows=[by_year[year] for year in sorted(by_year)], total=total)

    @classmethod
    def combine(cls, tables) -> MeansTable:
        items = []
        for table in tables:
            for row in table.rows:
                items.append((int(row.label), FundingKind.ORDINARY, row.ordinary_fte, row.ordinary_eur))
                items.append((int(row.label), FundingKind.SPECIFIC, row.specific_fte, row.specific_eur))
        return cls.build(items)

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass
class CommitmentView:
    commitment: Commitment
    status_label: str
    scope_label: str
    qpv_label: str
    deadline: str
    means: MeansTable


@dataclass
class ObjectiveGroup:
    objective: object
    commitments: list[CommitmentView] = field(default_factory=list)


@dataclass
class EnjeuGroup:
    enjeu: object
    objectives: list[ObjectiveGroup] = field(default_factory=list)


@dataclass
class Confirmation:
    name: str
    role: str
    date: str
    count: int


@dataclass
class PartnerSection:
    partner: object
    kind_label: str
    place_label: str
    commitments: list[CommitmentView]
    enjeux: list[EnjeuGroup]
    confirmations: list[Confirmation]
    pending_count: int
    unrecorded_count: int
    means: MeansTable
    is_demo: bool

    @property
    def confirmed(self) -> bool:
        return bool(self.confirmations)

    @property
    def status_line(self) -> str:
        if not self.confirmations:
            return NOT_CONFIRMED
        last = self.confirmations[-1]
        return f"Confirmé le {last.date} par {last.name}, {last.role}"


def partner_has_place(*, contract, partner) -> bool:
    """Le partenaire signe le contrat, y participe, y a des membres ou des engagements."""
    return (
        Signatory.objects.filter(contract=contract, partner=partner).exists()
        or Membership.objects.filter(contract=contract, partner=partner).exists()
        or Commitment.objects.filter(contract=contract, partner=partner).exists()
    )


def check_partner_in_contract(*, contract, partner) -> None:
    if not partner_has_place(contract=contract, partner=partner):
        raise PartnerNotInContract(
            f"Le partenaire « {partner} » n'a pas de place dans le contrat « {contract} » "
            "(ni signataire, ni participant, ni membre, ni engagement)."
        )


def _commitments_queryset(contract, partner, commitments):
    qs = commitments if commitments is not None else Commitment.objects.all()
    qs = qs.filter(contract=contract)
    if partner is not None:
        qs = qs.filter(partner=partner)
    qpvs = Territory.objects.only("id", "name", "code").order_by("name")
    return (
        qs.select_related("partner", "objective__enjeu", "action")
        .prefetch_related(
            Prefetch("qpvs", queryset=qpvs),
            "indicators",
            "means",
        )
        .order_by("partner__name", "partner_id", "objective__enjeu__number", "objective__number", "id")
    )


def _qpv_label(commitment) -> str:
    names = [q.name for q in commitment.qpvs.all()]
    if names:
        return ", ".join(names)
    if commitment.scope == CommitmentScope.QPV:
        return "aucun quartier indiqué"
    return "tous les quartiers du contrat"


def _commitment_view(commitment) -> CommitmentView:
    means = MeansTable.build((m.year, m.funding, m.fte, m.amount_eur) for m in commitment.means.all())
    return CommitmentView(
        commitment=commitment,
        status_label=commitment.get_status_display(),
        scope_label=commitment.get_scope_display(),
        qpv_label=_qpv_label(commitment),
        deadline=format_date(commitment.deadline),
        means=means,
    )


def _group_by_plan(views) -> list[EnjeuGroup]:
    enjeux: list[EnjeuGroup] = []
    for view in views:
        objective = view.commitment.objective
        enjeu = objective.enjeu
        if not enjeux or enjeux[-1].enjeu.pk != enjeu.pk:
            enjeux.append(EnjeuGroup(enjeu))
        group = enjeux[-1]
        if not group.objectives or group.objectives[-1].objective.pk != objective.pk:
            group.objectives.append(ObjectiveGroup(objective))
        group.objectives[-1].commitments.append(view)
    return enjeux


def _confirmations(commitments) -> list[Confirmation]:
    """Signatures successives du cahier (nom, qualité, jour), de la plus ancienne à la plus récente."""
    found: dict[tuple, list] = {}
    for c in commitments:
        if c.confirmed_at and c.confirmed_name:
            key = (c.confirmed_name, c.confirmed_role, timezone.localtime(c.confirmed_at).date())
            found.setdefault(key, []).append(c.confirmed_at)
    ordered = sorted(found.items(), key=lambda item: max(item[1]))
    return [
        Confirmation(name=name, role=role, date=format_date(day), count=len(stamps))
        for (name, role, day), stamps in ordered
    ]


def _section(partner, commitments, place_label) -> PartnerSection:
    views = [_commitment_view(c) for c in commitments]
    return PartnerSection(
        partner=partner,
        kind_label=partner.get_kind_display(),
        place_label=place_label,
        commitments=views,
        enjeux=_group_by_plan(views),
        confirmations=_confirmations(commitments),
        pending_count=sum(1 for c in commitments if c.status in BEFORE_CONFIRMATION),
        unrecorded_count=sum(
            1 for c in commitments if c.status not in BEFORE_CONFIRMATION and not c.confirmed_at
        ),
        means=MeansTable.combine(v.means for v in views),
        is_demo=partner.is_demo or any(c.is_demo for c in commitments),
    )


def cahier_context(*, contract, partner=None, commitments=None) -> dict:
    """Le contenu du cahier (``partner``) ou de la compilation du contrat (``partner=None``).

    ``commitments`` restreint facultativement les engagements (ex. : ceux visibles d'une personne).
    Lève ``PartnerNotInContract`` si ``partner`` n'a aucune place dans le contrat.
    """
    rows = list(_commitments_queryset(contract, partner, commitments))
    partner_ids = {c.partner_id for c in rows}
    if partner is not None:
        partner_ids.add(partner.pk)
    places = dict(
        Signatory.objects.filter(contract=contract, partner_id__in=partner_ids).values_list(
            "partner_id", "kind"
        )
    )
    labels = dict(SignatoryKind.choices)
    if partner is not None and not rows and partner.pk not in places:
        check_partner_in_contract(contract=contract, partner=partner)

    by_partner: dict[int, list] = {}
    partners = {}
    for c in rows:
        by_partner.setdefault(c.partner_id, []).append(c)
        partners[c.partner_id] = c.partner
    if partner is not None:
        partners = {partner.pk: partner}
        by_partner.setdefault(partner.pk, [])
    sections = [
        _section(p, by_partner[pid], labels.get(places.get(pid), "Engagé dans le contrat"))
        for pid, p in partners.items()
    ]
    now = timezone.localtime()
    return {
        "contract": contract,
        "partner": partner,
        "is_compilation": partner is None,
        "sections": sections,
        "commitment_count": len(rows),
        "means": MeansTable.combine(s.means for s in sections),
        "is_demo": any(s.is_demo for s in sections),
        "generated_on": format_date(now),
        "generated_at": f"{now.hour} h {now.minute:02d}",
        "not_confirmed_label": NOT_CONFIRMED,
        "demo_label": DEMO_LABEL,
        "document_title": (
            f"Cahier d'engagements — {partner}" if partner else "Cahiers d'engagements — compilation"
        )
        + f" — {contract.title}",
    }


def render_cahier_html(*, contract, partner=None, commitments=None) -> str:
    with translation.override("fr"):
        context = cahier_context(contract=contract, partner=partner, commitments=commitments)
        return render_to_string(TEMPLATE_NAME, context)


# --- PDF ---------------------------------------------------------------------------------------


def _local_only_fetcher():
    from weasyprint.urls import URLFetcher

    root = DOCUMENTS_DIR.resolve()

    class LocalOnlyFetcher(URLFetcher):
        """Ne lit que des fichiers du dossier des documents : jamais le réseau ni le reste du disque."""

        def fetch(self, url, headers=None):
            if not url.startswith("file:"):
                raise ValueError(f"Ressource distante refusée : {url}")
            from urllib.request import url2pathname

            path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
            if not path.is_relative_to(root):
                raise ValueError(f"Fichier hors du dossier des documents refusé : {url}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols={"file"})


PDF_VARIANT = "pdf/ua-1"
PDF_LANGUAGE = "fr-FR"


def _french_metadata(metadata):
    """Les métadonnées du document, dont le XMP dit aussi la langue (``dc:language``).

    La variante PDF/UA-1 de WeasyPrint écrit déjà le XMP avec le titre (``<title>``) et
    l'identifiant PDF/UA (``pdfuaid:part``) ; la langue n'y figure pas, on l'ajoute ici.
    """
    from xml.etree.ElementTree import SubElement, fromstring, tostring

    from weasyprint.document import DocumentMetadata
    from weasyprint.pdf.metadata import NS

    class FrenchMetadata(DocumentMetadata):
        def generate_rdf_metadata(self, variant, version, conformance):
            rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))
            description = SubElement(rdf, f"{{{NS['rdf']}}}Description")
            description.attrib[f"{{{NS['rdf']}}}about"] = ""
            bag = SubElement(SubElement(description, f"{{{NS['dc']}}}language"), f"{{{NS['rdf']}}}Bag")
            SubElement(bag, f"{{{NS['rdf']}}}li").text = PDF_LANGUAGE
            return tostring(rdf, encoding="utf-8")

    return FrenchMetadata(**vars(metadata))


# Un PDF ne dépend que de son HTML, de sa feuille de style et de la version de WeasyPrint : le même
# document redemandé (rapport adopté public, version figée, cahier) est relu dans le cache au lieu
# d'être recomposé (plusieurs secondes de calcul pour un rapport d'une vingtaine de pages).
PDF_CACHE_SECONDS = 24 * 3600


@functools.cache
def _weasyprint_version() -> str:
    """La version installée de WeasyPrint, lue dans les métadonnées du paquet : un PDF déjà en cache
    est rendu sans importer WeasyPrint (≈ 0,3 s au premier import dans un processus)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weasyprint")
    except PackageNotFoundError:  # installé sans métadonnées : la version du module
        import weasyprint

        return weasyprint.__version__


def _pdf_cache_key(html: str, css_path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for part in (_weasyprint_version(), PDF_VARIANT, PDF_LANGUAGE, css_path.read_text(), html):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"cdv:pdf:{digest.hexdigest()}"


def html_to_pdf(html: str, css_path: Path = CSS_PATH) -> bytes:
    """HTML → PDF balisé (PDF/UA-1), avec métadonnées XMP : titre (``<title>``), langue, identifiant
    PDF/UA. ``css_path`` : une feuille du dossier des documents. Le même HTML avec la même feuille
    donne le même PDF : il est gardé en cache (``PDF_CACHE_SECONDS``) et n'est composé qu'une fois."""
    from django.core.cache import cache

    key = _pdf_cache_key(html, css_path)
    cached = cache.get(key)
    if cached is not None:
        return cached
    content = _compose_pdf(html, css_path)
    cache.set(key, content, PDF_CACHE_SECONDS)
    return content


def _compose_pdf(html: str, css_path: Path) -> bytes:
    from weasyprint import CSS, HTML

    fetcher = _local_only_fetcher()
    base_url = DOCUMENTS_DIR.as_uri() + "/"
    stylesheet = CSS(filename=str(css_path), base_url=base_url, url_fetcher=fetcher)
    source = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    document = source.render(stylesheets=[stylesheet], pdf_variant=PDF_VARIANT)
    document.metadata = _french_metadata(document.metadata)
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def build_cahier_pdf(*, contract, partner=None, commitments=None) -> bytes:
    """Le cahier d'engagements d'un partenaire, ou (``partner=None``) la compilation du contrat.

    Renvoie les octets du PDF. Lève ``PartnerNotInContract`` si le partenaire est étranger au
    contrat. ``commitments`` (facultatif) restreint les engagements repris.
    """
    return html_to_pdf(render_cahier_html(contract=contract, partner=partner, commitments=commitments))
