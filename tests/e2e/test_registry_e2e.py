"""End to end: a real registry (CNCF Distribution) trusts the portal's tokens, and skopeo pulls
only what the organisation's Image Access Management allows.

The owner changes the policy through the real Org Permissions form over HTTP, the member's
access token is created with ``manage.py create_token``, and revoking it locks skopeo out.
"""

import hashlib
import io
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from policies.models import AccessPolicy, PolicyChange
from tests.e2e.oci import build_oci_layout, layout_manifest_digest
from tests.factories import PASSWORD, make_org, make_publisher, make_user
from tokens.models import AccessToken
from tokens.services import access_token_create, access_token_revoke

pytestmark = pytest.mark.registry

TAG = "v1"
REPOSITORIES = ["library/alpine", "bitnami/redis", "acme/app", "someone/thing"]
DENIED = "denied: requested access to the resource is denied"


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def test_registry_pulls_follow_the_org_policy(registry, skopeo_client, web_session, tmp_path):
    started = time.monotonic()

    def diagnostics() -> str:
        return (
            "\n\n".join(skopeo_client.calls[-6:])
            + f"\n\n--- registry log (tail) ---\n{tail(registry.log())}"
        )

    def assert_pulls(repository: str, creds: str) -> None:
        result, out = skopeo_client.pull(repository, TAG, creds)
        assert result.returncode == 0, f"pull of {repository} failed\n{diagnostics()}"
        # What came back is the image that was pushed, byte for byte.
        manifest = (out / "manifest.json").read_bytes()
        assert f"sha256:{hashlib.sha256(manifest).hexdigest()}" == digest, diagnostics()

    def assert_refused(repository: str, creds: str, message: str) -> None:
        result, out = skopeo_client.pull(repository, TAG, creds)
        assert result.returncode != 0, f"pull of {repository} succeeded\n{diagnostics()}"
        assert message in result.stderr, diagnostics()
        assert not (out / "manifest.json").exists()

    admin = make_user("admin", is_staff=True)
    olivia, mike = make_user("olivia"), make_user("mike")
    acme = make_org("acme", owner=olivia, members=[mike])
    make_publisher("bitnami")

    # Site staff push one hand-made image everywhere (password for one, a token for the rest).
    layout = build_oci_layout(tmp_path / "image", tag=TAG, label="e2e")
    digest = layout_manifest_digest(layout, TAG)
    admin_token = access_token_create(user=admin, name="push")[1]
    for index, repository in enumerate(REPOSITORIES):
        creds = f"admin:{PASSWORD}" if index == 0 else f"admin:{admin_token}"
        result = skopeo_client.push(layout, TAG, repository, creds)
        assert result.returncode == 0, f"push to {repository} failed\n{diagnostics()}"

    out = io.StringIO()
    call_command("create_token", "mike", "--name", "e2e", stdout=out)
    mike_creds = f"mike:{out.getvalue().strip()}"

    # Image Access Management off: the member pulls everything.
    for repository in REPOSITORIES:
        assert_pulls(repository, mike_creds)

    # The owner turns it on and allows only Docker Official Images, in the real form.
    browser = web_session()
    browser.log_in("olivia", PASSWORD)
    permissions = reverse("policies:permissions", kwargs={"org": "acme"})
    page = browser.request(permissions)
    assert page.status == 200, page.text[:500]
    fields = page.post_form_inputs()
    assert fields["version"] == "1"
    response = browser.request(
        permissions,
        {
            "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
            "version": fields["version"],
            "enabled": "on",
            "allow_official_images": "on",
        },
    )
    assert response.status == 302, f"{response.status}: {response.text[:1000]}"
    assert response.headers["Location"] == permissions
    policy = AccessPolicy.objects.get(organization=acme)
    assert policy.as_dict() == {
        "enabled": True,
        "allow_official_images": True,
        "allow_verified_publishers": False,
    }
    assert policy.version == 2
    assert PolicyChange.objects.get(organization=acme, version=2).actor == olivia

    # Now the member gets official and own-organisation images only.
    assert_pulls("library/alpine", mike_creds)
    assert_pulls("acme/app", mike_creds)
    assert_refused("bitnami/redis", mike_creds, DENIED)
    assert_refused("someone/thing", mike_creds, DENIED)

    # The owners team is not restricted.
    olivia_creds = f"olivia:{access_token_create(user=olivia, name='e2e')[1]}"
    for repository in REPOSITORIES:
        assert_pulls(repository, olivia_creds)

    # A revoked token stops working at once.
    access_token_revoke(token=AccessToken.objects.get(user=mike, name="e2e"))
    assert_refused("library/alpine", mike_creds, "unauthorized")

    assert AccessToken.objects.get(user=mike, name="e2e").last_used_at is not None
    assert time.monotonic() - started < 60, f"took {time.monotonic() - started:.1f} s"
