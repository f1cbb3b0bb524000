"""End to end: what skopeo's pulls through a real registry leave in the activity log.

The owner runs the policy enforcing, then in audit-only mode, then enforcing again (with the
confirmation the last save asks for), all through the real forms; skopeo pulls as a member; the
owner's activity page and CSV export show each pull with the right outcome and reason, and the
member's own page shows only theirs.
"""

import csv
import io

import pytest
from django.urls import reverse

from activity.models import PullDecision
from policies.models import AccessPolicy
from tests.e2e.oci import build_oci_layout
from tests.factories import PASSWORD, make_org, make_team, make_user
from tokens.services import access_token_create

pytestmark = pytest.mark.registry

TAG = "v1"
DENIED = "denied: requested access to the resource is denied"


def test_pulls_appear_on_the_activity_pages(registry, skopeo_client, web_session, tmp_path):
    admin = make_user("admin", is_staff=True)
    olivia, mike, nina = make_user("olivia"), make_user("mike"), make_user("nina")
    acme = make_org("acme", owner=olivia, members=[mike])
    make_team(acme, "design", nina)

    layout = build_oci_layout(tmp_path / "image", tag=TAG, label="activity")
    admin_creds = f"admin:{access_token_create(user=admin, name='push')[1]}"
    for repository in ("library/alpine", "someone/thing"):
        assert skopeo_client.push(layout, TAG, repository, admin_creds).returncode == 0

    owner = web_session()
    owner.log_in("olivia", PASSWORD)
    permissions = reverse("policies:permissions", kwargs={"org": "acme"})

    def save(**settings) -> None:
        page = owner.request(permissions)
        data = {
            "csrfmiddlewaretoken": page.post_form_inputs()["csrfmiddlewaretoken"],
            "version": str(AccessPolicy.objects.get(organization=acme).version),
            **{name: "on" for name, on in settings.items() if on},
        }
        response = owner.request(permissions, data)
        if response.status == 200:  # the confirmation: it lists what will be blocked
            assert "Confirm: these settings block pulls members made recently" in response.text
            assert "someone/thing" in response.text
            confirm = response.text.split('name="confirm" value="')[1].split('"')[0]
            response = owner.request(permissions, {**data, "confirm": confirm})
        assert response.status == 302, f"{response.status}: {response.text[:800]}"

    def pull(creds, repository):
        result, _ = skopeo_client.pull(repository, TAG, creds)
        return result

    mike_creds = f"mike:{access_token_create(user=mike, name='laptop')[1]}"
    nina_creds = f"nina:{access_token_create(user=nina, name='ci')[1]}"

    # Enforcing, official images only: alpine goes, someone/thing is refused.
    save(enabled=True, allow_official_images=True)
    assert pull(mike_creds, "library/alpine").returncode == 0
    refused = pull(mike_creds, "someone/thing")
    assert refused.returncode != 0 and DENIED in refused.stderr
    # Audit-only: the same pull goes through, recorded as would-block.
    save(enabled=True, audit_only=True, allow_official_images=True)
    assert pull(mike_creds, "someone/thing").returncode == 0
    assert pull(nina_creds, "library/alpine").returncode == 0
    # Enforcing again (it asks first: mike pulled someone/thing in audit-only mode).
    save(enabled=True, allow_official_images=True)
    refused = pull(mike_creds, "someone/thing")
    assert refused.returncode != 0 and DENIED in refused.stderr

    outcomes = list(
        PullDecision.objects.filter(username="mike")
        .order_by("id")
        .values_list("repository", "outcome")
        .distinct()
    )
    # (skopeo asks again after a refusal: the blocked ones are there twice)
    assert [pair for i, pair in enumerate(outcomes) if pair not in outcomes[:i]] == [
        ("library/alpine", "allowed"),
        ("someone/thing", "blocked"),
        ("someone/thing", "would_block"),
    ]

    # The owner's page shows each with its outcome and reason.
    page = owner.request(reverse("activity:activity", kwargs={"org": "acme"}))
    assert page.status == 200
    table = page.text.split('data-testid="activity"')[1].replace("&#x27;", "'")
    assert "Would be blocked" in table and "Blocked" in table and "Allowed" in table
    assert "Community images are blocked by acme's Image Access Management." in table
    assert "acme is in audit-only mode: the pull is allowed and recorded as would-block." in table
    assert "nina" in table

    # The CSV export of the filtered view has the same, with how they signed in.
    export = owner.request(
        reverse("activity:activity_csv", kwargs={"org": "acme"}) + "?member=mike"
    )
    assert export.status == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {row["user"] for row in rows} == {"mike"}
    assert {(row["repository"], row["outcome"]) for row in rows} == {
        ("library/alpine", "allowed"),
        ("someone/thing", "blocked"),
        ("someone/thing", "would_block"),
    }
    assert all(row["signed_in_with"] == "access_token" for row in rows)
    assert all(row["credential"] == "laptop" for row in rows)
    assert all(row["client_address"] == "127.0.0.1" and row["user_agent"] for row in rows)
    would = next(row for row in rows if row["outcome"] == "would_block")
    assert would["actions_granted"] == "pull" and "audit-only mode" in would["reason"]

    # mike sees his own decisions, not nina's; nina cannot open the owners' page.
    member = web_session()
    member.log_in("mike", PASSWORD)
    own = member.request(reverse("activity:my_activity"))
    assert own.status == 200
    own_table = own.text.split('data-testid="activity"')[1]
    assert (
        own_table.count("<tr data-outcome=") == PullDecision.objects.filter(username="mike").count()
    )
    assert "nina" not in own_table
    other = web_session()
    other.log_in("nina", PASSWORD)
    assert other.request(reverse("activity:activity", kwargs={"org": "acme"})).status == 403
