import pytest
from django.core.management import CommandError, call_command

from cdv.users.models import Membership, User

pytestmark = pytest.mark.django_db


def test_ensure_pilot_reads_the_environment_and_prints_the_credentials(monkeypatch, capsys, nantes):
    monkeypatch.setenv("ADMIN_EMAIL", "Pilote.Nantes@Example.org")
    monkeypatch.setenv("ADMIN_PASSWORD", "un-mot-de-passe-solide")
    call_command("ensure_pilot")
    out = capsys.readouterr().out
    assert "pilote.nantes@example.org" in out and "un-mot-de-passe-solide" in out
    user = User.objects.get(email="pilote.nantes@example.org")
    assert user.check_password("un-mot-de-passe-solide")
    assert user.is_staff
    assert Membership.objects.filter(user=user, contract=nantes, role="PILOTE").exists()


def test_ensure_pilot_twice_keeps_the_password(monkeypatch, capsys):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_pilot")
    first = capsys.readouterr().out
    password = first.split("mot de passe : ")[1].split()[0]
    call_command("ensure_pilot")
    second = capsys.readouterr().out
    assert "Compte pilote existant" in second and password not in second
    assert User.objects.get(email="pilote@example.org").check_password(password)
    assert User.objects.filter(email="pilote@example.org").count() == 1


def test_demo_and_pilot_need_the_reference_data_first(without_demo_reviews):
    from cdv.contracts.models import Contract
    from cdv.grants.models import Application

    Application.objects.all().delete()  # les dossiers d'appel à projets protègent leur contrat
    Contract.objects.all().delete()
    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("load_demo_data")
    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("ensure_pilot")


def test_the_pilot_account_is_not_an_instance_operator(monkeypatch, capsys, nantes):
    """Le pilote administre son contrat, pas l'instance : jamais superutilisateur (ticket 13)."""
    monkeypatch.setenv("ADMIN_EMAIL", "pilote@example.org")
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_pilot")
    user = User.objects.get(email="pilote@example.org")
    assert user.is_staff and not user.is_superuser
    assert Membership.objects.filter(user=user, contract=nantes, role="PILOTE").exists()
    # Un compte pilote fait superutilisateur par une version précédente est ramené à son contrat.
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    call_command("ensure_pilot")
    out = capsys.readouterr().out
    user.refresh_from_db()
    assert not user.is_superuser and user.is_staff
    assert "opérateur" in out
