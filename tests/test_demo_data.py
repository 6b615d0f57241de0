import pytest
from django.core.management import call_command

from cdv.partners.models import Partner
from cdv.plan.models import Action, Objective, QpvPriority
from cdv.users.models import Membership

pytestmark = pytest.mark.django_db


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
    assert {m.role for m in memberships} == {"EDITEUR", "LECTEUR", "CONSEILLER_CITOYEN", "EVALUATEUR"}
    assert not any(m.user.has_usable_password() for m in memberships)


def test_loading_demo_twice_changes_nothing():
    counts = (Action.objects.count(), Objective.objects.count(), QpvPriority.objects.count())
    history = Action.history.count()
    call_command("load_demo_data", verbosity=0)
    assert (Action.objects.count(), Objective.objects.count(), QpvPriority.objects.count()) == counts
    assert Action.history.count() == history
