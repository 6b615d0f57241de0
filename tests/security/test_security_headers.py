"""En-têtes de sécurité sur chaque type de page, et aucun script ni style en ligne dans les gabarits
(la politique de contenu les bloquerait)."""

import re
import secrets
from pathlib import Path

import pytest
from django.urls import reverse

from cdv.users.enums import Role
from tests import factories
from tests.core.test_settings import run_manage

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "cdv" / "templates"


def csp_directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


@pytest.fixture
def pilot_client(client, nantes):
    client.force_login(factories.MembershipFactory(contract=nantes, role=Role.PILOT).user)
    return client


PUBLIC_PAGES = [
    lambda c: reverse("www:home"),
    lambda c: reverse("www:contract", args=[c.slug]),
    lambda c: reverse("www:map", args=[c.slug]),
    lambda c: reverse("www:login"),
    lambda c: reverse("www:accessibility"),
    lambda c: f"/contrats/{c.slug}/inexistant/",  # 404
    lambda c: "/api/v1/contracts",  # JSON
    lambda c: "/api/v1/docs",  # Swagger UI servi par nous
]


@pytest.mark.parametrize("page", range(len(PUBLIC_PAGES)))
def test_every_page_type_has_a_strict_policy_and_the_security_headers(client, nantes, page):
    response = client.get(PUBLIC_PAGES[page](nantes))
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_connected_spaces_and_admin_have_the_policy_too(pilot_client, nantes, admin_user, client):
    for url in (reverse("www:my_space"), reverse("www:dashboard", args=[nantes.slug])):
        response = pilot_client.get(url)
        assert response.status_code == 200 and "script-src 'self'" in response["Content-Security-Policy"]
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200 and "script-src 'self'" in response["Content-Security-Policy"]


def test_api_docs_load_swagger_from_our_static_files_not_a_cdn(client):
    body = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in body and "jsdelivr" not in body
    assert "/static/ninja/swagger-ui-bundle.js" in body


# Un <script> sans src (sauf les blocs de données JSON), un gestionnaire on…=, un attribut style=,
# une balise <style> ou une URL javascript: seraient bloqués par la politique.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_TAG = re.compile(r"<style[\s>]", re.I)
JS_URL = re.compile(r"javascript:", re.I)


def test_no_template_relies_on_inline_script_or_style():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.parent.name == "documents":  # gabarits PDF (WeasyPrint) : hors navigateur
            continue
        text = path.read_text()
        for name, pattern in [
            ("script en ligne", INLINE_SCRIPT),
            ("gestionnaire d'événement", HANDLER),
            ("attribut style", STYLE_ATTRIBUTE),
            ("balise style", STYLE_TAG),
            ("URL javascript:", JS_URL),
        ]:
            if pattern.search(text):
                offenders.append(f"{path.relative_to(TEMPLATES)} : {name}")
    assert offenders == []


def test_htmx_does_not_inject_its_indicator_style(client, nantes):
    body = client.get(reverse("www:home")).content.decode()
    assert '"includeIndicatorStyles":false' in body.replace(" ", "")


def test_session_expires_after_two_hours_of_inactivity_renewed_each_minute_of_activity(settings):
    """Le prolongement lui-même (au plus une écriture par minute) : tests/core/test_sessions.py."""
    assert settings.SESSION_COOKIE_AGE == 2 * 60 * 60
    assert settings.SESSION_RENEW_SECONDS == 60
    assert "cdv.core.sessions.IdleSessionMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_session_cookie_age_follows_the_environment():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        SESSION_IDLE_MINUTES="30",
    )
    assert result.stdout.strip().splitlines()[-1] == "1800", result.stderr


def test_production_has_hsts_and_secure_cookies():
    code = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY)"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="contrat.example.org",
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.split() == ["31536000", "True", "True", "True", "True"], result.stderr
