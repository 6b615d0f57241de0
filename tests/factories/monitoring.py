import datetime
import hashlib
import json

import factory
from django.utils import timezone

from cdv.monitoring.enums import (
    CampaignStatus,
    DecisionStatus,
    FeedbackKind,
    MeetingKind,
    Moderation,
    ReportState,
)
from cdv.monitoring.models import (
    Decision,
    Feedback,
    Meeting,
    ProgressReport,
    ReportAttachment,
    ReviewCampaign,
    Snapshot,
)

from .base import ModelFactory, qpv_of
from .commitments import CommitmentFactory
from .contracts import ContractFactory
from .users import UserFactory

__all__ = [
    "PDF",
    "DecisionFactory",
    "FeedbackFactory",
    "MeetingFactory",
    "ProgressReportFactory",
    "ReportAttachmentFactory",
    "ReviewCampaignFactory",
    "SnapshotFactory",
]

PDF = b"%PDF-1.4\n% piece jointe de test\n"


def checksum(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ReviewCampaignFactory(ModelFactory):
    """Une campagne de bilans ouverte (l'année suivie : 2025)."""

    class Meta:
        model = ReviewCampaign

    contract = factory.SubFactory(ContractFactory)
    year = 2025
    opens_on = factory.LazyFunction(timezone.localdate)
    deadline = factory.LazyAttribute(lambda o: o.opens_on + datetime.timedelta(days=30))
    status = CampaignStatus.OPEN
    opened_by = factory.SubFactory(UserFactory)

    class Params:
        open = factory.Trait(status=CampaignStatus.OPEN)
        closed = factory.Trait(status=CampaignStatus.CLOSED)
        frozen = factory.Trait(status=CampaignStatus.FROZEN)


class ProgressReportFactory(ModelFactory):
    """Le bilan d'un engagement confirmé du contrat de la campagne, par son partenaire."""

    class Meta:
        model = ProgressReport

    campaign = factory.SubFactory(ReviewCampaignFactory)
    commitment = factory.SubFactory(
        CommitmentFactory, contract=factory.SelfAttribute("..campaign.contract"), confirmed=True
    )
    partner = factory.SelfAttribute("commitment.partner")
    state = ReportState.DRAFT

    class Params:
        filled = factory.Trait(
            progress_pct=50, fte_actual=1, amount_actual=1000, what_worked="Des ateliers bien suivis."
        )
        submitted = factory.Trait(
            filled=True,
            state=ReportState.SUBMITTED,
            submitted_at=factory.LazyFunction(timezone.now),
            submitted_by=factory.SubFactory(UserFactory),
        )
        reviewed = factory.Trait(
            submitted=True,
            reviewed_at=factory.LazyFunction(timezone.now),
            reviewed_by=factory.SubFactory(UserFactory),
        )
        accepted = factory.Trait(reviewed=True, state=ReportState.ACCEPTED)
        returned = factory.Trait(
            reviewed=True, state=ReportState.RETURNED, reviewer_comment="Précisez les moyens mobilisés."
        )


class ReportAttachmentFactory(ModelFactory):
    """Une pièce jointe PDF (écrite dans MEDIA_ROOT : le test en choisit un jetable)."""

    class Meta:
        model = ReportAttachment

    report = factory.SubFactory(ProgressReportFactory)
    original_name = "preuve.pdf"
    file = factory.django.FileField(filename=factory.SelfAttribute("..original_name"), data=PDF)
    content_type = "application/pdf"
    size = len(PDF)
    uploaded_by = factory.SubFactory(UserFactory)


class FeedbackFactory(ModelFactory):
    """Un retour d'expérience en attente de modération."""

    class Meta:
        model = Feedback

    contract = factory.SubFactory(ContractFactory)
    author = factory.SubFactory(UserFactory)
    kind = FeedbackKind.NEED
    text = factory.Sequence(lambda n: f"Retour d'expérience de test {n}")
    moderation = Moderation.PENDING

    class Params:
        in_qpv = factory.Trait(qpvs=factory.LazyAttribute(lambda o: [qpv_of(o.contract)]))
        moderated = factory.Trait(
            moderated_at=factory.LazyFunction(timezone.now), moderated_by=factory.SubFactory(UserFactory)
        )
        published = factory.Trait(moderated=True, moderation=Moderation.PUBLISHED)
        hidden = factory.Trait(
            moderated=True,
            moderation=Moderation.REJECTED,
            moderation_comment="Propos qui désignent une personne.",
        )


class MeetingFactory(ModelFactory):
    class Meta:
        model = Meeting

    contract = factory.SubFactory(ContractFactory)
    kind = MeetingKind.COPIL
    title = factory.LazyAttribute(lambda o: f"{o.kind} de test")
    date = datetime.date(2025, 6, 12)
    minutes = factory.LazyAttribute(lambda o: f"Compte rendu {o.kind}")

    class Params:
        copil = factory.Trait(kind=MeetingKind.COPIL)
        cotech = factory.Trait(kind=MeetingKind.COTECH)
        neighbourhood = factory.Trait(
            kind=MeetingKind.NEIGHBOURHOOD, qpv=factory.LazyAttribute(lambda o: qpv_of(o.contract))
        )


class DecisionFactory(ModelFactory):
    class Meta:
        model = Decision

    meeting = factory.SubFactory(MeetingFactory)
    text = "Décision de test"
    status = DecisionStatus.OPEN

    class Params:
        in_progress = factory.Trait(status=DecisionStatus.IN_PROGRESS, follow_up="C'est en cours.")
        done = factory.Trait(
            status=DecisionStatus.DONE,
            follow_up="Fait.",
            closed_on=factory.LazyAttribute(lambda o: o.meeting.date + datetime.timedelta(days=30)),
        )
        dropped = factory.Trait(status=DecisionStatus.DROPPED, follow_up="Abandonnée en COPIL.")


class SnapshotFactory(ModelFactory):
    """L'instantané d'une campagne figée."""

    class Meta:
        model = Snapshot

    campaign = factory.SubFactory(ReviewCampaignFactory, frozen=True)
    created_by = factory.SubFactory(UserFactory)
    payload = factory.LazyAttribute(lambda o: {"year": o.campaign.year, "commitments": [], "reports": []})
    checksum = factory.LazyAttribute(lambda o: checksum(o.payload))
