"""L'avis des conseils citoyens, agrégé : par quartier et par question, jamais par personne.

Les textes libres sont rendus triés par ordre alphabétique, sans date ni lien vers la réponse
d'origine : l'ordre ne trahit pas qui a répondu quoi. Un quartier qui a moins de
``EVALUATION_MIN_ANSWERS`` réponses n'a pas de résultats (``masked``) : relire l'avis avant et après
la réponse d'un voisin ne dit pas ce qu'il a répondu.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from .enums import ItemKind
from .models import Answer, QuestionnaireItem, QuestionnaireResponse


@dataclass
class ItemResult:
    item: QuestionnaireItem
    qpv_name: str
    count: int = 0
    distribution: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])  # notes 1 à 5
    texts: list[str] = field(default_factory=list)

    @property
    def mean(self) -> Decimal | None:
        if not self.count or self.item.kind != ItemKind.SCALE:
            return None
        total = sum(note * n for note, n in enumerate(self.distribution, start=1))
        return (Decimal(total) / Decimal(self.count)).quantize(Decimal("0.1"))


def min_answers() -> int:
    return settings.EVALUATION_MIN_ANSWERS


def masked_label() -> str:
    return f"résultats masqués : moins de {min_answers()} réponses"


@dataclass
class QuestionnaireResult:
    questionnaire: object
    responses: int
    on_paper: int
    items: list[ItemResult]
    masked: bool = False  # moins de EVALUATION_MIN_ANSWERS réponses : aucun résultat montré

    @property
    def masked_label(self) -> str:
        return masked_label()


def questionnaire_results(questionnaires) -> list[QuestionnaireResult]:
    """En trois requêtes, quel que soit le nombre de questionnaires et de réponses."""
    questionnaires = list(questionnaires)
    ids = [q.pk for q in questionnaires]
    counts = defaultdict(lambda: [0, 0])
    for questionnaire_id, on_paper in QuestionnaireResponse.objects.filter(questionnaire__in=ids).values_list(
        "questionnaire_id", "on_paper"
    ):
        counts[questionnaire_id][0] += 1
        counts[questionnaire_id][1] += int(on_paper)
    items = defaultdict(list)
    names = {q.pk: q.qpv.name for q in questionnaires}
    by_item = {}
    for item in QuestionnaireItem.objects.filter(questionnaire__in=ids).order_by("number"):
        result = ItemResult(item=item, qpv_name=names[item.questionnaire_id])
        items[item.questionnaire_id].append(result)
        by_item[item.pk] = result
    for item_id, note, text in Answer.objects.filter(item__in=list(by_item)).values_list(
        "item_id", "scale_value", "text"
    ):
        result = by_item[item_id]
        if note is not None:
            result.count += 1
            result.distribution[note - 1] += 1
        elif text:
            result.count += 1
            result.texts.append(text)
    for result in by_item.values():
        result.texts.sort(key=str.casefold)
    minimum = min_answers()
    results = []
    for q in questionnaires:
        responses, on_paper = counts[q.pk]
        masked = responses < minimum
        results.append(QuestionnaireResult(q, responses, on_paper, [] if masked else items[q.pk], masked))
    return results


def by_question(results: list[QuestionnaireResult]) -> dict[int, list[ItemResult]]:
    """Les résultats rangés par question évaluative éclairée (id → résultats de chaque quartier)."""
    grouped = defaultdict(list)
    for result in results:
        for item in result.items:
            if item.item.question_id:
                grouped[item.item.question_id].append(item)
    return grouped
