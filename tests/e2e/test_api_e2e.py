"""End to end: read-only access tokens are really read-only at a real registry (skopeo), tokens
created through the Docker Hub-compatible API work there, and the curl examples of docs/api.md
for Docker Hub's endpoints run unchanged against the live portal."""

import io
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from policies.models import AccessPolicy, AllowlistEntry, PolicyChange
from tests.conftest import require_tool
from tests.e2e.oci import build_oci_layout
from tests.factories import PASSWORD, make_org, make_user
from tokens.models import AccessToken

pytestmark = pytest.mark.registry

TAG = "v1"
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def create_token(username: str, scope: str | None = None) -> str:
    """``manage.py create_token USERNAME --name ... [--scope SCOPE]``; the secret."""
    options = ["--scope", scope] if scope else []
    out = io.StringIO()
    call_command("create_token", username, "--name", f"e2e-{scope}", *options, stdout=out)
    return out.getvalue().strip()


def api(portal_url: str, method: str, path: str, body=None, bearer: str | None = None):
    """One JSON request to the live portal; ``(status, parsed body)``."""
    request = urllib.request.Request(
        portal_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {bearer}"} if bearer else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_read_only_tokens_never_push(registry, skopeo_client, portal, tmp_path):
    make_user("admin", is_staff=True)
    mike = make_user("mike")
    make_org("acme", owner=make_user("olivia"), members=[mike])
    layout = build_oci_layout(tmp_path / "image", tag=TAG, label="scopes")

    def diagnostics() -> str:
        return (
            "\n\n".join(skopeo_client.calls[-4:]) + "\n--- registry ---\n" + registry.log()[-3000:]
        )

    # Site staff may push anywhere, but not with a read-only token.
    read_only, write = create_token("admin", "repo:read"), create_token("admin")
    result = skopeo_client.push(layout, TAG, "library/alpine", f"admin:{read_only}")
    assert result.returncode != 0, diagnostics()
    assert "denied" in result.stderr or "unauthorized" in result.stderr, diagnostics()
    pulled, _ = skopeo_client.pull("library/alpine", TAG, f"admin:{write}")
    assert pulled.returncode != 0, "the refused push left an image behind\n" + diagnostics()
    assert skopeo_client.push(layout, TAG, "library/alpine", f"admin:{write}").returncode == 0, (
        diagnostics()
    )
    # The read-only token pulls.
    pulled, out = skopeo_client.pull("library/alpine", TAG, f"admin:{read_only}")
    assert pulled.returncode == 0, diagnostics()
    assert (out / "manifest.json").exists()

    # A member's tokens made through the Docker Hub-compatible API: read-only can't push to
    # the organisation's namespace, read & write can.
    status, body = api(
        portal.url, "POST", "/v2/auth/token", {"identifier": "mike", "secret": PASSWORD}
    )
    assert status == 200, body
    bearer = body["access_token"]
    secrets = {}
    for scope in ("repo:read", "repo:write"):
        status, body = api(
            portal.url,
            "POST",
            "/v2/access-tokens",
            {"token_label": scope, "scopes": [scope]},
            bearer,
        )
        assert status == 201, body
        secrets[scope] = body["token"]
    result = skopeo_client.push(layout, TAG, "acme/app", f"mike:{secrets['repo:read']}")
    assert result.returncode != 0, diagnostics()
    result = skopeo_client.push(layout, TAG, "acme/app", f"mike:{secrets['repo:write']}")
    assert result.returncode == 0, diagnostics()
    pulled, _ = skopeo_client.pull("acme/app", TAG, f"mike:{secrets['repo:read']}")
    assert pulled.returncode == 0, diagnostics()


def docker_settings(policy) -> dict:
    """Docker's three settings of a policy (the portal may have more, e.g. audit_only)."""
    return {
        field: getattr(policy, field)
        for field in ("enabled", "allow_official_images", "allow_verified_publishers")
    }


def doc_block(marker: str) -> str:
    """The shell block of docs/api.md that follows ``<!-- marker -->``."""
    text = API_DOC.read_text()
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.*?)```", text, re.S)
    assert match, f"no ```sh block after <!-- {marker} --> in docs/api.md"
    return match.group(1)


def test_the_api_doc_examples_run_unchanged(db, live_server, tmp_path):
    """A script written for Docker Hub's API, and the other curl examples of docs/api.md, with the
    portal's address, a real access token and password put in, manage the portal."""
    require_tool(shutil.which("curl") is not None and shutil.which("jq") is not None, "curl and jq")
    olivia = make_user("olivia")
    acme = make_org("acme", owner=olivia, members=[make_user("mike")])
    secret = create_token("olivia")
    script = "\n".join(
        doc_block(marker)
        for marker in ("api-example-docker-hub", "api-example-access-tokens", "api-example-portal")
    )
    script = (
        script.replace("https://portal.example.com", live_server.url)
        .replace("iamp_...", secret)
        .replace("your-password", PASSWORD)
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '{"restricted_images":{"enabled":false,' in result.stdout  # the GET, before the PUT
    policy = AccessPolicy.objects.get(organization=acme)
    assert docker_settings(policy) == {
        "enabled": True,
        "allow_official_images": True,
        "allow_verified_publishers": True,
    }
    assert [change.actor for change in PolicyChange.objects.filter(organization=acme)] == [
        olivia
    ] * 3  # the PUT, the PATCH, the allowlist entry
    assert AllowlistEntry.objects.get(organization=acme).pattern == "someone/tool"
    ci = AccessToken.objects.get(user=olivia, name="ci-pull")
    assert ci.scope == "repo:read" and ci.revoked_at is not None
    assert '"rule":"owner"' in result.stdout  # the check: olivia owns acme
