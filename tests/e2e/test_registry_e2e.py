"""End to end: a real registry (CNCF Distribution) trusts the portal's tokens, and skopeo pulls
only what the organisation's Image Access Management allows.

The owner changes the policy and the allowlist through the real Org Permissions forms over
HTTP, the member asks for an exception and the owner approves it the same way, the member's
access token is created with ``manage.py create_token``, and revoking it locks skopeo out.
"""

import hashlib
import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from policies.models import AccessPolicy, AllowlistEntry, ExceptionRequest, PolicyChange
from tests.e2e.oci import build_oci_layout, layout_manifest_digest
from tests.factories import PASSWORD, make_org, make_publisher, make_user
from tokens.models import AccessToken
from tokens.services import access_token_create, access_token_revoke

pytestmark = pytest.mark.registry

TAG = "v1"
# someone/tool is allowlisted, someone/thing is not; another/app is asked for as an exception.
REPOSITORIES = [
    "library/alpine",
    "bitnami/redis",
    "acme/app",
    "someone/thing",
    "someone/tool",
    "another/app",
]
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
    settings = {
        "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
        "version": fields["version"],
        "enabled": "on",
        "allow_official_images": "on",
    }
    # mike pulled images these settings block: the save asks first and saves nothing.
    response = browser.request(permissions, settings)
    assert response.status == 200, f"{response.status}: {response.text[:1000]}"
    assert "Confirm: these settings block pulls members made recently" in response.text
    assert AccessPolicy.objects.get(organization=acme).version == 1
    response = browser.request(permissions, {**settings, "confirm": "1010"})
    assert response.status == 302, f"{response.status}: {response.text[:1000]}"
    assert response.headers["Location"] == permissions
    policy = AccessPolicy.objects.get(organization=acme)
    assert policy.as_dict() == {
        "enabled": True,
        "audit_only": False,
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
    assert_refused("someone/tool", mike_creds, DENIED)

    # The owner allowlists one community image, in the real form.
    allowlist = reverse("policies:allowlist", kwargs={"org": "acme"})
    page = browser.request(allowlist)
    response = browser.request(
        allowlist,
        {
            "csrfmiddlewaretoken": page.post_form_inputs()["csrfmiddlewaretoken"],
            "pattern": "someone/tool",
            "reason": "CI base image",
            "team": "",
            "expires_at": "",
        },
    )
    assert response.status == 302, f"{response.status}: {response.text[:1000]}"
    assert_pulls("someone/tool", mike_creds)
    assert_refused("someone/thing", mike_creds, DENIED)

    # The member asks for another one; the owner approves it for 30 days; the member pulls it.
    assert_refused("another/app", mike_creds, DENIED)
    member = web_session()
    member.log_in("mike", PASSWORD)
    check = member.request(f"{permissions}?image=another/app:{TAG}")
    assert "Request an exception" in check.text
    response = member.request(
        reverse("policies:exception_create", kwargs={"org": "acme"}),
        {
            "csrfmiddlewaretoken": check.post_form_inputs()["csrfmiddlewaretoken"],
            "image": f"another/app:{TAG}",
            "justification": "The release pipeline needs it.",
        },
    )
    assert response.status == 302, f"{response.status}: {response.text[:1000]}"
    request = ExceptionRequest.objects.get(repository="another/app")
    review = reverse("policies:exception_review", kwargs={"org": "acme", "pk": request.pk})
    form = browser.request(review)
    assert form.status == 200 and "The release pipeline needs it." in form.text
    defaults = form.post_form_inputs()
    assert defaults["pattern"] == "another/app"
    response = browser.request(
        review,
        {
            "csrfmiddlewaretoken": defaults["csrfmiddlewaretoken"],
            "pattern": defaults["pattern"],
            "team": "",
            "expires_at": defaults["expires_at"],
            "note": "For one month.",
        },
    )
    assert response.status == 302, f"{response.status}: {response.text[:1000]}"
    entry = AllowlistEntry.objects.get(pattern="another/app")
    assert entry.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    assert "Approved by olivia" in member.request(reverse("policies:my_requests")).text
    assert_pulls("another/app", mike_creds)

    # The exception expires: the next pull is refused at once.
    AllowlistEntry.objects.filter(pk=entry.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_refused("another/app", mike_creds, DENIED)
    assert_pulls("someone/tool", mike_creds)

    # The owners team is not restricted.
    olivia_creds = f"olivia:{access_token_create(user=olivia, name='e2e')[1]}"
    for repository in REPOSITORIES:
        assert_pulls(repository, olivia_creds)

    # A revoked token stops working at once.
    access_token_revoke(token=AccessToken.objects.get(user=mike, name="e2e"))
    assert_refused("library/alpine", mike_creds, "unauthorized")

    assert AccessToken.objects.get(user=mike, name="e2e").last_used_at is not None
    assert time.monotonic() - started < 60, f"took {time.monotonic() - started:.1f} s"
