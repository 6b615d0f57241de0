import datetime

import factory

from cdv.evaluation.enums import (
    ChangeKind,
    Criterion,
    EvaluationKind,
    EvaluationStatus,
    ItemKind,
    JudgementScale,
    QuestionnaireStatus,
)
from cdv.evaluation.models import (
    Amendment,
    AmendmentChange,
    Answer,
    Evaluation,
    EvaluationQuestion,
    EvaluationReport,
    Judgement,
    Questionnaire,
    QuestionnaireItem,
    QuestionnaireResponse,
    Recommendation,
)

from .base import ModelFactory, new_qpv_of
from .contracts import ContractFactory
from .monitoring import MeetingFactory, checksum
from .plan import EnjeuFactory
from .users import UserFactory, digest

__all__ = [
    "AmendmentChangeFactory",
    "AmendmentFactory",
    "AnswerFactory",
    "EvaluationFactory",
    "EvaluationQuestionFactory",
    "EvaluationReportFactory",
    "JudgementFactory",
    "QuestionnaireFactory",
    "QuestionnaireItemFactory",
    "QuestionnaireResponseFactory",
    "RecommendationFactory",
]


class EvaluationFactory(ModelFactory):
    """L'évaluation à mi-parcours d'un contrat, en cours."""

    class Meta:
        model = Evaluation

    contract = factory.SubFactory(ContractFactory)
    kind = EvaluationKind.MID_TERM
    title = factory.LazyAttribute(lambda o: f"{EvaluationKind(o.kind).label} — {o.contract.title}")
    period_start = factory.LazyAttribute(lambda o: o.contract.start_year)
    period_end = factory.LazyAttribute(lambda o: o.period_start + 2)

    class Params:
        final = factory.Trait(
            kind=EvaluationKind.FINAL, period_end=factory.LazyAttribute(lambda o: o.contract.end_year)
        )
        adopted = factory.Trait(
            status=EvaluationStatus.ADOPTED,
            adopted_on=factory.LazyAttribute(lambda o: o.adopting_meeting.date),
            adopting_meeting=factory.SubFactory(MeetingFactory, contract=factory.SelfAttribute("..contract")),
        )


class EvaluationQuestionFactory(ModelFactory):
    class Meta:
        model = EvaluationQuestion

    evaluation = factory.SubFactory(EvaluationFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Question évaluative de test {n} ?")
    criterion = Criterion.EFFECTIVENESS

    class Params:
        on_enjeu = factory.Trait(
            enjeux=factory.LazyAttribute(lambda o: [EnjeuFactory(contract=o.evaluation.contract)])
        )


class JudgementFactory(ModelFactory):
    class Meta:
        model = Judgement

    question = factory.SubFactory(EvaluationQuestionFactory)
    scale = JudgementScale.MOSTLY_MET
    text = "Les actions ont touché leur public, moins les jeunes."
    author = factory.SubFactory(UserFactory)


class RecommendationFactory(ModelFactory):
    class Meta:
        model = Recommendation

    evaluation = factory.SubFactory(EvaluationFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Recommandation de test {n}.")
    author = factory.SubFactory(UserFactory)


class QuestionnaireFactory(ModelFactory):
    """Le questionnaire d'un quartier du contrat de l'évaluation (un nouveau QPV ajouté au contrat)."""

    class Meta:
        model = Questionnaire

    evaluation = factory.SubFactory(EvaluationFactory)
    qpv = factory.LazyAttribute(lambda o: new_qpv_of(o.evaluation.contract))
    title = factory.LazyAttribute(lambda o: f"Questionnaire du conseil citoyen — {o.qpv.name}")
    status = QuestionnaireStatus.DRAFT

    class Params:
        open = factory.Trait(status=QuestionnaireStatus.OPEN)
        closed = factory.Trait(status=QuestionnaireStatus.CLOSED)


class QuestionnaireItemFactory(ModelFactory):
    class Meta:
        model = QuestionnaireItem

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Question {n} posée au conseil citoyen ?")
    kind = ItemKind.SCALE

    class Params:
        free_text = factory.Trait(kind=ItemKind.TEXT)
        for_question = factory.Trait(
            question=factory.SubFactory(
                EvaluationQuestionFactory, evaluation=factory.SelfAttribute("..questionnaire.evaluation")
            )
        )


class QuestionnaireResponseFactory(ModelFactory):
    """Une réponse anonyme à un questionnaire ouvert."""

    class Meta:
        model = QuestionnaireResponse

    questionnaire = factory.SubFactory(QuestionnaireFactory, open=True)
    respondent_key = factory.Sequence(lambda n: digest(f"repondant-{n}"))

    class Params:
        paper = factory.Trait(on_paper=True)


class AnswerFactory(ModelFactory):
    """La note (1 à 5) donnée à une question du même questionnaire ; ``free_text`` : une réponse libre à
    une question ouverte."""

    class Meta:
        model = Answer

    response = factory.SubFactory(QuestionnaireResponseFactory)
    scale_value = 4
    item = factory.SubFactory(
        QuestionnaireItemFactory,
        questionnaire=factory.SelfAttribute("..response.questionnaire"),
        kind=factory.LazyAttribute(
            lambda o: ItemKind.SCALE if o.factory_parent.scale_value is not None else ItemKind.TEXT
        ),
    )

    class Params:
        free_text = factory.Trait(scale_value=None, text="Le forum au centre social a aidé des voisins.")


class EvaluationReportFactory(ModelFactory):
    class Meta:
        model = EvaluationReport

    evaluation = factory.SubFactory(EvaluationFactory)
    version = factory.Sequence(lambda n: n + 1)
    created_by = factory.SubFactory(UserFactory)
    payload = factory.LazyAttribute(lambda o: {"title": o.evaluation.title, "questions": []})
    checksum = factory.LazyAttribute(lambda o: checksum(o.payload))

    class Params:
        adopted_version = factory.Trait(adopted=True)


class AmendmentFactory(ModelFactory):
    class Meta:
        model = Amendment

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: n + 1)
    signed_on = datetime.date(2027, 3, 15)
    reason = "Les conclusions de l'évaluation à mi-parcours."
    created_by = factory.SubFactory(UserFactory)

    class Params:
        after_evaluation = factory.Trait(
            evaluation=factory.SubFactory(EvaluationFactory, contract=factory.SelfAttribute("..contract"))
        )


class AmendmentChangeFactory(ModelFactory):
    class Meta:
        model = AmendmentChange

    amendment = factory.SubFactory(AmendmentFactory)
    kind = ChangeKind.CREATED
    model = "objective"
    object_id = factory.Sequence(lambda n: n + 1)
    label = factory.Sequence(lambda n: f"Objectif créé par avenant {n}")
    after = factory.LazyAttribute(lambda o: {"title": o.label})

    class Params:
        changed = factory.Trait(
            kind=ChangeKind.CHANGED, before=factory.LazyAttribute(lambda o: {"title": f"{o.label} (avant)"})
        )
