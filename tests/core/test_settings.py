import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import base

ROOT = Path(__file__).resolve().parent.parent.parent


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="contrat.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY doit être définie" in result.stderr


def test_database_url_selects_the_engine(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    sqlite = base.database_from_env()
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    monkeypatch.setenv("DATABASE_URL", "postgres://cdv:secret@db.example.org:5432/cdv")
    pg = base.database_from_env()
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["HOST"], pg["NAME"], pg["USER"]) == ("db.example.org", "cdv", "cdv")
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ImproperlyConfigured, match="moteur non pris en charge"):
        base.database_from_env()


def test_production_hardening_defaults():
    """Cookie CSRF HttpOnly (aucun script ne le lit : le jeton est dans les formulaires), Server-Timing
    réservé à l'équipe, X-Forwarded-For ignoré tant qu'aucun mandataire n'est déclaré."""
    code = (
        "from django.conf import settings as s; "
        "print(s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.CDV_SERVER_TIMING, s.CDV_TRUSTED_PROXY_COUNT)"
    )
    env = dict(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secrets.token_urlsafe(50))
    result = run_manage("shell", "--verbosity", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False", "0"]
    behind_nginx = run_manage("shell", "--verbosity", "0", "-c", code, AXES_PROXY_COUNT="1", **env)
    assert behind_nginx.stdout.split()[-1] == "1"  # l'ancien nom du réglage est encore lu
