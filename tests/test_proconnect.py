from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from cdv.users.models import User
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
