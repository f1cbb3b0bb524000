"""E-mailed links start with the configured ``SITE_URL``, never with the request's ``Host``
header (a client chooses it, port included: ``ALLOWED_HOSTS`` does not check ports)."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from core.links import site_url
from tests.api.conftest import Api
from tests.factories import set_policy
from tokens.services import access_token_create

SITE = "https://portal.example.com"
HOSTILE_HOST = "testserver:6666"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    return SITE


def assert_only_the_site(body: str, site: str) -> None:
    assert f"{site}/" in body
    assert "6666" not in body and "testserver" not in body


def test_site_url_joins_paths(site):
    assert site_url("/invite/x/") == f"{SITE}/invite/x/"
    assert site_url("invite/x/") == f"{SITE}/invite/x/"
    assert site_url("/") == f"{SITE}/"


def test_an_invitation_mail_links_to_the_site(
    acme, login, mailoutbox, site, django_capture_on_commit_callbacks
):
    client = login(acme.owner)
    members = acme.org.teams.get(name="members")
    url = reverse("orgs:invitations", kwargs={"org": "acme"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"invitee": "new@example.com", "team": members.pk}, HTTP_HOST=HOSTILE_HOST
        )
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert f"{SITE}/invite/" in mail.body
    assert_only_the_site(mail.body, SITE)


@pytest.fixture
def restricted(acme):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    acme.owner.email = "olivia@acme.example"
    acme.owner.save()
    return acme


def test_an_exception_request_mail_from_the_page_links_to_the_site(
    restricted, login, mailoutbox, site, django_capture_on_commit_callbacks
):
    client = login(restricted.member)
    url = reverse("policies:exception_create", kwargs={"org": "acme"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"image": "someone/tool:1", "justification": "CI needs it."},
            HTTP_HOST=HOSTILE_HOST,
        )
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert_only_the_site(mail.body, SITE)


def test_an_exception_request_mail_from_the_api_links_to_the_site(
    restricted, mailoutbox, site, django_capture_on_commit_callbacks
):
    _, secret = access_token_create(user=restricted.member, name="ci")
    member = Api(f"Bearer {secret}")
    with django_capture_on_commit_callbacks(execute=True):
        response = member.post(
            "/api/v1/orgs/acme/exception-requests",
            {"reference": "someone/tool:1", "justification": "CI needs it."},
            HTTP_HOST=HOSTILE_HOST,
        )
    assert response.status_code == 201
    (mail,) = mailoutbox
    assert_only_the_site(mail.body, SITE)


def test_a_password_reset_mail_links_to_the_site(acme, client, mailoutbox, site):
    acme.member.email = "mike@example.com"
    acme.member.save()
    client.post(reverse("password_reset"), {"email": "mike@example.com"}, HTTP_HOST=HOSTILE_HOST)
    (mail,) = mailoutbox
    assert f"{SITE}/accounts/reset/" in mail.body
    assert_only_the_site(mail.body, SITE)


def start(**environment) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process with ``environment`` (DEBUG off)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "ALLOWED_HOSTS")}
    env.update(DEBUG="false", DJANGO_SETTINGS_MODULE="portal.settings", **environment)
    code = "from django.conf import settings; print(settings.SITE_URL)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_production_with_a_real_host_refuses_to_start_without_site_url():
    refused = start(ALLOWED_HOSTS="portal.example.com")
    assert refused.returncode != 0
    assert "Set SITE_URL" in refused.stderr
    assert start(ALLOWED_HOSTS="portal.example.com", SITE_URL=SITE + "/").stdout.strip() == SITE


def test_a_local_server_defaults_to_where_it_listens():
    assert start().stdout.strip() == "http://127.0.0.1:8000"
    assert start(HOST="0.0.0.0", PORT="9000").stdout.strip() == "http://0.0.0.0:9000"


@pytest.mark.parametrize(
    "value", ["portal.example.com", "ftp://portal.example.com", f"{SITE}/portal", f"{SITE}?a=1"]
)
def test_a_site_url_that_is_not_an_origin_is_refused(value):
    refused = start(SITE_URL=value)
    assert refused.returncode != 0
    assert "SITE_URL must be http:// or https://" in refused.stderr
