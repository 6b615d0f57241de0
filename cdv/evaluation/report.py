"""Le contenu du rapport d'évaluation, en données simples (JSON) : figé tel quel dans une version.

Les documents (PDF, DOCX) et les pages se construisent à partir de ce contenu ; une version figée se
relit donc à l'identique des années plus tard, même si les données ont changé depuis.
"""

import copy
from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.models import Commitment
from cdv.contracts.models import headline_figure
from cdv.monitoring.feedback import public_attribution
from cdv.plan.models import Objective
from cdv.territories.models import heavy_fields

from . import evidence as ev
from . import results as res
from .enums import ItemKind, JudgementScale
from .models import Judgement


def _num(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def _realisation(r: ev.Realisation) -> dict:
    return {
        "label": r.label,
        "engaged": r.engaged,
        "done": r.done,
        "partly_done": r.partly_done,
        "not_done": r.not_done,
        "abandoned": r.abandoned,
        "ongoing": r.ongoing,
        "rate": _num(r.rate),
        "full_rate": _num(r.full_rate),
    }


def _period(summary) -> dict | None:
    if summary is None:
        return None
    return {
        "period": summary.period_label,
        "qpv": _num(summary.qpv_value),
        "qpv_origin": summary.qpv_origin,
        "reference": _num(summary.reference_value),
        "reference_label": summary.reference_label,
        "gap_points": _num(summary.gap.points) if summary.gap else None,
    }


def _indicator(item: ev.IndicatorEvidence) -> dict:
    return {
        "code": item.indicator.code,
        "name": item.indicator.name,
        "unit": item.indicator.unit,
        # Une évolution de taux se dit en points ; celle d'un effectif dans son unité.
        "difference_unit": "points" if item.indicator.is_rate else item.indicator.unit,
        "start": _period(item.start),
        "end": _period(item.end),
        "change_points": _num(item.change.points) if item.change else None,
        "change_percent": _num(item.change.percent) if item.change else None,
        "gap_change": _num(item.gap_change),
        "warning": item.warning,
    }


def item_content(result: res.ItemResult) -> dict:
    """Les résultats agrégés d'un item de questionnaire, tels que le rapport figé et la page les montrent."""
    return {
        "qpv": result.qpv_name,
        "number": result.item.number,
        "text": result.item.text,
        "kind": result.item.kind,
        "count": result.count,
        "mean": _num(result.mean),
        "distribution": result.distribution if result.item.kind == ItemKind.SCALE else None,
        "texts": result.texts,
    }


def evidence_content(item: ev.QuestionEvidence, num=None) -> dict:
    """Les éléments de preuve d'une question, en données simples (une seule écriture : le rapport
    figé et la page en direct). ``num`` convertit les moyens (par défaut en flottants pour le JSON)."""
    num = num or _num
    return {
        "indicators": [_indicator(i) for i in item.indicators],
        "overall": _realisation(item.overall),
        "by_partner": [_realisation(r) for r in item.by_partner],
        "by_enjeu": [_realisation(r) for r in item.by_enjeu],
        "by_qpv": [_realisation(r) for r in item.by_qpv],
        "means": {
            name: num(getattr(item.means, name))
            for name in (
                "committed_fte",
                "committed_eur",
                "mobilised_fte",
                "mobilised_eur",
                "fte_ratio",
                "eur_ratio",
            )
        },
        "feedback": [
            {"kind": f.get_kind_display(), "text": f.text, "attribution": public_attribution(f)}
            for f in item.feedback
        ],
        "decisions": [
            {
                "text": d.text,
                "meeting": d.meeting.title,
                "date": d.meeting.date.isoformat(),
                "status": d.get_status_display(),
                "follow_up": d.follow_up,
            }
            for d in item.decisions
        ],
    }


def headline_content(contract) -> dict | None:
    """Où en est l'écart que le contrat doit réduire : le chiffre de une publié (le même que celui de
    la page d'accueil), sa comparaison, l'écart, sa date de publication et sa source."""
    figure = headline_figure(contract.key_figures.all())
    if figure is None:
        return None
    gap = figure.gap()
    return {
        "label": figure.label,
        "perimeter": figure.perimeter,
        "geography": figure.geography,
        "value": _num(figure.value),
        "unit": figure.unit,
        "comparison_value": _num(figure.comparison_value),
        "comparison_perimeter": figure.comparison_perimeter,
        "gap_points": _num(gap.points) if gap else None,
        "gap_ratio": _num(gap.ratio) if gap else None,
        "published_on": figure.published_on,
        "source_label": figure.source_label,
        "source_url": figure.source_url,
        "note": figure.note,
    }


def calls_content(evaluation) -> dict:
    """Les appels à projets des années évaluées, année par année et au total (``cdv.grants.figures``)
    : le rapport adopté est public, il n'a donc que ce qu'un document public montre (tout le voté ;
    le demandé et le versé en totaux)."""
    from cdv.grants import figures

    calls = figures.calls_figures(
        evaluation.contract, range(evaluation.period_start, evaluation.period_end + 1)
    )
    return figures.to_json(
        {
            "years": [figures.public_figures(f) for f in calls["years"]],
            "totals": figures.public_figures(calls["totals"]),
            "period": calls["period"],
        }
    )


def build_payload(evaluation, *, with_calls: bool = True) -> dict:
    """Le contenu complet (version figée, documents). ``with_calls=False`` : sans les chiffres des
    appels à projets (``"calls": None``), que l'API ne donne pas et qui coûtent à eux seuls près de la
    moitié du calcul (trois fois neuf requêtes agrégées)."""
    contract = evaluation.contract
    evidence = ev.assemble(evaluation)
    judgements = {j.question_id: j for j in Judgement.objects.filter(question__evaluation=evaluation)}
    questionnaires = list(
        evaluation.questionnaires.select_related("qpv").defer(*heavy_fields("qpv")).order_by("qpv__name")
    )
    council = res.questionnaire_results(questionnaires)
    council_by_question = res.by_question(council)

    questions = []
    for item in evidence:
        q = item.question
        judgement = judgements.get(q.pk)
        questions.append(
            {
                "number": q.number,
                "text": q.text,
                "criterion": q.criterion,
                "criterion_label": q.get_criterion_display(),
                "enjeux": [f"{e.number}. {e.title}" for e in sorted(q.enjeux.all(), key=lambda e: e.number)],
                "objectives": [str(o) for o in q.objectives.all()],
                "evidence": evidence_content(item),
                "judgement": (
                    {
                        "scale": judgement.scale,
                        "scale_label": JudgementScale(judgement.scale).label,
                        "text": judgement.text,
                    }
                    if judgement
                    else None
                ),
                "council": [item_content(r) for r in council_by_question.get(q.pk, [])],
            }
        )

    # Une page par quartier : réalisation des engagements qui le citent, avis de son conseil citoyen.
    per_qpv = defaultdict(lambda: ev.Realisation("Engagements du quartier"))
    for c in (
        Commitment.objects.published()
        .filter(contract=contract, scope=CommitmentScope.QPV)
        .prefetch_related(ev.light_qpvs())
        .only("status")
    ):
        for qpv in c.qpvs.all():
            per_qpv[qpv.pk].add(c.status)
    council_by_qpv = {r.questionnaire.qpv_id: r for r in council}
    qpvs = []
    for qpv in contract.qpvs.only("code", "name", "population").order_by("name"):
        result = council_by_qpv.get(qpv.pk)
        qpvs.append(
            {
                "code": qpv.code,
                "name": qpv.name,
                "population": qpv.population,
                "realisation": _realisation(per_qpv[qpv.pk]),
                "council": {
                    "responses": result.responses if result else 0,
                    "on_paper": result.on_paper if result else 0,
                    "items": [item_content(i) for i in result.items] if result else [],
                    "masked": bool(result and result.masked),
                },
            }
        )

    recommendations = [
        {
            "number": r.number,
            "text": r.text,
            "enjeux": [f"{e.number}. {e.title}" for e in r.enjeux.all()],
            "objectives": [str(o) for o in r.objectives.all()],
            "commitments": [c.title for c in r.commitments.all()],
        }
        for r in evaluation.recommendations.prefetch_related(
            "enjeux",
            Prefetch("objectives", queryset=Objective.objects.select_related("enjeu")),
            # le rapport adopté est public : seuls les engagements publiés y sont cités
            Prefetch("commitments", queryset=Commitment.objects.published()),
        )
    ]
    return {
        "contract": {"slug": contract.slug, "title": contract.title},
        "evaluation": {
            "kind": evaluation.kind,
            "kind_label": evaluation.get_kind_display(),
            "title": evaluation.title,
            "period": evaluation.period_label,
            "status": evaluation.get_status_display(),
            "adopted_on": evaluation.adopted_on.isoformat() if evaluation.adopted_on else None,
            "adopting_meeting": evaluation.adopting_meeting.title if evaluation.adopting_meeting_id else None,
            "method": evaluation.method,
            "summary": evaluation.summary,
            "is_demo": evaluation.is_demo,
        },
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "headline": headline_content(contract),
        "enjeux": [
            {
                "number": e.number,
                "title": e.title,
                "questions": [
                    q["number"] for q in questions if any(x.startswith(f"{e.number}. ") for x in q["enjeux"])
                ],
            }
            for e in contract.enjeux.order_by("number")
        ],
        "questions": questions,
        "recommendations": recommendations,
        "qpvs": qpvs,
        "council_responses": sum(r.responses for r in council),
        "calls": calls_content(evaluation) if with_calls else None,
    }


def council_for(payload: dict, *, visible_qpvs: set[str] | None = None) -> dict:
    """Une copie du contenu où l'avis des conseils citoyens ne reste que pour les quartiers que la
    personne peut lire (``visible_qpvs`` : codes des QPV ; None : tous) et qui ont au moins
    ``EVALUATION_MIN_ANSWERS`` réponses ; ailleurs, rien (textes libres compris). Vaut pour le
    contenu du moment comme pour une version figée, même figée avant que le seuil ne change."""
    payload = copy.deepcopy(payload)
    minimum = res.min_answers()
    shown = set()
    for qpv in payload.get("qpvs", []):
        council = qpv.setdefault("council", {"responses": 0, "on_paper": 0, "items": []})
        if visible_qpvs is not None and qpv.get("code") not in visible_qpvs:
            council["items"] = []
            council["hidden"] = True
        elif council.get("responses", 0) < minimum:
            council["items"] = []
            council["masked"] = True
        else:
            shown.add(qpv.get("name"))
    for question in payload.get("questions", []):
        question["council"] = [i for i in question.get("council", []) if i.get("qpv") in shown]
    return payload
