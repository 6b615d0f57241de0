import datetime

import pytest
from django.core.exceptions import ValidationError

from cdv.contracts.enums import MilestoneState, SignatoryKind
from cdv.plan.enums import ActionScope
from cdv.plan.models import QpvPriority, validate_action_qpvs
from cdv.territories.enums import TerritoryKind
from cdv.territories.models import Commune, Qpv, Territory
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_qpv_code_is_validated_against_its_geography():
    qpv = factories.QpvFactory.build(code="QP044013")
    with pytest.raises(ValidationError) as error:
        qpv.full_clean()
    assert "code" in error.value.message_dict


def test_qpv_needs_a_geography_and_other_levels_must_not_have_one():
    with pytest.raises(ValidationError) as error:
        factories.QpvFactory.build(geography="").full_clean()
    assert "geography" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        factories.CommuneFactory.build(geography="2024").full_clean()
    assert "geography" in error.value.message_dict


def test_commune_and_epci_codes_are_validated():
    with pytest.raises(ValidationError):
        factories.CommuneFactory.build(code="4410").full_clean()
    with pytest.raises(ValidationError):
        factories.EpciFactory.build(code="244400405").full_clean()
    factories.EpciFactory.build().full_clean()


def test_a_qpv_code_is_unique_within_a_geography():
    factories.QpvFactory(code="QN09901M")
    with pytest.raises(ValidationError):
        factories.QpvFactory.build(code="QN09901M").full_clean()


def test_an_invalid_geometry_is_refused_with_the_reason():
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(ValidationError) as error:
        factories.QpvFactory.build(geometry=bowtie).full_clean()
    assert "Contour invalide" in error.value.message_dict["geometry"][0]


def test_predecessor_must_be_a_2015_qpv():
    newer = factories.QpvFactory.build(predecessor=factories.QpvFactory())
    with pytest.raises(ValidationError) as error:
        newer.full_clean()
    assert "predecessor" in error.value.message_dict


def test_proxy_models_see_their_own_kind_only():
    assert Qpv.objects.filter(code="QN04413M").exists()
    assert not Qpv.objects.filter(kind=TerritoryKind.COMMUNE).exists()
    assert Commune.objects.filter(code="44109").get().name == "Nantes"
    created = Commune.objects.create(code="99123", name="Commune créée par le proxy")
    assert Territory.objects.get(pk=created.pk).kind == TerritoryKind.COMMUNE


def test_partner_identifiers_are_validated():
    partner = factories.PartnerFactory.build(siren="244400404", siret="21440109300019")
    with pytest.raises(ValidationError) as error:
        partner.full_clean()
    assert "siret" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        factories.PartnerFactory.build(kind="ETAT", rna="W442001234").full_clean()
    assert "rna" in error.value.message_dict
    factories.PartnerFactory.build(rna="W442001234", siren="244400404").full_clean()


def test_contract_period_is_ordered():
    contract = factories.ContractFactory.build(start_year=2030, end_year=2024)
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    assert "end_year" in error.value.message_dict


def test_a_participant_has_no_signature_date():
    signatory = factories.SignatoryFactory.build(
        contract=factories.ContractFactory(),
        partner=factories.PartnerFactory(),
        kind=SignatoryKind.PARTICIPANT,
        signed_on=datetime.date(2023, 12, 7),
    )
    with pytest.raises(ValidationError):
        signatory.full_clean()


def test_milestone_year_stays_within_the_contract_period():
    contract = factories.ContractFactory()
    with pytest.raises(ValidationError) as error:
        factories.MilestoneFactory.build(contract=contract, year=2035).full_clean()
    assert "2035" in error.value.message_dict["year"][0]


def test_milestone_state_depends_on_today():
    milestone = factories.MilestoneFactory.build(year=2027)
    assert milestone.state(datetime.date(2026, 11, 27)) == MilestoneState.UPCOMING
    assert milestone.state(datetime.date(2027, 6, 1)) == MilestoneState.CURRENT
    assert milestone.state(datetime.date(2028, 1, 1)) == MilestoneState.PAST
    milestone.done_on = datetime.date(2027, 10, 1)
    assert milestone.state(datetime.date(2028, 1, 1)) == MilestoneState.DONE


def test_membership_roles_acting_for_a_partner_need_one():
    membership = factories.MembershipFactory.build(
        user=factories.UserFactory(), contract=factories.ContractFactory(), role=Role.EDITOR
    )
    with pytest.raises(ValidationError) as error:
        membership.full_clean()
    assert "partner" in error.value.message_dict


def test_user_email_is_the_login_and_is_normalised():
    from cdv.users.models import User

    user = User.objects.create_user(email="Camille.Martin@Example.ORG", password="x" * 12)
    assert user.email == "camille.martin@example.org"
    assert User.USERNAME_FIELD == "email"


def test_action_qpvs_must_belong_to_the_contract(nantes):
    objective = nantes.enjeux.first().objectives.first()
    action = factories.ActionFactory.build(objective=objective, scope=ActionScope.QPV)
    elsewhere = Qpv.objects.get(code="QN04401M")  # Saint-Nazaire, hors du contrat de Nantes
    with pytest.raises(ValidationError) as error:
        validate_action_qpvs(action, [elsewhere])
    assert "Ville Ouest" in error.value.message_dict["qpvs"][0]
    with pytest.raises(ValidationError):
        validate_action_qpvs(action, [])
    validate_action_qpvs(action, [Qpv.objects.get(code="QN04405M")])
    action.scope = ActionScope.METROPOLITAN
    with pytest.raises(ValidationError):
        validate_action_qpvs(action, [Qpv.objects.get(code="QN04405M")])


def test_qpv_priority_must_concern_a_qpv_of_the_contract(nantes):
    enjeu = nantes.enjeux.first()
    priority = QpvPriority(enjeu=enjeu, qpv=Qpv.objects.get(code="QN04401M"), text="x")
    with pytest.raises(ValidationError):
        priority.full_clean()


def test_roadmap_of_a_qpv_has_its_own_and_the_metropolitan_actions(nantes):
    from cdv.plan.models import Action

    malakoff = Qpv.objects.get(code="QN04413M")
    roadmap = Action.objects.for_contract(nantes).applying_to(malakoff)
    assert roadmap.filter(scope=ActionScope.METROPOLITAN).exists()
    local = roadmap.filter(scope=ActionScope.QPV)
    assert local.exists()
    assert all(malakoff in a.qpvs.all() for a in local)
    assert not roadmap.filter(scope=ActionScope.QPV).exclude(qpvs=malakoff).exists()


def test_qpv_roadmap_groups_priorities_and_actions_by_enjeu(nantes, django_assert_max_num_queries):
    from cdv.plan.roadmap import qpv_roadmap

    malakoff = Qpv.objects.get(code="QN04413M")
    with django_assert_max_num_queries(3):
        roadmap = qpv_roadmap(nantes, malakoff)
    assert [entry.enjeu.number for entry in roadmap] == [1, 2, 3, 4]
    assert all(entry.priority and entry.priority.qpv == malakoff for entry in roadmap)
    titles = {a.title for entry in roadmap for a in entry.actions}
    assert "Boutique à l'essai en pied d'immeuble" in titles  # action locale de Malakoff
    assert "Permanences d'accès aux droits" in titles  # action métropolitaine
    assert "Forums emploi de proximité" not in titles  # Bellevue et Sillon seulement


def test_a_meeting_reads_with_its_date_in_words():
    """« Comité de pilotage du 6 décembre 2026 » dans le bilan annuel, pas « du 06/12/2026 »."""
    import datetime

    from cdv.monitoring.enums import MeetingKind
    from cdv.monitoring.models import Meeting

    meeting = Meeting(kind=MeetingKind.COPIL, title="COPIL", date=datetime.date(2026, 12, 6))
    assert str(meeting) == f"{meeting.get_kind_display()} du 6 décembre 2026"
    meeting.date = datetime.date(2027, 1, 1)
    assert str(meeting).endswith(" du 1er janvier 2027")


def test_unique_slug_takes_the_first_free_suffix():
    from cdv.contracts.models import Contract
    from cdv.core.slugs import unique_slug
    from tests.factories import ContractFactory

    contracts = Contract.objects.all()
    assert unique_slug(contracts, "Essai d'Ailleurs", fallback="contrat") == "essai-dailleurs"
    ContractFactory(slug="essai-dailleurs")
    assert unique_slug(contracts, "Essai d'Ailleurs", fallback="contrat") == "essai-dailleurs-2"
    ContractFactory(slug="essai-dailleurs-2")
    assert unique_slug(contracts, "Essai d'Ailleurs", fallback="contrat") == "essai-dailleurs-3"
    assert unique_slug(contracts, "!!!", fallback="contrat") == "contrat"
