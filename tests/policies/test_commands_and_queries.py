"""The check_pull command; the snapshot's fixed number of queries, and the two
snapshot readers agreeing."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from orgs.models import Team, TeamMembership
from policies.engine import Rule, pull_decide
from policies.models import AllowlistEntry, ExceptionRequest, TeamGrant
from policies.references import parse_reference
from policies.selectors import pull_snapshot
from tests.factories import (
    add_entry,
    add_owner,
    make_org,
    make_publisher,
    make_team,
    make_user,
    set_grant,
    set_policy,
)
from tokens.selectors import token_holder_snapshot
from tokens.services import access_token_create


def check_pull(capsys, username, reference, *options):
    with pytest.raises(SystemExit) as excinfo:
        call_command("check_pull", username, reference, *options)
    out, err = capsys.readouterr()
    return excinfo.value.code, out, err


@pytest.mark.parametrize(
    ("username", "reference", "enabled", "code", "category", "decider", "rule"),
    [
        ("mike", "someone/thing", False, 0, "community", None, "unmanaged"),
        ("mike", "someone/thing", True, 3, "community", "acme", "category"),
        ("mike", "ubuntu", True, 0, "official", "acme", "category"),
        ("mike", "bitnami/redis", True, 0, "verified_publisher", "acme", "team_grant"),
        ("mike", "someone/other", True, 3, "community", "acme", "category"),
        ("mike", "bitnami/redis", False, 0, "verified_publisher", None, "unmanaged"),
        ("mike", "acme/app:1.0", True, 0, "organization", "acme", "organization"),
        ("mike", "ghcr.io/someone/thing", True, 0, "other_registry", None, "other_registry"),
        # Docker Hub's names in any case or with its port are Docker Hub, not another registry.
        ("mike", "Docker.io/someone/thing", True, 3, "community", "acme", "category"),
        ("mike", "DOCKER.IO/someone/thing", True, 3, "community", "acme", "category"),
        ("mike", "docker.io:443/someone/thing", True, 3, "community", "acme", "category"),
        ("mike", "index.docker.io:443/someone/thing", True, 3, "community", "acme", "category"),
        ("olivia", "someone/thing", True, 0, "community", "acme", "owner"),
        ("mike", "someone/tool:1.0", True, 0, "community", "acme", "allowlist"),
        ("mike", "grafana/agent", True, 0, "verified_publisher", "acme", "team_grant"),
        ("gina", "grafana/agent", True, 0, "verified_publisher", "globex", "owner"),
        ("oscar", "someone/tool", False, 0, "community", None, "unmanaged"),
    ],
)
def test_check_pull(acme, capsys, username, reference, enabled, code, category, decider, rule):
    set_policy(acme.org, actor=acme.owner, enabled=enabled, official=True)
    set_policy(acme.globex, actor=acme.gina, enabled=enabled)
    add_entry(acme.org, "someone/tool", actor=acme.owner)
    set_grant(
        Team.objects.get(organization=acme.org, name="developers"),
        actor=acme.owner,
        publishers=True,
    )
    exit_code, out, err = check_pull(capsys, username, reference)
    assert exit_code == code
    assert err == ""
    result = json.loads(out)
    assert set(result) == {
        "allowed",
        "enforced",
        "outcome",
        "category",
        "reference",
        "organization",
        "rule",
        "reason",
    }
    assert result["allowed"] is (code == 0)
    assert result["enforced"] is True
    assert result["outcome"] == ("allowed" if code == 0 else "blocked")
    assert result["category"] == category
    assert result["organization"] == decider
    assert result["rule"] == rule
    assert result["reference"] == parse_reference(reference).normalized
    assert result["reason"]


def test_check_pull_requests_an_exception(
    acme, capsys, mailoutbox, django_capture_on_commit_callbacks
):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    acme.owner.email = "olivia@acme.example"
    acme.owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        code, out, err = check_pull(
            capsys, "mike", "someone/thing:2", "--request-exception", "CI needs it"
        )
    assert (code, err) == (3, "")
    result = json.loads(out)
    request = ExceptionRequest.objects.get()
    assert result["exception_request"] == {
        "id": request.pk,
        "organization": "acme",
        "repository": "someone/thing",
        "status": "pending",
    }
    assert (request.requester, request.justification) == (acme.member, "CI needs it")
    assert request.reference == "docker.io/someone/thing:2"
    assert [m.to for m in mailoutbox] == [["olivia@acme.example"]]
    assert f"/orgs/acme/settings/permissions/exceptions/{request.pk}/" in mailoutbox[0].body

    # Asking twice is refused with the reason; an allowed pull needs no request.
    code, out, err = check_pull(capsys, "mike", "someone/thing", "--request-exception", "again")
    assert (code, out) == (2, "")
    assert "You already asked acme's owners for someone/thing" in err
    code, out, err = check_pull(capsys, "mike", "acme/app", "--request-exception", "why")
    assert code == 0 and json.loads(out)["allowed"] is True
    assert "no exception is needed" in err
    assert ExceptionRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the mail goes when the request commits
def test_check_pull_says_when_the_owners_could_not_be_mailed(acme, capsys, settings, caplog):
    settings.EMAIL_BACKEND = "tests.mail.Failing"
    set_policy(acme.org, actor=acme.owner, enabled=True)
    acme.owner.email = "olivia@acme.example"
    acme.owner.save()
    code, out, err = check_pull(capsys, "mike", "someone/thing:2", "--request-exception", "CI")
    assert code == 3
    assert json.loads(out)["exception_request"]["status"] == "pending"
    assert err == "The request was saved, but the e-mail to acme's owners could not be sent.\n"
    assert "Could not send '[acme] mike asks to pull someone/thing' to 1 recipient(s)" in (
        caplog.text
    )


@pytest.mark.parametrize(
    ("username", "reference", "message"),
    [
        ("nobody", "ubuntu", "Unknown user 'nobody'."),
        ("mike", "Ubuntu", "repository name must be lowercase"),
        ("mike", "", "Invalid image reference"),
        ("mike", "ubuntu:-bad", "tag"),
    ],
)
def test_check_pull_usage_errors(acme, capsys, username, reference, message):
    exit_code, out, err = check_pull(capsys, username, reference)
    assert exit_code == 2
    assert out == ""
    assert message in err


def big_org_member(*, entries=0, teams=0):
    """A member of a 3,000-member acme (management on, publishers allowed) who is also an owner
    of three other organisations with management on; with ``entries`` allowlist entries in
    acme (none of which matches 'someone/thing' but 'someone/thing' itself, the last one) and
    the member in ``teams`` more teams of acme, each with a grant."""
    olivia = make_user("olivia")
    org = make_org("acme", owner=olivia)
    team = Team.objects.create(organization=org, name="developers")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"user{i}", password="!") for i in range(3000)
    )
    TeamMembership.objects.bulk_create(TeamMembership(team=team, user=user) for user in users)
    for name in ("globex", "initech", "umbrella"):
        other = make_org(name, owner=make_user(f"owner{name}"))
        TeamMembership.objects.create(team=other.teams.get(name="owners"), user=users[0])
        set_policy(other, actor=olivia, enabled=True)
    set_policy(org, actor=olivia, enabled=True, publishers=True)
    make_publisher("bitnami")
    more = Team.objects.bulk_create(
        Team(organization=org, name=f"team{i:03}") for i in range(teams)
    )
    TeamMembership.objects.bulk_create(TeamMembership(team=t, user=users[0]) for t in more)
    TeamGrant.objects.bulk_create(TeamGrant(team=t, allow_verified_publishers=True) for t in more)
    # A volume fixture: the entries are written in bulk (each through the service would be a
    # policy version of its own); the one that matters goes through the service.
    AllowlistEntry.objects.bulk_create(
        AllowlistEntry(
            organization=org,
            team=more[i % len(more)] if more and i % 2 else None,
            pattern=f"vendor{i:04}/{'*' if i % 3 else 'tool'}",
            reason="volume",
            added_by_username="olivia",
        )
        for i in range(max(entries - 1, 0))
    )
    if entries:
        add_entry(org, "someone/thing", actor=olivia, team=more[0] if more else None)
    return users[0]


def test_snapshot_reads_a_fixed_number_of_queries(db, django_assert_max_num_queries):
    member = big_org_member()
    references = [parse_reference(r) for r in ("bitnami/redis", "ubuntu", "acme/app")]
    # memberships with policies and grants; verified publishers; allowlist entries (ubuntu is
    # refused by acme's policy)
    with django_assert_max_num_queries(3):
        snapshot = pull_snapshot(user=member, references=references)
    assert {o.name for o in snapshot.organizations} == {"acme", "globex", "initech", "umbrella"}
    assert snapshot.verified_publishers == {"bitnami"}
    assert pull_decide(snapshot, references[0]).allowed is True
    assert pull_decide(snapshot, references[2]).allowed is True
    # globex, initech and umbrella: owner there; acme restricts official images.
    assert pull_decide(snapshot, references[1]).allowed is False


def test_snapshot_queries_do_not_grow_with_the_allowlist_or_the_teams(
    db, django_assert_max_num_queries
):
    member = big_org_member(entries=1000, teams=60)
    assert AllowlistEntry.objects.count() == 1000
    assert member.team_memberships.count() == 61 + 3
    references = [parse_reference(r) for r in ("someone/thing", "vendor0001/app", "ubuntu")]
    with django_assert_max_num_queries(3):
        snapshot = pull_snapshot(user=member, references=references)
    # Only entries that could match a refused reference were read.
    assert {e.pattern for e in snapshot.entries} == {"someone/thing", "vendor0001/*"}
    assert sum(len(o.teams) for o in snapshot.organizations) == 61 + 3
    decisions = [pull_decide(snapshot, reference) for reference in references]
    assert [(d.allowed, d.rule) for d in decisions] == [
        (True, Rule.ALLOWLIST),
        (True, Rule.ALLOWLIST),
        (False, Rule.CATEGORY),
    ]
    # An allowed pull reads no allowlist at all.
    with django_assert_max_num_queries(2):
        allowed = pull_snapshot(user=member, references=[parse_reference("bitnami/redis")])
    assert allowed.entries == ()


def memberships_cases():
    """Users in shared fixtures: in no team, a member, an owner, in several teams and orgs,
    with team grants and allowlist entries (org-wide, for a team, expired) in both orgs."""
    olivia, mike, gina, nobody = (make_user(n) for n in ("olivia", "mike", "gina", "nobody"))
    oscar = make_user("oscar")
    acme = make_org("acme", owner=olivia, members=[mike, gina])
    globex = make_org("globex", owner=gina, members=[mike, oscar], team="ops")
    add_owner(acme, mike)  # mike: developers and owners in acme, ops in globex
    platform = make_team(globex, "platform", oscar)
    set_policy(acme, actor=olivia, enabled=True, official=True)
    set_policy(globex, actor=gina, enabled=True, publishers=True)
    set_grant(platform, actor=gina, community=True)
    set_grant(Team.objects.get(organization=globex, name="ops"), actor=gina, official=True)
    add_entry(globex, "someone/*", actor=gina, reason="CI base images")
    add_entry(globex, "grafana/**", actor=gina, team=platform, expires_at=LATER)
    add_entry(acme, "someone/thing", actor=olivia, expires_at=LATER)
    add_entry(acme, "grafana/agent", actor=olivia, expires_at=SOON)
    make_publisher("bitnami")
    make_publisher("grafana", verified=False)
    return [olivia, mike, gina, nobody, oscar]


SOON = timezone.now() + timedelta(days=1)
LATER = timezone.now() + timedelta(days=30)


@pytest.mark.parametrize("days", [0, 2])
def test_both_snapshot_readers_agree(db, days):
    """The page's reader (by user) and the token service's (by access token, in the same query
    as the token) must build the same snapshot for the same user and moment, grants and
    allowlist entries included (at ``days`` from now, some entries have expired)."""
    references = [
        parse_reference(r)
        for r in ("bitnami/redis", "grafana/agent", "ubuntu", "someone/thing", "someone/x/y")
    ]
    as_of = timezone.now() + timedelta(days=days)
    for user in memberships_cases():
        _, secret = access_token_create(user=user, name="compare")
        holder, by_token = token_holder_snapshot(secret=secret, references=references, as_of=as_of)
        assert holder.username == user.username
        by_user = pull_snapshot(user=user, references=references, as_of=as_of)
        assert by_token == by_user, user.username
    oscar = pull_snapshot(
        user=get_user_model().objects.get(username="oscar"), references=references, as_of=as_of
    )
    assert [(t.name, t.allow_community_images) for t in oscar.organizations[0].teams] == [
        ("ops", False),
        ("platform", True),
    ]
    expected = {("globex", "someone/*", None), ("globex", "grafana/**", "platform")}
    assert {(e.organization, e.pattern, e.team) for e in oscar.entries} <= expected
    mike = pull_snapshot(
        user=get_user_model().objects.get(username="mike"), references=references, as_of=as_of
    )
    assert [(o.name, o.is_owner, o.enabled, o.version) for o in mike.organizations] == [
        ("acme", True, True, 4),
        ("globex", False, True, 6),
    ]
    # mike is in globex's ops (official images granted), not platform: its entry isn't his.
    assert [t.name for t in mike.organizations[1].teams] == ["ops"]
    assert {(e.pattern, e.team) for e in mike.entries} == {("someone/*", None)}
    grafana = pull_decide(mike, references[1])
    assert (grafana.allowed, grafana.organization) == (False, "globex")
    assert pull_decide(mike, references[2]).rule is Rule.TEAM_GRANT
    assert pull_decide(mike, references[3]).rule is Rule.ALLOWLIST


def test_memoised_policies_follow_every_membership_value():
    """organization_policies is memoised on the memberships' values: a change of any one of
    them (a policy setting or version, a grant, a team's or an organisation's name or id) makes
    different policies, exactly those built without the memo."""
    from policies.selectors import Membership, _organization_policies, organization_policies

    base = {name: None for name in Membership._fields}
    base.update(
        organization="acme",
        organization_id=1,
        team="developers",
        team_id=7,
        policy_version=3,
        enabled=True,
        audit_only=False,
        allow_official_images=False,
        allow_verified_publishers=False,
    )
    changes = {
        "organization": "globex",
        "organization_id": 2,
        "team": "ops",
        "policy_version": 4,
        "enabled": False,
        "audit_only": True,
        "allow_official_images": True,
        "allow_verified_publishers": True,
        "grant_allow_official_images": True,
        "grant_allow_verified_publishers": True,
        "grant_allow_community_images": True,
    }
    assert set(changes) == set(Membership._fields) - {"team_id"}  # the team's id is not shown
    first = organization_policies([Membership(**base)])
    for name, value in changes.items():
        changed = organization_policies([Membership(**{**base, name: value})])
        assert changed != first, name
        assert changed == _organization_policies.__wrapped__((Membership(**{**base, name: value}),))
    assert organization_policies([Membership(**base)]) is first  # the memo
