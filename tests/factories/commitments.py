import factory
from django.utils import timezone

from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentAmendment, CommitmentMeans

from .base import ModelFactory, qpv_of
from .contracts import ContractFactory, SignatoryFactory
from .partners import PartnerFactory
from .plan import EnjeuFactory, ObjectiveFactory
from .users import UserFactory

__all__ = ["CommitmentAmendmentFactory", "CommitmentFactory", "CommitmentMeansFactory"]


def enjeu_of(contract):
    """Le premier enjeu du contrat, ou un nouvel enjeu s'il n'en a aucun."""
    return contract.enjeux.order_by("number").first() or EnjeuFactory(contract=contract)


class CommitmentFactory(ModelFactory):
    """Un engagement d'un partenaire, rattaché à un objectif de son contrat.

    Il se rattache à un nouvel objectif du premier enjeu du contrat (créé s'il n'en a pas). Sa portée
    suit ses quartiers : ``qpvs=[…]`` donne un engagement de quartier, sans quartier il
    vaut pour tout le contrat. Le trait ``in_qpv`` le rattache à un quartier du contrat."""

    class Meta:
        model = Commitment

    contract = factory.SubFactory(ContractFactory)
    partner = factory.SubFactory(PartnerFactory)
    objective = factory.SubFactory(
        ObjectiveFactory, enjeu=factory.LazyAttribute(lambda o: enjeu_of(o.factory_parent.contract))
    )
    title = factory.Sequence(lambda n: f"Engagement de test {n}")
    qpvs = ()
    indicators = None
    scope = factory.LazyAttribute(lambda o: CommitmentScope.QPV if o.qpvs else CommitmentScope.CONTRACT)
    status = CommitmentStatus.DRAFT

    class Params:
        # Le partenaire signe le contrat (ou y participe) avant de s'engager.
        by_signatory = factory.Trait(
            partner=factory.LazyAttribute(lambda o: SignatoryFactory(contract=o.contract).partner)
        )
        in_qpv = factory.Trait(qpvs=factory.LazyAttribute(lambda o: [qpv_of(o.contract)]))
        draft = factory.Trait(status=CommitmentStatus.DRAFT)
        proposed = factory.Trait(status=CommitmentStatus.PROPOSED)
        returned = factory.Trait(
            status=CommitmentStatus.RETURNED, status_comment="Précisez la cible et les quartiers."
        )
        validated = factory.Trait(status=CommitmentStatus.VALIDATED)
        confirmed = factory.Trait(
            status=CommitmentStatus.CONFIRMED,
            confirmed_at=factory.LazyFunction(timezone.now),
            confirmed_name="Camille Signataire",
            confirmed_role="Directrice",
        )
        in_progress = factory.Trait(status=CommitmentStatus.IN_PROGRESS)
        done = factory.Trait(status=CommitmentStatus.DONE)
        abandoned = factory.Trait(
            status=CommitmentStatus.ABANDONED, status_comment="Abandonné faute de local."
        )

    @factory.post_generation
    def means(obj, create, extracted, **kwargs):
        """``means=[2025, 2026]`` : des moyens de droit commun ces années-là."""
        for year in extracted or ():
            CommitmentMeansFactory(commitment=obj, year=year, **kwargs)


class CommitmentMeansFactory(ModelFactory):
    class Meta:
        model = CommitmentMeans

    commitment = factory.SubFactory(CommitmentFactory)
    year = factory.LazyAttribute(lambda o: o.commitment.contract.start_year)
    fte = 1
    amount_eur = 100
    funding = FundingKind.ORDINARY

    class Params:
        specific = factory.Trait(funding=FundingKind.SPECIFIC, fte=0)


class CommitmentAmendmentFactory(ModelFactory):
    class Meta:
        model = CommitmentAmendment

    commitment = factory.SubFactory(CommitmentFactory, confirmed=True)
    number = factory.Sequence(lambda n: n + 1)
    reason = "Le partenaire élargit son public."
    author = factory.SubFactory(UserFactory)
    previous_version = factory.LazyAttribute(lambda o: o.commitment.version)
    previous = factory.LazyAttribute(lambda o: {"title": o.commitment.title, "target": o.commitment.target})
    changes = factory.LazyFunction(lambda: [{"field": "target", "before": "", "after": "30 jeunes"}])
