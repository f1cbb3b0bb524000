"""The Docker Hub cache's commands (policies.hub_cache), the pages that show them, the setting
that names the cache, and the shipped cache configuration. The commands themselves are run
against real clients by tests/e2e/test_docker_hub_cache.py."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from policies.hub_cache import DOCKER_HUB_AUTH_KEY, hub_cache_help, restriction_check
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
TOKENS_PAGE = reverse("tokens:list")
SIGN_IN_PAGE = reverse("signin:sign_in", kwargs={"org": "acme"})


def test_no_cache_no_commands():
    assert hub_cache_help(host="", username="mike") is None
    assert restriction_check(host="", organization="acme", activity_url="x") is None


def test_commands_name_the_cache_and_the_member():
    commands = hub_cache_help(host="cache.example.com", username="mike")
    by_host = commands.by_host[0].text
    assert by_host == (
        "docker login cache.example.com -u mike\ndocker pull cache.example.com/library/alpine"
    )
    daemon_json, _, pull = commands.mirror
    assert json.loads(daemon_json.text) == {"registry-mirrors": ["https://cache.example.com"]}
    assert pull.text == "docker pull alpine"
    hosts = tomllib.loads(commands.containerd[0].text)
    assert hosts == {
        "server": "https://registry-1.docker.io",
        "host": {"https://cache.example.com": {"capabilities": ["pull", "resolve"]}},
    }


def test_the_credentials_command_stores_the_token_for_docker_hub(tmp_path):
    """Run as written (bash, jq): config.json gets the entry the e2e test's daemon sends to the
    mirror, and keeps what it held."""
    require_tool(shutil.which("jq") is not None, "jq")
    docker = tmp_path / ".docker"
    docker.mkdir()
    (docker / "config.json").write_text('{"auths": {"other.example": {"auth": "eA=="}}}')
    command = hub_cache_help(host="cache.example.com", username="mike+ci").mirror[1].text
    subprocess.run(
        ["bash", "-c", command],
        input="iamp_secret\n",
        text=True,
        check=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    auths = json.loads((docker / "config.json").read_text())["auths"]
    assert auths == {
        "other.example": {"auth": "eA=="},
        DOCKER_HUB_AUTH_KEY: {"auth": base64.b64encode(b"mike+ci:iamp_secret").decode()},
    }


def test_the_restriction_check_expects_the_plain_members_refusal():
    check = restriction_check(
        host="cache.example.com", organization="acme", activity_url="https://p/settings/activity/"
    )
    assert check.commands.text == (
        "docker login cache.example.com\n"
        "docker pull cache.example.com/library/alpine\n"
        "docker pull cache.example.com/someone/tool"
    )
    assert check.expected_output == (
        "denied: pull of someone/tool refused: Community images are blocked by acme's Image "
        "Access Management. Your pull activity says why: https://p/settings/activity/"
    )


def test_the_tokens_page_shows_the_cache_only_when_there_is_one(acme, login, settings):
    client = login(acme.member)
    settings.DOCKER_HUB_CACHE_HOST = ""
    assert 'data-testid="hub-cache"' not in client.get(TOKENS_PAGE).content.decode()
    settings.DOCKER_HUB_CACHE_HOST = "cache.example.com"
    page = client.get(TOKENS_PAGE).content.decode()
    assert 'data-testid="hub-cache"' in page
    assert "docker login cache.example.com -u mike\ndocker pull" in page
    assert "[host.&quot;https://cache.example.com&quot;]" in page


def test_the_sign_in_page_verifies_the_restrictions_through_the_cache(acme, login, settings):
    client = login(acme.owner)
    settings.DOCKER_HUB_CACHE_HOST = ""
    assert 'data-testid="verify-restrictions"' not in client.get(SIGN_IN_PAGE).content.decode()
    settings.DOCKER_HUB_CACHE_HOST = "cache.example.com"
    page = client.get(SIGN_IN_PAGE).content.decode()
    assert 'data-testid="verify-restrictions"' in page
    assert "docker pull cache.example.com/someone/tool</pre>" in page
    assert (
        "Community images are blocked by acme&#x27;s Image Access Management. Your pull "
        "activity says why: http://127.0.0.1:8000/settings/activity/</pre>"
    ) in page


def settings_run(name: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with the test's environment."""
    return subprocess.run(
        [sys.executable, "-c", f"from portal import settings; print(settings.{name})"],
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "true"},
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("cache.example.com", True),
        ("cache.internal:5443", True),
        ("https://cache.example.com", False),
        ("cache.example.com/v2", False),
    ],
)
def test_the_cache_host_setting(value, accepted, monkeypatch):
    monkeypatch.setenv("DOCKER_HUB_CACHE_HOST", value)
    result = settings_run("DOCKER_HUB_CACHE_HOST")
    if accepted:
        assert result.stdout.strip() == value, result.stderr
    else:
        assert "DOCKER_HUB_CACHE_HOST must be a host name" in result.stderr


def test_the_shipped_cache_configuration_names_the_portals_defaults():
    config = yaml.safe_load((REPO / "deploy" / "docker-hub-cache" / "config.yml").read_text())
    token = config["auth"]["token"]
    environment = dict(
        line.split("=", 1)
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert token["issuer"] == environment["TOKEN_ISSUER"]
    assert token["service"] == environment["REGISTRY_SERVICE"]
    assert token["realm"].endswith("/auth/token")
    assert config["proxy"] == {"remoteurl": "https://registry-1.docker.io"}
