"""Connexion : journal de sécurité (sans adresse ni secret), second facteur TOTP, obligation pour
les pilotes, verrouillage."""

import logging
import time

import pyotp
import pytest
from django.urls import reverse

from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from cdv.users.models import User
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "un-mot-de-passe-solide-42"
EMAIL = "referente@example.org"


@pytest.fixture
def person(db):
    return User.objects.create_user(email=EMAIL, password=PASSWORD)


def security_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "cdv.security"]


def enable_totp(client, user):
    client.force_login(user)
    client.get(reverse("www:two_factor"))
    secret = client.session["cdv_2fa_setup"]
    response = client.post(reverse("www:two_factor"), {"action": "enable", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    client.post(reverse("www:logout"))
    user.refresh_from_db()
    assert user.totp_enabled
    return secret


def test_login_success_failure_and_logout_are_logged_without_email_or_password(client, person, caplog):
    caplog.set_level(logging.INFO, logger="cdv.security")
    client.post(reverse("www:login"), {"username": EMAIL, "password": "mauvais-mot-de-passe"})
    client.post(reverse("www:login"), {"username": EMAIL, "password": PASSWORD})
    client.post(reverse("www:logout"))
    lines = security_lines(caplog)
    assert any(line.startswith(f"échec de connexion compte={person.pk}") for line in lines)
    assert any(line.startswith(f"connexion réussie compte={person.pk}") for line in lines)
    assert any(line.startswith(f"déconnexion compte={person.pk}") for line in lines)
    text = "\n".join(lines)
    assert EMAIL not in text and PASSWORD not in text and "mauvais-mot-de-passe" not in text
    assert "ip=127.0.0.0/24" in text  # adresse tronquée


def test_lockout_is_logged(client, person, caplog, settings):
    caplog.set_level(logging.INFO, logger="cdv.security")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("www:login"), {"username": EMAIL, "password": "faux"})
    assert response.status_code == 429
    assert any(
        line.startswith(f"compte verrouillé après trop d'échecs compte={person.pk}")
        for line in security_lines(caplog)
    )


def test_refusals_are_logged_with_account_id(client, nantes, caplog):
    caplog.set_level(logging.INFO, logger="cdv.security")
    reader = factories.MembershipFactory(contract=nantes, role=Role.EVALUATOR).user
    client.force_login(reader)
    assert client.get(reverse("www:invitations", args=[nantes.slug])).status_code == 403
    assert client.get(reverse("www:commitment", args=[nantes.slug, 999999])).status_code == 404
    lines = [line for line in security_lines(caplog) if line.startswith("accès refusé")]
    assert any("statut=403" in line and f"compte={reader.pk}" in line for line in lines)
    assert any("statut=404" in line and "/engagements/999999/" in line for line in lines)
    assert reader.email not in "\n".join(lines)


def test_secret_tokens_in_urls_are_not_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="cdv.security")
    client.post(reverse("www:invitation", args=["jeton-secret-devine"]))
    assert "jeton-secret-devine" not in "\n".join(security_lines(caplog))


def test_second_factor_is_asked_after_the_password(client, person, caplog):
    secret = enable_totp(client, person)
    response = client.post(reverse("www:login"), {"username": EMAIL, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("www:login_code")
    # Pas encore connecté.
    assert client.get(reverse("www:my_space")).status_code == 302
    assert client.post(reverse("www:login_code"), {"code": "000000"}).status_code == 400
    # Le code de l'activation a déjà servi : celui du pas de temps suivant (tolérance ±30 s).
    code = pyotp.TOTP(secret).at(time.time() + 30)
    response = client.post(reverse("www:login_code"), {"code": code})
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")
    assert client.get(reverse("www:my_space")).status_code == 200
    # Un code ne sert qu'une fois.
    client.post(reverse("www:logout"))
    client.post(reverse("www:login"), {"username": EMAIL, "password": PASSWORD})
    assert client.post(reverse("www:login_code"), {"code": code}).status_code == 400


def test_too_many_wrong_codes_restart_the_login(client, person):
    enable_totp(client, person)
    client.post(reverse("www:login"), {"username": EMAIL, "password": PASSWORD})
    for _ in range(4):
        assert client.post(reverse("www:login_code"), {"code": "123456"}).status_code == 400
    response = client.post(reverse("www:login_code"), {"code": "123456"})
    assert response.status_code in {302, 429}
    assert "cdv_2fa_pending" not in client.session


def test_second_factor_page_shows_the_secret_as_text_and_can_be_disabled(client, person):
    secret = enable_totp(client, person)
    client.force_login(person)
    page = client.get(reverse("www:two_factor")).content.decode()
    assert "activé" in page
    response = client.post(
        reverse("www:two_factor"), {"action": "disable", "password": "faux", "code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.totp_enabled
    person.totp_last_step = None
    person.save()
    response = client.post(
        reverse("www:two_factor"),
        {"action": "disable", "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.totp_enabled


def test_setup_page_gives_secret_and_otpauth_uri(client, person):
    client.force_login(person)
    page = client.get(reverse("www:two_factor")).content.decode()
    secret = client.session["cdv_2fa_setup"]
    assert secret in page and "otpauth://totp/" in page


def test_pilots_must_enable_the_second_factor_when_required(client, nantes, settings):
    settings.REQUIRE_2FA_FOR_PILOTS = True
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    editor = factories.MembershipFactory(contract=nantes, role=Role.EDITOR).user
    client.force_login(pilot)
    response = client.get(reverse("www:dashboard", args=[nantes.slug]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("www:two_factor"))
    assert client.get(reverse("www:two_factor")).status_code == 200
    assert client.get("/api/v1/contracts").status_code == 403
    client.force_login(editor)
    assert client.get(reverse("www:my_space")).status_code == 200


def test_pilot_with_second_factor_is_not_redirected(client, nantes, settings):
    settings.REQUIRE_2FA_FOR_PILOTS = True
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    pilot.totp_secret = pyotp.random_base32()
    from django.utils import timezone

    pilot.totp_confirmed_at = timezone.now()
    pilot.save()
    client.force_login(pilot)
    assert client.get(reverse("www:dashboard", args=[nantes.slug])).status_code == 200


# --- derrière un mandataire (nginx) : l'adresse du client, jamais un X-Forwarded-For forgé -------

PROXY = "127.0.0.1"  # nginx, sur la même machine : REMOTE_ADDR de toute requête
REAL_USER = "203.0.113.50"
ATTACKER = "198.51.100.66"


def via_proxy(client, data, *, forwarded):
    """Une connexion passée par nginx (``proxy_add_x_forwarded_for`` : ajoute qui lui a parlé)."""
    return client.post(reverse("www:login"), data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.fixture
def one_proxy(settings):
    settings.CDV_TRUSTED_PROXY_COUNT = 1
    settings.AXES_IPWARE_PROXY_COUNT = 1  # l'ancien réglage, tel que la production le posait


def test_forged_forwarded_for_locks_out_only_the_attacker_not_the_real_user(client, person, one_proxy):
    for _ in range(5):
        # L'attaquant se fait passer pour la personne : nginx ajoute sa vraie adresse à droite.
        response = via_proxy(
            client, {"username": EMAIL, "password": "faux"}, forwarded=f"{REAL_USER}, {ATTACKER}"
        )
    assert response.status_code == 429
    # L'attaquant reste verrouillé, même avec un autre en-tête forgé…
    forged_again = via_proxy(
        client, {"username": EMAIL, "password": PASSWORD}, forwarded=f"192.0.2.1, {ATTACKER}"
    )
    assert forged_again.status_code == 429
    # … mais la vraie personne, depuis sa propre adresse, se connecte.
    response = via_proxy(client, {"username": EMAIL, "password": PASSWORD}, forwarded=REAL_USER)
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")


def test_security_log_records_the_client_address_not_the_proxy(client, person, one_proxy, caplog):
    caplog.set_level(logging.INFO, logger="cdv.security")
    via_proxy(client, {"username": EMAIL, "password": "faux"}, forwarded=f"192.0.2.1, {ATTACKER}")
    text = "\n".join(security_lines(caplog))
    assert "ip=198.51.100.0/24" in text
    assert "ip=127.0.0.0/24" not in text and "192.0.2" not in text


def test_without_a_configured_proxy_the_forwarded_header_is_ignored(client, person, caplog):
    caplog.set_level(logging.INFO, logger="cdv.security")
    client.post(reverse("www:login"), {"username": EMAIL, "password": "faux"}, HTTP_X_FORWARDED_FOR=ATTACKER)
    text = "\n".join(security_lines(caplog))
    assert "ip=127.0.0.0/24" in text and "198.51.100" not in text


def test_api_tokens_of_a_pilot_without_second_factor_are_refused_when_required(nantes, settings):
    """Un jeton créé avant l'obligation ne la contourne pas : chaque appel par jeton est refusé."""
    from django.test import Client

    from cdv.users.services import create_api_token

    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    editor = factories.MembershipFactory(contract=nantes, role=Role.EDITOR).user
    _, pilot_key = create_api_token(user=pilot, name="ancien script")  # avant l'obligation
    _, editor_key = create_api_token(user=editor, name="script")
    api = Client()
    base = f"/api/v1/contracts/{nantes.slug}/commitments"
    pilot_auth = {"HTTP_AUTHORIZATION": f"Bearer {pilot_key}"}
    proposal = {
        "partner": "association-tremplin-quartiers-demonstration",
        "objective": "1.1",
        "title": "Ateliers numériques",
        "scope": "CONTRAT",
    }
    assert api.get(base, {"status": "BROUILLON"}, **pilot_auth).status_code == 200
    settings.REQUIRE_2FA_FOR_PILOTS = True
    for response in (
        api.get(base, {"status": "BROUILLON"}, **pilot_auth),
        api.get("/api/v1/contracts", **pilot_auth),
        api.post(base, proposal, content_type="application/json", **pilot_auth),
    ):
        assert response.status_code == 403
        assert "second facteur" in response.json()["detail"]
    assert not Commitment.objects.filter(title="Ateliers numériques").exists()
    # Les autres rôles ne sont pas concernés ; un pilote qui a activé le second facteur non plus.
    assert api.get(base, HTTP_AUTHORIZATION=f"Bearer {editor_key}").status_code == 200
    from django.utils import timezone

    pilot.totp_secret = pyotp.random_base32()
    pilot.totp_confirmed_at = timezone.now()
    pilot.save()
    assert api.get(base, {"status": "BROUILLON"}, **pilot_auth).status_code == 200


def test_each_refusal_is_logged_once_without_a_traceback(client, nantes, caplog):
    """Django écrit aussi chaque 403 dans ``django.request``, avec sa trace de pile et le chemin en
    clair : le journal de sécurité le dit déjà, une fois."""
    caplog.set_level(logging.INFO)
    reader = factories.MembershipFactory(contract=nantes, role=Role.EVALUATOR).user
    client.force_login(reader)
    assert client.get(reverse("www:invitations", args=[nantes.slug])).status_code == 403
    assert client.get(reverse("www:commitment", args=[nantes.slug, 999999])).status_code == 404
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.name for record in warnings] == ["cdv.security", "cdv.security"]
    assert not any(record.exc_info for record in warnings)


def test_secret_tokens_are_masked_in_the_request_log(client, caplog):
    """Une invitation inconnue demandée sans être connecté : le journal de sécurité ne la retient pas
    (un 404 anonyme), celui de Django, si ; sans le jeton."""
    caplog.set_level(logging.INFO)
    response = client.get(reverse("www:invitation", args=["jeton-secret-devine"]))
    client.get("/page-qui-n-existe-pas/")
    lines = [(record.name, record.getMessage()) for record in caplog.records]
    assert response.status_code == 404, lines
    assert ("django.request", "Not Found: /invitation/…/") in lines
    assert ("django.request", "Not Found: /page-qui-n-existe-pas/") in lines
    assert "jeton-secret-devine" not in str(lines)
