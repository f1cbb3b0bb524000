"""Org Permissions: the impact preview of unsaved settings, and the confirmation a save asks
for when it would block pulls members made recently. Neither saves anything by itself."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activity import impact as impact_module
from activity.impact import draft_impact
from orgs.models import Team
from policies.engine import pull_decide
from policies.models import AccessPolicy, PolicyChange
from policies.references import parse_repository_name
from policies.selectors import organization_member_snapshots, pull_snapshot
from tests.factories import add_entry, make_team, record_pulls, set_grant, set_policy

PAGE = reverse("policies:permissions", kwargs={"org": "acme"})
PREVIEW = reverse("policies:permissions_preview", kwargs={"org": "acme"})
OFF = {"enabled": False, "audit_only": False, "allow_official_images": False}
ON = {**OFF, "enabled": True, "allow_verified_publishers": False}


def draft(**settings):
    return {**ON, **settings}


def policy(acme):
    return AccessPolicy.objects.get(organization=acme.org)


@pytest.fixture
def pulled(acme):
    """With management off, mike pulled ubuntu twice, someone/thing and acme/app; olivia
    (owner) pulled someone/thing; long ago mike pulled busybox (outside the window)."""
    record_pulls(acme.member, "library/ubuntu", "someone/thing", "acme/app")
    record_pulls(acme.member, "library/ubuntu")
    record_pulls(acme.owner, "someone/thing")
    record_pulls(acme.member, "library/busybox", at=timezone.now() - timedelta(days=31))


def test_the_draft_is_replayed_against_recorded_pulls(acme, pulled):
    impact = draft_impact(organization=acme.org, draft=draft())
    blocked = impact.blocked
    assert (impact.pairs, impact.capped, impact.members_gone) == (4, False, 0)
    assert (blocked.pulls, blocked.pairs, blocked.newly) == (3, 2, 3)
    assert (blocked.members, blocked.member_count) == (("mike",), 1)
    assert [(c.category.value, c.pulls, c.members) for c in blocked.categories] == [
        ("official", 2, 1),
        ("community", 1, 1),
    ]
    assert [(i.repository, i.pulls, i.members) for i in blocked.images] == [
        ("library/ubuntu", 2, 1),
        ("someone/thing", 1, 1),
    ]
    assert impact.would_block.pulls == 0
    assert impact.needs_confirmation


def test_grants_and_the_allowlist_count_as_they_stand_today(acme, pulled):
    set_grant(
        Team.objects.get(organization=acme.org, name="developers"),
        actor=acme.owner,
        community=True,
    )
    add_entry(acme.org, "library/ubuntu", actor=acme.owner)
    impact = draft_impact(organization=acme.org, draft=draft())
    assert impact.blocked.pulls == 0
    assert not impact.needs_confirmation


def test_audit_only_draft_blocks_nothing_and_counts_would_block(acme, pulled):
    impact = draft_impact(organization=acme.org, draft=draft(audit_only=True))
    assert impact.blocked.pulls == 0
    assert (impact.would_block.pulls, impact.would_block.member_count) == (3, 1)
    assert not impact.needs_confirmation


def test_already_blocked_pulls_need_no_confirmation(acme):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    record_pulls(acme.member, "library/ubuntu")  # blocked now
    impact = draft_impact(organization=acme.org, draft=draft())
    assert (impact.blocked.pulls, impact.blocked.newly) == (1, 0)
    assert not impact.needs_confirmation
    # Allowing official images blocks nothing at all.
    assert (
        draft_impact(organization=acme.org, draft=draft(allow_official_images=True)).blocked.pulls
        == 0
    )


def test_people_who_left_are_left_out(acme, pulled):
    Team.objects.get(organization=acme.org, name="developers").memberships.all().delete()
    impact = draft_impact(organization=acme.org, draft=draft())
    assert impact.members_gone == 3  # mike's three pairs
    assert impact.blocked.pulls == 0


def test_the_work_is_bounded(acme, pulled, monkeypatch):
    monkeypatch.setattr(impact_module, "MAX_PAIRS", 2)
    impact = draft_impact(organization=acme.org, draft=draft())
    assert (impact.pairs, impact.capped) == (2, True)
    assert impact.blocked.images[0].repository == "library/ubuntu"  # the most requested first


def test_preview_never_saves_and_keeps_the_draft(acme, pulled, login):
    client = login(acme.owner)
    response = client.post(PREVIEW, {"version": "1", "enabled": "on", "image": "ubuntu"})
    assert response.status_code == 200
    assert policy(acme).enabled is False
    assert PolicyChange.objects.count() == 0
    html = response.content.decode()
    # The unsaved choices are still in the form, marked as such.
    assert 'name="enabled" id="id_enabled" checked' in html
    assert 'id="unsaved" data-testid="unsaved">' in html  # not hidden
    assert 'name="version" value="1"' in html
    assert "3 requests by 1 member would have been blocked" in html
    assert "Nothing has been saved" in html
    # The check used the draft, and kept the reference.
    assert response.context["member_decision"].allowed is True
    assert response.context["draft_decision"].allowed is False
    assert 'value="ubuntu"' in html
    assert "with your <strong>unsaved</strong> settings" in html


def test_preview_of_invalid_settings_is_refused(acme, login):
    response = login(acme.owner).post(PREVIEW, {"version": "1", "enabled": "maybe"})
    assert response.status_code == 400
    assert policy(acme).enabled is False


def test_saving_a_change_that_blocks_recent_pulls_asks_first(acme, pulled, login):
    client = login(acme.owner)
    response = client.post(PAGE, {"version": "1", "enabled": "on"})
    assert response.status_code == 200
    assert policy(acme).enabled is False and PolicyChange.objects.count() == 0
    html = response.content.decode()
    assert "Confirm: these settings block pulls members made recently" in html
    assert "Nothing was saved yet" in html
    assert 'name="confirm" value="1000"' in html  # the settings it confirms, in order
    assert "library/ubuntu" in html and "mike" in html

    # Confirming other settings than those shown asks again.
    again = client.post(
        PAGE,
        {"version": "1", "enabled": "on", "allow_verified_publishers": "on", "confirm": "1000"},
    )
    assert again.status_code == 200
    assert 'name="confirm" value="1001"' in again.content.decode()
    assert policy(acme).enabled is False

    saved = client.post(PAGE, {"version": "1", "enabled": "on", "confirm": "1000"})
    assert saved.status_code == 302
    assert policy(acme).enabled is True


def test_confirm_1_saves_whatever_it_blocks(acme, pulled, login):
    response = login(acme.owner).post(PAGE, {"version": "1", "enabled": "on", "confirm": "1"})
    assert response.status_code == 302
    assert policy(acme).enabled is True


def test_changes_that_block_nothing_new_save_at_once(acme, pulled, login):
    client = login(acme.owner)
    assert (
        client.post(PAGE, {"version": "1", "enabled": "on", "audit_only": "on"}).status_code == 302
    )
    # From audit-only to enforcing blocks what was only recorded: that asks.
    response = client.post(PAGE, {"version": "2", "enabled": "on"})
    assert response.status_code == 200
    assert "would have been blocked" in response.content.decode()
    assert policy(acme).audit_only is True


def test_a_stale_save_is_refused_before_any_confirmation(acme, pulled, login):
    set_policy(acme.org, actor=acme.owner, enabled=False, official=True)  # version 2
    response = login(acme.owner).post(PAGE, {"version": "1", "enabled": "on"})
    assert response.status_code == 409
    assert policy(acme).enabled is False


def test_preview_queries_do_not_grow_with_the_log(acme, login, django_assert_max_num_queries):
    client = login(acme.owner)
    record_pulls(acme.member, "library/ubuntu")
    client.get(PAGE)
    for batch in range(5):
        record_pulls(acme.member, *[f"someone/image{batch}{i:02}" for i in range(30)])
    # The page (about 15 queries) and the replay (pairs, memberships, entries, publishers).
    with django_assert_max_num_queries(22):
        response = client.post(PREVIEW, {"version": "1", "enabled": "on"})
    assert response.context["impact"].blocked.pulls == 151


def test_an_entry_counts_until_it_expires(acme, pulled):
    """The preview reads the allowlist through the policies' snapshot reader: an entry applies
    until its expiry, not at it."""
    expiry = (timezone.now() + timedelta(days=10)).replace(microsecond=500000)
    add_entry(acme.org, "someone/*", actor=acme.owner, expires_at=expiry)
    community = draft(allow_official_images=True)
    before = draft_impact(organization=acme.org, draft=community, now=expiry - timedelta(seconds=1))
    at = draft_impact(organization=acme.org, draft=community, now=expiry)
    assert before.blocked.pulls == 0
    assert [i.repository for i in at.blocked.images] == ["someone/thing"]


def test_a_members_replay_decides_as_the_token_service_would(acme):
    """The preview's snapshot of a member (read for the whole organisation) and the token
    service's (read for the user) give the same decisions: grants, team and organisation-wide
    entries, verified publishers (bitnami and grafana, the fixture's), expiries."""
    platform = make_team(acme.org, "platform", acme.member)
    set_grant(platform, actor=acme.owner, community=True)
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    add_entry(acme.org, "bitnami/*", actor=acme.owner, team=platform)
    add_entry(acme.org, "grafana/**", actor=acme.owner)
    add_entry(acme.org, "other/*", actor=acme.owner, expires_at=timezone.now() + timedelta(1))
    references = [
        parse_repository_name(name)
        for name in ("library/ubuntu", "acme/app", "bitnami/redis", "grafana/a/b", "other/x")
    ]
    now = timezone.now()
    for when in (now, now + timedelta(days=2)):
        theirs = organization_member_snapshots(
            organization=acme.org, references={acme.member.pk: references}, as_of=when
        )[acme.member.pk]
        mine = pull_snapshot(user=acme.member, references=references, as_of=when)
        for reference in references:
            assert pull_decide(theirs, reference) == pull_decide(mine, reference)
