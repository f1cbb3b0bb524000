"""End to end with containerd: ``ctr content fetch`` signs in through the OAuth2 ``POST`` of
the token service, as kubelet, BuildKit and nerdctl do, and fetches only what the
organisation's Image Access Management allows."""

import pytest
from django.core.signals import request_started

from activity.models import PullDecision
from tests.e2e.oci import build_oci_layout, layout_manifest_digest
from tests.factories import make_org, make_publisher, make_user, set_policy
from tokens.services import access_token_create

pytestmark = pytest.mark.registry

TAG = "v1"
REPOSITORIES = ["library/alpine", "acme/app", "someone/thing"]


def test_containerd_pulls_follow_the_org_policy(registry, skopeo_client, containerd, tmp_path):
    token_requests = []

    def record(sender, environ, **kwargs):
        if environ.get("PATH_INFO") == "/auth/token":
            token_requests.append(environ["REQUEST_METHOD"])

    request_started.connect(record)
    try:
        run_scenario(registry, skopeo_client, containerd, tmp_path, token_requests)
    finally:
        request_started.disconnect(record)


def run_scenario(registry, skopeo_client, containerd, tmp_path, token_requests):
    def diagnostics(result) -> str:
        return (
            f"ctr exit {result.returncode}\n{result.stderr[-2000:]}\n"
            f"--- token requests: {token_requests}\n"
            f"--- registry log (tail) ---\n{registry.log()[-3000:]}\n"
            f"--- containerd log (tail) ---\n{containerd.log()[-1500:]}"
        )

    admin = make_user("admin", is_staff=True)
    olivia, mike = make_user("olivia"), make_user("mike")
    acme = make_org("acme", owner=olivia, members=[mike])
    make_publisher("bitnami")

    layout = build_oci_layout(tmp_path / "image", tag=TAG, label="containerd")
    digest = layout_manifest_digest(layout, TAG)
    admin_creds = f"admin:{access_token_create(user=admin, name='push')[1]}"
    for repository in REPOSITORIES[:2]:
        result = skopeo_client.push(layout, TAG, repository, admin_creds)
        assert result.returncode == 0, f"push to {repository} failed\n{skopeo_client.calls[-1]}"
    community = build_oci_layout(tmp_path / "community", tag=TAG, label="community")
    community_digest = layout_manifest_digest(community, TAG)
    result = skopeo_client.push(community, TAG, "someone/thing", admin_creds)
    assert result.returncode == 0, f"push to someone/thing failed\n{skopeo_client.calls[-1]}"

    set_policy(acme, actor=olivia, enabled=True, official=True)
    mike_creds = f"mike:{access_token_create(user=mike, name='node')[1]}"

    # A wrong secret gets nothing: the POST is refused (401), containerd's GET fallback too.
    token_requests.clear()
    result = containerd.fetch(f"{registry.address}/library/alpine:{TAG}", "mike:wrong-secret")
    assert result.returncode != 0, diagnostics(result)
    assert "401 Unauthorized" in result.stderr, diagnostics(result)
    assert token_requests[:2] == ["POST", "GET"], diagnostics(result)
    assert not containerd.has_blob(digest)

    # Allowed: an official image and the organisation's own; containerd signs in by POST alone.
    for repository in ("library/alpine", "acme/app"):
        token_requests.clear()
        result = containerd.fetch(f"{registry.address}/{repository}:{TAG}", mike_creds)
        assert result.returncode == 0, diagnostics(result)
        assert token_requests and set(token_requests) == {"POST"}, diagnostics(result)
        assert containerd.has_blob(digest), diagnostics(result)

    # Blocked: a community image. The token grants nothing, the registry refuses.
    result = containerd.fetch(f"{registry.address}/someone/thing:{TAG}", mike_creds)
    assert result.returncode != 0, diagnostics(result)
    assert "insufficient_scope" in result.stderr, diagnostics(result)
    assert not containerd.has_blob(community_digest)

    # Each decision was recorded, with how containerd signed in (its POST form: the access
    # token as the password) and what it was told.
    recorded = {
        (d.repository, d.outcome, d.signed_in_with, d.credential)
        for d in PullDecision.objects.filter(username="mike")
    }
    assert recorded == {
        ("library/alpine", "allowed", "access_token", "node"),
        ("acme/app", "allowed", "access_token", "node"),
        ("someone/thing", "blocked", "access_token", "node"),
    }, recorded
