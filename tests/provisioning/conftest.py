"""Fixtures for SCIM provisioning: an organisation's SCIM token, and SCIM clients against a
live server (real HTTP), as an identity provider sends its requests."""

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient

from provisioning.services import scim_token_create

SCIM = "application/scim+json"


@pytest.fixture
def scim_token(acme):
    """A SCIM token of acme, made by its owner: ``(token, secret)``."""
    return scim_token_create(organization=acme.org, name="okta", actor=acme.owner)


@pytest.fixture
def scim_url(live_server, settings):
    """The SCIM base URL of the live server (``SITE_URL`` follows it, as the locations do)."""
    settings.SITE_URL = live_server.url
    return live_server.url + "/scim/v2"


@pytest.fixture
def scim_http(scim_url, scim_token):
    """``httpx2.Client`` on the SCIM base URL with acme's token, as an identity provider."""
    with httpx2.Client(
        base_url=scim_url,
        headers={"Authorization": f"Bearer {scim_token[1]}", "Content-Type": SCIM},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def scim_client(scim_http):
    """scim2-client's synchronous client over ``scim_http``."""
    return SyncSCIMClient(scim_http)
