"""The Access tokens page: the login commands for the portal's registry, the default expiry,
hiding and deleting tokens that no longer work, and times with their zone."""

import subprocess
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tokens.models import AccessToken, RefreshToken
from tokens.services import (
    DEFAULT_EXPIRY_DAYS,
    access_token_create,
    access_token_delete,
    access_token_revoke,
    access_tokens_delete_inactive,
    refresh_token_create,
)

LIST_URL = reverse("tokens:list")


def expire(token: AccessToken) -> None:
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))


@pytest.fixture
def tokens(acme):
    """mike's tokens: 'laptop' works, 'old' is revoked, 'nightly' has expired."""
    laptop, _ = access_token_create(user=acme.member, name="laptop", expires_days=30)
    old, _ = access_token_create(user=acme.member, name="old")
    access_token_revoke(token=old)
    nightly, _ = access_token_create(user=acme.member, name="nightly", expires_days=1)
    expire(nightly)
    return {"laptop": laptop, "old": old, "nightly": nightly}


def test_login_commands_name_the_registry_host(acme, login, settings):
    settings.REGISTRY_HOST = "registry.example.com:5443"
    page = login(acme.member).get(LIST_URL).content.decode()
    assert "docker login registry.example.com:5443 -u mike</pre>" in page
    assert "skopeo login -u mike registry.example.com:5443</pre>" in page
    assert "docker login -u mike" not in page  # that would sign in to Docker Hub


def test_login_commands_quote_what_a_shell_would_expand(acme, login, settings, tmp_path):
    """A username may hold '@' or '+', and an IPv6 host has brackets (a shell glob): each
    command is one word per value, as bash reads it."""
    settings.REGISTRY_HOST = "[::1]:5000"
    acme.member.username = "mike+ci@example.com"
    acme.member.save()
    response = login(acme.member).get(LIST_URL)
    commands = dict(response.context["login_commands"])
    (tmp_path / "1:5000").touch()  # what an unquoted [::1]:5000 would expand to
    for command in commands.values():
        argv = subprocess.run(
            ["bash", "-c", f"set -- {command}; printf '%s\\n' \"$@\""],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        ).stdout.splitlines()
        assert "[::1]:5000" in argv and "mike+ci@example.com" in argv


@pytest.mark.parametrize(
    "host", ["registry.example.com", "127.0.0.1:5000", "[::1]:5000", "reg-1.internal:443"]
)
def test_registry_host_setting_accepts_hosts(host, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOST", host)
    assert settings_value("REGISTRY_HOST") == host


@pytest.mark.parametrize(
    "host",
    ["https://registry.example.com", "registry.example.com/v2", "a b", "-bad.example", ""],
)
def test_registry_host_setting_refuses_urls_and_junk(host, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOST", host)
    result = settings_run("REGISTRY_HOST")
    assert result.returncode != 0
    assert "REGISTRY_HOST must be a host name" in result.stderr


def settings_run(name: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with the test's environment."""
    import os
    import sys

    env = {**os.environ, "DEBUG": "true"}
    return subprocess.run(
        [sys.executable, "-c", f"from portal import settings; print(settings.{name})"],
        capture_output=True,
        text=True,
        env=env,
    )


def settings_value(name: str) -> str:
    result = settings_run(name)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_form_proposes_90_days_and_never_is_still_possible(acme, login):
    client = login(acme.member)
    page = client.get(LIST_URL).content.decode()
    assert f'name="expires_days" value="{DEFAULT_EXPIRY_DAYS}"' in page
    assert DEFAULT_EXPIRY_DAYS == 90
    client.post(LIST_URL, {"name": "ci", "expires_days": "90", "scope": "repo:read"})
    ci = AccessToken.objects.get(name="ci")
    assert timedelta(days=89, hours=23) < ci.expires_at - timezone.now() <= timedelta(days=90)
    response = client.post(LIST_URL, {"name": "forever", "expires_days": "", "scope": "repo:read"})
    assert AccessToken.objects.get(name="forever").expires_at is None
    assert "It never expires." in response.content.decode()


def test_tokens_that_no_longer_work_are_hidden_until_asked_for(acme, login, tokens):
    client = login(acme.member)
    response = client.get(LIST_URL)
    assert [t.name for t in response.context["tokens"]] == ["laptop"]
    page = response.content.decode()
    assert "Show 2 revoked or expired" in page
    assert "nightly" not in page and "old" not in page

    response = client.get(LIST_URL, {"show": "all"})
    assert {t.name for t in response.context["tokens"]} == {"laptop", "old", "nightly"}
    page = response.content.decode()
    assert "Hide revoked and expired" in page
    assert reverse("tokens:delete", args=[tokens["old"].pk]) in page
    assert reverse("tokens:delete", args=[tokens["nightly"].pk]) in page
    assert reverse("tokens:delete", args=[tokens["laptop"].pk]) not in page  # revoke it first
    assert reverse("tokens:revoke", args=[tokens["laptop"].pk]) in page


def test_times_show_their_zone(acme, login, tokens):
    page = login(acme.member).get(LIST_URL, {"show": "all"}).content.decode()
    created = tokens["laptop"].created_at
    assert f"{created:%Y-%m-%d %H:%M} UTC" in page
    assert f'datetime="{created.isoformat()}"' in page


def test_delete_a_revoked_or_expired_token_with_its_sessions(acme, login, tokens):
    session, _ = refresh_token_create(
        user_id=acme.member.pk, access_token_id=tokens["old"].pk, client_id="docker"
    )
    client = login(acme.member)
    url = reverse("tokens:delete", args=[tokens["old"].pk])
    confirm = client.get(url).content.decode()
    assert "Delete token &#x27;old&#x27;" in confirm
    assert "Registry sessions it opened are deleted with it." in confirm
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert not AccessToken.objects.filter(pk=tokens["old"].pk).exists()
    assert not RefreshToken.objects.filter(pk=session.pk).exists()
    assert "Token &#x27;old&#x27; deleted." in client.get(LIST_URL).content.decode()

    client.post(reverse("tokens:delete", args=[tokens["nightly"].pk]))
    assert not AccessToken.objects.filter(pk=tokens["nightly"].pk).exists()


def test_a_working_token_cannot_be_deleted(acme, login, tokens):
    laptop = tokens["laptop"]
    with pytest.raises(ValidationError, match="still works: revoke it before deleting it"):
        access_token_delete(token=laptop)
    client = login(acme.member)
    url = reverse("tokens:delete", args=[laptop.pk])
    page = client.get(url).content.decode()
    assert "still works: revoke it before deleting it" in page
    assert "Delete token</button>" not in page
    assert client.post(url).status_code == 400
    assert AccessToken.objects.filter(pk=laptop.pk).exists()


def test_delete_all_that_no_longer_work(acme, login, tokens):
    access_token_create(user=acme.owner, name="olivias-old")
    access_token_revoke(token=AccessToken.objects.get(name="olivias-old"))
    client = login(acme.member)
    url = reverse("tokens:delete_inactive")
    assert "Delete 2 revoked or expired tokens?" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert set(AccessToken.objects.values_list("name", flat=True)) == {"laptop", "olivias-old"}
    assert "Deleted 2 revoked or expired tokens." in client.get(LIST_URL).content.decode()
    # Nothing left to delete: the page says so and a POST changes nothing.
    assert "You have no revoked or expired tokens." in client.get(url).content.decode()
    assert client.post(url).status_code == 400
    with pytest.raises(ValidationError):
        access_tokens_delete_inactive(user=acme.member)


def test_the_delete_inactive_link_and_page_count_in_words(acme, login, tokens):
    client = login(acme.member)
    page = client.get(LIST_URL, {"show": "all"}).content.decode()
    assert "Delete all 2 revoked or expired tokens…" in page
    access_token_delete(token=tokens["old"])
    page = client.get(LIST_URL, {"show": "all"}).content.decode()
    assert "Delete the revoked or expired token…" in page and "Delete all 1" not in page
    confirmation = client.get(reverse("tokens:delete_inactive")).content.decode()
    assert "Delete 1 revoked or expired token?" in confirmation
    assert "Delete it</button>" in confirmation


def test_creating_a_token_comes_first_and_sessions_last(acme, login):
    page = login(acme.member).get(LIST_URL).content.decode()
    order = [
        page.index(heading) for heading in ("Create a token", "Your tokens", "Registry sessions")
    ]
    assert order == sorted(order)
    assert 'href="/api/docs/"' in page  # scripts: the API's documentation
