import datetime
import hashlib
from decimal import Decimal

import factory
from django.utils import timezone

from cdv.grants.enums import (
    Account,
    ActKind,
    ApplicationStatus,
    CallStatus,
    DocumentKind,
    EventKind,
    InstalmentKind,
    LineStatus,
    Opinion,
    OpinionKind,
    ProjectScope,
    ReportPath,
    ReportStatus,
    ReviewDecision,
)
from cdv.grants.models import (
    ActTemplate,
    Application,
    ApplicationEvent,
    BudgetLine,
    Call,
    CallDocument,
    CallFunder,
    FinalReport,
    FunderLine,
    GrantAct,
    InfoRequest,
    PartnerDocument,
    Payment,
    PaymentInstalment,
    QuartierOpinion,
    ReportBlockLift,
    ReportBudgetLine,
    ReportReview,
    Score,
    ScoringCriterion,
)
from cdv.partners.enums import PartnerKind

from .base import ModelFactory, qpv_of
from .contracts import ContractFactory
from .partners import PartnerFactory
from .users import UserFactory

__all__ = [
    "ActTemplateFactory",
    "FinalReportFactory",
    "GrantActFactory",
    "PaymentFactory",
    "PaymentInstalmentFactory",
    "ReportBlockLiftFactory",
    "ReportBudgetLineFactory",
    "ReportReviewFactory",
    "voted_line",
    "ApplicationEventFactory",
    "ApplicationFactory",
    "BudgetLineFactory",
    "CallDocumentFactory",
    "CallFactory",
    "CallFunderFactory",
    "FunderLineFactory",
    "InfoRequestFactory",
    "PartnerDocumentFactory",
    "QuartierOpinionFactory",
    "ScoreFactory",
    "ScoringCriterionFactory",
]

# Un PDF minimal mais réel (signature et fin de fichier), pour les pièces jointes.
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _today():
    return timezone.localdate()


class CallFactory(ModelFactory):
    """Un appel publié dont la fenêtre de dépôt est ouverte aujourd'hui (trait ``closed`` : close
    depuis hier ; ``draft`` : en préparation ; ``voted`` : comité tenu)."""

    class Meta:
        model = Call

    contract = factory.SubFactory(ContractFactory)
    # Loin des appels de démonstration (2025, 2026) : une fabrique sur le contrat de Nantes ne les heurte pas.
    year = factory.Sequence(lambda n: 2030 + n % 900)
    title = factory.LazyAttribute(lambda o: f"Appel à projets {o.year}")
    summary = "Des projets pour les habitants des quartiers prioritaires."
    status = CallStatus.PUBLISHED
    filing_opens = factory.LazyFunction(lambda: _today() - datetime.timedelta(days=20))
    filing_closes = factory.LazyFunction(lambda: _today() + datetime.timedelta(days=10))
    committee_date = factory.LazyFunction(lambda: _today() + datetime.timedelta(days=60))

    class Params:
        draft = factory.Trait(status=CallStatus.DRAFT)
        closed = factory.Trait(
            filing_opens=factory.LazyFunction(lambda: _today() - datetime.timedelta(days=40)),
            filing_closes=factory.LazyFunction(lambda: _today() - datetime.timedelta(days=1)),
        )
        voted = factory.Trait(
            filing_opens=factory.LazyFunction(lambda: _today() - datetime.timedelta(days=90)),
            filing_closes=factory.LazyFunction(lambda: _today() - datetime.timedelta(days=60)),
            committee_held_at=factory.LazyFunction(timezone.now),
        )
        archived = factory.Trait(status=CallStatus.ARCHIVED)


class CallFunderFactory(ModelFactory):
    class Meta:
        model = CallFunder

    call = factory.SubFactory(CallFactory)
    partner = factory.SubFactory(PartnerFactory, kind=PartnerKind.EPCI)
    envelope = Decimal("100000.00")
    order = factory.Sequence(lambda n: n)

    class Params:
        state = factory.Trait(
            partner=factory.SubFactory(PartnerFactory, kind=PartnerKind.STATE),
            label="Programme 147 « Politique de la ville »",
        )


class CallDocumentFactory(ModelFactory):
    class Meta:
        model = CallDocument

    call = factory.SubFactory(CallFactory)
    kind = DocumentKind.STATUTES


class ScoringCriterionFactory(ModelFactory):
    class Meta:
        model = ScoringCriterion

    call = factory.SubFactory(CallFactory)
    label = factory.Sequence(lambda n: f"Critère {n}")
    scale_max = 5


class PartnerDocumentFactory(ModelFactory):
    class Meta:
        model = PartnerDocument

    partner = factory.SubFactory(PartnerFactory)
    kind = DocumentKind.STATUTES
    original_name = "statuts.pdf"
    content_type = "application/pdf"
    file = factory.django.FileField(filename=factory.SelfAttribute("..original_name"), data=TINY_PDF)
    size = len(TINY_PDF)
    sha256 = hashlib.sha256(TINY_PDF).hexdigest()
    uploaded_by = factory.SubFactory(UserFactory)


class ApplicationFactory(ModelFactory):
    """Un brouillon d'une association pour un appel ouvert, sur un quartier du contrat. Traits :
    ``submitted`` (déposé, numéroté, lignes transmises), ``returned``, ``decided``, ``withdrawn``.
    ``funders=[call_funder, …]`` ou ``funders=2`` : des lignes de financeur (2 000 € chacune)."""

    class Meta:
        model = Application

    call = factory.SubFactory(CallFactory)
    partner = factory.SubFactory(PartnerFactory, kind=PartnerKind.ASSOCIATION)
    title = factory.Sequence(lambda n: f"Projet de test {n}")
    summary = "Des ateliers pour les habitants."
    scope = ProjectScope.QPV
    beneficiaries = 40
    qpv_share = Decimal("75")
    status = ApplicationStatus.DRAFT

    class Params:
        submitted = factory.Trait(
            status=ApplicationStatus.SUBMITTED,
            number=factory.Sequence(lambda n: f"T-{n:04d}"),
            submitted_at=factory.LazyFunction(timezone.now),
            sworn_name="Camille Présidente",
            sworn_statement=True,
            republican_contract=True,
        )
        returned = factory.Trait(
            status=ApplicationStatus.RETURNED,
            number=factory.Sequence(lambda n: f"R-{n:04d}"),
            submitted_at=factory.LazyFunction(timezone.now),
        )
        decided = factory.Trait(
            status=ApplicationStatus.DECIDED,
            number=factory.Sequence(lambda n: f"D-{n:04d}"),
            submitted_at=factory.LazyFunction(timezone.now),
        )
        withdrawn = factory.Trait(status=ApplicationStatus.WITHDRAWN)
        whole_territory = factory.Trait(scope=ProjectScope.WHOLE)

    @factory.post_generation
    def qpvs(obj, create, extracted, **kwargs):
        """Sans ``qpvs=[…]`` : un quartier du contrat (aucun pour un projet de tout le territoire)."""
        if not create:
            return
        if extracted is not None:
            obj.qpvs.set(extracted)
        elif obj.scope == ProjectScope.QPV:
            obj.qpvs.set([qpv_of(obj.call.contract)])

    @factory.post_generation
    def funders(obj, create, extracted, **kwargs):
        if not create or not extracted:
            return
        call_funders = (
            [CallFunderFactory(call=obj.call) for _ in range(extracted)]
            if isinstance(extracted, int)
            else extracted
        )
        status = LineStatus.DRAFT if obj.status == ApplicationStatus.DRAFT else LineStatus.TRANSMITTED
        for call_funder in call_funders:
            FunderLineFactory(application=obj, funder=call_funder, status=status)


class BudgetLineFactory(ModelFactory):
    class Meta:
        model = BudgetLine

    application = factory.SubFactory(ApplicationFactory)
    account = Account.A64
    label = "Animateur"
    amount = Decimal("3000.00")


class FunderLineFactory(ModelFactory):
    class Meta:
        model = FunderLine

    application = factory.SubFactory(ApplicationFactory)
    funder = factory.SubFactory(CallFunderFactory, call=factory.SelfAttribute("..application.call"))
    requested_amount = Decimal("2000.00")
    status = LineStatus.DRAFT

    class Params:
        transmitted = factory.Trait(status=LineStatus.TRANSMITTED)
        voted = factory.Trait(
            status=LineStatus.VOTED,
            voted_amount=Decimal("1500.00"),
            decision_date=factory.LazyFunction(_today),
            decision_reference="CF-TEST",
        )
        rejected = factory.Trait(status=LineStatus.REJECTED, decision_date=factory.LazyFunction(_today))


class QuartierOpinionFactory(ModelFactory):
    class Meta:
        model = QuartierOpinion

    application = factory.SubFactory(ApplicationFactory, submitted=True)
    qpv = factory.LazyAttribute(lambda o: qpv_of(o.application.call.contract))
    kind = OpinionKind.CORRESPONDENT
    opinion = Opinion.FAVORABLE
    author = factory.SubFactory(UserFactory)


class ScoreFactory(ModelFactory):
    class Meta:
        model = Score

    application = factory.SubFactory(ApplicationFactory, submitted=True)
    criterion = factory.SubFactory(ScoringCriterionFactory, call=factory.SelfAttribute("..application.call"))
    author = factory.SubFactory(UserFactory)
    value = 4


class InfoRequestFactory(ModelFactory):
    class Meta:
        model = InfoRequest

    application = factory.SubFactory(ApplicationFactory, returned=True)
    questions = "Précisez le nombre de séances."
    asked_by = factory.SubFactory(UserFactory)

    class Params:
        answered = factory.Trait(answer="Douze séances.", answered_at=factory.LazyFunction(timezone.now))


class ApplicationEventFactory(ModelFactory):
    class Meta:
        model = ApplicationEvent

    application = factory.SubFactory(ApplicationFactory)
    kind = EventKind.CREATED


# ---------------------------------------------------------------------------------------------
# Partie 2 : après le vote


def voted_line(*, call=None, partner=None, amount=Decimal("1500.00"), **kwargs):
    """Une ligne votée d'un dossier décidé d'un appel dont le comité s'est tenu (le point de
    départ de la partie 2)."""
    call = call or CallFactory(voted=True)
    application_kwargs = {"call": call, "decided": True}
    if partner is not None:
        application_kwargs["partner"] = partner
    application = ApplicationFactory(**application_kwargs)
    return FunderLineFactory(application=application, voted=True, voted_amount=amount, **kwargs)


class ActTemplateFactory(ModelFactory):
    class Meta:
        model = ActTemplate

    contract = factory.SubFactory(ContractFactory)
    partner = factory.SubFactory(PartnerFactory, kind=PartnerKind.EPCI)
    reference_prefix = "TEST"
    visas = "Vu le code général des collectivités territoriales ;"
    signatory_name = "Camille Martin"
    signatory_title = "Vice-présidente"
    place = "Nantes"


class GrantActFactory(ModelFactory):
    class Meta:
        model = GrantAct

    line = factory.LazyFunction(voted_line)
    funder = factory.SelfAttribute("line.funder")
    kind = ActKind.DECISION
    number = factory.Sequence(lambda n: n + 1)
    reference = factory.LazyAttribute(lambda o: f"TEST-{o.line.application.call.year}-{o.number:04d}")
    amount = factory.SelfAttribute("line.voted_amount")
    prepared_by = factory.SubFactory(UserFactory)

    class Params:
        signed = factory.Trait(
            signed_on=factory.LazyFunction(_today),
            signed_file=factory.django.FileField(filename="acte-signe.pdf", data=TINY_PDF),
            signed_original_name="acte-signe.pdf",
            signed_sha256=hashlib.sha256(TINY_PDF).hexdigest(),
            signed_uploaded_at=factory.LazyFunction(timezone.now),
        )


class PaymentInstalmentFactory(ModelFactory):
    class Meta:
        model = PaymentInstalment

    line = factory.LazyFunction(voted_line)
    kind = InstalmentKind.SINGLE
    order = factory.Sequence(lambda n: n)
    amount = factory.SelfAttribute("line.voted_amount")


class PaymentFactory(ModelFactory):
    class Meta:
        model = Payment

    line = factory.LazyFunction(voted_line)
    instalment = None
    paid_on = factory.LazyFunction(_today)
    amount = factory.SelfAttribute("line.voted_amount")
    recorded_by = factory.SubFactory(UserFactory)


class FinalReportFactory(ModelFactory):
    """Un compte-rendu en cours de saisie du dossier d'une ligne votée ; ``submitted=True`` le
    transmet."""

    class Meta:
        model = FinalReport

    application = factory.LazyFunction(lambda: voted_line().application)
    path = ReportPath.CARRIED_OUT
    status = ReportStatus.DRAFT
    due_date = factory.LazyFunction(lambda: _today() + datetime.timedelta(days=90))
    achievements = "Douze ateliers ont eu lieu."
    beneficiaries_reached = 40
    qpv_beneficiaries = 30

    class Params:
        submitted = factory.Trait(
            status=ReportStatus.SUBMITTED, submitted_at=factory.LazyFunction(timezone.now)
        )
        accepted = factory.Trait(
            status=ReportStatus.ACCEPTED, submitted_at=factory.LazyFunction(timezone.now)
        )


class ReportBudgetLineFactory(ModelFactory):
    class Meta:
        model = ReportBudgetLine

    report = factory.SubFactory(FinalReportFactory)
    account = Account.A64
    label = "Animateur"
    planned_amount = Decimal("3000.00")
    actual_amount = Decimal("2900.00")


class ReportReviewFactory(ModelFactory):
    class Meta:
        model = ReportReview

    report = factory.SubFactory(FinalReportFactory, submitted=True)
    funder = factory.LazyAttribute(lambda o: o.report.application.funder_lines.first().funder)
    decision = ReviewDecision.ACCEPTED
    reviewer = factory.SubFactory(UserFactory)


class ReportBlockLiftFactory(ModelFactory):
    class Meta:
        model = ReportBlockLift

    call = factory.SubFactory(CallFactory)
    partner = factory.SubFactory(PartnerFactory, kind=PartnerKind.ASSOCIATION)
    reason = "Le compte-rendu a été remis en main propre."
    lifted_by = factory.SubFactory(UserFactory)
