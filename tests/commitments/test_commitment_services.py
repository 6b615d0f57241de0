import pytest
from django.core.exceptions import PermissionDenied

from cdv.commitments import services
from cdv.commitments.enums import CommitmentScope, FundingKind
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment, CommitmentAmendment
from cdv.territories.models import Qpv
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def partner():
    return factories.PartnerFactory(name="Association des tests")


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def editor(nantes, partner):
    return factories.MembershipFactory(contract=nantes, partner=partner, role=Role.EDITOR).user


@pytest.fixture
def draft(nantes, partner, editor):
    objective = nantes.enjeux.get(number=1).objectives.first()
    return services.create_commitment(
        user=editor,
        contract=nantes,
        partner=partner,
        data={"objective": objective, "title": "Accueillir 40 stagiaires", "scope": CommitmentScope.QPV},
        qpvs=[Qpv.objects.get(code="QN04413M")],
        means=[{"year": 2025, "fte": "0.5", "amount_eur": "12000", "funding": FundingKind.ORDINARY}],
    )


def test_full_life_cycle(draft, editor, pilot):
    assert draft.status == S.DRAFT
    c = services.propose(user=editor, commitment=draft)
    assert c.status == S.PROPOSED
    c = services.return_to_partner(user=pilot, commitment=c, comment="Précisez la cible.")
    assert (c.status, c.status_comment) == (S.RETURNED, "Précisez la cible.")
    c = services.propose(user=editor, commitment=c)
    c = services.validate(user=pilot, commitment=c)
    assert c.status == S.VALIDATED
    confirmed = services.confirm_cahier(
        confirmed=True,
        user=editor,
        contract=c.contract,
        partner=c.partner,
        signatory_name="Camille Martin",
        signatory_role="Présidente",
    )
    c = Commitment.objects.get(pk=c.pk)
    assert confirmed == [c] and c.status == S.CONFIRMED
    assert (c.confirmed_name, c.confirmed_role, c.confirmed_by) == ("Camille Martin", "Présidente", editor)
    assert c.confirmed_at is not None
    c = services.start(user=editor, commitment=c)
    c = services.close(user=editor, commitment=c, outcome=S.PARTLY_DONE)
    assert c.status == S.PARTLY_DONE


@pytest.mark.parametrize(
    "action",
    [
        lambda u, c: services.validate(user=u, commitment=c),
        lambda u, c: services.start(user=u, commitment=c),
        lambda u, c: services.close(user=u, commitment=c, outcome=S.DONE),
        lambda u, c: services.return_to_partner(user=u, commitment=c, comment="x"),
    ],
)
def test_invalid_transitions_from_draft_are_refused_with_a_message(draft, pilot, action):
    with pytest.raises(PermissionDenied) as error:
        action(pilot, draft)
    assert str(error.value)
    assert Commitment.objects.get(pk=draft.pk).status == S.DRAFT


def test_only_the_pilot_validates(draft, editor):
    services.propose(user=editor, commitment=draft)
    with pytest.raises(PermissionDenied, match="pilote"):
        services.validate(user=editor, commitment=draft)


def test_returning_and_abandoning_need_a_reason(draft, editor, pilot):
    c = services.propose(user=editor, commitment=draft)
    with pytest.raises(services.CommitmentError):
        services.return_to_partner(user=pilot, commitment=c, comment="  ")
    c = services.validate(user=pilot, commitment=c)
    services.confirm_cahier(
        confirmed=True,
        user=editor,
        contract=c.contract,
        partner=c.partner,
        signatory_name="A",
        signatory_role="B",
    )
    with pytest.raises(services.CommitmentError, match="abandonné"):
        services.close(user=editor, commitment=c, outcome=S.ABANDONED)
    c = services.close(user=editor, commitment=c, outcome=S.ABANDONED, reason="Local perdu.")
    assert c.status_comment == "Local perdu."


def test_confirming_needs_a_signatory_and_something_validated(nantes, partner, editor, draft):
    with pytest.raises(services.CommitmentError):
        services.confirm_cahier(
            confirmed=True,
            user=editor,
            contract=nantes,
            partner=partner,
            signatory_name="",
            signatory_role="",
        )
    with pytest.raises(services.CommitmentError, match="Aucun engagement validé"):
        services.confirm_cahier(
            confirmed=True,
            user=editor,
            contract=nantes,
            partner=partner,
            signatory_name="A",
            signatory_role="B",
        )


def test_confirm_cahier_confirms_only_validated_commitments(nantes, partner, editor, pilot, draft):
    objective = draft.objective
    second = services.create_commitment(
        user=editor,
        contract=nantes,
        partner=partner,
        data={"objective": objective, "title": "Deuxième", "scope": "CONTRAT"},
    )
    services.propose(user=editor, commitment=draft)
    services.validate(user=pilot, commitment=draft)
    summary = services.cahier_summary(contract=nantes, partner=partner)
    assert [c.pk for c in summary["to_confirm"]] == [draft.pk]
    assert [c.pk for c in summary["pending"]] == [second.pk]
    services.confirm_cahier(
        confirmed=True, user=editor, contract=nantes, partner=partner, signatory_name="A", signatory_role="B"
    )
    assert Commitment.objects.get(pk=second.pk).status == S.DRAFT


def test_a_second_save_with_a_stale_version_is_refused_and_says_what_changed(draft, editor, pilot):
    seen_by_both = draft.version
    services.update_commitment(
        user=pilot,
        commitment=draft,
        expected_version=seen_by_both,
        data={"title": "Accueillir 60 stagiaires"},
    )
    with pytest.raises(services.ConflictError) as error:
        services.update_commitment(
            user=editor, commitment=draft, expected_version=seen_by_both, data={"target": "40 stagiaires"}
        )
    assert ("intitulé", "Accueillir 40 stagiaires", "Accueillir 60 stagiaires") in error.value.changes
    assert "modifié par quelqu'un d'autre" in str(error.value)
    fresh = Commitment.objects.get(pk=draft.pk)
    assert (fresh.title, fresh.target) == ("Accueillir 60 stagiaires", "")


def test_saving_without_change_writes_nothing(draft, editor):
    history = draft.history.count()
    result = services.update_commitment(
        user=editor,
        commitment=draft,
        expected_version=draft.version,
        data={"title": draft.title},
        qpvs=list(draft.qpvs.all()),
        means=[{"year": 2025, "fte": "0.50", "amount_eur": "12000.00", "funding": FundingKind.ORDINARY}],
    )
    assert result.version == draft.version
    assert draft.history.count() == history


def test_changing_a_confirmed_commitment_is_an_amendment_keeping_the_earlier_version(draft, editor, pilot):
    services.propose(user=editor, commitment=draft)
    services.validate(user=pilot, commitment=draft)
    services.confirm_cahier(
        confirmed=True,
        user=editor,
        contract=draft.contract,
        partner=draft.partner,
        signatory_name="A",
        signatory_role="B",
    )
    c = Commitment.objects.get(pk=draft.pk)
    with pytest.raises(services.CommitmentError, match="avenant"):
        services.update_commitment(
            user=editor, commitment=c, expected_version=c.version, data={"target": "60"}
        )
    c = services.update_commitment(
        user=editor,
        commitment=c,
        expected_version=c.version,
        data={"target": "60 stagiaires"},
        means=[{"year": 2025, "fte": "1", "amount_eur": "20000", "funding": FundingKind.ORDINARY}],
        amendment_reason="Nouveau financement obtenu.",
    )
    amendment = CommitmentAmendment.objects.get(commitment=c)
    assert amendment.number == 1 and amendment.reason == "Nouveau financement obtenu."
    assert amendment.previous["target"] == ""
    assert amendment.previous["means"][0]["amount_eur"] == "12000.00"
    labels = [change[0] for change in amendment.changes]
    assert labels == ["cible", "moyens"]
    assert c.status == S.CONFIRMED


def test_qpvs_must_be_of_the_contract_and_match_the_scope(nantes, partner, editor):
    objective = nantes.enjeux.get(number=1).objectives.first()
    with pytest.raises(services.CommitmentError, match="Ville Ouest"):
        services.create_commitment(
            user=editor,
            contract=nantes,
            partner=partner,
            data={"objective": objective, "title": "x", "scope": CommitmentScope.QPV},
            qpvs=[Qpv.objects.get(code="QN04401M")],
        )
    with pytest.raises(services.CommitmentError):
        services.create_commitment(
            user=editor,
            contract=nantes,
            partner=partner,
            data={"objective": objective, "title": "x", "scope": CommitmentScope.QPV},
            qpvs=[],
        )
    assert not Commitment.objects.filter(title="x").exists()


def test_duplicate_means_are_refused_and_nothing_is_written(nantes, partner, editor):
    objective = nantes.enjeux.get(number=1).objectives.first()
    row = {"year": 2025, "fte": "1", "amount_eur": "0", "funding": FundingKind.ORDINARY}
    with pytest.raises(services.CommitmentError, match="double"):
        services.create_commitment(
            user=editor,
            contract=nantes,
            partner=partner,
            data={"objective": objective, "title": "Doublon", "scope": "CONTRAT"},
            means=[row, row],
        )
    assert not Commitment.objects.filter(title="Doublon").exists()


def test_only_drafts_can_be_deleted(draft, editor, pilot):
    services.propose(user=editor, commitment=draft)
    with pytest.raises(PermissionDenied):
        services.delete_draft(user=pilot, commitment=draft)
    services.return_to_partner(user=pilot, commitment=draft, comment="À revoir")
    with pytest.raises(PermissionDenied):
        services.delete_draft(user=editor, commitment=draft)


def test_bulk_creation_validates_everything_first_and_keeps_history(nantes, partner, editor):
    objective = nantes.enjeux.get(number=1).objectives.first()
    bellevue = Qpv.objects.get(code="QN04405M")
    good = {
        "data": {"objective": objective, "title": "En lot 1", "scope": CommitmentScope.QPV},
        "qpvs": [bellevue],
        "means": [{"year": 2025, "fte": "1", "amount_eur": "100", "funding": FundingKind.ORDINARY}],
    }
    bad_year = {
        "data": {"objective": objective, "title": "En lot 2", "scope": CommitmentScope.CONTRACT},
        "means": [{"year": 2035, "fte": "1", "funding": FundingKind.ORDINARY}],
    }
    bad_qpv = {
        "data": {"objective": objective, "title": "En lot 3", "scope": CommitmentScope.QPV},
        "qpvs": [],
    }
    with pytest.raises(services.BulkCommitmentError) as error:
        services.create_commitments(
            user=editor, contract=nantes, partner=partner, items=[good, bad_year, bad_qpv]
        )
    assert set(error.value.errors) == {1, 2}
    assert "2035" in error.value.errors[1].messages[0]
    assert not Commitment.objects.filter(title__startswith="En lot").exists()

    created = services.create_commitments(user=editor, contract=nantes, partner=partner, items=[good])
    commitment = Commitment.objects.get(pk=created[0].pk)
    assert [q.code for q in commitment.qpvs.all()] == ["QN04405M"]
    record = commitment.history.get()
    assert record.history_user == editor and record.history_type == "+"
    assert [q.territory.code for q in record.qpvs.all()] == ["QN04405M"]
    assert commitment.means.get().history.count() == 1


def test_bulk_creation_checks_rights(nantes, partner):
    stranger = factories.UserFactory()
    objective = nantes.enjeux.get(number=1).objectives.first()
    item = {"data": {"objective": objective, "title": "x", "scope": "CONTRAT"}}
    with pytest.raises(PermissionDenied):
        services.create_commitments(user=stranger, contract=nantes, partner=partner, items=[item])
