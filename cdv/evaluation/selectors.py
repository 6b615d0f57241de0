"""Lectures composées sur l'évaluation et les avenants : ce que les pages assemblent à partir de
plusieurs requêtes. Les vues appellent ces fonctions et affichent."""

from cdv.commitments.models import Commitment
from cdv.plan.models import Objective
from cdv.territories.models import heavy_fields

from . import abilities
from . import evidence as ev
from . import results as res
from .enums import JudgementScale
from .models import Amendment, Judgement
from .report import evidence_content, item_content

# Colonnes lourdes d'un quartier (contour, emprise, codes des communes) : inutiles pour un questionnaire.


def amendments_with_changes(contract, *, member: bool) -> list:
    """Les avenants du contrat, du plus récent au plus ancien, chacun avec ``shown_changes`` (ses
    changements lisibles : tous pour un membre du contrat, les publics pour les autres) et
    ``hidden_changes`` (combien sont tus). Deux requêtes."""
    items = list(
        Amendment.objects.for_contract(contract)
        .select_related("evaluation")
        .prefetch_related("changes")
        .order_by("-number")
    )
    for amendment in items:
        changes = list(amendment.changes.all())
        amendment.shown_changes = [c for c in changes if member or c.is_public]
        amendment.hidden_changes = len(changes) - len(amendment.shown_changes)
    return items


def objective_labels(contract) -> dict[int, str]:
    return {
        o.pk: f"{o.enjeu.number}.{o.number} {o.title}"
        for o in Objective.objects.for_contract(contract).select_related("enjeu")
    }


def visible_council_results(user, evaluation, contract):
    """L'avis agrégé des questionnaires que la personne a le droit de lire (pilote, évaluateur, conseil
    citoyen du quartier) ; les autres membres ne le lisent qu'une fois l'évaluation adoptée."""
    questionnaires = list(
        evaluation.questionnaires.select_related("qpv").defer(*heavy_fields("qpv")).order_by("qpv__name")
    )
    rights_of = abilities.questionnaire_abilities_in(user, contract)
    visible = []
    for questionnaire in questionnaires:
        questionnaire.evaluation = evaluation
        if rights_of(questionnaire)["view_results"]:
            visible.append(questionnaire)
    return res.questionnaire_results(visible), len(visible) < len(questionnaires)


def live_questions(user, contract, evaluation):
    """Le contenu du rapport tel qu'il serait figé maintenant, question par question."""
    evidence = ev.assemble(evaluation)
    labels = objective_labels(contract)
    council, hidden = visible_council_results(user, evaluation, contract)
    by_question = res.by_question(council)
    questions = []
    for item in evidence:
        q = item.question
        questions.append(
            {
                "pk": q.pk,
                "number": q.number,
                "text": q.text,
                "criterion_label": q.get_criterion_display(),
                "enjeux": [str(e) for e in sorted(q.enjeux.all(), key=lambda e: e.number)],
                "objectives": [labels.get(o.pk, o.title) for o in q.objectives.all()],
                "evidence": evidence_content(item, num=lambda value: value),  # nombres exacts
                "council": [item_content(r) for r in by_question.get(q.pk, [])],
            }
        )
    return questions, hidden


def public_recommendations(contract, recommendations):
    """Le public ne lit, parmi les engagements cités par les recommandations figées, que ceux qui sont
    publiés (confirmés et suivants) : le contenu figé ne garde que leurs intitulés."""
    titles = {t for r in recommendations for t in r.get("commitments", [])}
    public = set(
        Commitment.objects.for_contract(contract)
        .published()
        .filter(title__in=titles)
        .values_list("title", flat=True)
    )
    return [
        {**r, "commitments": [t for t in r.get("commitments", []) if t in public]} for r in recommendations
    ]


def judgement_history(evaluation) -> dict[int, list]:
    history = {}
    records = (
        Judgement.history.filter(question__evaluation=evaluation)
        .select_related("history_user", "author")
        .order_by("-history_date", "-history_id")
    )
    for record in records:
        who = record.history_user or record.author
        history.setdefault(record.question_id, []).append(
            {
                "date": record.history_date,
                "who": str(who) if who else "auteur inconnu",
                "scale": JudgementScale(record.scale).label if record.scale in JudgementScale.values else "",
                "text": record.text,
                "kind": "création" if record.history_type == "+" else "modification",
            }
        )
    return history
