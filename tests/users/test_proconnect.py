import json
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cdv.users.enums import Role
from cdv.users.models import User
from tests import factories
from tests.fake_oidc import FakeProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        backends = [*settings.AUTHENTICATION_BACKENDS, "cdv.users.oidc.ProConnectBackend"]
        with override_settings(AUTHENTICATION_BACKENDS=backends, **fake.settings()):
            yield fake


def start_login(client, provider):
    response = client.get(reverse("www:proconnect_login"))
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.base_url}/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == provider.client_id and "email" in query["scope"]
    # Le claim « amr » n'est dans l'ID token ProConnect que sur demande.
    assert json.loads(query["claims"]) == {"id_token": {"amr": {"essential": True}}}
    provider.nonce = query["nonce"]
    return query["state"]


def test_disabled_by_default(client):
    assert client.get(reverse("www:proconnect_login")).status_code == 404
    assert "ProConnect" not in client.get(reverse("www:login")).content.decode()


def test_an_invited_agent_logs_in_through_the_provider(client, provider):
    agent = User.objects.create_user(email="agent@prefecture.example")
    assert "S'identifier avec ProConnect" in client.get(reverse("www:login")).content.decode()
    state = start_login(client, provider)
    response = client.get(reverse("oidc_authentication_callback"), {"code": "code-valide", "state": state})
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")
    assert client.get(reverse("www:my_space")).status_code == 200
    assert provider.token_requests[0]["client_secret"] == "secret-test"
    agent.refresh_from_db()
    assert (agent.first_name, agent.last_name) == ("Agnès", "Préfète")


def test_an_unknown_agent_is_not_let_in_nor_created(client, provider):
    provider.claims["email"] = "inconnu@ministere.example"
    state = start_login(client, provider)
    response = client.get(reverse("oidc_authentication_callback"), {"code": "code-valide", "state": state})
    assert "proconnect=echec" in response["Location"]
    assert not User.objects.filter(email="inconnu@ministere.example").exists()
    assert client.get(reverse("www:my_space")).status_code == 302


def test_a_forged_state_or_code_is_refused(client, provider):
    User.objects.create_user(email="agent@prefecture.example")
    start_login(client, provider)
    response = client.get(
        reverse("oidc_authentication_callback"), {"code": "code-valide", "state": "etat-invente"}
    )
    assert response.status_code in {302, 400}
    assert client.get(reverse("www:my_space")).status_code == 302
    state = start_login(client, provider)
    response = client.get(reverse("oidc_authentication_callback"), {"code": "code-vole", "state": state})
    assert response.status_code == 302 and "proconnect=echec" in response["Location"]
    assert client.get(reverse("www:my_space")).status_code == 302


def test_a_token_signed_by_another_key_is_refused(client, provider):
    from cryptography.hazmat.primitives.asymmetric import rsa

    User.objects.create_user(email="agent@prefecture.example")
    state = start_login(client, provider)
    provider.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # le JWKS garde l'ancienne
    response = client.get(reverse("oidc_authentication_callback"), {"code": "code-valide", "state": state})
    assert "proconnect=echec" in response["Location"]
    assert client.get(reverse("www:my_space")).status_code == 302


# Second facteur : voir docs/decisions/0005-proconnect-2fa.md.
SELF_ASSERTED_2FA = "https://proconnect.gouv.fr/assurance/self-asserted-2fa"
CONSISTENCY_CHECKED_2FA = "https://proconnect.gouv.fr/assurance/consistency-checked-2fa"


def with_totp(user):
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = timezone.now()
    user.save()
    return pyotp.TOTP(user.totp_secret)


def callback(client, provider):
    state = start_login(client, provider)
    return client.get(reverse("oidc_authentication_callback"), {"code": "code-valide", "state": state})


def logged_in_as(client):
    return client.session.get(SESSION_KEY)


@pytest.mark.parametrize(
    "id_token_claims",
    [
        {"acr": "eidas1"},
        {"acr": "eidas1", "amr": ["pwd"]},
        {"acr": "https://proconnect.gouv.fr/assurance/self-asserted", "amr": ["mail"]},
        {"acr": "eidas1", "amr": ["otp"]},  # un code seul (reçu par courriel ?) n'est qu'un facteur
        {},
    ],
)
def test_a_totp_user_without_mfa_at_the_provider_gives_the_code(client, provider, id_token_claims):
    agent = User.objects.create_user(email="agent@prefecture.example")
    code = with_totp(agent)
    provider.id_token_claims = id_token_claims
    response = callback(client, provider)
    assert response.status_code == 302 and response["Location"] == reverse("www:login_code")
    # Pas connecté tant que le code n'est pas donné.
    assert logged_in_as(client) is None
    assert client.get(reverse("www:my_space")).status_code == 302
    assert client.post(reverse("www:login_code"), {"code": "000000"}).status_code == 400
    assert logged_in_as(client) is None
    response = client.post(reverse("www:login_code"), {"code": code.now()})
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")
    assert logged_in_as(client) == str(agent.pk)
    assert client.session[BACKEND_SESSION_KEY] == "cdv.users.oidc.ProConnectBackend"
    assert client.get(reverse("www:my_space")).status_code == 200


def test_an_mfa_level_sent_only_by_userinfo_does_not_count(client, provider):
    """Seul l'ID token (signé, lié au nonce) atteste la double authentification."""
    agent = User.objects.create_user(email="agent@prefecture.example")
    with_totp(agent)
    provider.claims["acr"] = SELF_ASSERTED_2FA
    provider.claims["amr"] = ["pwd", "totp", "mfa"]
    response = callback(client, provider)
    assert response["Location"] == reverse("www:login_code") and logged_in_as(client) is None


@pytest.mark.parametrize(
    "id_token_claims",
    [
        {"acr": SELF_ASSERTED_2FA},
        {"acr": CONSISTENCY_CHECKED_2FA},
        {"acr": "eidas2"},
        {"acr": "eidas1", "amr": ["pwd", "totp", "mfa"]},
        {"acr": "eidas1", "amr": ["pwd", "otp"]},
    ],
)
def test_a_totp_user_with_mfa_at_the_provider_is_logged_in_directly(client, provider, id_token_claims):
    agent = User.objects.create_user(email="agent@prefecture.example")
    with_totp(agent)
    provider.id_token_claims = id_token_claims
    response = callback(client, provider)
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")
    assert logged_in_as(client) == str(agent.pk)
    assert "cdv_2fa_pending" not in client.session
    assert client.get(reverse("www:my_space")).status_code == 200


def test_accepted_mfa_levels_are_a_setting(client, provider, settings):
    settings.PROCONNECT_MFA_ACR_VALUES = ["https://exemple.gouv.fr/niveau-fort"]
    agent = User.objects.create_user(email="agent@prefecture.example")
    with_totp(agent)
    provider.id_token_claims = {"acr": SELF_ASSERTED_2FA}
    assert callback(client, provider)["Location"] == reverse("www:login_code")
    client.logout()
    provider.id_token_claims = {"acr": "https://exemple.gouv.fr/niveau-fort"}
    assert callback(client, provider)["Location"] == reverse("www:my_space")
    assert logged_in_as(client) == str(agent.pk)


def test_a_user_without_totp_is_logged_in_directly(client, provider, settings):
    settings.REQUIRE_2FA_FOR_PILOTS = False
    agent = User.objects.create_user(email="agent@prefecture.example")
    provider.id_token_claims = {"acr": "eidas1", "amr": ["pwd"]}
    response = callback(client, provider)
    assert response.status_code == 302 and response["Location"] == reverse("www:my_space")
    assert logged_in_as(client) == str(agent.pk)
    assert client.get(reverse("www:my_space")).status_code == 200


def test_a_pilot_with_totp_gives_the_code_when_it_is_required(client, provider, settings, nantes):
    settings.REQUIRE_2FA_FOR_PILOTS = True
    agent = User.objects.create_user(email="agent@prefecture.example")
    factories.MembershipFactory(contract=nantes, role=Role.PILOT, user=agent)
    code = with_totp(agent)
    provider.id_token_claims = {"acr": "eidas1", "amr": ["pwd"]}
    assert callback(client, provider)["Location"] == reverse("www:login_code")
    assert logged_in_as(client) is None
    client.post(reverse("www:login_code"), {"code": code.now()})
    assert client.get(reverse("www:dashboard", args=[nantes.slug])).status_code == 200


def test_a_pilot_without_totp_is_sent_to_its_activation_when_it_is_required(
    client, provider, settings, nantes
):
    """Comme après un mot de passe : l'obligation porte sur le compte, même après une double
    authentification chez le fournisseur (le compte reste joignable par mot de passe)."""
    settings.REQUIRE_2FA_FOR_PILOTS = True
    agent = User.objects.create_user(email="agent@prefecture.example")
    factories.MembershipFactory(contract=nantes, role=Role.PILOT, user=agent)
    for claims in ({"acr": "eidas1"}, {"acr": SELF_ASSERTED_2FA}):
        provider.id_token_claims = claims
        assert callback(client, provider)["Location"] == reverse("www:my_space")
        assert logged_in_as(client) == str(agent.pk)
        response = client.get(reverse("www:dashboard", args=[nantes.slug]))
        assert response.status_code == 302 and response["Location"].startswith(reverse("www:two_factor"))
        client.logout()


def test_another_account_does_not_stay_logged_in_while_the_code_is_awaited(client, provider):
    other = User.objects.create_user(email="autre@example.org")
    agent = User.objects.create_user(email="agent@prefecture.example")
    with_totp(agent)
    client.force_login(other)
    assert callback(client, provider)["Location"] == reverse("www:login_code")
    assert logged_in_as(client) is None and client.session["cdv_2fa_pending"]["user"] == agent.pk
