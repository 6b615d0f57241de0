"""Ce qu'un nouvel arrivant rencontre d'abord : liens des courriels, pages d'erreur, comptes de
démonstration, mot de passe oublié d'un compte sans mot de passe."""

import re
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from cdv.users.enums import Role
from cdv.users.models import User
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


def test_an_invitation_sent_through_the_web_links_to_the_site_actually_served(client, nantes, pilot):
    partner = factories.PartnerFactory(name="Association du port")
    factories.SignatoryFactory(contract=nantes, partner=partner)  # il prend part au contrat
    client.force_login(pilot)
    response = client.post(
        reverse("www:invitations", args=[nantes.slug]),
        {"email": "nouvelle@example.org", "role": Role.EDITOR, "partner": partner.pk},
        HTTP_HOST="127.0.0.1:8765",
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert "http://127.0.0.1:8765/invitation/" in message.body


def test_make_run_serves_and_links_on_the_chosen_port():
    dry_run = subprocess.run(
        ["make", "-n", "-B", "run", "PORT=8765"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    lines = dry_run.splitlines()
    for command in ("runserver", "ensure_pilot", "load_demo_data"):
        (line,) = [line for line in lines if command in line and "manage.py" in line]
        assert "SITE_URL=http://127.0.0.1:8765" in line, line
    assert "8000" not in dry_run


def test_ensure_pilot_prints_the_admin_url_of_the_site_served(settings, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    settings.SITE_URL = "http://127.0.0.1:8765"
    monkeypatch.setenv("ADMIN_EMAIL", "pilote.port@example.org")
    out = StringIO()
    call_command("ensure_pilot", stdout=out)
    assert "http://127.0.0.1:8765/admin/" in out.getvalue()
    assert ":8000" not in out.getvalue()


@pytest.mark.urls("tests.error_urls")
def test_a_missing_page_is_french_even_in_debug(client, settings):
    settings.DEBUG = True
    for path in ("/cette-page-n-existe-pas/", "/contrats/contrat-inexistant/"):
        response = client.get(path)
        assert response.status_code == 404
        page = response.content.decode()
        assert "Page introuvable" in page, path
        assert "Page not found" not in page and "URLconf" not in page


@pytest.mark.urls("tests.error_urls")
def test_a_server_error_is_french_even_in_debug(client, settings, caplog):
    settings.DEBUG = True
    client.raise_request_exception = False
    response = client.get("/panne-de-test/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur du serveur" in page or "erreur" in page.lower()
    assert "Traceback" not in page and "panne de démonstration" not in page
    assert "panne de démonstration" in caplog.text  # le développeur garde la trace dans la console


@pytest.mark.urls("tests.error_urls")
def test_a_server_error_is_french_in_production(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/panne-de-test/")
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()


@pytest.mark.urls("tests.error_urls")
def test_technical_pages_only_on_explicit_request(client, settings):
    settings.DEBUG = True
    settings.TECHNICAL_ERROR_PAGES = True
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" not in response.content.decode()


def test_password_reset_of_an_account_without_password_explains_how_to_sign_in(client):
    User.objects.create_user(email="agent@example.org")  # invité·e par ProConnect : pas de mot de passe
    User.objects.create_user(email="autre@example.org", password="ancien-mot-de-passe-9")
    unknown = client.post(reverse("www:password_reset"), {"email": "personne@example.org"})
    no_password = client.post(reverse("www:password_reset"), {"email": "Agent@example.org"})
    # Même réponse, que le compte existe ou non.
    assert no_password.status_code == unknown.status_code == 302
    assert no_password["Location"] == unknown["Location"]
    (message,) = mail.outbox
    assert message.to == ["agent@example.org"]
    body = message.body
    assert "pas de mot de passe" in body
    assert "ProConnect" in body and "invitation" in body
    assert "http://testserver/connexion/" in body
    assert "/mot-de-passe/nouveau/" not in body


DEMO_ROLES = {
    "Pilote",
    "Référent partenaire",
    "Partenaire en lecture",
    "Membre de conseil citoyen",
    "Évaluateur",
}


def _demo_accounts(output):
    """Les lignes « rôle : adresse / mot de passe » affichées par load_demo_data."""
    return re.findall(r"^\s+(.+?) : (\S+@example\.org) / mot de passe (\S+)$", output, flags=re.M)


def test_demo_accounts_get_a_known_password_under_make_run_and_sign_in(client, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True  # make run
    settings.SITE_URL = "http://127.0.0.1:8765"
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    output = out.getvalue()
    accounts = _demo_accounts(output)
    assert {role.split(" (")[0] for role, _, _ in accounts} >= DEMO_ROLES
    assert "http://127.0.0.1:8765/connexion/" in output
    for _role, email, password in accounts:
        response = client.post(reverse("www:login"), {"username": email, "password": password})
        assert response.status_code == 302, email
        client.post(reverse("www:logout"))


def test_demo_accounts_keep_no_password_outside_debug_unless_asked(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = False
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    assert _demo_accounts(out.getvalue()) == []
    assert "--demo-passwords" in out.getvalue()
    assert not User.objects.get(email="referent.tremplin@example.org").has_usable_password()
    out = StringIO()
    call_command("load_demo_data", "--demo-passwords", stdout=out)
    (_, _, password), *_ = _demo_accounts(out.getvalue())
    assert User.objects.get(email="referent.tremplin@example.org").check_password(password)
