"""Deprovisioning ends registry access on every node at once: two gunicorn nodes (separate
processes, as `make serve` runs them) on one database file; the identity provider
deprovisions through one, and a token request on the other, a moment later, is refused."""

import base64
import json
import os
import secrets
import subprocess
import sys

import httpx2
import pytest

from tests.conftest import REGISTRY_SERVICE, TOKEN_ISSUER
from tests.e2e.deployment import REPO, gunicorn_node

SETUP = """
import django, json
django.setup()
from django.contrib.auth import get_user_model
from orgs.services import organization_create
from provisioning.services import scim_token_create
owner = get_user_model().objects.create_user(username="olivia", password="not-used-here-1")
org = organization_create(name="acme", creator=owner)
print(json.dumps({"scim": scim_token_create(organization=org, name="okta", actor=owner)[1]}))
"""
# Alice, provisioned, signs in to the portal and makes a token for docker (as on the Tokens page).
MAKE_TOKEN = """
import django, json
django.setup()
from django.contrib.auth import get_user_model
from tokens.services import access_token_create
alice = get_user_model().objects.get(username="alice")
print(json.dumps({"token": access_token_create(user=alice, name="laptop")[1]}))
"""


def run(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pull_token(node: str, secret: str) -> int:
    credentials = base64.b64encode(f"alice:{secret}".encode()).decode()
    return httpx2.get(
        f"{node}/auth/token",
        params={"service": REGISTRY_SERVICE, "scope": "repository:acme/app:pull"},
        headers={"Authorization": f"Basic {credentials}"},
        timeout=30,
    ).status_code


@pytest.fixture
def two_nodes(tmp_path, token_keys):
    """Nodes a and b (gunicorn, one worker each) on one SQLite file, migrated, with acme and
    its SCIM token; yields ``(node_a, node_b, scim secret, env)``."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "REDIS_URL": "",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TOKEN_SIGNING_KEY_FILE": str(token_keys.parent / "token.key"),
        "TOKEN_SIGNING_CERT_FILE": str(token_keys),
        "TOKEN_ISSUER": TOKEN_ISSUER,
        "REGISTRY_SERVICE": REGISTRY_SERVICE,
    }
    run(env, "manage.py", "migrate", "-v", "0")
    scim = json.loads(run(env, "-c", SETUP))["scim"]
    with (
        gunicorn_node("node-a", env, tmp_path) as (node_a, _),
        gunicorn_node("node-b", env, tmp_path) as (node_b, _),
    ):
        yield node_a, node_b, scim, env


def test_a_deprovisioned_person_is_refused_on_the_other_node_at_once(two_nodes):
    node_a, node_b, scim, env = two_nodes
    with httpx2.Client(
        base_url=f"{node_a}/scim/v2",
        headers={"Authorization": f"Bearer {scim}", "Content-Type": "application/scim+json"},
        timeout=30,
    ) as idp:
        created = idp.post(
            "/Users",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "alice",
                "emails": [{"value": "alice@acme.example", "primary": True}],
                "active": True,
            },
        )
        assert created.status_code == 201, created.text
        token = json.loads(run(env, "-c", MAKE_TOKEN))["token"]
        assert pull_token(node_b, token) == 200
        assert pull_token(node_a, token) == 200

        deprovisioned = idp.patch(
            f"/Users/{created.json()['id']}",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
        )
        assert deprovisioned.status_code in (200, 204), deprovisioned.text

    assert pull_token(node_b, token) == 401
    assert pull_token(node_a, token) == 401
