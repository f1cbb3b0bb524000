"""check_pull and registry_json commands; the snapshot's fixed number of queries."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orgs.models import Team, TeamMembership
from policies.engine import pull_decide
from policies.references import parse_reference
from policies.selectors import pull_snapshot
from tests.factories import add_owner, make_org, make_publisher, make_user, set_policy
from tokens.selectors import token_holder_snapshot
from tokens.services import access_token_create


def check_pull(capsys, username, reference):
    with pytest.raises(SystemExit) as excinfo:
        call_command("check_pull", username, reference)
    out, err = capsys.readouterr()
    return excinfo.value.code, out, err


@pytest.mark.parametrize(
    ("username", "reference", "enabled", "code", "category", "decider"),
    [
        ("mike", "someone/thing", False, 0, "community", None),
        ("mike", "someone/thing", True, 3, "community", "acme"),
        ("mike", "ubuntu", True, 0, "official", "acme"),
        ("mike", "bitnami/redis", True, 3, "verified_publisher", "acme"),
        ("mike", "bitnami/redis", False, 0, "verified_publisher", None),
        ("mike", "acme/app:1.0", True, 0, "organization", "acme"),
        ("mike", "ghcr.io/someone/thing", True, 0, "other_registry", None),
        ("olivia", "someone/thing", True, 0, "community", "acme"),
    ],
)
def test_check_pull(acme, capsys, username, reference, enabled, code, category, decider):
    set_policy(acme.org, actor=acme.owner, enabled=enabled, official=True)
    exit_code, out, err = check_pull(capsys, username, reference)
    assert exit_code == code
    assert err == ""
    result = json.loads(out)
    assert set(result) == {"allowed", "category", "reference", "organization", "reason"}
    assert result["allowed"] is (code == 0)
    assert result["category"] == category
    assert result["organization"] == decider
    assert result["reference"] == parse_reference(reference).normalized
    assert result["reason"]


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


def test_registry_json_command(acme, capsysbinary):
    call_command("registry_json", "acme", "globex")
    assert capsysbinary.readouterr().out == b'{"allowedOrgs":["acme","globex"]}'


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["nosuchorg"], "Unknown organization(s): nosuchorg."),
        (["Acme"], "Organization 1 ('Acme'): Organization name may contain only lowercase"),
        (["acme", "acme; rm -rf /"], "Organization 2 ('acme; rm -rf /')"),
        (["acme", "acme"], "more than once"),
    ],
)
def test_registry_json_command_errors(acme, names, message):
    with pytest.raises(CommandError) as excinfo:
        call_command("registry_json", *names)
    assert message in str(excinfo.value)


def big_org_member():
    """A member of a 3,000-member acme (management on, publishers allowed) who is also an owner
    of three other organisations with management on."""
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
    return users[0]


def test_snapshot_reads_a_fixed_number_of_queries(db, django_assert_max_num_queries):
    member = big_org_member()
    references = [parse_reference(r) for r in ("bitnami/redis", "ubuntu", "acme/app")]
    with django_assert_max_num_queries(2):  # memberships with policies; verified publishers
        snapshot = pull_snapshot(user=member, references=references)
    assert {o.name for o in snapshot.organizations} == {"acme", "globex", "initech", "umbrella"}
    assert snapshot.verified_publishers == {"bitnami"}
    assert pull_decide(snapshot, references[0]).allowed is True
    assert pull_decide(snapshot, references[2]).allowed is True
    # globex, initech and umbrella: owner there; acme restricts official images.
    assert pull_decide(snapshot, references[1]).allowed is False


def memberships_cases():
    """Users in shared fixtures: in no team, a member, an owner, in several teams and orgs."""
    olivia, mike, gina, nobody = (make_user(n) for n in ("olivia", "mike", "gina", "nobody"))
    acme = make_org("acme", owner=olivia, members=[mike, gina])
    globex = make_org("globex", owner=gina, members=[mike], team="ops")
    add_owner(acme, mike)  # mike: developers and owners in acme, ops in globex
    set_policy(acme, actor=olivia, enabled=True, official=True)
    set_policy(globex, actor=gina, enabled=True, publishers=True)
    set_policy(globex, actor=gina, enabled=False, publishers=True)
    make_publisher("bitnami")
    make_publisher("grafana", verified=False)
    return [olivia, mike, gina, nobody]


def test_both_snapshot_readers_agree(db):
    """The page's reader (by user) and the token service's (by access token, in the same query
    as the token) must build the same snapshot for the same user."""
    references = [parse_reference(r) for r in ("bitnami/redis", "grafana/agent", "ubuntu")]
    for user in memberships_cases():
        _, secret = access_token_create(user=user, name="compare")
        holder, by_token = token_holder_snapshot(secret=secret, references=references)
        assert holder.username == user.username
        assert by_token == pull_snapshot(user=user, references=references), user.username
    mike = pull_snapshot(user=get_user_model().objects.get(username="mike"))
    assert [(o.name, o.is_owner, o.enabled, o.version) for o in mike.organizations] == [
        ("acme", True, True, 2),
        ("globex", False, False, 3),
    ]
