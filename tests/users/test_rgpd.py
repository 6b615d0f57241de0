"""Données personnelles : export, suppression (pseudonymisation), purge selon les durées de
conservation, jamais de membre de conseil citoyen nommé en public."""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cdv.georef.models import GeorefJob, JobStatus
from cdv.monitoring import feedback as feedback_rules
from cdv.monitoring.models import Feedback
from cdv.users.enums import Role
from cdv.users.models import ApiToken, Invitation, Membership, User
from cdv.users.services import create_api_token
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "un-mot-de-passe-solide-42"


@pytest.fixture
def member(nantes):
    council = factories.PartnerFactory(name="Conseil citoyen de test")
    membership = factories.MembershipFactory(contract=nantes, partner=council, role=Role.COUNCIL_MEMBER)
    user = membership.user
    user.first_name, user.last_name = "Camille", "Dupont"
    user.set_password(PASSWORD)
    user.save()
    return user


def test_export_gives_my_data_as_json(client, member, nantes):
    create_api_token(user=member, name="script")
    Feedback.objects.create(
        contract=nantes,
        author=member,
        partner=member.memberships.first().partner,
        kind=Feedback._meta.get_field("kind").choices[0][0],
        text="Mon retour",
    )
    client.force_login(member)
    response = client.get(reverse("www:my_data"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profil"]["adresse"] == member.email and data["profil"]["nom"] == "Dupont"
    assert data["roles"][0]["role"] == "Membre d'un conseil citoyen"
    assert data["jetons_api"][0]["usage"] == "script" and "key_hash" not in json.dumps(data)
    assert data["retours"][0]["texte"] == "Mon retour"


def test_delete_account_pseudonymises_and_keeps_contributions(client, member, nantes):
    council = member.memberships.first().partner
    fb = Feedback.objects.create(
        contract=nantes,
        author=member,
        partner=council,
        kind=Feedback._meta.get_field("kind").choices[0][0],
        text="Reste",
    )
    create_api_token(user=member, name="script")
    client.force_login(member)
    assert (
        client.post(reverse("www:delete_account"), {"password": "faux", "confirm": "oui"}).status_code == 400
    )
    response = client.post(reverse("www:delete_account"), {"password": PASSWORD, "confirm": "oui"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == f"supprime-{member.pk}@invalid"
    assert (member.first_name, member.last_name, member.is_active) == ("", "", False)
    assert not member.has_usable_password() and str(member) == "compte supprimé"
    assert not Membership.objects.filter(user=member).exists()
    assert not ApiToken.objects.filter(user=member).exists()
    fb.refresh_from_db()
    assert fb.text == "Reste" and feedback_rules.public_attribution(fb) == council.name
    assert client.get(reverse("www:my_space")).status_code == 302  # déconnecté


def test_an_account_without_password_confirms_its_deletion_with_its_address(client, member):
    """Connexion par ProConnect seulement : pas de mot de passe à saisir, l'adresse le remplace."""
    member.set_unusable_password()
    member.save()
    address = member.email
    client.force_login(member)
    page = client.get(reverse("www:delete_account")).content.decode()
    assert 'name="email"' in page and 'name="password"' not in page
    wrong = client.post(reverse("www:delete_account"), {"email": "autre@example.org", "confirm": "oui"})
    assert wrong.status_code == 400 and "pas celle du compte" in wrong.content.decode()
    member.refresh_from_db()
    assert member.email == address and member.is_active
    response = client.post(reverse("www:delete_account"), {"email": address.upper(), "confirm": "oui"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == f"supprime-{member.pk}@invalid" and not member.is_active


def test_council_members_are_never_named_in_public(member, nantes):
    fb = Feedback(contract=nantes, author=member, partner=member.memberships.first().partner, text="x")
    assert "Dupont" not in feedback_rules.public_attribution(fb)
    fb.partner = None
    assert "Dupont" not in feedback_rules.public_attribution(fb)


def test_purge_applies_retention(settings, nantes):
    settings.RETENTION_INACTIVE_ACCOUNTS_DAYS = 30
    settings.RETENTION_INVITATIONS_DAYS = 10
    old = User.objects.create_user(email="ancien@example.org", password=PASSWORD)
    User.objects.filter(pk=old.pk).update(last_login=timezone.now() - timedelta(days=60))
    recent = User.objects.create_user(email="recent@example.org", password=PASSWORD)
    Invitation.objects.create(
        email="x@example.org",
        contract=nantes,
        role=Role.PILOT,
        token_hash="a" * 64,
        expires_at=timezone.now() - timedelta(days=20),
    )
    call_command("purge_personal_data", "--dry-run")
    assert User.objects.get(pk=old.pk).email == "ancien@example.org"
    call_command("purge_personal_data")
    assert User.objects.get(pk=old.pk).email == f"supprime-{old.pk}@invalid"
    assert User.objects.get(pk=recent.pk).email == "recent@example.org"
    assert not Invitation.objects.filter(email="x@example.org").exists()


# Traitements de géoréférencement : fichiers qui peuvent contenir des adresses de bénéficiaires.


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def georef_job(owner, *, name="beneficiaires.csv", status=JobStatus.DONE, rows=120):
    job = GeorefJob.objects.create(
        owner=owner,
        original_name=name,
        status=status,
        summary={"rows": rows, "in_qpv": 30} if status == JobStatus.DONE else None,
        progress_total=rows,
        finished_at=timezone.now() if status == JobStatus.DONE else None,
    )
    job.input_file.save(name, ContentFile(b"adresse\n3 rue des Lilas 44000 Nantes\n"), save=False)
    job.output_file.save("resultat.csv", ContentFile(b"adresse;qpv\n3 rue des Lilas;QN04401M\n"), save=False)
    job.save()
    return job


def test_export_lists_my_georef_jobs_without_their_contents(client, member, media_root, settings):
    settings.GEOREF_RETENTION_DAYS = 7
    mine = georef_job(member, name="beneficiaires-2024.csv")
    georef_job(User.objects.create_user(email="autre@example.org"), name="fichier-d-un-autre.csv")
    client.force_login(member)
    response = client.get(reverse("www:my_data"))
    data = json.loads(response.content)
    georef = data["georeferencement"]
    assert [job["fichier"] for job in georef["traitements"]] == ["beneficiaires-2024.csv"]
    job = georef["traitements"][0]
    assert job["id"] == mine.pk and job["lignes"] == 120 and job["etat"] == "Terminé"
    assert job["lance_le"] == mine.created_at.isoformat() and job["resultat_telechargeable"] is True
    # Les métadonnées seulement : ni le contenu des fichiers, ni leur emplacement sur le disque.
    text = response.content.decode()
    assert "rue des Lilas" not in text and mine.input_file.name not in text
    assert "fichier-d-un-autre" not in text
    note = georef["a_savoir"]
    assert "effacé 7 jours après la fin du traitement" in note
    assert "télécharger depuis la page « Est-ce en QPV ? »" in note and reverse("www:georef") in note


def test_delete_account_deletes_my_georef_jobs_and_their_files(
    client, member, media_root, django_capture_on_commit_callbacks
):
    done = georef_job(member)
    running = georef_job(member, name="en-cours.csv", status=JobStatus.RUNNING)
    other_user = User.objects.create_user(email="autre@example.org")
    others = georef_job(other_user, name="autre.csv")
    my_files = [media_root / f.name for j in (done, running) for f in (j.input_file, j.output_file)]
    other_files = [media_root / others.input_file.name, media_root / others.output_file.name]
    assert all(path.exists() for path in my_files + other_files)
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("www:delete_account"), {"password": PASSWORD, "confirm": "oui"})
    assert response.status_code == 302
    assert not GeorefJob.objects.filter(owner=member).exists()
    # Les fichiers ne sont effacés qu'une fois la transaction validée.
    assert all(path.exists() for path in my_files)
    for callback in callbacks:
        callback()
    assert not any(path.exists() for path in my_files)
    # Les traitements et fichiers d'une autre personne ne bougent pas.
    assert list(GeorefJob.objects.filter(owner=other_user)) == [others]
    assert all(path.exists() for path in other_files)


def test_a_failed_deletion_keeps_the_georef_jobs_and_files(
    member, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    from cdv.users import privacy

    job = georef_job(member)
    paths = [media_root / job.input_file.name, media_root / job.output_file.name]

    def broken_save(*args, **kwargs):
        raise RuntimeError("panne pendant la suppression")

    monkeypatch.setattr(User, "save", broken_save)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        privacy.anonymize(member)
    monkeypatch.undo()
    assert callbacks == []  # transaction annulée : aucun effacement de fichier programmé
    assert GeorefJob.objects.filter(pk=job.pk).exists()
    assert all(path.exists() for path in paths)


def test_purge_of_inactive_accounts_also_deletes_their_georef_jobs(
    settings, media_root, django_capture_on_commit_callbacks
):
    settings.RETENTION_INACTIVE_ACCOUNTS_DAYS = 30
    old = User.objects.create_user(email="ancien@example.org", password=PASSWORD)
    User.objects.filter(pk=old.pk).update(last_login=timezone.now() - timedelta(days=60))
    job = georef_job(old)
    path = media_root / job.output_file.name
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_personal_data")
    assert not GeorefJob.objects.filter(pk=job.pk).exists() and not path.exists()


def test_export_includes_my_notifications_and_preferences(client, member, nantes):
    """Droit d'accès : ce que la plateforme m'a notifié et mes choix d'envoi sont dans le fichier."""
    from cdv.notifications.enums import Delivery, NotificationKind
    from cdv.notifications.models import Notification, NotificationPreference

    Notification.objects.create(
        recipient=member,
        contract=nantes,
        kind=NotificationKind.FEEDBACK_PUBLISHED,
        text="Votre retour est publié.",
        url="http://127.0.0.1:8000/espace/",
    )
    NotificationPreference.objects.create(
        user=member, kind=NotificationKind.FEEDBACK_PUBLISHED, delivery=Delivery.DIGEST
    )
    client.force_login(member)
    data = json.loads(client.get(reverse("www:my_data")).content)
    assert [n["message"] for n in data["notifications"]] == ["Votre retour est publié."]
    assert data["notifications"][0]["contrat"] == nantes.title
    assert data["preferences_notifications"] == {
        NotificationKind.FEEDBACK_PUBLISHED.label: Delivery.DIGEST.label
    }
