import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.territories.models import Qpv
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def commitment(nantes):
    objective = nantes.enjeux.get(number=1).objectives.first()
    return Commitment.objects.create(
        contract=nantes,
        partner=factories.PartnerFactory(),
        objective=objective,
        title="Accompagner 50 jeunes vers l'emploi",
    )


def test_objective_and_action_must_belong_to_the_commitment_contract(nantes, commitment):
    other = factories.ContractFactory()
    foreign_objective = factories.ObjectiveFactory(enjeu=factories.EnjeuFactory(contract=other))
    commitment.objective = foreign_objective
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "autre contrat" in error.value.message_dict["objective"][0]
    commitment.objective = nantes.enjeux.get(number=1).objectives.first()
    commitment.action = factories.ActionFactory(objective=nantes.enjeux.get(number=2).objectives.first())
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "action" in error.value.message_dict


def test_abandoning_requires_a_reason(commitment):
    commitment.status = CommitmentStatus.ABANDONED
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "status_comment" in error.value.message_dict
    commitment.status_comment = "Financement non reconduit."
    commitment.full_clean()


def test_deadline_within_the_contract(commitment):
    commitment.deadline = datetime.date(2031, 6, 30)
    with pytest.raises(ValidationError) as error:
        commitment.full_clean()
    assert "2030" in error.value.message_dict["deadline"][0]


def test_means_year_within_the_contract_and_unique_per_funding(commitment):
    means = CommitmentMeans(
        commitment=commitment, year=2023, fte=Decimal("0.5"), funding=FundingKind.ORDINARY
    )
    with pytest.raises(ValidationError) as error:
        means.full_clean()
    assert "2024-2030" in error.value.message_dict["year"][0]
    CommitmentMeans.objects.create(commitment=commitment, year=2025, fte=1, funding=FundingKind.ORDINARY)
    duplicate = CommitmentMeans(commitment=commitment, year=2025, fte=1, funding=FundingKind.ORDINARY)
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    CommitmentMeans(
        commitment=commitment, year=2025, amount_eur=1000, funding=FundingKind.SPECIFIC
    ).full_clean()
    negative = CommitmentMeans(commitment=commitment, year=2026, fte=-1, funding=FundingKind.SPECIFIC)
    with pytest.raises(ValidationError):
        negative.full_clean()


def test_commitments_applying_to_a_qpv(nantes, commitment):
    malakoff, bellevue = Qpv.objects.get(code="QN04413M"), Qpv.objects.get(code="QN04405M")
    commitment.scope = CommitmentScope.QPV
    commitment.save()
    commitment.qpvs.set([bellevue])
    general = Commitment.objects.create(
        contract=nantes,
        partner=commitment.partner,
        objective=commitment.objective,
        title="Engagement de portée métropolitaine",
        scope=CommitmentScope.METROPOLITAN,
    )
    mine = Commitment.objects.for_contract(nantes).of_partner(commitment.partner)
    assert set(mine.applying_to(bellevue)) == {commitment, general}
    assert set(mine.applying_to(malakoff)) == {general}


def test_every_change_is_kept_in_history(commitment):
    commitment.title = "Accompagner 80 jeunes vers l'emploi"
    commitment.save()
    titles = [h.title for h in commitment.history.order_by("history_date")]
    assert titles == ["Accompagner 50 jeunes vers l'emploi", "Accompagner 80 jeunes vers l'emploi"]


def test_demo_commitments_belong_to_demo_partners_only(nantes):
    commitments = Commitment.objects.for_contract(nantes)
    assert commitments.count() >= 4
    assert not commitments.filter(is_demo=False).exists()
    assert not commitments.filter(partner__is_demo=False).exists()
    assert {c.status for c in commitments} >= {CommitmentStatus.DRAFT, CommitmentStatus.PROPOSED}
    forum = commitments.get(title__startswith="Animer deux forums emploi")
    means = forum.means.get(year=2025, funding=FundingKind.ORDINARY)
    assert (means.fte, means.amount_eur) == (Decimal("0.50"), Decimal("12000.00"))
    assert {q.code for q in forum.qpvs.all()} == {"QN04405M", "QN04419I"}
