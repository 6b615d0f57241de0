import pytest
from django.core.management import call_command

from cdv.partners.models import Partner
from cdv.plan.models import Action, Objective, QpvPriority
from cdv.users.models import Membership

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_demo_data_is_loaded_and_entirely_marked(nantes):
    actions = Action.objects.for_contract(nantes)
    assert actions.count() >= 9
    assert not actions.filter(is_demo=False).exists()
    assert not Objective.objects.filter(enjeu__contract=nantes, is_demo=False).exists()
    assert QpvPriority.objects.filter(enjeu__contract=nantes, is_demo=True).count() == 15 * 4
    for partner in Partner.objects.filter(is_demo=True):
        assert "démonstration" in partner.name
    # Chaque QPV du contrat a au moins une action locale dans sa feuille de route.
    for qpv in nantes.qpvs.all():
        assert actions.filter(qpvs=qpv).exists(), qpv.name
    # Les actions de démonstration ne sortent pas des QPV du contrat.
    assert not actions.exclude(qpvs__isnull=True).exclude(qpvs__in=nantes.qpvs.all()).exists()


def test_demo_accounts_have_roles_but_no_password(nantes):
    memberships = Membership.objects.filter(contract=nantes).exclude(role="PILOTE")
    assert {m.role for m in memberships} == {
        "EDITEUR",
        "LECTEUR",
        "CONSEILLER_CITOYEN",
        "EVALUATEUR",
        # appel à projets (cdv/seed/demo_grants.py)
        "REFERENT_ASSO",
        "INSTRUCTEUR",
        "CORRESPONDANT",
        "DELEGUE_PREFET",
        "MEMBRE_COMITE",
    }
    assert not any(m.user.has_usable_password() for m in memberships)


def test_loading_demo_twice_changes_nothing():
    counts = (Action.objects.count(), Objective.objects.count(), QpvPriority.objects.count())
    history = Action.history.count()
    call_command("load_demo_data", verbosity=0)
    assert (Action.objects.count(), Objective.objects.count(), QpvPriority.objects.count()) == counts
    assert Action.history.count() == history


def test_the_demonstration_is_a_living_contract(nantes, client):
    """Chaque quartier a des engagements publiés dans plusieurs états, avec un avancement venu de
    bilans acceptés, et un conseil citoyen qui a des retours publiés ; 2024 est figé, 2025 en cours."""
    from cdv.commitments.enums import PUBLIC_STATUSES
    from cdv.commitments.models import Commitment
    from cdv.monitoring.enums import CampaignStatus, ReportState
    from cdv.monitoring.models import Feedback, ProgressReport, ReviewCampaign, Snapshot
    from cdv.partners.enums import PartnerKind

    for qpv in nantes.qpvs.all():
        published = Commitment.objects.filter(contract=nantes, qpvs=qpv, status__in=PUBLIC_STATUSES)
        assert published.filter(is_demo=True).count() == published.count() >= 3, qpv.name
        assert published.values("status").distinct().count() >= 3, qpv.name
        assert ProgressReport.objects.filter(
            commitment__in=published, state=ReportState.ACCEPTED, progress_pct__gt=0
        ).exists(), qpv.name
        council = Partner.objects.get(kind=PartnerKind.CITIZEN_COUNCIL, qpvs=qpv, is_demo=True)
        assert "démonstration" in council.name
        feedback = Feedback.objects.filter(partner=council, moderation="PUBLIE", qpvs=qpv)
        assert feedback.exists() and not feedback.filter(moderated_at__isnull=True).exists(), qpv.name
    past = ReviewCampaign.objects.get(contract=nantes, year=2024)
    assert past.status == CampaignStatus.FROZEN and Snapshot.objects.filter(campaign=past).exists()
    assert ReviewCampaign.objects.get(contract=nantes, year=2025).status == CampaignStatus.OPEN
    page = client.get(f"/contrats/{nantes.slug}/quartiers/QN04413M/").content.decode()
    assert "Conseil citoyen de Malakoff (démonstration)" in page


def test_the_demo_pilot_has_the_back_office_of_its_contract_only(nantes, client):
    """Comme un pilote invité (décision 0006) : le back-office, limité à son contrat."""
    from cdv.seed.demo import DEMO_PILOT_EMAIL
    from cdv.users.models import User
    from tests.factories import ContractFactory

    other = ContractFactory(title="Contrat de ville de Brest Métropole")
    pilot = User.objects.get(email=DEMO_PILOT_EMAIL)
    assert pilot.is_staff and not pilot.is_superuser
    client.force_login(pilot)
    page = client.get("/admin/contracts/contract/")
    assert page.status_code == 200
    assert nantes.title in page.content.decode() and other.title not in page.content.decode()
    assert client.get(f"/admin/contracts/contract/{other.pk}/change/").status_code in {302, 403, 404}


def test_building_the_demonstration_notifies_nobody(without_demo_reviews):
    """Les campagnes, bilans et retours de la démonstration sont construits par les services, mais
    personne n'en est prévenu : aucun courriel (fictif ou, avec SMTP, bien réel) ni notification."""
    from cdv.notifications.models import Notification

    assert not Notification.objects.exists()  # la démonstration chargée pour la session de tests
    from django.core import mail

    from cdv.monitoring.models import ReviewCampaign
    from cdv.seed.demo import load_demo_data

    load_demo_data()  # reconstruit le suivi annuel retiré par la fixture : campagnes, bilans
    assert ReviewCampaign.objects.filter(year=2025).exists()
    assert mail.outbox == [] and not Notification.objects.exists()
