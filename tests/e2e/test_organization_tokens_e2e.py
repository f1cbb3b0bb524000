"""End to end: organisation access tokens with skopeo against a real registry (CNCF
Distribution) whose token service is the live portal.

The owner creates a pull-and-push token limited to ``acme/**`` and ``library/*`` on the real
page (the secret read from it, as a person would copy it); with it skopeo copies an image into
``acme/...``. A pull-only token's push is refused by the registry, the limited token's pull of
a repository outside its patterns too, and the organisation's own policy binds the token
although an owner made it. The token still works once its creator has left.
"""

import hashlib
import re

import pytest
from django.urls import reverse

from activity.models import PullDecision
from orgs.services import organization_member_remove
from tests.e2e.oci import build_oci_layout, layout_manifest_digest
from tests.factories import (
    PASSWORD,
    add_owner,
    make_org,
    make_org_token,
    make_user,
    set_policy,
)
from tokens.models import OrganizationToken
from tokens.services import access_token_create

pytestmark = pytest.mark.registry

TAG = "v1"
DENIED = "requested access to the resource is denied"


def test_organisation_tokens_through_skopeo(registry, skopeo_client, web_session, tmp_path):
    def diagnostics() -> str:
        log = "\n".join(registry.log().splitlines()[-40:])
        return "\n\n".join(skopeo_client.calls[-4:]) + f"\n\n--- registry log ---\n{log}"

    def copy(source: str, destination: str, creds: str):
        return skopeo_client._run(
            "copy",
            "--src-creds",
            creds,
            "--dest-creds",
            creds,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{skopeo_client.address}/{source}:{TAG}",
            f"docker://{skopeo_client.address}/{destination}:{TAG}",
        )

    def pulls(repository: str, creds: str) -> bool:
        result, out = skopeo_client.pull(repository, TAG, creds)
        if result.returncode != 0:
            assert DENIED in result.stderr or "unauthorized" in result.stderr, diagnostics()
            return False
        manifest = (out / "manifest.json").read_bytes()
        assert f"sha256:{hashlib.sha256(manifest).hexdigest()}" == digest, diagnostics()
        return True

    admin = make_user("admin", is_staff=True)
    olivia, mike = make_user("olivia"), make_user("mike")
    acme = make_org("acme", owner=olivia, members=[mike])
    make_org("globex", owner=make_user("gina"))

    layout = build_oci_layout(tmp_path / "image", tag=TAG, label="org-tokens")
    digest = layout_manifest_digest(layout, TAG)
    admin_creds = f"admin:{access_token_create(user=admin, name='push')[1]}"
    for repository in ("library/alpine", "someone/thing"):
        result = skopeo_client.push(layout, TAG, repository, admin_creds)
        assert result.returncode == 0, diagnostics()

    # The owner creates a pull-and-push token on the real page and copies its secret.
    browser = web_session()
    browser.log_in("olivia", PASSWORD)
    page_url = reverse("tokens:organization", kwargs={"org": "acme"})
    page = browser.request(page_url)
    assert page.status == 200, page.text[:500]
    created = browser.request(
        page_url,
        {
            "csrfmiddlewaretoken": page.post_form_inputs()["csrfmiddlewaretoken"],
            "name": "ci-pipeline",
            "scope": "repo:write",
            "repositories": "acme/**\nlibrary/*",
            "expires_days": "30",
        },
    )
    assert created.status == 200, created.text[:1000]
    (secret,) = set(re.findall(r"iamo_[A-Za-z0-9_-]{43}", created.text))
    push_creds = f"acme:{secret}"
    _token, pull_secret = make_org_token(acme, by=olivia, name="deploy")
    pull_creds = f"acme:{pull_secret}"

    # The pull-and-push token copies an image into the organisation's namespace.
    result = copy("library/alpine", "acme/alpine", push_creds)
    assert result.returncode == 0, diagnostics()
    assert pulls("acme/alpine", pull_creds)

    # A pull-only token's push is refused by the registry; so is a push outside acme/.
    result = skopeo_client.push(layout, TAG, "acme/other", pull_creds)
    assert result.returncode != 0 and DENIED in result.stderr, diagnostics()
    result = skopeo_client.push(layout, TAG, "globex/app", push_creds)
    assert result.returncode != 0 and DENIED in result.stderr, diagnostics()

    # Outside its patterns the limited token pulls nothing; the unlimited one may.
    assert not pulls("someone/thing", push_creds)
    assert pulls("someone/thing", pull_creds)

    # The organisation's policy binds its tokens: no owner bypass, although an owner made them.
    set_policy(acme, actor=olivia, enabled=True, official=False)
    assert not pulls("library/alpine", push_creds)
    assert not pulls("someone/thing", pull_creds)
    assert pulls("acme/alpine", pull_creds)
    owner_creds = f"olivia:{access_token_create(user=olivia, name='laptop')[1]}"
    assert pulls("someone/thing", owner_creds)

    # The token outlives its creator's membership and account.
    add_owner(acme, mike)
    organization_member_remove(organization=acme, user=olivia)
    olivia.is_active = False
    olivia.save()
    result = skopeo_client.push(layout, TAG, "acme/after", push_creds)
    assert result.returncode == 0, diagnostics()
    assert pulls("acme/after", pull_creds)

    recorded = PullDecision.objects.filter(signed_in_with="org_token")
    assert set(recorded.values_list("username", flat=True)) == {
        "acme/ci-pipeline",
        "acme/deploy",
    }
    assert recorded.filter(user__isnull=False).count() == 0
    assert all(token.last_used_at for token in OrganizationToken.objects.all())
