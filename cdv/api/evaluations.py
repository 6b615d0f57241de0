"""Évaluations d'un contrat dans l'API (mi-parcours 2027, finale 2030) : lecture selon le rôle.

Le public lit les évaluations adoptées par le comité de pilotage, exactement telles qu'adoptées :
le contenu vient de la version figée adoptée (``EvaluationReport``), pas des données du moment. Les
membres du contrat lisent aussi l'évaluation en cours, sur les données du moment. Qui peut lire quoi
vient de ``cdv.evaluation.abilities.evaluation_abilities`` : ``view`` pour l'évaluation,
``view_evidence`` (membres du contrat) pour les éléments de preuve.

L'avis des conseils citoyens n'est donné qu'agrégé par quartier et par question (nombre de réponses,
moyenne, répartition des notes, textes libres triés par ordre alphabétique) : aucune réponse
individuelle, aucune identité de répondant, pour personne. Pendant l'évaluation, l'avis d'un quartier
n'est donné qu'aux pilotes, aux évaluateurs et à son conseil citoyen (``council_results_qpvs``) ;
partout, un quartier de moins de ``EVALUATION_MIN_ANSWERS`` réponses n'en a aucun (``masked``).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from cdv.evaluation.abilities import council_results_qpvs, evaluation_abilities
from cdv.evaluation.documents import default_report
from cdv.evaluation.enums import EvaluationKind
from cdv.evaluation.models import Evaluation
from cdv.evaluation.report import build_payload, council_for

from .auth import visible_contract
from .pagination import paginated
from .params import ContractSlug
from .schemas import READ_ERRORS

router = Router(tags=["evaluations"])

ADOPTED_VERSION = "VERSION_ADOPTEE"
FROZEN_VERSION = "VERSION_FIGEE"
LIVE = "DONNEES_DU_MOMENT"

EvaluationKindPath = Annotated[
    EvaluationKind,
    Path(description="nature de l'évaluation : MI_PARCOURS ou FINALE", example=EvaluationKind.MID_TERM.value),
]


class PeriodValueOut(Schema):
    period: str = Field(description="période (année ou trimestre) de la valeur retenue")
    qpv: Decimal | None = Field(description="valeur de l'ensemble des QPV du contrat")
    qpv_origin: str | None = Field(description="calculée (rapport des sommes) ou publiée")
    reference: Decimal | None = Field(description="valeur de la référence")
    reference_label: str | None = Field(description="territoire de référence")
    gap_points: Decimal | None = Field(description="écart à la référence, en points")


class IndicatorEvidenceOut(Schema):
    code: str = Field(description="code de l'indicateur")
    name: str = Field(description="nom")
    unit: str = Field(description="unité")
    start: PeriodValueOut | None = Field(description="au début de la période évaluée")
    end: PeriodValueOut | None = Field(description="à la fin de la période évaluée")
    change_points: Decimal | None = Field(description="évolution de l'ensemble des QPV, en points")
    change_percent: Decimal | None = Field(description="évolution de l'ensemble des QPV, en %")
    gap_change: Decimal | None = Field(
        description="évolution de l'écart, en points (négatif : il se resserre)"
    )
    warning: str = Field(description="avertissement de comparabilité")


class RealisationOut(Schema):
    label: str = Field(description="ensemble, partenaire, enjeu ou quartier")
    engaged: int = Field(description="engagements confirmés (cahier signé)")
    done: int = Field(description="réalisés")
    partly_done: int = Field(description="partiellement réalisés")
    not_done: int = Field(description="non réalisés")
    abandoned: int = Field(description="abandonnés")
    ongoing: int = Field(description="confirmés ou en cours")
    rate: Decimal | None = Field(description="taux de réalisation (en tout ou partie), en %")
    full_rate: Decimal | None = Field(description="taux de réalisation complète, en %")


class MeansOut(Schema):
    committed_fte: Decimal | None = Field(description="ETP engagés pour les années de la période")
    committed_eur: Decimal | None = Field(description="euros engagés pour les années de la période")
    mobilised_fte: Decimal | None = Field(description="ETP mobilisés (bilans annuels acceptés)")
    mobilised_eur: Decimal | None = Field(description="euros mobilisés (bilans annuels acceptés)")
    fte_ratio: Decimal | None = Field(description="part des ETP engagés mobilisée, en %")
    eur_ratio: Decimal | None = Field(description="part des euros engagés mobilisée, en %")


class FeedbackEvidenceOut(Schema):
    kind: str = Field(description="nature du retour, en clair")
    text: str = Field(description="le retour d'expérience publié")
    attribution: str = Field(description="organisation au nom de laquelle il est déposé")


class DecisionEvidenceOut(Schema):
    text: str = Field(description="décision")
    meeting: str = Field(description="instance qui l'a prise")
    date: str = Field(description="date de l'instance (AAAA-MM-JJ)")
    status: str = Field(description="état du suivi, en clair")
    follow_up: str = Field(description="où en est-on ?")


class EvidenceOut(Schema):
    indicators: list[IndicatorEvidenceOut] = Field(description="indicateurs des enjeux de la question")
    overall: RealisationOut = Field(description="réalisation des engagements liés à la question")
    by_partner: list[RealisationOut] = Field(description="réalisation par partenaire")
    by_enjeu: list[RealisationOut] = Field(description="réalisation par enjeu")
    by_qpv: list[RealisationOut] = Field(description="réalisation par quartier (et portée générale)")
    means: MeansOut = Field(description="moyens engagés et mobilisés sur la période")
    feedback: list[FeedbackEvidenceOut] = Field(description="retours d'expérience publiés liés")
    decisions: list[DecisionEvidenceOut] = Field(description="décisions des instances liées et leur suivi")


class JudgementOut(Schema):
    scale: int = Field(description="appréciation de 1 (non atteint) à 4 (atteint)")
    scale_label: str = Field(description="appréciation en clair")
    text: str = Field(description="jugement argumenté des évaluateurs")


class CouncilItemOut(Schema):
    qpv: str = Field(description="quartier du conseil citoyen")
    number: int = Field(description="numéro de la question dans le questionnaire du quartier")
    text: str = Field(description="question posée au conseil citoyen")
    kind: str = Field(description="ECHELLE (note de 1 à 5) ou TEXTE (réponse libre)")
    count: int = Field(description="nombre de réponses à cette question")
    mean: Decimal | None = Field(description="moyenne des notes (échelle seulement)")
    distribution: list[int] | None = Field(description="nombre de notes 1, 2, 3, 4 et 5 (échelle seulement)")
    texts: list[str] = Field(description="réponses libres, triées par ordre alphabétique, sans auteur")


class QuestionOut(Schema):
    number: int = Field(description="numéro de la question évaluative")
    text: str = Field(description="question évaluative")
    criterion: str = Field(description="critère (PERTINENCE, COHERENCE, EFFICACITE, …)")
    criterion_label: str = Field(description="critère en clair")
    enjeux: list[str] = Field(description="enjeux visés (« numéro. intitulé »)")
    objectives: list[str] = Field(description="objectifs visés")
    judgement: JudgementOut | None = Field(description="jugement des évaluateurs ; null s'il n'est pas écrit")
    council: list[CouncilItemOut] = Field(description="avis agrégé des conseils citoyens sur cette question")
    evidence: EvidenceOut | None = Field(description="éléments de preuve ; membres du contrat seulement")


class RecommendationOut(Schema):
    number: int = Field(description="numéro de la recommandation")
    text: str = Field(description="recommandation")
    enjeux: list[str] = Field(description="enjeux concernés")
    objectives: list[str] = Field(description="objectifs concernés")
    commitments: list[str] = Field(description="engagements concernés (intitulés)")


class QpvResultOut(Schema):
    code: str = Field(description="code du QPV")
    name: str = Field(description="nom du quartier")
    population: int | None = Field(description="population")
    realisation: RealisationOut | None = Field(
        description="réalisation des engagements qui citent le quartier ; membres du contrat seulement"
    )
    responses: int = Field(description="réponses au questionnaire du conseil citoyen")
    on_paper: int = Field(description="dont saisies d'un formulaire papier")
    items: list[CouncilItemOut] = Field(
        description="avis agrégé du conseil citoyen, question par question ; vide pendant l'évaluation "
        "pour qui n'est ni pilote, ni évaluateur, ni membre de ce conseil citoyen"
    )
    masked: bool = Field(
        description="résultats masqués : le quartier a moins de réponses que le minimum (5 par défaut)"
    )


class VersionOut(Schema):
    number: int = Field(description="numéro de la version figée")
    frozen_at: datetime = Field(description="figée le")
    adopted: bool = Field(description="version adoptée par le comité de pilotage")
    checksum: str = Field(description="empreinte SHA-256 du contenu figé")


class EvaluationOut(Schema):
    kind: str = Field(description="MI_PARCOURS ou FINALE")
    kind_label: str = Field(description="nature en clair")
    title: str = Field(description="intitulé")
    period_start: int = Field(description="première année évaluée")
    period_end: int = Field(description="dernière année évaluée")
    status: str = Field(description="EN_COURS (membres du contrat seulement) ou ADOPTEE")
    status_label: str = Field(description="état en clair")
    adopted_on: date | None = Field(description="date d'adoption par le comité de pilotage")
    adopting_meeting: str | None = Field(description="instance qui l'a adoptée")
    is_demo: bool = Field(description="donnée de démonstration")
    content: str = Field(
        description="origine du contenu : VERSION_ADOPTEE (figée, telle qu'adoptée), VERSION_FIGEE ou "
        "DONNEES_DU_MOMENT (évaluation en cours)"
    )
    version: VersionOut | None = Field(
        description="version figée dont vient le contenu ; null : données du moment"
    )
    generated_at: datetime = Field(description="date des données du contenu")
    method: str = Field(description="méthode")
    summary: str = Field(description="synthèse")
    questions: list[QuestionOut] = Field(description="questions évaluatives, jugements et avis des conseils")
    recommendations: list[RecommendationOut] = Field(description="recommandations")
    qpvs: list[QpvResultOut] = Field(description="un élément par quartier du contrat")
    council_responses: int = Field(description="nombre total de réponses des conseils citoyens")
    evidence_visible: bool = Field(description="les éléments de preuve sont-ils donnés à l'appelant ?")


# --- Contenu ------------------------------------------------------------------------------------


def _decimals(value):
    """Les nombres du contenu JSON (flottants) en décimaux exacts, comme le reste de l'API."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def _source(evaluation):
    """(contenu, version figée ou None, origine) : adoptée → la version adoptée, sinon le moment."""
    if evaluation.is_adopted:
        report = default_report(evaluation)
        if report is not None:
            return report.payload, report, ADOPTED_VERSION if report.adopted else FROZEN_VERSION
    # Les chiffres des appels à projets ne sont pas dans la réponse (``EvaluationOut``) : pas calculés.
    return build_payload(evaluation, with_calls=False), None, LIVE


def _council_item(item: dict) -> dict:
    """Seulement les champs agrégés : rien d'autre ne sort, même si le contenu en portait plus."""
    keys = ("qpv", "number", "text", "kind", "count", "mean", "distribution", "texts")
    return {key: item.get(key) for key in keys} | {"texts": list(item.get("texts") or [])}


def evaluation_content(evaluation, rights: dict, visible_qpvs: set[str] | None = None) -> dict:
    """``visible_qpvs`` : les quartiers dont l'appelant lit l'avis du conseil citoyen (None : tous)."""
    payload, report, origin = _source(evaluation)
    payload = _decimals(council_for(payload, visible_qpvs=visible_qpvs))
    evidence = rights["view_evidence"]
    meta = payload["evaluation"]
    return {
        "kind": evaluation.kind,
        "kind_label": evaluation.get_kind_display(),
        "title": meta["title"],
        "period_start": evaluation.period_start,
        "period_end": evaluation.period_end,
        "status": evaluation.status,
        "status_label": evaluation.get_status_display(),
        "adopted_on": evaluation.adopted_on,
        "adopting_meeting": str(evaluation.adopting_meeting) if evaluation.adopting_meeting_id else None,
        "is_demo": evaluation.is_demo,
        "content": origin,
        "version": (
            {
                "number": report.version,
                "frozen_at": report.created_at,
                "adopted": report.adopted,
                "checksum": report.checksum,
            }
            if report
            else None
        ),
        "generated_at": payload["generated_at"],
        "method": meta["method"],
        "summary": meta["summary"],
        "questions": [
            {
                "number": q["number"],
                "text": q["text"],
                "criterion": q["criterion"],
                "criterion_label": q["criterion_label"],
                "enjeux": q["enjeux"],
                "objectives": q["objectives"],
                "judgement": q["judgement"],
                "council": [_council_item(i) for i in q["council"]],
                "evidence": q["evidence"] if evidence else None,
            }
            for q in payload["questions"]
        ],
        "recommendations": payload["recommendations"],
        "qpvs": [
            {
                "code": qpv["code"],
                "name": qpv["name"],
                "population": qpv["population"],
                "realisation": qpv["realisation"] if evidence else None,
                "responses": qpv["council"]["responses"],
                "on_paper": qpv["council"]["on_paper"],
                "items": [_council_item(i) for i in qpv["council"]["items"]],
                "masked": bool(qpv["council"].get("masked")),
            }
            for qpv in payload["qpvs"]
        ],
        "council_responses": payload.get("council_responses", 0),
        "evidence_visible": evidence,
    }


def _visible(user, contract):
    """Les évaluations du contrat que l'appelant peut lire, avec ses droits sur chacune."""
    evaluations = (
        Evaluation.objects.for_contract(contract)
        .select_related("contract", "adopting_meeting")
        .order_by("period_end", "kind", "id")
    )
    for evaluation in evaluations:
        rights = evaluation_abilities(user, evaluation)
        if rights["view"]:
            yield evaluation, rights


@router.get(
    "/{slug}/evaluations",
    response={200: list[EvaluationOut], **READ_ERRORS},
    summary="Évaluations d'un contrat : questions, jugements, avis des conseils citoyens",
    operation_id="list_evaluations",
)
@paginated
def list_evaluations(request, slug: ContractSlug):
    """Les évaluations adoptées pour le public, telles qu'adoptées (version figée) ; les membres du
    contrat lisent aussi l'évaluation en cours, sur les données du moment, avec les éléments de
    preuve. L'avis des conseils citoyens n'est jamais donné qu'agrégé. Mi-parcours d'abord."""
    user, contract = visible_contract(request, slug)
    return [
        evaluation_content(evaluation, rights, council_results_qpvs(user, evaluation))
        for evaluation, rights in _visible(user, contract)
    ]


@router.get(
    "/{slug}/evaluations/{kind}",
    response={200: EvaluationOut, **READ_ERRORS},
    summary="Une évaluation d'un contrat (mi-parcours ou finale)",
    operation_id="get_evaluation",
)
def get_evaluation(request, slug: ContractSlug, kind: EvaluationKindPath):
    """L'évaluation de cette nature, si l'appelant peut la lire (sinon 404) : adoptée pour le
    public, aussi en cours pour les membres du contrat."""
    user, contract = visible_contract(request, slug)
    for evaluation, rights in _visible(user, contract):
        if evaluation.kind == kind:
            return Status(200, evaluation_content(evaluation, rights, council_results_qpvs(user, evaluation)))
    raise HttpError(
        404, f"Aucune évaluation « {EvaluationKind(kind).label.lower()} » accessible dans ce contrat."
    )
