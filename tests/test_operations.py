"""Operations: deploy settings, probes, logs, caching of signed-in pages."""

import datetime as dt
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from django.urls import reverse

from tests.tokens.test_signing import wait_until, write_keypair
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


def rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_readyz_reports_each_dependency(db, client, token_keys):
    expires_at = x509.load_pem_x509_certificate(token_keys.read_bytes()).not_valid_after_utc
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "signing_key": "ok"},
        "signing_key_expires_at": rfc3339(expires_at),
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def signing_files(token_keys, settings, tmp_path):
    """Where the settings look for the signing key: ``(key, certificate)``, looked at again on
    every request."""
    settings.TOKEN_SIGNING_KEY_CHECK_SECONDS = 0
    return settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE


def replace_pair(files: tuple[Path, Path], directory: Path, *, valid_for: dt.timedelta):
    """Write a pair valid from a day ago for ``valid_for`` (negative: expired) beside, and rename
    it over ``files``; return its expiry."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    new_key, new_cert = directory / "new.key", directory / "new.crt"
    yesterday = now - dt.timedelta(days=1)
    write_keypair(new_key, new_cert, not_before=yesterday, not_after=now + valid_for)
    os.replace(new_key, files[0])
    os.replace(new_cert, files[1])
    return now + valid_for


def test_readyz_is_503_once_the_signing_certificate_has_expired(
    db, client, signing_files, tmp_path, caplog
):
    expired_at = replace_pair(signing_files, tmp_path, valid_for=-dt.timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="portal.views"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "cache": "ok", "signing_key": "expired"},
        "signing_key_expires_at": rfc3339(expired_at),
    }
    assert f"the certificate expired at {rfc3339(expired_at)}" in caplog.text


def test_readyz_warns_ahead_of_the_signing_certificate_s_expiry(
    db, client, signing_files, settings, tmp_path, caplog
):
    expires_at = replace_pair(signing_files, tmp_path, valid_for=dt.timedelta(days=10))
    settings.TOKEN_SIGNING_CERT_WARN_DAYS = 30
    with caplog.at_level(logging.WARNING, logger="portal.views"):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert response.json()["checks"]["signing_key"] == "expires_soon"
    assert response.json()["signing_key_expires_at"] == rfc3339(expires_at)
    assert f"certificate expires at {rfc3339(expires_at)}" in caplog.text

    caplog.clear()
    settings.TOKEN_SIGNING_CERT_WARN_DAYS = 9
    with caplog.at_level(logging.WARNING, logger="portal.views"):
        response = client.get("/readyz")
    assert response.json()["checks"]["signing_key"] == "ok"
    assert "expires at" not in caplog.text


def test_readyz_sees_replaced_key_files_without_a_restart(db, client, signing_files, tmp_path):
    assert client.get("/readyz").json()["checks"]["signing_key"] == "ok"
    expires_at = replace_pair(signing_files, tmp_path, valid_for=dt.timedelta(days=3))
    response = client.get("/readyz")
    assert response.json()["checks"]["signing_key"] == "expires_soon"
    assert response.json()["signing_key_expires_at"] == rfc3339(expires_at)


def test_readyz_fails_when_the_loaded_key_expires_in_a_running_worker(
    db, client, signing_files, settings, tmp_path
):
    # The files don't change (and aren't looked at again): the key in memory expires.
    expires_at = replace_pair(signing_files, tmp_path, valid_for=dt.timedelta(seconds=2))
    settings.TOKEN_SIGNING_KEY_CHECK_SECONDS = 3600
    assert client.get("/readyz").status_code == 200
    wait_until(expires_at)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"] == "expired"


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


def _autogroup_nice() -> int | None:
    """This process's autogroup nice value (sched(7)), or None without autogroups."""
    try:
        return int(Path("/proc/self/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.parametrize(
    ("pool", "setting", "expected"),
    [("web", None, 10), ("web", "0", 0), ("web", "12", 12), ("token", None, 0)],
)
def test_the_web_pool_runs_at_a_lower_cpu_priority(pool, setting, expected, monkeypatch):
    """gunicorn.conf.py's post_fork hook lowers the web pool's workers' priority (WEB_POOL_NICE,
    default 10), never the token pool's: a CSV export yields the CPU to registry requests. Run in
    a forked child, as gunicorn runs it in each worker. With the kernel's autogroups (CPU shared
    between sessions first), the worker is in a session of its own whose autogroup has that nice
    value too: its own nice value alone would count against its session's processes only."""
    import runpy

    monkeypatch.setenv("PORTAL_POOL", pool)
    if setting is None:
        monkeypatch.delenv("WEB_POOL_NICE", raising=False)
    else:
        monkeypatch.setenv("WEB_POOL_NICE", setting)
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    before = os.getpriority(os.PRIO_PROCESS, 0)
    session, autogroup = os.getsid(0), _autogroup_nice()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker
        conf["post_fork"](None, None)
        report = f"{os.getpriority(os.PRIO_PROCESS, 0) - before} {os.getsid(0) != session} "
        os.write(write, f"{report}{_autogroup_nice()}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        niced, own_session, autogroup_after = pipe.read().split()
    os.waitpid(child, 0)
    assert int(niced) == expected
    assert own_session == str(bool(expected))
    if autogroup is not None:  # a kernel with autogroups (Linux's default)
        assert int(autogroup_after) == (expected or autogroup)


def test_a_nonsense_web_pool_priority_is_refused(monkeypatch):
    import runpy

    monkeypatch.setenv("WEB_POOL_NICE", "25")
    with pytest.raises(RuntimeError, match="WEB_POOL_NICE must be between 0 and 19"):
        runpy.run_path(str(REPO / "gunicorn.conf.py"))
