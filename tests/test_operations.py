"""Operations: deploy settings, probes, logs, caching of signed-in pages."""

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.tokens.test_token_service import unreachable_database

REPO = Path(__file__).resolve().parents[1]


def production_environment(**overrides) -> dict:
    """The environment of ``.env.example`` (the production template) with a real secret."""
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env.update(overrides)
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=REPO, capture_output=True, text=True
    )


def test_the_production_template_passes_the_deploy_check():
    result = manage(production_environment(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "secret",
    ["short", "a" * 60, "change-me-to-a-long-random-string"],
    ids=["short", "one-char", "example"],
)
def test_a_weak_secret_key_is_refused_at_start(secret):
    result = manage(production_environment(SECRET_KEY=secret), "check")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_an_unknown_log_format_is_refused_at_start():
    result = manage(production_environment(LOG_FORMAT="xml"), "check")
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr


# --- probes ------------------------------------------------------------------------------------


def test_readyz_reports_each_dependency(db, client, token_keys):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "signing_key": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_without_the_signing_key(db, client, token_keys, settings, tmp_path):
    settings.TOKEN_SIGNING_KEY_FILE = tmp_path / "missing.key"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"] == "failed"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_without_the_database_but_healthz_still_answers(client, token_keys, tmp_path):
    with unreachable_database(tmp_path):
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failed"
    assert alive.status_code == 200


# --- logs --------------------------------------------------------------------------------------


def test_one_escaped_log_line_per_request(db, client, caplog):
    hostile = "curl\x1b[31m\nFAKE 200 user=admin\u202e"
    with caplog.at_level(logging.INFO, logger="portal.requests"):
        client.get("/healthz?secret=hunter2", HTTP_USER_AGENT=hostile)
    [record] = [r for r in caplog.records if r.name == "portal.requests"]
    line = record.getMessage()
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert '"GET /healthz" 200' in line
    assert "hunter2" not in line  # the query string may carry credentials
    assert "\\u001b[31m\\nFAKE" in line
    assert record.status == 200 and record.path == "/healthz" and record.user is None


def test_the_log_line_names_the_signed_in_user(acme, login, caplog):
    with caplog.at_level(logging.INFO, logger="portal.requests"):
        login(acme.member).get(reverse("orgs:list"))
    [record] = [r for r in caplog.records if r.name == "portal.requests"]
    assert record.user == "mike"
    assert "user=mike" in record.getMessage()


def test_expected_refusals_are_logged_without_a_traceback(acme, login, caplog):
    client = login(acme.member)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(reverse("policies:permissions", kwargs={"org": "acme"}), {})
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None
    assert "Forbidden" in record.getMessage()


# --- caching -----------------------------------------------------------------------------------


def test_signed_in_pages_are_private_and_not_stored(acme, login, client):
    response = login(acme.member).get(reverse("orgs:detail", kwargs={"org": "acme"}))
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}
    client.logout()
    assert not client.get(reverse("password_reset")).has_header("Cache-Control")


def test_pages_carry_a_content_security_policy(acme, login):
    response = login(acme.member).get(reverse("orgs:list"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
