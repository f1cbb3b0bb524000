import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings

from tests.factories import (
    PASSWORD,
    make_org,
    make_publisher,
    make_user,
    record_pulls,
    set_policy,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property tests: a quick pass locally, a thorough one in CI (HYPOTHESIS_PROFILE overrides).
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


def require_tool(available: bool, what: str) -> None:
    """Skip locally when a real tool is missing; in CI that is a failure, never a skip."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available.")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def acme(db):
    """Org acme: owner olivia, member mike (team developers); outsider oscar in globex."""
    olivia, mike, oscar, gina = (make_user(n) for n in ("olivia", "mike", "oscar", "gina"))
    organization = make_org("acme", owner=olivia, members=[mike])
    globex = make_org("globex", owner=gina, members=[oscar])
    make_publisher("bitnami")
    make_publisher("grafana")
    return SimpleNamespace(
        org=organization, globex=globex, owner=olivia, member=mike, outsider=oscar, gina=gina
    )


@pytest.fixture
def history(acme):
    """Recorded pull decisions (the activity pages' and the API's tests): mike pulled with
    management off, then on (official only), then in audit-only mode; olivia (owner) pulled
    too; oscar (globex only) pulled, and never appears for acme. Returns the time it was made."""
    now = timezone.now()
    record_pulls(acme.member, "library/ubuntu", "someone/thing", at=now - timedelta(days=20))
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    record_pulls(acme.member, "library/ubuntu", "someone/thing", at=now - timedelta(days=3))
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True, audit_only=True)
    record_pulls(acme.member, "someone/thing", "bitnami/redis", at=now - timedelta(hours=1))
    record_pulls(acme.owner, "someone/thing", at=now - timedelta(hours=2))
    record_pulls(acme.outsider, "someone/thing", at=now - timedelta(hours=1))
    return now


@pytest.fixture
def login(client):
    def _login(user):
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login


@pytest.fixture(autouse=True)
def test_settings(settings, tmp_path):
    """Production serves hashed files collected by ``collectstatic``; tests serve the sources.
    Passwords use a fast hasher so that each test's accounts don't cost a second. Each test
    gets its own shared cache (the sign-in failure counters), of the default kind."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pull decisions are written before each answer, so tests see them at once (the
    # queued writer has its own tests).
    settings.DECISION_LOG_FLUSH_SECONDS = 0
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


TOKEN_ISSUER = "test-issuer"
REGISTRY_SERVICE = "test-registry"


@pytest.fixture
def token_keys(tmp_path, settings):
    """A fresh signing key pair for the token service, and the settings that name it.

    The key path is unique per test, so the service's cached key is never a stale one.
    Yields the certificate's path.
    """
    from tokens.signing import forget_signing_key, generate_dev_keypair

    key, cert = tmp_path / "keys" / "token.key", tmp_path / "keys" / "token.crt"
    generate_dev_keypair(key, cert)
    settings.TOKEN_SIGNING_KEY_FILE = key
    settings.TOKEN_SIGNING_CERT_FILE = cert
    settings.TOKEN_ISSUER = TOKEN_ISSUER
    settings.REGISTRY_SERVICE = REGISTRY_SERVICE
    settings.TOKEN_TTL_SECONDS = 300
    settings.ANONYMOUS_PULLS = False
    yield cert
    forget_signing_key()
