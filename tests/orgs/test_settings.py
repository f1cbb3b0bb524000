"""The e-mail, invitation and sign-up settings as read from the environment at start-up."""

import json
import os
import pathlib
import secrets
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).parents[2]
NAMES = [
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "INVITATION_TTL_DAYS",
    "SIGNUP_OPEN",
]


def load_settings(**environ) -> subprocess.CompletedProcess:
    """Import portal.settings in a fresh interpreter with only ``environ`` (and SECRET_KEY)."""
    script = (
        "import json, portal.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {NAMES!r}}}))"
    )
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": secrets.token_urlsafe(50), **environ}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )


def test_defaults_print_mail_and_keep_sign_up_closed():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["DEFAULT_FROM_EMAIL"] == "IAM Portal <noreply@localhost>"
    assert values["INVITATION_TTL_DAYS"] == 7
    assert values["SIGNUP_OPEN"] is False


def test_email_url_configures_smtp():
    result = load_settings(
        EMAIL_URL="smtp+tls://portal:secret@mail.example.com:587",
        DEFAULT_FROM_EMAIL="Portal <portal@example.com>",
        INVITATION_TTL_DAYS="14",
        SIGNUP_OPEN="true",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "portal",
        "EMAIL_USE_TLS": True,
        "DEFAULT_FROM_EMAIL": "Portal <portal@example.com>",
        "INVITATION_TTL_DAYS": 14,
        "SIGNUP_OPEN": True,
    }


@pytest.mark.parametrize("days", ["0", "91", "-1"])
def test_an_invitation_lifetime_out_of_range_is_refused_at_start_up(days):
    result = load_settings(INVITATION_TTL_DAYS=days)
    assert result.returncode != 0
    assert "INVITATION_TTL_DAYS must be between 1 and 90." in result.stderr


LIMITS = [
    "ORGANIZATION_CREATION",
    "INVITATIONS_PER_ORGANIZATION_PER_HOUR",
    "INVITATIONS_PER_ADDRESS_PER_DAY",
    "INVITE_ATTEMPTS_PER_USER_PER_HOUR",
    "ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR",
]


def load_limits(**environ) -> subprocess.CompletedProcess:
    script = (
        "import json, portal.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {LIMITS!r}}}))"
    )
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": secrets.token_urlsafe(50), **environ}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )


def test_organisations_are_created_by_staff_unless_debug_or_the_operator_says_any():
    production, debug, chosen = (
        load_limits(),
        load_limits(DEBUG="true"),
        load_limits(ORGANIZATION_CREATION="any"),
    )
    assert json.loads(production.stdout) == {
        "ORGANIZATION_CREATION": "staff",
        "INVITATIONS_PER_ORGANIZATION_PER_HOUR": 20,
        "INVITATIONS_PER_ADDRESS_PER_DAY": 3,
        "INVITE_ATTEMPTS_PER_USER_PER_HOUR": 60,
        "ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR": 10,
    }
    assert json.loads(debug.stdout)["ORGANIZATION_CREATION"] == "any"
    assert json.loads(chosen.stdout)["ORGANIZATION_CREATION"] == "any"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ORGANIZATION_CREATION", "everyone", "ORGANIZATION_CREATION must be any or staff"),
        ("INVITATIONS_PER_ADDRESS_PER_DAY", "0", "INVITATIONS_PER_ADDRESS_PER_DAY must be at"),
        ("INVITE_ATTEMPTS_PER_USER_PER_HOUR", "-1", "INVITE_ATTEMPTS_PER_USER_PER_HOUR must be"),
    ],
)
def test_a_bad_creation_or_limit_setting_is_refused_at_start_up(name, value, message):
    result = load_limits(**{name: value})
    assert result.returncode != 0
    assert message in result.stderr
