"""L'acte attributif d'une ligne votée (arrêté, convention, CPO), en DOCX (python-docx) et en PDF
(WeasyPrint), A4, en français.

Le contenu est défini UNE fois (``act_document`` : un titre puis une suite de blocs — titres,
paragraphes, listes, tableaux, signatures) et rendu deux fois : ``build_act_docx`` l'écrit avec
python-docx, ``build_act_pdf`` le passe au gabarit ``grants/acts/pdf.html`` (échappement de
Django). Ce qui change d'un financeur à l'autre vient de son ``ActTemplate`` (visas, articles
propres, signataire, lieu), avec des valeurs par défaut ; le reste est commun : parties, objet,
quartiers, enjeu, montant (et montants annuels d'une CPO), versement et échéancier, compte-rendu
financier (CERFA 15059), contrat d'engagement républicain, résiliation et reversement.

Les droits ne sont pas vérifiés ici : la vue les vérifie (``follow_up_abilities``).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst, slugify

from cdv.commitments.documents import DOCUMENTS_DIR, html_to_pdf
from cdv.core.docx import new_french_a4_document, repeat_header_row
from cdv.core.french import day_month_year

from .blocking import report_due_date
from .enums import CONVENTION_THRESHOLD, REPORT_DUE_MONTHS, ActKind, ProjectScope
from .models import ActTemplate, GrantAct

CSS_PATH = DOCUMENTS_DIR / "aap_acte.css"


TITLES = {
    ActKind.DECISION: "Arrêté attributif de subvention",
    ActKind.CONVENTION: "Convention attributive de subvention",
    ActKind.MULTI_YEAR: "Convention pluriannuelle d'objectifs",
}

DEFAULT_VISAS = [
    "Vu la loi n° 2000-321 du 12 avril 2000 relative aux droits des citoyens dans leurs relations "
    "avec les administrations, notamment ses articles 9-1, 10 et 10-1 ;",
    "Vu le décret n° 2001-495 du 6 juin 2001 relatif à la transparence financière des aides "
    "octroyées par les personnes publiques ;",
    "Vu la loi n° 2021-1109 du 24 août 2021 confortant le respect des principes de la République "
    "et le décret n° 2021-1947 du 31 décembre 2021 approuvant le contrat d'engagement républicain ;",
]


# ---------------------------------------------------------------------------------------------
# Règles : type d'acte, montants annuels, référence


def kind_for(amount: Decimal, years: int) -> str:
    """Arrêté sous 23 000 € par an, convention au-delà (ou égal), CPO pour un projet pluriannuel."""
    if years > 1:
        return ActKind.MULTI_YEAR
    return ActKind.DECISION if amount < CONVENTION_THRESHOLD else ActKind.CONVENTION


def kind_label(kind: str) -> str:
    """« décision attributive (arrêté) », « convention pluriannuelle d'objectifs (CPO) »."""
    label = ActKind(kind).label
    return label[0].lower() + label[1:]


def yearly_amounts_of(line, years: int) -> list[str]:
    """CPO : le montant voté pour la première année, puis les montants des années suivantes de la
    ligne (textes décimaux) ; vide pour un projet d'un an."""
    if years <= 1:
        return []
    later = list(line.later_amounts or [])[: years - 1]
    amounts = [Decimal(line.voted_amount or 0)]
    for value in later:
        try:
            amounts.append(Decimal(str(value)))
        except ArithmeticError:
            amounts.append(Decimal("0"))
    return [str(a.quantize(Decimal("0.01"))) for a in amounts]


def default_prefix(partner) -> str:
    """Le préfixe des références sans modèle : le sigle (ou le nom) du financeur en capitales."""
    return (slugify(partner.short_name or partner.name).upper() or "ACTE")[:20].strip("-")


def reference_for(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:04d}"


# ---------------------------------------------------------------------------------------------
# Écritures françaises


def euros(value) -> str:
    """« 12 500,00 € » : toujours deux décimales dans un acte (espaces insécables)."""
    value = Decimal(value or 0).quantize(Decimal("0.01"))
    units, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    sign = "-" if value < 0 else ""
    return f"{sign}{chr(0x202F).join(groups)},{cents}\u00a0€"


def french_date(value: datetime.date | None) -> str:
    return "—" if value is None else day_month_year(value)


# ---------------------------------------------------------------------------------------------
# Le contenu, défini une fois


@dataclass
class Block:
    """Un morceau de l'acte. ``kind`` : heading, para, bullets, table, signatures."""

    kind: str
    text: str = ""
    lead: str = ""  # début en gras d'un paragraphe
    items: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""


@dataclass
class ActDocument:
    title: str
    reference: str
    issuer: str
    heading_lines: list[str]
    blocks: list[Block]
    author: str
    is_demo: bool = False
    draft: bool = False


def _heading(text):
    return Block("heading", text=text)


def _para(text, lead=""):
    return Block("para", text=text, lead=lead)


def _split(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _paragraphs(text: str) -> list[str]:
    """Les paragraphes d'un texte saisi (séparés par une ligne vide)."""
    chunks, current = [], []
    for line in (text or "").splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            chunks.append(" ".join(current))
            current = []
    if current:
        chunks.append(" ".join(current))
    return chunks


def template_of(act: GrantAct) -> ActTemplate | None:
    """Le modèle du financeur tel qu'il était quand l'acte a été préparé (son historique) : un
    modèle modifié ensuite ne vaut que pour les actes préparés, ou préparés de nouveau, après."""
    call = act.line.application.call
    template = ActTemplate.objects.filter(
        contract_id=call.contract_id, partner_id=act.funder.partner_id
    ).first()
    if template is None:
        return None
    try:
        return template.history.as_of(act.prepared_at)
    except ActTemplate.DoesNotExist:  # modèle créé après la préparation : valeurs par défaut
        return None


def _address(partner) -> str:
    parts = [partner.address, " ".join(p for p in [partner.postal_code, partner.city] if p)]
    return ", ".join(p for p in parts if p)


def _identity(partner) -> str:
    ids = []
    if partner.siret:
        ids.append(f"SIRET {partner.siret}")
    if partner.rna:
        ids.append(f"RNA {partner.rna}")
    return ", ".join(ids) or "SIRET et RNA non renseignés"


def act_document(act: GrantAct, template: ActTemplate | None = None) -> ActDocument:
    """Le contenu de l'acte. ``act.line.application`` (avec ``call__contract``, ``partner``,
    ``enjeu``, ``objective``, ``action``, ``qpvs``) et ``act.line.instalments`` sont lus."""
    line = act.line
    application = line.application
    call = application.call
    contract = call.contract
    association = application.partner
    funder = act.funder.partner
    kind = ActKind(act.kind)
    convention = kind != ActKind.DECISION
    signatory_title = (template.signatory_title if template else "") or f"le représentant de {funder}"
    signatory_name = template.signatory_name if template else ""
    place = (template.place if template else "") or funder.city or "…"
    visas = _split(template.visas) if template and template.visas.strip() else list(DEFAULT_VISAS)
    representative = association.legal_representative or "son représentant légal"
    if association.legal_representative_title:
        representative += f", {association.legal_representative_title}"
    decision = (
        f"Vu la décision du comité des financeurs du {french_date(line.decision_date)}"
        + (f" (référence {line.decision_reference})" if line.decision_reference else "")
        + " ;"
    )
    submitted = application.submitted_at
    submitted_on = timezone.localtime(submitted).date() if submitted else None
    request_visa = (
        f"Vu la demande de subvention déposée par l'association {association} le "
        f"{french_date(submitted_on)} "
        f"(dossier n° {application.number or '—'}) ;"
    )
    visas += [f"Vu le contrat de ville « {contract.title} » ;", decision, request_visa]

    blocks: list[Block] = []
    if convention:
        blocks.append(_heading("Entre les soussignés"))
        blocks.append(
            _para(
                f", {_address(funder) or 'adresse non renseignée'}, représenté par "
                f"{signatory_name + ', ' if signatory_name else ''}{signatory_title}, "
                "ci-après dénommé « le financeur »,",
                lead=str(funder),
            )
        )
        blocks.append(_para("et"))
        blocks.append(
            _para(
                f", association dont le siège est {_address(association) or 'non renseigné'} "
                f"({_identity(association)}), "
                f"représentée par {representative}, ci-après dénommée « l'association »,",
                lead=str(association),
            )
        )
        blocks.append(_heading("Visas"))
    else:
        blocks.append(_para(f"{capfirst(signatory_title)}{', ' + signatory_name if signatory_name else ''},"))
    blocks.append(Block("bullets", items=visas))
    blocks.append(_para("Il est convenu ce qui suit :" if convention else "ARRÊTE :"))

    number = 0

    def article(title):
        nonlocal number
        number += 1
        blocks.append(_heading(f"Article {number} — {title}"))

    # Objet
    article("Objet")
    verb = "Le financeur attribue" if convention else f"{funder} attribue"
    blocks.append(
        _para(
            f"{verb} à l'association {association} ({_identity(association)}), dont le siège est "
            f"{_address(association) or 'non renseigné'}, représentée par {representative}, une "
            f"subvention de fonctionnement pour la réalisation du projet « {application.title} », "
            f"retenu par l'appel à projets « {call.title} » ({call.year}) du contrat de ville."
        )
    )
    if application.summary.strip():
        blocks.append(_para(application.summary.strip(), lead="Le projet : "))
    qpvs = [q.name for q in application.qpvs.all()]
    if application.scope == ProjectScope.WHOLE or not qpvs:
        where = "tout le territoire du contrat de ville"
    else:
        where = ", ".join(qpvs)
    blocks.append(_para(where, lead="Quartier(s) prioritaire(s) de la politique de la ville : "))
    served = []
    if application.enjeu_id:
        served.append(f"enjeu « {application.enjeu.title} »")
    if application.objective_id:
        served.append(f"objectif « {application.objective.title} »")
    if application.action_id:
        served.append(f"action « {application.action.title} »")
    if served:
        blocks.append(_para(", ".join(served) + ".", lead="Au titre du contrat de ville : "))
    if application.start_date and application.end_date:
        blocks.append(
            _para(
                f"du {french_date(application.start_date)} au {french_date(application.end_date)}.",
                lead="Période de réalisation : ",
            )
        )

    # Montant
    article("Montant de la subvention")
    yearly = [Decimal(v) for v in (act.yearly_amounts or [])]
    if kind == ActKind.MULTI_YEAR and yearly:
        blocks.append(
            _para(
                f"La subvention s'élève à {euros(act.amount)} pour la première année ({call.year}). "
                f"Pour les {len(yearly)} années de la convention, les montants annuels prévisionnels "
                f"sont les suivants, soit {euros(sum(yearly, Decimal('0')))} au total. Les montants des "
                "années suivantes sont attribués sous réserve du vote des crédits correspondants et du "
                "compte-rendu de l'année écoulée."
            )
        )
        blocks.append(
            Block(
                "table",
                caption="Montants annuels de la convention",
                headers=["Année", "Montant"],
                rows=[[str(call.year + i), euros(a)] for i, a in enumerate(yearly)],
            )
        )
    else:
        blocks.append(_para(f"Le montant de la subvention est de {euros(act.amount)}."))
    if act.funder.label:
        blocks.append(_para(act.funder.label, lead="Imputation : "))

    # Versement
    article("Modalités de versement")
    instalments = list(line.instalments.all())
    if instalments:
        blocks.append(_para("La subvention est versée selon l'échéancier suivant :"))
        blocks.append(
            Block(
                "table",
                caption="Échéancier de versement",
                headers=["Échéance", "Montant", "Date prévue", "Condition"],
                rows=[
                    [
                        i.get_kind_display(),
                        euros(i.amount),
                        french_date(i.due_date) if i.due_date else "—",
                        i.condition or "—",
                    ]
                    for i in instalments
                ],
            )
        )
    else:
        blocks.append(_para("La subvention est versée en une fois, après la signature du présent acte."))
    blocks.append(
        _para(
            "Les versements sont faits sur le compte bancaire de l'association dont le relevé "
            "d'identité bancaire a été joint à la demande."
        )
    )

    # Compte-rendu
    article("Compte-rendu financier")
    due = report_due_date(application)
    blocks.append(
        _para(
            "L'association transmet au financeur le compte-rendu financier de l'action (formulaire "
            "CERFA n° 15059), avec le bilan qualitatif de l'action et les indicateurs d'évaluation, "
            f"dans les {REPORT_DUE_MONTHS} mois qui suivent la fin de l'action"
            + (f", soit au plus tard le {french_date(due)}." if due else ".")
            + " Il se dépose dans l'espace de l'association sur la plateforme du contrat de ville."
        )
    )

    # Engagement républicain
    article("Contrat d'engagement républicain")
    blocks.append(
        _para(
            "L'association a souscrit le contrat d'engagement républicain prévu par l'article 10-1 de "
            "la loi n° 2000-321 du 12 avril 2000. Tout manquement à ses engagements constaté pendant "
            "la période couverte par le présent acte entraîne le retrait de la subvention et le "
            "reversement des sommes perçues depuis ce manquement, dans les six mois qui suivent la "
            "décision de retrait."
        )
    )

    # Résiliation
    article("Résiliation et reversement")
    blocks.append(
        _para(
            "En cas d'inexécution, de modification substantielle sans accord écrit du financeur ou "
            "de retard significatif dans la réalisation de l'action, le financeur peut exiger le "
            "reversement de tout ou partie des sommes versées, après avoir entendu l'association. "
            "Il en va de même si le compte-rendu financier n'est pas transmis dans le délai prévu."
            + (
                " Chacune des parties peut résilier la convention par lettre recommandée avec accusé "
                "de réception, avec un préavis d'un mois, en cas de non-respect de ses stipulations."
                if convention
                else ""
            )
        )
    )

    # Articles propres au financeur
    clauses = _paragraphs(template.clauses) if template else []
    if clauses:
        article("Dispositions particulières")
        blocks.extend(_para(text) for text in clauses)

    if not convention:
        article("Exécution")
        blocks.append(
            _para(
                f"{capfirst(signatory_title)} est chargé de l'exécution du présent arrêté, qui sera "
                "notifié à l'association."
            )
        )

    signatures = [[f"Pour {funder}", capfirst(signatory_title), signatory_name]]
    if convention:
        signatures.append(
            [
                f"Pour l'association {association}",
                association.legal_representative_title or "Le représentant légal",
                association.legal_representative,
            ]
        )
    blocks.append(_para(f"Fait à {place}, le {french_date(act.signed_on) if act.signed_on else '…'}"))
    blocks.append(Block("signatures", rows=signatures))

    return ActDocument(
        title=TITLES[kind],
        reference=act.reference,
        issuer=str(funder),
        heading_lines=[
            f"Référence : {act.reference}",
            f"Contrat de ville « {contract.title} » — {call.title}",
            f"Dossier n° {application.number or '—'} — {association}",
        ],
        blocks=blocks,
        author=str(funder),
        is_demo=application.is_demo,
        draft=act.signed_on is None,
    )


def act_filename(act: GrantAct, ext: str) -> str:
    return f"{slugify(act.reference) or 'acte'}.{ext}"


# ---------------------------------------------------------------------------------------------
# Rendus


def build_act_pdf(act: GrantAct, template: ActTemplate | None = None) -> bytes:
    document = act_document(act, template)
    html = render_to_string("grants/acts/pdf.html", {"document": document})
    return html_to_pdf(html, CSS_PATH)


def build_act_docx(act: GrantAct, template: ActTemplate | None = None) -> bytes:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = act_document(act, template)
    doc = new_french_a4_document()
    section = doc.sections[0]
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    style = doc.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10)
    doc.core_properties.title = f"{document.title} {document.reference}"
    doc.core_properties.author = document.author
    section.header.paragraphs[0].text = f"{document.issuer} — {document.reference}"

    if document.is_demo:
        doc.add_paragraph().add_run("Données de démonstration").bold = True
    if document.draft:
        doc.add_paragraph().add_run("Projet d'acte : non signé").italic = True
    doc.add_paragraph().add_run(document.issuer).bold = True
    title = doc.add_heading(document.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in document.heading_lines:
        doc.add_paragraph(text)
    for block in document.blocks:
        if block.kind == "heading":
            doc.add_heading(block.text, level=2)
        elif block.kind == "para":
            paragraph = doc.add_paragraph()
            if block.lead:
                paragraph.add_run(block.lead).bold = True
            paragraph.add_run(block.text)
        elif block.kind == "bullets":
            for item in block.items:
                doc.add_paragraph(item, style="List Bullet")
        elif block.kind == "table":
            if block.caption:
                doc.add_paragraph().add_run(block.caption).bold = True
            grid = doc.add_table(rows=1, cols=len(block.headers))
            grid.style = "Table Grid"
            repeat_header_row(grid.rows[0])
            for cell, text in zip(grid.rows[0].cells, block.headers, strict=True):
                cell.text = ""
                cell.paragraphs[0].add_run(text).bold = True
            for row in block.rows:
                for cell, text in zip(grid.add_row().cells, row, strict=True):
                    cell.text = text
        elif block.kind == "signatures":
            # Une colonne par partie : « Pour … » en ligne d'en-tête, puis le signataire.
            grid = doc.add_table(rows=2, cols=len(block.rows))
            repeat_header_row(grid.rows[0])
            for head, cell, lines in zip(grid.rows[0].cells, grid.rows[1].cells, block.rows, strict=True):
                head.text = ""
                head.paragraphs[0].add_run(lines[0]).bold = True
                first, *others = [text for text in lines[1:] if text] + ["\n\n(signature)"]
                cell.text = first
                for text in others:
                    cell.add_paragraph(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
