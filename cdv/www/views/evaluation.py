"""Évaluation à mi-parcours et finale : pages des membres et du public, questionnaires des conseils
citoyens, avenants.

- Une évaluation en cours est lue par les membres du contrat : pour chaque question évaluative, les
  éléments de preuve assemblés par la plateforme (``cdv.evaluation.evidence``), le jugement des
  évaluateurs (avec son historique) et, à côté, l'avis agrégé des conseils citoyens ; puis les
  recommandations. Le pilote fige des versions du rapport et enregistre l'adoption.
- Une évaluation adoptée se lit, pour tous, dans sa version adoptée figée (``EvaluationReport``) :
  ce que le comité de pilotage a adopté, même si les données ont bougé depuis.
- Les réponses aux questionnaires ne sont jamais montrées une à une : seulement des comptes, des
  moyennes, des répartitions et des textes libres triés par ordre alphabétique.

Droits : ``cdv.evaluation.abilities`` ; écritures : ``cdv.evaluation.services`` (qui revérifient
les droits). Un objet invisible donne 404, une action interdite sur un objet visible 403.
"""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cdv.commitments.models import Commitment
from cdv.contracts.abilities import contract_abilities
from cdv.core.figures import french_number
from cdv.core.pagecache import public_page
from cdv.evaluation import abilities, selectors, services
from cdv.evaluation import results as res
from cdv.evaluation.confirmations import adoption_gaps
from cdv.evaluation.documents import calls_caption, headline_sentence
from cdv.evaluation.enums import (
    EvaluationKind,
    ItemKind,
    QuestionnaireStatus,
)
from cdv.evaluation.models import (
    Amendment,
    Evaluation,
    EvaluationQuestion,
    EvaluationReport,
    Judgement,
    Questionnaire,
    QuestionnaireResponse,
    Recommendation,
)

# Les mises en forme du contenu figé : le rapport en cours se lit exactement comme un rapport figé.
from cdv.evaluation.report import calls_content, council_for, headline_content
from cdv.evaluation.services import EvaluationError
from cdv.plan.models import Enjeu, Objective
from cdv.territories.models import heavy_fields

from ..forms.evaluation import (
    SCALE_CHOICES,
    AdoptForm,
    AnswerForm,
    JudgementForm,
    RecommendationForm,
)
from .helpers import add_service_errors, get_contract, require

KIND_SLUGS = {EvaluationKind.MID_TERM: "mi-parcours", EvaluationKind.FINAL: "finale"}
SLUG_KINDS = {slug: kind for kind, slug in KIND_SLUGS.items()}
DOCUMENT_FORMATS = {"pdf", "docx"}
QUESTIONNAIRE_CSS = (
    Path(__file__).resolve().parents[2] / "templates" / "evaluation" / "questionnaire_print.css"
)


# --- Mise en forme des nombres (contenu figé en JSON : des flottants ; en cours : des Decimal) -------


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _number(value, places="0.1") -> str:
    value = _decimal(value)
    if value is None:
        return "—"
    return french_number(value.quantize(Decimal(places)))


def _signed(value, places="0.1") -> str:
    """+1,5 ou −0,5 (signe typographique), 0 sans signe."""
    value = _decimal(value)
    if value is None:
        return "—"
    value = value.quantize(Decimal(places))
    if value == 0:
        return "0"
    return ("+" if value > 0 else "−") + french_number(abs(value))


def _with_unit(text: str, unit: str) -> str:
    if text == "—" or not unit:
        return text
    return f"{text}\u00a0{unit}"


def _period_text(period, unit) -> str:
    if not period:
        return "Pas de valeur connue"
    parts = [f"{period['period']} : {_with_unit(_number(period['qpv'], '0.01'), unit)} dans les QPV"]
    if period.get("reference") is not None:
        parts.append(
            f"{_with_unit(_number(period['reference'], '0.01'), unit)} pour {period['reference_label']}"
        )
    if period.get("gap_points") is not None:
        parts.append(f"écart de {_signed(period['gap_points'])} {_points(unit)}")
    return " ; ".join(parts)


def _gap_trend(start, end) -> str:
    """L'écart se resserre ou se creuse : on compare sa taille, que les QPV soient au-dessus ou au-dessous
    de la référence (un écart de −21 points qui passe à −19 se resserre)."""
    before = _decimal((start or {}).get("gap_points"))
    after = _decimal((end or {}).get("gap_points"))
    if before is None or after is None:
        return ""
    if abs(after) < abs(before):
        return "l'écart se resserre"
    if abs(after) > abs(before):
        return "l'écart se creuse"
    return "l'écart ne change pas"


def _points(unit) -> str:
    return "points" if unit == "%" else (unit or "")


def _rate(value) -> str:
    text = _number(value)
    return text if text == "—" else f"{text}\u00a0%"


def _euros(value) -> str:
    return _with_unit(_number(value, "1"), "€")


def _display_question(question: dict) -> dict:
    """Une question du contenu du rapport (figé ou en cours), avec ses nombres écrits à la française."""
    evidence = question.get("evidence") or {}
    indicators = []
    for item in evidence.get("indicators", []):
        unit = item.get("unit", "")
        change = "—"
        if item.get("change_points") is not None:
            difference = item.get("difference_unit", _points(unit))
            change = f"{_signed(item['change_points'], '0.01')} {difference}".strip()
            if item.get("change_percent") is not None:
                change += f" ({_signed(item['change_percent'])}\u00a0%)"
        gap_change = "—"
        if item.get("gap_change") is not None:
            gap_change = f"{_signed(item['gap_change'])} {_points(unit)}".strip()
            trend = _gap_trend(item.get("start"), item.get("end"))
            if trend:
                gap_change += f" : {trend}"
        indicators.append(
            {
                "name": item["name"],
                "start": _period_text(item.get("start"), unit),
                "end": _period_text(item.get("end"), unit),
                "change": change,
                "gap_change": gap_change,
                "warning": item.get("warning", ""),
            }
        )
    means = evidence.get("means") or {}
    realisation_tables = [
        ("par partenaire", evidence.get("by_partner", [])),
        ("par enjeu", evidence.get("by_enjeu", [])),
        ("par quartier", evidence.get("by_qpv", [])),
    ]
    council = []
    for item in question.get("council", []):
        distribution = item.get("distribution")
        council.append(
            {
                **item,
                "is_scale": item.get("kind") == ItemKind.SCALE,
                "mean_text": _number(item.get("mean")),
                "distribution_text": " · ".join(f"{n} : {c}" for n, c in enumerate(distribution, start=1))
                if distribution
                else "",
            }
        )
    overall = evidence.get("overall")
    return {
        **question,
        "indicators": indicators,
        "overall": {**overall, "rate_text": _rate(overall.get("rate"))} if overall else None,
        "realisations": [
            (label, [{**r, "rate_text": _rate(r.get("rate"))} for r in rows])
            for label, rows in realisation_tables
        ],
        "means": {
            "committed_fte": _number(means.get("committed_fte"), "0.01"),
            "mobilised_fte": _number(means.get("mobilised_fte"), "0.01"),
            "fte_ratio": _rate(means.get("fte_ratio")),
            "committed_eur": _euros(means.get("committed_eur")),
            "mobilised_eur": _euros(means.get("mobilised_eur")),
            "eur_ratio": _rate(means.get("eur_ratio")),
        }
        if means
        else None,
        "feedback": evidence.get("feedback", []),
        "decisions": evidence.get("decisions", []),
        "council_items": council,
    }


# --- Formulaires -----------------------------------------------------------------------------------


# --- Lecture des objets d'une URL ------------------------------------------------------------------


def _get_evaluation(request, contract, kind):
    kind_value = SLUG_KINDS.get(kind)
    evaluation = (
        Evaluation.objects.for_contract(contract)
        .filter(kind=kind_value)
        .select_related("adopting_meeting")
        .first()
        if kind_value
        else None
    )
    if evaluation is None:
        raise Http404("Ce contrat n'a pas d'évaluation de cette nature.")
    evaluation.contract = contract
    evaluation.url_kind = kind
    rights = abilities.evaluation_abilities(request.user, evaluation)
    if not rights["view"]:
        raise Http404("Ce contrat n'a pas d'évaluation de cette nature.")
    return evaluation, rights


def _get_questionnaire(request, evaluation, code):
    questionnaire = (
        Questionnaire.objects.for_evaluation(evaluation)
        .filter(qpv__code=code)
        .select_related("qpv")
        .defer(*heavy_fields("qpv"))
        .first()
    )
    if questionnaire is None:
        raise Http404("Aucun questionnaire de cette évaluation pour ce quartier.")
    questionnaire.evaluation = evaluation
    rights = abilities.questionnaire_abilities(request.user, questionnaire)
    return questionnaire, rights


def _adopted_report(evaluation):
    return EvaluationReport.objects.for_evaluation(evaluation).adopted().order_by("-version").first()


def _decorate(evaluations):
    for evaluation in evaluations:
        evaluation.url_kind = KIND_SLUGS.get(evaluation.kind, "")
    return evaluations


# --- Liste des évaluations -------------------------------------------------------------------------


@public_page
@require_http_methods(["GET"])
def evaluation_list(request, slug):
    """Les évaluations du contrat : adoptées pour le public, toutes pour ses membres."""
    contract = get_contract(request, slug)
    member = contract_abilities(request.user, contract)["view_internals"]
    evaluations = (
        Evaluation.objects.visible_to(request.user, contract)
        .select_related("adopting_meeting")
        .annotate(question_count=Count("questions", distinct=True))
        .order_by("period_end", "kind")
    )
    return render(
        request,
        "evaluation/list.html",
        {
            "contract": contract,
            "evaluations": _decorate(list(evaluations)),
            "is_member": member,
            "amendment_count": Amendment.objects.for_contract(contract).count(),
        },
    )


# --- Page d'une évaluation -------------------------------------------------------------------------


def _render_evaluation(request, contract, evaluation, rights, *, forms_by_question=None, **forms_):
    """La page d'une évaluation ; les formulaires passés (avec leurs erreurs) remplacent les vierges."""
    forms_by_question = forms_by_question or {}
    # Membres du contrat : historique des jugements, versions figées, noms des auteurs. Le public lit
    # la version adoptée (éléments de preuve compris, selon ``view_evidence``), jamais le reste.
    member = contract_abilities(request.user, contract)["view_internals"]
    report = None
    council_hidden = False
    if evaluation.is_adopted:
        report = _adopted_report(evaluation)
        payload = council_for(
            report.payload if report else {"questions": [], "recommendations": [], "qpvs": []}
        )
        raw_questions = payload.get("questions", [])
        numbers = dict(EvaluationQuestion.objects.for_evaluation(evaluation).values_list("number", "pk"))
        for question in raw_questions:
            question["pk"] = numbers.get(question["number"])
        recommendations = payload.get("recommendations", [])
        if not member:
            recommendations = selectors.public_recommendations(contract, recommendations)
        summary = payload.get("evaluation", {}).get("summary", "")
        method = payload.get("evaluation", {}).get("method", "")
        council_qpvs = [
            q
            for q in payload.get("qpvs", [])
            if q.get("council", {}).get("items") or q.get("council", {}).get("masked")
        ]
        headline = payload.get("headline")
        calls = payload.get("calls")  # une version figée avant qu'il n'y figure n'en a pas
    else:
        raw_questions, council_hidden = selectors.live_questions(request.user, contract, evaluation)
        recommendations = list(
            Recommendation.objects.for_evaluation(evaluation)
            .select_related("author")
            .prefetch_related(
                Prefetch("enjeux", queryset=Enjeu.objects.order_by("number")),
                Prefetch("objectives", queryset=Objective.objects.select_related("enjeu")),
                Prefetch(
                    "commitments",
                    queryset=Commitment.objects.only("title", "contract_id").visible_to(
                        request.user, contract
                    ),
                ),
            )
            .order_by("number")
        )
        summary, method, council_qpvs = evaluation.summary, evaluation.method, []
        headline = headline_content(contract)
        calls = calls_content(evaluation) if rights["view_evidence"] else None

    judgements = {}
    history = {}
    if member:
        judgements = {
            j.question_id: j for j in Judgement.objects.for_evaluation(evaluation).select_related("author")
        }
        history = selectors.judgement_history(evaluation)
    questions = []
    for raw in raw_questions:
        question = _display_question(raw)
        pk = raw.get("pk")
        question["live_judgement"] = judgements.get(pk)
        question["history"] = history.get(pk, [])
        if rights["judge"]:
            judgement = judgements.get(pk)
            initial = {"scale": judgement.scale, "text": judgement.text} if judgement else None
            question["form"] = forms_by_question.get(pk) or JudgementForm(
                number=raw["number"], initial=initial
            )
        questions.append(question)

    context = {
        "contract": contract,
        "evaluation": evaluation,
        "rights": rights,
        "report": report,
        "summary": summary,
        "headline": headline_sentence(headline),
        "method": method,
        "questions": questions,
        "recommendations": recommendations,
        "council_hidden": council_hidden,
        "council_qpvs": council_qpvs,
        "frozen": evaluation.is_adopted,
        "show_evidence": rights["view_evidence"],
        "calls": calls,
        "calls_caption": calls_caption(calls),
        "masked_label": res.masked_label(),
        "is_member": member,
    }
    if rights["recommend"]:
        context["recommendation_form"] = forms_.get("recommendation_form") or RecommendationForm(
            contract=contract
        )
    if member:
        context["versions"] = list(
            EvaluationReport.objects.for_evaluation(evaluation)
            .select_related("created_by")
            .defer("payload")
            .order_by("-version")
        )
        context["questionnaire_count"] = evaluation.questionnaires.count()
    return render(request, "evaluation/detail.html", context)


@public_page
@require_http_methods(["GET"])
def evaluation_detail(request, slug, kind):
    contract = get_contract(request, slug)
    evaluation, rights = _get_evaluation(request, contract, kind)
    return _render_evaluation(request, contract, evaluation, rights)


def _evaluation_url(contract, evaluation, anchor=""):
    url = reverse("www:evaluation", args=[contract.slug, evaluation.url_kind])
    return f"{url}#{anchor}" if anchor else url


@login_required
@require_POST
def judgement_save(request, slug, kind, number):
    contract = get_contract(request, slug)
    evaluation, rights = _get_evaluation(request, contract, kind)
    question = EvaluationQuestion.objects.for_evaluation(evaluation).filter(number=number).first()
    if question is None:
        raise Http404("Cette évaluation n'a pas de question portant ce numéro.")
    question.evaluation = evaluation
    require(rights["judge"], "Seuls les évaluateurs et le pilote écrivent les jugements, avant l'adoption.")
    form = JudgementForm(request.POST, number=number)
    if form.is_valid():
        try:
            services.save_judgement(
                user=request.user,
                question=question,
                scale=form.cleaned_data["scale"],
                text=form.cleaned_data["text"],
            )
        except EvaluationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Jugement sur la question {number} enregistré.")
            return redirect(_evaluation_url(contract, evaluation, f"question-{number}"))
    return _render_evaluation(request, contract, evaluation, rights, forms_by_question={question.pk: form})


@login_required
@require_POST
def recommendation_create(request, slug, kind):
    contract = get_contract(request, slug)
    evaluation, rights = _get_evaluation(request, contract, kind)
    require(rights["recommend"], "Seuls les évaluateurs et le pilote écrivent les recommandations.")
    form = RecommendationForm(request.POST, contract=contract)
    if form.is_valid():
        try:
            recommendation = services.add_recommendation(
                user=request.user,
                evaluation=evaluation,
                text=form.cleaned_data["text"],
                enjeux=form.cleaned_data["enjeux"],
                objectives=form.cleaned_data["objectives"],
                commitments=form.cleaned_data["commitments"],
            )
        except EvaluationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Recommandation n° {recommendation.number} enregistrée.")
            return redirect(_evaluation_url(contract, evaluation, "recommandations"))
    return _render_evaluation(request, contract, evaluation, rights, recommendation_form=form)


@login_required
@require_POST
def evaluation_freeze(request, slug, kind):
    contract = get_contract(request, slug)
    evaluation, rights = _get_evaluation(request, contract, kind)
    require(rights["freeze"], "Seul le pilote fige une version du rapport, avant l'adoption.")
    try:
        report = services.freeze_report(user=request.user, evaluation=evaluation)
    except EvaluationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Version {report.version} du rapport figée : elle ne changera plus.")
    return redirect(_evaluation_url(contract, evaluation, "rapport"))


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_adopt(request, slug, kind):
    """Page de confirmation : ce qui manque (synthèse, jugements…), le COPIL qui adopte (sa date est
    celle de l'adoption) et la case « Je confirme » ; puis l'adoption."""
    contract = get_contract(request, slug)
    evaluation, rights = _get_evaluation(request, contract, kind)
    require(rights["adopt"], "Seul le pilote enregistre l'adoption, une seule fois.")
    form = AdoptForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.adopt(
                user=request.user,
                evaluation=evaluation,
                meeting=form.cleaned_data["meeting"],
                confirmed=form.cleaned_data["confirm"],
            )
        except EvaluationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Évaluation adoptée : la version {report.version} du rapport est publiée sur le site.",
            )
            return redirect(_evaluation_url(contract, evaluation))
    return render(
        request,
        "evaluation/adopt.html",
        {
            "contract": contract,
            "evaluation": evaluation,
            "form": form,
            "has_copil": form.fields["meeting"].queryset.exists(),
            "gaps": adoption_gaps(evaluation),
        },
    )


# --- Versions et documents du rapport --------------------------------------------------------------


def _get_version(request, contract, kind, version):
    evaluation, _ = _get_evaluation(request, contract, kind)
    report = EvaluationReport.objects.for_evaluation(evaluation).filter(version=version).first()
    # Le public ne lit que la version adoptée ; les membres, toutes les versions figées.
    member = contract_abilities(request.user, contract)["view_internals"]
    if report is None or not (member or report.adopted):
        raise Http404("Aucune version figée de ce rapport ne porte ce numéro.")
    report.evaluation = evaluation
    return evaluation, report


def _document_response(request, evaluation, fmt, report, live=False):
    if fmt not in DOCUMENT_FORMATS:
        raise Http404("Format inconnu : le rapport existe en PDF et en DOCX.")
    try:
        from cdv.evaluation.documents import evaluation_document
    except ImportError as error:  # le générateur de documents n'est pas encore livré
        raise Http404("Le rapport n'est pas encore disponible en document.") from error
    # ``live`` : un document de travail aux données du moment (évaluation en cours, membres seulement).
    extra = {"live": True} if live else {}
    # L'avis des conseils citoyens, pendant l'évaluation : pilote, évaluateurs, conseil du quartier.
    visible_qpvs = abilities.council_results_qpvs(request.user, evaluation)
    content, filename = evaluation_document(
        evaluation, fmt, report=report, visible_qpvs=visible_qpvs, **extra
    )
    content_type = (
        "application/pdf"
        if fmt == "pdf"
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET"])
def evaluation_document(request, slug, kind, fmt):
    """Le rapport : la version adoptée si l'évaluation l'est, sinon un document de travail aux données
    du moment (pour les membres : une évaluation en cours leur est réservée)."""
    contract = get_contract(request, slug)
    evaluation, _ = _get_evaluation(request, contract, kind)
    report = None
    if evaluation.is_adopted:
        report = _adopted_report(evaluation)
        if report is None:
            raise Http404("La version adoptée du rapport est introuvable.")
    return _document_response(request, evaluation, fmt, report, live=not evaluation.is_adopted)


@require_http_methods(["GET"])
def version_document(request, slug, kind, version, fmt):
    contract = get_contract(request, slug)
    evaluation, report = _get_version(request, contract, kind, version)
    return _document_response(request, evaluation, fmt, report)


@require_http_methods(["GET"])
def version_json(request, slug, kind, version):
    """Le contenu figé d'une version et son empreinte SHA-256, pour vérifier qu'il n'a pas changé."""
    contract = get_contract(request, slug)
    evaluation, report = _get_version(request, contract, kind, version)
    # Pendant l'évaluation, l'avis des conseils citoyens n'est donné qu'à qui peut le lire : le contenu
    # est alors filtré (« avis_des_conseils_filtre ») et ne correspond plus à l'empreinte.
    visible_qpvs = abilities.council_results_qpvs(request.user, evaluation)
    payload = council_for(report.payload, visible_qpvs=visible_qpvs)
    content = json.dumps(
        {
            "version": report.version,
            "adopted": report.adopted,
            "checksum_sha256": report.checksum,
            "avis_des_conseils_filtre": payload != report.payload,
            "payload": payload,
        },
        ensure_ascii=False,
        indent=2,
    )
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="evaluation-{slug}-{kind}-v{report.version}.json"'
    )
    return response


# --- Questionnaires des conseils citoyens ----------------------------------------------------------


@require_http_methods(["GET"])
def questionnaire_list(request, slug, kind):
    """Les questionnaires par quartier : ceux que la personne peut lire, avec leur état et leurs
    réponses ; une fois l'évaluation adoptée, l'avis agrégé de chaque quartier est public."""
    contract = get_contract(request, slug)
    evaluation, rights = _get_evaluation(request, contract, kind)
    questionnaires = list(
        Questionnaire.objects.for_evaluation(evaluation)
        .select_related("qpv")
        .defer(*heavy_fields("qpv"))
        .annotate(
            item_count=Count("items", distinct=True),
            response_count=Count("responses", distinct=True),
            paper_count=Count("responses", filter=Q(responses__on_paper=True), distinct=True),
        )
        .order_by("qpv__name")
    )
    rights_of = abilities.questionnaire_abilities_in(request.user, contract)
    rows = []
    for questionnaire in questionnaires:
        questionnaire.evaluation = evaluation
        q_rights = rights_of(questionnaire)
        results_visible = q_rights["view_results"] or evaluation.is_adopted
        if q_rights["view"] or results_visible:
            rows.append(
                {"questionnaire": questionnaire, "rights": q_rights, "results_visible": results_visible}
            )
    return render(
        request,
        "evaluation/questionnaires.html",
        {
            "contract": contract,
            "evaluation": evaluation,
            "rights": rights,
            "rows": rows,
            "hidden_count": len(questionnaires) - len(rows),
        },
    )


def _own_response(questionnaire, user):
    return (
        QuestionnaireResponse.objects.for_questionnaire(questionnaire)
        .filter(respondent_key=services.respondent_key(questionnaire, user))
        .first()
    )


@require_http_methods(["GET", "POST"])
def questionnaire_page(request, slug, kind, code):
    """Le questionnaire d'un quartier : le membre du conseil citoyen y répond (et corrige sa réponse) ;
    le pilote et les évaluateurs le lisent. Pour tout autre : 404."""
    contract = get_contract(request, slug)
    evaluation, _ = _get_evaluation(request, contract, kind)
    questionnaire, rights = _get_questionnaire(request, evaluation, code)
    if not rights["view"]:
        raise Http404("Aucun questionnaire de cette évaluation pour ce quartier.")
    items = list(questionnaire.items.select_related("question").order_by("number"))
    own = _own_response(questionnaire, request.user) if rights["answer"] else None
    form = None
    if request.method == "POST":
        require(
            rights["answer"],
            "Seuls les membres du conseil citoyen de ce quartier répondent, tant que le questionnaire "
            "est ouvert.",
        )
        form = AnswerForm(request.POST, items=items)
        if form.is_valid():
            try:
                services.submit_answers(
                    user=request.user, questionnaire=questionnaire, answers=form.answers()
                )
            except EvaluationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    "Merci ! Votre réponse est enregistrée. Vous pouvez revenir la corriger tant que le "
                    "questionnaire est ouvert.",
                )
                return redirect("www:questionnaire", slug=contract.slug, kind=kind, code=code)
    elif rights["answer"]:
        form = AnswerForm(items=items, initial=AnswerForm.initial_for(own) if own else None)
    return render(
        request,
        "evaluation/questionnaire.html",
        {
            "contract": contract,
            "evaluation": evaluation,
            "questionnaire": questionnaire,
            "rights": rights,
            "items": items,
            "form": form,
            "already_answered": own is not None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_paper(request, slug, kind, code):
    """Le pilote (ou l'animateur) saisit un formulaire papier : une réponse anonyme de plus."""
    contract = get_contract(request, slug)
    evaluation, _ = _get_evaluation(request, contract, kind)
    questionnaire, rights = _get_questionnaire(request, evaluation, code)
    if not rights["view"]:
        raise Http404("Aucun questionnaire de cette évaluation pour ce quartier.")
    require(
        rights["enter_paper"],
        "Seul le pilote saisit les formulaires papier, tant que le questionnaire est ouvert.",
    )
    items = list(questionnaire.items.order_by("number"))
    form = AnswerForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        try:
            services.enter_paper_response(
                user=request.user, questionnaire=questionnaire, answers=form.answers()
            )
        except EvaluationError as error:
            add_service_errors(form, error)
        else:
            count = QuestionnaireResponse.objects.for_questionnaire(questionnaire).on_paper().count()
            messages.success(
                request,
                f"Formulaire papier enregistré ({count} saisi{'s' if count > 1 else ''} pour ce quartier).",
            )
            return redirect("www:questionnaire_paper", slug=contract.slug, kind=kind, code=code)
    return render(
        request,
        "evaluation/questionnaire_paper.html",
        {"contract": contract, "evaluation": evaluation, "questionnaire": questionnaire, "form": form},
    )


@login_required
@require_POST
def questionnaire_status(request, slug, kind, code):
    contract = get_contract(request, slug)
    evaluation, _ = _get_evaluation(request, contract, kind)
    questionnaire, rights = _get_questionnaire(request, evaluation, code)
    if not rights["view"]:
        raise Http404("Aucun questionnaire de cette évaluation pour ce quartier.")
    wanted = request.POST.get("status", "")
    require(
        (wanted == QuestionnaireStatus.OPEN and rights["open"])
        or (wanted == QuestionnaireStatus.CLOSED and rights["close"]),
        "Seul le pilote ouvre un questionnaire en préparation ou clôt un questionnaire ouvert.",
    )
    try:
        services.set_questionnaire_status(user=request.user, questionnaire=questionnaire, status=wanted)
    except EvaluationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        verb = "ouvert aux réponses" if wanted == QuestionnaireStatus.OPEN else "clos"
        messages.success(request, f"Questionnaire de {questionnaire.qpv.name} {verb}.")
    return redirect("www:questionnaires", slug=contract.slug, kind=kind)


@login_required
@require_http_methods(["GET"])
def questionnaire_pdf(request, slug, kind, code):
    """La version à imprimer : cases de 1 à 5 à cocher, lignes pour écrire, aucune case pour un nom."""
    from cdv.commitments.documents import html_to_pdf

    contract = get_contract(request, slug)
    evaluation, _ = _get_evaluation(request, contract, kind)
    questionnaire, rights = _get_questionnaire(request, evaluation, code)
    if not rights["view"]:
        raise Http404("Aucun questionnaire de cette évaluation pour ce quartier.")
    items = list(questionnaire.items.order_by("number"))
    html = render_to_string(
        "evaluation/questionnaire_print.html",
        {
            "contract": contract,
            "evaluation": evaluation,
            "questionnaire": questionnaire,
            "items": items,
            "scale": SCALE_CHOICES,
            "lines": range(5),
            "generated_on": timezone.localdate(),
        },
    )
    response = HttpResponse(html_to_pdf(html, QUESTIONNAIRE_CSS), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="questionnaire-{slug}-{kind}-{questionnaire.qpv.code}.pdf"'
    )
    return response


@require_http_methods(["GET"])
def questionnaire_results(request, slug, kind, code):
    """L'avis agrégé d'un quartier : nombre de réponses, moyennes, répartitions, textes triés.

    Pilote, évaluateurs et conseil citoyen du quartier pendant l'évaluation ; tout le monde une fois
    l'évaluation adoptée. Jamais qui a répondu quoi.
    """
    contract = get_contract(request, slug)
    evaluation, _ = _get_evaluation(request, contract, kind)
    questionnaire, rights = _get_questionnaire(request, evaluation, code)
    if not (rights["view_results"] or evaluation.is_adopted):
        raise Http404("Aucun questionnaire de cette évaluation pour ce quartier.")
    (result,) = res.questionnaire_results([questionnaire])
    items = [
        {
            "item": r.item,
            "count": r.count,
            "is_scale": r.item.kind == ItemKind.SCALE,
            "mean": _number(r.mean),
            "distribution": list(zip(range(1, 6), r.distribution, strict=True)),
            "texts": r.texts,
        }
        for r in result.items
    ]
    return render(
        request,
        "evaluation/results.html",
        {
            "contract": contract,
            "evaluation": evaluation,
            "questionnaire": questionnaire,
            "rights": rights,
            "result": result,
            "items": items,
            "scale": SCALE_CHOICES,
        },
    )


# --- Avenants --------------------------------------------------------------------------------------


def _field_meta(model_name):
    cls, fields = services.AMENDABLE.get(model_name, (None, []))
    meta = {}
    for name in fields:
        field = cls._meta.get_field(name)
        meta[name] = (str(field.verbose_name).capitalize(), dict(field.choices or []), field)
    return fields, meta


def _value_text(value, choices, field):
    if value is None or value == "":
        return "—"
    if choices:
        return str(choices.get(value, value))
    if field.get_internal_type() == "DateField":
        try:
            return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
        except (TypeError, ValueError):
            return str(value)
    if field.get_internal_type() in {"DecimalField", "FloatField"}:
        try:
            return french_number(value)
        except (ArithmeticError, TypeError, ValueError):
            return str(value)
    return str(value)


def _change_rows(change):
    fields, meta = _field_meta(change.model)
    before, after = change.before or {}, change.after or {}
    names = [n for n in fields if n in before or n in after] + sorted(
        (set(before) | set(after)) - set(fields)
    )
    rows = []
    for name in names:
        label, choices, field = meta.get(name, (name, {}, None))
        old = _value_text(before.get(name), choices, field) if field else str(before.get(name, "—"))
        new = _value_text(after.get(name), choices, field) if field else str(after.get(name, "—"))
        rows.append(
            {"label": label, "before": old, "after": new, "changed": before.get(name) != after.get(name)}
        )
    return rows


MODEL_LABELS = {"objective": "Objectif", "action": "Action", "commitment": "Engagement"}


@public_page
@require_http_methods(["GET"])
def amendments(request, slug):
    """Les avenants du contrat : pour chaque objet changé, son état d'avant et d'après, côte à côte."""
    contract = get_contract(request, slug)
    member = contract_abilities(request.user, contract)["view_internals"]
    items = selectors.amendments_with_changes(contract, member=member)
    for amendment in items:
        amendment.visible_changes = [
            {
                "change": change,
                "model_label": MODEL_LABELS.get(change.model, change.model),
                "rows": _change_rows(change),
            }
            for change in amendment.shown_changes
        ]
        evaluation = amendment.evaluation
        amendment.evaluation_link = None
        if evaluation is not None and (evaluation.is_adopted or member):
            amendment.evaluation_link = reverse(
                "www:evaluation", args=[contract.slug, KIND_SLUGS.get(evaluation.kind, "")]
            )
    return render(
        request,
        "evaluation/amendments.html",
        {"contract": contract, "amendments": items, "can_amend": abilities.can_amend(request.user, contract)},
    )
