import factory
from django.utils import timezone
from django.utils.text import slugify

from cdv.plan.enums import ActionScope, ActionStatus
from cdv.plan.models import Action, Enjeu, Objective, QpvPriority

from .base import ModelFactory, qpv_of
from .contracts import ContractFactory

__all__ = ["ActionFactory", "EnjeuFactory", "ObjectiveFactory", "QpvPriorityFactory"]


class EnjeuFactory(ModelFactory):
    class Meta:
        model = Enjeu

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Enjeu {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))


class ObjectiveFactory(ModelFactory):
    class Meta:
        model = Objective

    enjeu = factory.SubFactory(EnjeuFactory)
    number = factory.Sequence(lambda n: n + 100)
    title = factory.Sequence(lambda n: f"Objectif {n}")

    class Params:
        archived = factory.Trait(archived_at=factory.LazyFunction(timezone.now))


class ActionFactory(ModelFactory):
    class Meta:
        model = Action

    objective = factory.SubFactory(ObjectiveFactory)
    code = factory.Sequence(lambda n: f"9.9.{n}")
    title = factory.Sequence(lambda n: f"Action {n}")
    summary_plain = "Une action de test, résumée simplement."
    scope = ActionScope.METROPOLITAN

    class Params:
        # Une action de quartier : elle cite un QPV de son contrat.
        in_qpv = factory.Trait(
            scope=ActionScope.QPV,
            qpvs=factory.LazyAttribute(lambda o: [qpv_of(o.objective.enjeu.contract)]),
        )
        in_progress = factory.Trait(status=ActionStatus.IN_PROGRESS)
        archived = factory.Trait(archived_at=factory.LazyFunction(timezone.now))


class QpvPriorityFactory(ModelFactory):
    class Meta:
        model = QpvPriority

    enjeu = factory.SubFactory(EnjeuFactory)
    qpv = factory.LazyAttribute(lambda o: qpv_of(o.enjeu.contract))
    text = "Priorités locales du quartier pour cet enjeu."
