"""Le rapport d'évaluation en PDF (WeasyPrint) et en DOCX modifiable (python-docx).

Les deux formats se construisent à partir du même contenu : le ``payload`` de ``report.build_payload``
(données simples, JSON), celui d'une version figée (``EvaluationReport.payload``) ou celui du moment.
Une version figée se relit donc à l'identique, quelles que soient les données d'aujourd'hui : rien
n'est relu en base pendant le rendu, et la date imprimée est celle du gel, jamais l'heure du rendu.

Plan du document : page de titre (contrat, nature, période, état : « Version N figée le … » ou
« Document de travail, non figé »), synthèse, méthode, puis par enjeu chaque question évaluative
(critère, éléments de preuve avec graphiques, jugement des évaluateurs et, en regard, l'avis agrégé
des conseils citoyens), les recommandations, et une page par quartier.

Les graphiques sont ceux des pages et du bilan annuel (``cdv.indicators.charts``) : un SVG, son
tableau de données et son texte alternatif. Le DOCX ne sait pas intégrer un SVG : il donne le
tableau de données et le texte alternatif de chaque graphique, et le dit.

Quelle version rend ``evaluation_document`` : celle qu'on lui passe ; sinon (sauf ``live=True``) la
version adoptée s'il y en a une, à défaut la dernière version figée ; sans version figée, les données
du moment (« Document de travail, non figé »).

Aucune identité de répondant n'est jamais imprimée : le contenu ne porte que des résultats agrégés
par quartier (nombre de réponses, moyenne, répartition, textes libres triés par ordre alphabétique).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from cdv.core import french
from cdv.core.docx import new_french_a4_document, repeat_header_row
from cdv.core.figures import french_number
from cdv.indicators.charts import GapChart, LineChart, Series

from .enums import EvaluationKind, JudgementScale
from .results import masked_label

TEMPLATE_NAME = "documents/evaluation_report.html"
CSS_NAME = "evaluation_report.css"
FORMATS = ("pdf", "docx")
WORKING_DRAFT = "Document de travail, non figé"
DEMO_LABEL = "Données de démonstration : ce rapport n'évalue pas un contrat réel."
DOCX_CHARTS_NOTE = (
    "Les graphiques du rapport en PDF sont donnés ici sous forme de tableaux de données, avec leur "
    "texte alternatif : le format DOCX ne permet pas d'y intégrer les graphiques (SVG)."
)
NO_JUDGEMENT = "Pas encore de jugement pour cette question."
NO_COUNCIL = "Aucun conseil citoyen n'a été interrogé sur cette question, ou aucune réponse n'est arrivée."
SCALE_MAX = max(JudgementScale.values)
NO_QPV_COMMITMENT = (
    "Aucun engagement confirmé ne cite ce quartier (les engagements de portée générale s'y appliquent)."
)
KIND_SLUGS = {EvaluationKind.MID_TERM: "mi-parcours", EvaluationKind.FINAL: "finale"}
NBSP = "\u00a0"

# Ce que la plateforme calcule, dit une fois pour toutes dans la partie « Méthode ».
METHOD_NOTES = [
    "Indicateurs : pour chaque enjeu, la valeur de l'ensemble des quartiers prioritaires (rapport des "
    "sommes, secret statistique respecté) et l'écart à la référence au début de la période évaluée "
    "(dernière valeur connue au plus tard la première année) et à la fin (dernière valeur connue au "
    "plus tard la dernière année). Une évolution négative de l'écart signifie qu'il se resserre. "
    "Les avertissements de comparabilité accompagnent chaque indicateur concerné.",
    "Réalisation des engagements : un engagement compte dès que le cahier du partenaire est confirmé. "
    "Le taux de réalisation est la part des engagements réalisés en tout ou partie ; le taux de "
    "réalisation complète, la part des engagements entièrement réalisés. Ils sont donnés pour "
    "l'ensemble, par partenaire, par enjeu et par quartier.",
    "Moyens : les moyens réellement mobilisés, déclarés dans les bilans annuels acceptés de la "
    "période, au regard des moyens engagés pour les mêmes années (ETP et euros).",
    "Retours d'expérience publiés et décisions des instances liés aux engagements et aux actions de "
    "chaque question, avec l'état de leur suivi.",
    "Avis des conseils citoyens : chaque conseil citoyen répond au questionnaire de son quartier, en "
    "ligne ou sur formulaire papier. Les réponses sont anonymes et ne sont publiées qu'agrégées par "
    "quartier : nombre de réponses, moyenne et répartition des notes de 1 à 5, textes libres triés "
    "par ordre alphabétique. Aucun nom de répondant n'apparaît dans ce rapport.",
    "Versions : adopté par le comité de pilotage, le rapport est figé ; chaque version figée est "
    "conservée telle quelle, avec son empreinte SHA-256, et se relit à l'identique.",
]


# --- Mise en forme française -------------------------------------------------------------------


def _dec(value) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fr(value, suffix: str = "") -> str:
    """Un nombre à la française (« 12 345,5 »), « — » s'il manque."""
    if value is None:
        return "—"
    return french_number(_dec(value)) + suffix


def fr_signed(value, suffix: str = "") -> str:
    """Une évolution avec son signe : « +1,2 », « −0,5 », « 0 »."""
    if value is None:
        return "—"
    number = _dec(value)
    sign = "+" if number > 0 else ("−" if number < 0 else "")
    return f"{sign}{french_number(abs(number))}{suffix}"


def pct(value) -> str:
    return fr(value, f"{NBSP}%")


def fr_date(value) -> str:
    """Date ISO (ou date, datetime) → « 12 mars 2027 »."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value) if "T" in value else datetime.date.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    with translation.override("fr"):
        return date_format(value, "j F Y")


def fr_datetime(value: str) -> str:
    moment = datetime.datetime.fromisoformat(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{fr_date(moment.date())} à {moment:%H}{NBSP}h{NBSP}{moment:%M}"


# --- Version ------------------------------------------------------------------------------------


def version_info(report) -> dict:
    """Ce que le document dit d'une version figée (``EvaluationReport``)."""
    evaluation = report.evaluation
    adopted_on = evaluation.adopted_on if report.adopted else None
    meeting = evaluation.adopting_meeting if report.adopted and evaluation.adopting_meeting_id else None
    return {
        "number": report.version,
        "frozen_at": report.created_at.isoformat(),
        "adopted": report.adopted,
        "adopted_on": adopted_on.isoformat() if adopted_on else None,
        "meeting": str(meeting) if meeting else None,
        "checksum": report.checksum,
    }


def status_line(version: dict | None) -> str:
    if version is None:
        return WORKING_DRAFT
    line = f"Version {version['number']} figée le {fr_date(version['frozen_at'])}"
    if version["adopted"]:
        line += ", adoptée"
        if version.get("adopted_on"):
            line += f" le {fr_date(version['adopted_on'])}"
        if version.get("meeting"):
            line += f" par {version['meeting']}"
    return line


# --- Contenu affiché (commun au PDF et au DOCX) -------------------------------------------------

REALISATION_HEADERS = [
    "",
    "Engagés",
    "Réalisés",
    "Partiellement",
    "Non réalisés",
    "Abandonnés",
    "En cours",
    "Taux de réalisation",
    "Réalisation complète",
]


def realisation_row(r: dict) -> list[str]:
    return [
        r["label"],
        str(r["engaged"]),
        str(r["done"]),
        str(r["partly_done"]),
        str(r["not_done"]),
        str(r["abandoned"]),
        str(r["ongoing"]),
        pct(r["rate"]),
        pct(r["full_rate"]),
    ]


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    css: str = ""

    def html(self) -> str:
        """Le tableau en HTML (textes échappés), légende et en-têtes de colonnes et de lignes."""
        head = "".join(f'<th scope="col">{escape(h)}</th>' for h in self.headers)
        body = "".join(
            f'<tr><th scope="row">{escape(row[0])}</th>'
            + "".join(f"<td>{escape(c)}</td>" for c in row[1:])
            + "</tr>"
            for row in self.rows
        )
        return mark_safe(  # chaque texte est échappé ci-dessus
            f'<table class="data {self.css}"><caption>{escape(self.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def chart_table(chart) -> Table:
    data = chart.table()
    return Table(
        caption=f"Données du graphique ({data['unit']})" if data.get("unit") else "Données du graphique",
        headers=["", *data["headers"]],
        # « s » du secret statistique : le tableau échappe ses textes (le DOCX n'a pas de balises).
        rows=[[label, *(strip_tags(c) for c in cells)] for label, cells in data["rows"]],
    )


def _indicator_chart(indicator: dict):
    start, end = indicator["start"], indicator["end"]
    unit = indicator["unit"]
    if start and end and start["qpv"] is not None and end["qpv"] is not None:
        periods = [start["period"], end["period"]]
        series = [
            Series("Ensemble des QPV", [(periods[0], _dec(start["qpv"])), (periods[1], _dec(end["qpv"]))])
        ]
        if start["reference"] is not None or end["reference"] is not None:
            series.append(
                Series(
                    end["reference_label"] or start["reference_label"] or "Référence",
                    [(periods[0], _dec(start["reference"])), (periods[1], _dec(end["reference"]))],
                )
            )
        return LineChart(title=f"{indicator['name']} ({unit})", unit=unit, series=series)
    known = end or start
    if known and known["qpv"] and known["qpv"] > 0:  # GapChart : échelle de 0 au plus grand, non nul
        return GapChart(
            title=f"{indicator['name']} en {known['period']} ({unit})",
            unit=unit,
            bars=[("Ensemble des QPV", _dec(known["qpv"]))],
            reference_label=known["reference_label"] or "Référence",
            reference_value=_dec(known["reference"]),
        )
    return None


def _period_cell(period: dict | None) -> str:
    if not period:
        return "—"
    text = f"{period['period']} : QPV {fr(period['qpv'])}"
    if period["reference"] is not None:
        text += f" ; {period['reference_label']} {fr(period['reference'])}"
    if period["gap_points"] is not None:
        text += f" ; écart {fr_signed(period['gap_points'])}"
    return text


def _rate_chart(title: str, rows: list[dict], overall: dict):
    rated = [r for r in rows if r["rate"] is not None]
    if len(rated) < 2 or not any(r["rate"] for r in rated):
        return None  # rien à comparer (et GapChart ne sait pas tracer une échelle nulle)
    return GapChart(
        title=title,
        unit="%",
        bars=[(r["label"], _dec(r["rate"])) for r in rated],
        reference_label="Ensemble des engagements liés",
        reference_value=_dec(overall["rate"]),
    )


def _council_view(item: dict) -> dict:
    scale = item["kind"] == "ECHELLE"
    if scale and item["count"]:
        distribution = ", ".join(
            f"note {note} : {n}" for note, n in enumerate(item["distribution"] or [], start=1)
        )
        summary = (
            f"{item['count']} réponse{'s' if item['count'] > 1 else ''}, moyenne {fr(item['mean'])} sur 5 "
            f"({distribution})"
        )
    elif scale:
        summary = "Aucune réponse."
    else:
        n = len(item["texts"])
        summary = f"{n} réponse{'s' if n > 1 else ''} libre{'s' if n > 1 else ''}" if n else "Aucune réponse."
    return {"qpv": item["qpv"], "text": item["text"], "summary": summary, "texts": item["texts"]}


@dataclass
class QuestionView:
    number: int
    text: str
    criterion: str
    enjeux: list[str]
    objectives: list[str]
    indicators: list[dict]
    indicator_table: Table | None
    charts: list = field(default_factory=list)
    realisation: Table | None = None
    rate_charts: list = field(default_factory=list)
    means: Table | None = None
    feedback: list[dict] = field(default_factory=list)
    decisions: Table | None = None
    judgement: dict | None = None
    council: list[dict] = field(default_factory=list)


def _question_view(q: dict) -> QuestionView:
    ev = q["evidence"]
    indicators = ev["indicators"]
    indicator_table = None
    if indicators:
        indicator_table = Table(
            caption="Indicateurs des enjeux de la question",
            css="indicators",
            headers=[
                "Indicateur",
                "Début de période",
                "Fin de période",
                "Évolution (QPV)",
                "Évolution de l'écart",
            ],
            rows=[
                [
                    f"{i['name']} ({i['unit']})" if i["unit"] else i["name"],
                    _period_cell(i["start"]),
                    _period_cell(i["end"]),
                    (
                        f"{fr_signed(i['change_points'])} {i.get('difference_unit', 'points')}"
                        + (
                            f" ({fr_signed(i['change_percent'], NBSP + '%')})"
                            if i["change_percent"] is not None
                            else ""
                        )
                        if i["change_points"] is not None
                        else "—"
                    ),
                    f"{fr_signed(i['gap_change'])} points" if i["gap_change"] is not None else "—",
                ]
                for i in indicators
            ],
        )
    charts = [c for c in (_indicator_chart(i) for i in indicators) if c is not None]
    overall = ev["overall"]
    realisation = None
    rate_charts = []
    if overall["engaged"]:
        rows = [realisation_row({**overall, "label": "Ensemble des engagements liés"})]
        for group, label in (
            ("by_enjeu", "par enjeu"),
            ("by_partner", "par partenaire"),
            ("by_qpv", "par quartier"),
        ):
            for r in ev[group]:
                rows.append(realisation_row({**r, "label": f"{r['label']} ({label})"}))
        realisation = Table(
            caption="Réalisation des engagements confirmés liés à la question",
            css="realisation",
            headers=REALISATION_HEADERS,
            rows=rows,
        )
        for group, title in (
            ("by_enjeu", "Taux de réalisation par enjeu (%)"),
            ("by_partner", "Taux de réalisation par partenaire (%)"),
            ("by_qpv", "Taux de réalisation par quartier (%)"),
        ):
            chart = _rate_chart(title, ev[group], overall)
            if chart is not None:
                rate_charts.append(chart)
    m = ev["means"]
    means = None
    if any(m[k] for k in ("committed_fte", "committed_eur", "mobilised_fte", "mobilised_eur")):
        means = Table(
            caption="Moyens engagés et mobilisés sur la période",
            css="means",
            headers=["", "ETP", "Euros"],
            rows=[
                ["Engagés (cahiers)", fr(m["committed_fte"]), fr(m["committed_eur"], f"{NBSP}€")],
                ["Mobilisés (bilans acceptés)", fr(m["mobilised_fte"]), fr(m["mobilised_eur"], f"{NBSP}€")],
                ["Part mobilisée", pct(m["fte_ratio"]), pct(m["eur_ratio"])],
            ],
        )
    decisions = None
    if ev["decisions"]:
        decisions = Table(
            caption="Décisions des instances et leur suivi",
            css="decisions",
            headers=["Instance", "Décision", "Suivi"],
            rows=[
                [
                    f"{d['meeting']} ({fr_date(d['date'])})",
                    d["text"],
                    d["status"] + (f" — {d['follow_up']}" if d["follow_up"] else ""),
                ]
                for d in ev["decisions"]
            ],
        )
    judgement = None
    if q["judgement"]:
        judgement = {
            "scale": q["judgement"]["scale"],
            "label": q["judgement"]["scale_label"],
            "scale_text": f"{q['judgement']['scale_label']} ({q['judgement']['scale']} sur {SCALE_MAX})",
            "text": q["judgement"]["text"],
        }
    return QuestionView(
        number=q["number"],
        text=q["text"],
        criterion=q["criterion_label"],
        enjeux=q["enjeux"],
        objectives=q["objectives"],
        indicators=indicators,
        indicator_table=indicator_table,
        charts=charts,
        realisation=realisation,
        rate_charts=rate_charts,
        means=means,
        feedback=ev["feedback"],
        decisions=decisions,
        judgement=judgement,
        council=[_council_view(i) for i in q["council"]],
    )


@dataclass
class Section:
    title: str
    questions: list[QuestionView]
    note: str = ""  # renvoi aux questions transversales qui portent aussi sur cet enjeu


TRANSVERSAL = "Questions transversales (plusieurs enjeux ou aucun)"


def _sections(payload, views: dict[int, QuestionView]) -> list[Section]:
    """Une section par enjeu, avec les questions qui ne portent que sur lui ; les questions sur
    plusieurs enjeux (ou aucun) dans une dernière section, citées par chaque enjeu concerné."""
    transversal = [n for n, v in views.items() if len(v.enjeux) != 1]
    sections = []
    for enjeu in payload["enjeux"]:
        numbers = [n for n in enjeu["questions"] if n in views]
        own = [views[n] for n in numbers if n not in transversal]
        shared = [n for n in numbers if n in transversal]
        if not own and not shared:
            note = "Aucune question évaluative ne porte sur cet enjeu."
        elif shared:
            cited = ", ".join(f"Q{n}" for n in shared)
            note = f"Voir aussi, parmi les questions transversales : {cited}."
        else:
            note = ""
        sections.append(Section(title=f"Enjeu {enjeu['number']}. {enjeu['title']}", questions=own, note=note))
    if transversal:
        sections.append(Section(title=TRANSVERSAL, questions=[views[n] for n in sorted(transversal)]))
    return sections


def _summary_table(views: list[QuestionView]) -> Table:
    return Table(
        caption="Les questions évaluatives et leur appréciation",
        css="summary",
        headers=["N°", "Question évaluative", "Critère", "Appréciation"],
        rows=[
            [
                f"Q{v.number}",
                v.text,
                v.criterion,
                v.judgement["label"] if v.judgement else "Pas encore de jugement",
            ]
            for v in views
        ],
    )


def _qpv_view(qpv: dict) -> dict:
    r = qpv["realisation"]
    council = qpv["council"]
    if council["responses"]:
        n, paper = council["responses"], council["on_paper"]
        responses = f"{n} réponse{'s' if n > 1 else ''} au questionnaire du conseil citoyen"
        if paper:
            responses += f", dont {paper} sur formulaire papier"
        if council.get("masked"):
            responses += f" ; {masked_label()}"
        elif council.get("hidden"):
            responses += " ; avis réservé, pendant l'évaluation, au pilote, aux évaluateurs et à ce conseil"
    elif council["items"]:
        responses = "Aucune réponse au questionnaire du conseil citoyen."
    else:
        responses = "Pas de questionnaire pour le conseil citoyen de ce quartier."
    return {
        "name": qpv["name"],
        "code": qpv["code"],
        "population": f"{fr(qpv['population'])} habitants" if qpv.get("population") else "",
        "realisation": (
            Table(
                caption="Engagements confirmés qui citent le quartier",
                css="realisation",
                headers=REALISATION_HEADERS,
                rows=[realisation_row({**r, "label": "Engagements du quartier"})],
            )
            if r["engaged"]
            else None
        ),
        "responses": responses,
        "items": [_council_view(i) for i in council["items"]],
    }


def headline_sentence(headline: dict | None) -> str:
    """L'écart que le contrat doit réduire, en une phrase : valeur, comparaison, écart, année, source."""
    if not headline:
        return ""
    unit = headline["unit"]
    difference = "points" if "%" in unit else unit
    text = (
        f"L'écart que le contrat doit réduire : {headline['label'][:1].lower()}{headline['label'][1:]} "
        f"{fr(headline['value'], NBSP + unit)} ({headline['perimeter']}), contre "
        f"{fr(headline['comparison_value'], NBSP + unit)} ({headline['comparison_perimeter']})"
    )
    if headline.get("gap_points") is not None:
        text += f", soit un écart de {fr_signed(headline['gap_points'], NBSP + difference)}"
        if headline.get("gap_ratio") is not None:
            text += f" (×{fr(headline['gap_ratio'])})"
    text += f". Source : {headline['source_label']}"
    if headline.get("published_on"):
        text += f", publié en {french.partial_date(headline['published_on'])}"
    text += "."
    if headline.get("note"):
        text += f" Précision : {headline['note'].rstrip('.')}."
    return text


def report_context(payload: dict, version: dict | None = None) -> dict:
    """Tout ce que le document montre, mis en forme (chaînes, tableaux, graphiques)."""
    evaluation = payload["evaluation"]
    views = {q["number"]: _question_view(q) for q in payload["questions"]}
    ordered = [views[n] for n in sorted(views)]
    judged = [v for v in ordered if v.judgement]
    scale_counts = [
        (scale.label, sum(1 for v in judged if v.judgement["scale"] == scale.value))
        for scale in sorted(JudgementScale, key=lambda s: -s.value)
    ]
    qpvs = [_qpv_view(q) for q in payload["qpvs"]]
    return {
        "p": payload,
        "evaluation": evaluation,
        "contract": payload["contract"],
        "version": version,
        "status_line": status_line(version),
        "frozen": version is not None,
        "state_date": (
            f"Données du {fr_datetime(payload['generated_at'])}" if payload.get("generated_at") else ""
        ),
        "is_demo": bool(evaluation.get("is_demo")),
        "demo_label": DEMO_LABEL,
        "questions": ordered,
        "judged_count": len(judged),
        "scale_counts": [(label, n) for label, n in scale_counts if n],
        "summary_table": _summary_table(ordered),
        "sections": _sections(payload, views),
        "method_notes": METHOD_NOTES,
        "headline": headline_sentence(payload.get("headline")),
        "recommendations": payload["recommendations"],
        "qpvs": qpvs,
        "questionnaire_count": sum(
            1 for q in payload["qpvs"] if q["council"]["items"] or q["council"].get("responses")
        ),
        "council_responses": payload.get("council_responses", 0),
        "no_judgement": NO_JUDGEMENT,
        "no_council": NO_COUNCIL,
        "no_qpv_commitment": NO_QPV_COMMITMENT,
        "calls": payload.get("calls"),  # absent d'une version figée avant qu'il n'y figure
        "calls_caption": calls_caption(payload.get("calls")),
    }


def document_title(payload: dict) -> str:
    return f"{payload['evaluation']['title']} — {payload['contract']['title']}"


# --- PDF ----------------------------------------------------------------------------------------


def render_html(payload: dict, version: dict | None = None) -> str:
    return render_to_string(TEMPLATE_NAME, report_context(payload, version))


def render_pdf(payload: dict, version: dict | None = None) -> bytes:
    """Le rapport en PDF balisé ; ``version`` : ``version_info(report)`` d'une version figée."""
    from cdv.commitments.documents import DOCUMENTS_DIR, html_to_pdf

    return html_to_pdf(render_html(payload, version), css_path=DOCUMENTS_DIR / CSS_NAME)


# --- DOCX ---------------------------------------------------------------------------------------


class _Docx:
    """Un document python-docx, avec les quelques gestes dont le rapport a besoin."""

    def __init__(self):
        from docx.shared import Pt

        self.doc = new_french_a4_document()
        style = self.doc.styles["Normal"]
        style.font.name = "DejaVu Sans"
        style.font.size = Pt(10)
        self._style_ids = {}

    def _style_id(self, name: str, kind) -> str | None:
        """L'identifiant du style ``name``, cherché une fois par document : python-docx le cherche à
        chaque emploi d'un style nommé, en parcourant tous les styles du document (le rapport en
        emploie plusieurs centaines de fois ; c'était près de la moitié du temps de sa composition)."""
        if (name, kind) not in self._style_ids:
            self._style_ids[name, kind] = self.doc.part.get_style_id(name, kind)
        return self._style_ids[name, kind]

    def add_paragraph(self, container, text="", style: str | None = None):
        """``container.add_paragraph(text, style)``, le style étant cherché une fois (``_style_id``)."""
        from docx.enum.style import WD_STYLE_TYPE

        paragraph = container.add_paragraph(text)
        if style is not None:
            paragraph._p.style = self._style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        return paragraph

    def grid_style(self, grid, style: str = "Table Grid"):
        """``grid.style = style``, le style étant cherché une fois (``_style_id``)."""
        from docx.enum.style import WD_STYLE_TYPE

        grid._tbl.tblStyle_val = self._style_id(style, WD_STYLE_TYPE.TABLE)

    def heading(self, text, level):
        # ``Document.add_heading`` : « Title » au niveau 0, sinon « Heading n ».
        return self.add_paragraph(self.doc, text, "Title" if level == 0 else f"Heading {level}")

    def para(self, text="", *, bold_lead: str = "", style=None, italic=False):
        paragraph = self.add_paragraph(self.doc, style=style)
        if bold_lead:
            paragraph.add_run(bold_lead).bold = True
        run = paragraph.add_run(text)
        run.italic = italic
        return paragraph

    def bullets(self, texts):
        for text in texts:
            self.add_paragraph(self.doc, text, "List Bullet")

    def page_break(self):
        self.doc.add_page_break()

    def table(self, table: Table, container=None):
        target = container if container is not None else self.doc
        if table.caption:
            caption = target.add_paragraph()
            caption.add_run(table.caption).bold = True
        # Toutes les lignes d'un coup : ``add_row`` ligne à ligne refait le même XML, plus lentement.
        grid = target.add_table(rows=1 + len(table.rows), cols=len(table.headers))
        self.grid_style(grid)
        rows = iter(grid.rows)
        header = next(rows)
        repeat_header_row(header)
        for cell, text in zip(header.cells, table.headers, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for grid_row, row in zip(rows, table.rows, strict=True):
            for cell, text in zip(grid_row.cells, row, strict=True):
                cell.text = text
        return grid

    def chart(self, chart):
        self.para(chart.text_alternative(), italic=True)
        self.table(chart_table(chart))

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n < 2 else plural}"


def _docx_council(d: _Docx, cell, council: list[dict], no_council: str):
    cell.text = "" if council else no_council
    for n, item in enumerate(council):
        paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        paragraph.add_run(f"{item['qpv']} — {item['text']}").bold = True
        cell.add_paragraph(item["summary"])
        for text in item["texts"]:
            d.add_paragraph(cell, f"« {text} »", "List Bullet")


def _docx_question(d: _Docx, v: QuestionView, ctx: dict):
    d.heading(f"Question {v.number}. {v.text}", 3)
    d.para(v.criterion, bold_lead="Critère : ")
    if v.enjeux:
        d.para(" ; ".join(v.enjeux), bold_lead="Enjeux : ")
    if v.objectives:
        d.para(" ; ".join(v.objectives), bold_lead="Objectifs : ")

    d.heading("Éléments de preuve", 4)
    if v.indicator_table:
        d.table(v.indicator_table)
        for i in v.indicators:
            if i["warning"]:
                d.para(i["warning"], bold_lead=f"Comparabilité — {i['name']} : ")
        for chart in v.charts:
            d.chart(chart)
    else:
        d.para("Aucun indicateur n'est rattaché aux enjeux de cette question.")
    if v.realisation:
        d.table(v.realisation)
        for chart in v.rate_charts:
            d.chart(chart)
    else:
        d.para("Aucun engagement confirmé n'est lié à cette question.")
    if v.means:
        d.table(v.means)
    if v.feedback:
        d.para("Retours d'expérience publiés", bold_lead="")
        d.bullets(
            f"{f['kind']} ({f['attribution']}) : {f['text']}"
            if f["attribution"]
            else f"{f['kind']} : {f['text']}"
            for f in v.feedback
        )
    if v.decisions:
        d.table(v.decisions)

    d.heading("Jugement et avis des conseils citoyens", 4)
    grid = d.doc.add_table(rows=2, cols=2)
    d.grid_style(grid)
    repeat_header_row(grid.rows[0])
    heads = ("Le jugement des évaluateurs", "L'avis des conseils citoyens")
    for cell, text in zip(grid.rows[0].cells, heads, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    left, right = grid.rows[1].cells
    if v.judgement:
        left.text = ""
        left.paragraphs[0].add_run(v.judgement["scale_text"]).bold = True
        for line in v.judgement["text"].splitlines():
            if line.strip():
                left.add_paragraph(line.strip())
    else:
        left.text = ctx["no_judgement"]
    _docx_council(d, right, v.council, ctx["no_council"])


def calls_caption(calls: dict | None) -> str:
    years = [f["year"] for f in (calls or {}).get("years", [])]
    if not years:
        return ""
    return f"appel à projets {years[0]}" if len(years) == 1 else f"appels à projets {years[0]}–{years[-1]}"


def _money(value) -> str:
    return french_number(_dec(value), "€") if value is not None else "—"


def _docx_calls(d: _Docx, calls: dict, caption: str):
    """Les appels de la période (même contenu que la page et le PDF) : année par année, puis au total
    par financeur, enjeu et quartier."""
    if not calls.get("years"):
        d.para("Aucun appel à projets du contrat ne porte sur les années évaluées.")
        return

    def summary(label, f):
        return [
            label,
            str(f["counts"]["projects_submitted"]),
            str(f["counts"]["projects_funded"]),
            str(f["counts"]["associations_funded"]),
            _money(f["totals"]["requested"]),
            _money(f["totals"]["voted"]),
            _money(f["totals"]["paid"]),
            pct(f["scope"]["qpv_share"]),
            f"{f['reports']['received']} / {f['reports']['missing']}",
        ]

    rows = [summary(str(f["year"]), f) for f in calls["years"]]
    if len(calls["years"]) > 1:
        rows.append(summary("Total de la période", calls["totals"]))
    d.table(
        Table(
            caption="Les appels à projets de la période, année par année (demandé : dossiers déposés ; "
            "voté : lignes votées par le comité des financeurs ; versé : versements enregistrés)",
            headers=[
                "Appel",
                "Projets déposés",
                "Projets financés",
                "Associations financées",
                "Demandé",
                "Voté",
                "Versé",
                "Part du voté en QPV",
                "Comptes-rendus reçus / manquants",
            ],
            rows=rows,
        )
    )
    totals = calls["totals"]
    if totals.get("public"):
        d.para(
            "Le détail des montants demandés et versés par financeur, par enjeu et par quartier est "
            "réservé aux membres du contrat ; ce document en donne les totaux.",
            italic=True,
        )

    def detail(title, first, items):
        d.table(
            Table(
                caption=f"{title} — {caption}",
                headers=[first, "Projets déposés", "Projets financés", "Voté"],
                rows=[[r["label"], str(r["submitted"]), str(r["funded"]), _money(r["voted"])] for r in items],
            )
        )

    detail("Par financeur", "Financeur", totals["funders"])
    detail("Par enjeu", "Enjeu", totals["enjeux"])
    detail(
        "Par quartier (un projet de plusieurs quartiers est réparti à parts égales entre eux pour les "
        "montants et compte pour un projet dans chacun)",
        "Quartier",
        [*totals["qpvs"], totals["whole_territory"]],
    )


def render_docx(payload: dict, version: dict | None = None) -> bytes:
    """Le rapport en DOCX modifiable : titres, paragraphes, tableaux ; graphiques en tableaux."""
    ctx = report_context(payload, version)
    ev = ctx["evaluation"]
    d = _Docx()
    d.doc.core_properties.title = document_title(payload)
    d.doc.core_properties.author = payload["contract"]["title"]

    header = d.doc.sections[0].header.paragraphs[0]
    header.text = (
        ctx["demo_label"] if ctx["is_demo"] else f"{ev['kind_label']} — {payload['contract']['title']}"
    )

    # Page de titre
    if ctx["is_demo"]:
        d.para(ctx["demo_label"], bold_lead="Démonstration — ")
    d.para(ev["kind_label"], bold_lead="")
    d.heading(ev["title"], 0)
    d.para(payload["contract"]["title"], bold_lead="Contrat : ")
    d.para(ev["period"], bold_lead="Période évaluée : ")
    d.para(ctx["status_line"]).runs[0].bold = True
    if ctx["frozen"]:
        d.para(ctx["version"]["checksum"], bold_lead="Empreinte SHA-256 du contenu : ")
    elif ctx["state_date"]:
        d.para(ctx["state_date"])
    d.para(DOCX_CHARTS_NOTE, italic=True)
    d.page_break()

    # Synthèse
    d.heading("Synthèse", 1)
    if ev["summary"]:
        for line in ev["summary"].splitlines():
            if line.strip():
                d.para(line.strip())
    else:
        d.para("La synthèse n'est pas encore rédigée.")
    if ctx["headline"]:
        d.para(ctx["headline"])
    d.para(
        f"{_count(len(ctx['questions']), 'question évaluative', 'questions évaluatives')}, "
        f"{_count(ctx['judged_count'], 'jugée', 'jugées')} ; "
        f"{_count(len(ctx['recommendations']), 'recommandation', 'recommandations')} ; "
        f"{_count(ctx['council_responses'], 'réponse', 'réponses')} des conseils citoyens, dans "
        f"{_count(ctx['questionnaire_count'], 'quartier interrogé', 'quartiers interrogés')}."
    )
    if ctx["scale_counts"]:
        d.bullets(f"{label} : {n}" for label, n in ctx["scale_counts"])
    d.table(ctx["summary_table"])

    # Méthode
    d.heading("Méthode", 1)
    if ev["method"]:
        for line in ev["method"].splitlines():
            if line.strip():
                d.para(line.strip())
    else:
        d.para("La méthode n'est pas encore décrite par les évaluateurs.")
    d.heading("Ce que la plateforme calcule", 2)
    d.bullets(ctx["method_notes"])
    d.para(DOCX_CHARTS_NOTE, italic=True)

    # Questions par enjeu
    d.page_break()
    d.heading("Les questions évaluatives, par enjeu", 1)
    if not ctx["sections"]:
        d.para("Aucune question évaluative n'est encore posée.")
    for section in ctx["sections"]:
        d.heading(section.title, 2)
        if section.note:
            d.para(section.note, italic=True)
        for v in section.questions:
            _docx_question(d, v, ctx)

    if ctx["calls"]:
        d.page_break()
        d.heading("Les appels à projets de la période", 1)
        _docx_calls(d, ctx["calls"], ctx["calls_caption"])

    # Recommandations
    d.page_break()
    d.heading("Recommandations", 1)
    if not ctx["recommendations"]:
        d.para("Aucune recommandation n'est encore formulée.")
    for r in ctx["recommendations"]:
        d.para(r["text"], bold_lead=f"R{r['number']}. ")
        links = []
        if r["enjeux"]:
            links.append("Enjeux : " + " ; ".join(r["enjeux"]))
        if r["objectives"]:
            links.append("Objectifs : " + " ; ".join(r["objectives"]))
        if r["commitments"]:
            links.append("Engagements : " + " ; ".join(r["commitments"]))
        d.bullets(links)

    # Une page par quartier
    for qpv in ctx["qpvs"]:
        d.page_break()
        d.heading(f"Quartier {qpv['name']} ({qpv['code']})", 1)
        if qpv["population"]:
            d.para(qpv["population"])
        d.heading("Réalisation des engagements", 2)
        if qpv["realisation"]:
            d.table(qpv["realisation"])
        else:
            d.para(NO_QPV_COMMITMENT)
        d.heading("L'avis du conseil citoyen", 2)
        d.para(qpv["responses"])
        for item in qpv["items"]:
            d.para(item["summary"], bold_lead=f"{item['text']} — ")
            d.bullets(f"« {text} »" for text in item["texts"])
    return d.bytes()


# --- Choix de la version ------------------------------------------------------------------------


def default_report(evaluation):
    """La version adoptée s'il y en a une, sinon la dernière version figée, sinon None."""
    reports = evaluation.reports.order_by("-version")
    return reports.filter(adopted=True).first() or reports.first()


def document_filename(payload: dict, fmt: str, version: dict | None) -> str:
    kind = KIND_SLUGS.get(payload["evaluation"]["kind"], payload["evaluation"]["kind"].lower())
    suffix = f"v{version['number']}" if version else "document-de-travail"
    return f"evaluation-{kind}-{payload['contract']['slug']}-{suffix}.{fmt}"


def evaluation_document(
    evaluation, fmt: str, report=None, *, live: bool = False, visible_qpvs: set[str] | None = None
) -> tuple[bytes, str]:
    """(octets, nom de fichier) du rapport d'une évaluation, en ``fmt`` (« pdf » ou « docx »).

    ``report`` : une version figée de cette évaluation ; sinon, sauf ``live``, la version adoptée ou
    à défaut la dernière figée (``default_report``) ; sans version figée ou avec ``live``, les
    données du moment, marquées « Document de travail, non figé ».
    ``visible_qpvs`` : les quartiers dont le lecteur lit l'avis du conseil citoyen (None : tous) ;
    un quartier sous ``EVALUATION_MIN_ANSWERS`` réponses n'en montre aucun (``council_for``).
    """
    from .report import build_payload, council_for

    if fmt not in FORMATS:
        raise ValueError(f"Format inconnu « {fmt} » : pdf ou docx.")
    if report is not None and report.evaluation_id != evaluation.pk:
        raise ValueError("Cette version est celle d'une autre évaluation.")
    if report is None and not live:
        report = default_report(evaluation)
    if report is not None:
        payload, version = report.payload, version_info(report)
    else:
        payload, version = build_payload(evaluation), None
    payload = council_for(payload, visible_qpvs=visible_qpvs)
    render = render_pdf if fmt == "pdf" else render_docx
    return render(payload, version), document_filename(payload, fmt, version)
