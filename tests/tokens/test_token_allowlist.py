"""The token service applies team grants and the allowlist, with expiry, and its reads stay
at three queries whatever the allowlist's length or the number of teams."""

import base64
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from orgs.models import Team, TeamMembership
from policies.models import AllowlistEntry, TeamGrant
from tests.conftest import REGISTRY_SERVICE
from tests.factories import add_entry, make_team, set_grant, set_policy
from tokens.services import access_token_create

FIVE = ["library/alpine", "acme/app", "bitnami/redis", "someone/thing", "someone/tool"]


@pytest.fixture
def granted(client, token_keys):
    """``granted(user, *repositories)`` -> ``{repository: [actions]}`` of a pull token."""

    def _granted(user, *repositories, secret=None):
        secret = secret or access_token_create(user=user, name="registry")[1]
        credentials = base64.b64encode(f"{user.username}:{secret}".encode()).decode()
        response = client.get(
            "/auth/token",
            {"service": REGISTRY_SERVICE, "scope": [f"repository:{r}:pull" for r in repositories]},
            HTTP_AUTHORIZATION=f"Basic {credentials}",
        )
        assert response.status_code == 200, response.content
        claims = jwt.decode(response.json()["token"], options={"verify_signature": False})
        return {entry["name"]: entry["actions"] for entry in claims["access"]}

    return _granted


def test_an_allowlisted_community_image_is_granted_and_no_other(acme, granted):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    add_entry(acme.org, "someone/tool", actor=acme.owner)
    assert set(granted(acme.member, *FIVE)) == {"library/alpine", "acme/app", "someone/tool"}


def test_an_expired_entry_stops_at_once(acme, granted):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    entry = add_entry(
        acme.org, "someone/*", actor=acme.owner, expires_at=timezone.now() + timedelta(days=1)
    )
    secret = access_token_create(user=acme.member, name="ci")[1]
    assert "someone/thing" in granted(acme.member, "someone/thing", secret=secret)
    AllowlistEntry.objects.filter(pk=entry.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert granted(acme.member, "someone/thing", secret=secret) == {}


def test_team_grants_and_team_entries_apply_to_the_teams_members_only(acme, granted):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    platform = make_team(acme.org, "platform", acme.member)
    set_grant(platform, actor=acme.owner, publishers=True)
    add_entry(acme.org, "someone/**", actor=acme.owner, team=platform)
    assert set(granted(acme.member, *FIVE)) == {
        "acme/app",
        "bitnami/redis",
        "someone/thing",
        "someone/tool",
    }
    # Another developer, not in platform, gets acme's policy alone.
    other = TeamMembership.objects.create(
        team=Team.objects.get(organization=acme.org, name="developers"),
        user=type(acme.member).objects.create_user("dora", password="x"),
    ).user
    assert set(granted(other, *FIVE)) == {"acme/app"}


def test_an_entry_of_one_organisation_does_not_open_another_ones_restriction(acme, granted):
    """oscar is in globex; acme's entry is acme's."""
    set_policy(acme.globex, actor=acme.gina, enabled=True)
    add_entry(acme.org, "someone/*", actor=acme.owner)
    assert set(granted(acme.outsider, *FIVE)) == set()


def test_token_queries_do_not_grow_with_the_allowlist_or_the_teams(
    acme, granted, django_assert_max_num_queries
):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    teams = Team.objects.bulk_create(
        Team(organization=acme.org, name=f"t{i:03}") for i in range(80)
    )
    TeamMembership.objects.bulk_create(TeamMembership(team=t, user=acme.member) for t in teams)
    TeamGrant.objects.bulk_create(TeamGrant(team=t) for t in teams)
    AllowlistEntry.objects.bulk_create(
        AllowlistEntry(
            organization=acme.org,
            team=teams[i % 80] if i % 2 else None,
            pattern=f"vendor{i:04}/*",
            reason="volume",
            added_by_username="olivia",
        )
        for i in range(999)
    )
    add_entry(acme.org, "someone/tool", actor=acme.owner, team=teams[7])
    assert AllowlistEntry.objects.filter(organization=acme.org).count() == 1000
    secret = access_token_create(user=acme.member, name="ci")[1]
    granted(acme.member, "library/alpine", secret=secret)  # the token's first use is recorded
    # The token with memberships, policies and grants; verified publishers; allowlist entries;
    # the one INSERT that records the decisions.
    with django_assert_max_num_queries(4):
        access = granted(acme.member, *FIVE, "vendor0001/app", secret=secret)
    assert set(access) == {"library/alpine", "acme/app", "someone/tool", "vendor0001/app"}
    # A pull every policy allows reads no allowlist (the token read, the record).
    with django_assert_max_num_queries(2):
        assert granted(acme.member, "library/alpine", secret=secret) == {"library/alpine": ["pull"]}


def prepared_statements(table: str) -> list[str]:
    """The statements prepared on the test's connection that read ``table``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if f'"{table}"' in row[0]]


def test_the_allowlist_read_is_a_prepared_statement_on_postgresql(acme, granted):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL feature")
    set_policy(acme.org, actor=acme.owner, enabled=True)
    add_entry(acme.org, "someone/*", actor=acme.owner)
    secret = access_token_create(user=acme.member, name="ci")[1]
    # psycopg prepares a statement once it has run prepare_threshold times on the connection.
    for _ in range(connection.connection.prepare_threshold + 1):
        assert granted(acme.member, "someone/thing", secret=secret)
    assert any("$1" in text for text in prepared_statements("policies_allowlistentry"))


@pytest.mark.django_db(transaction=True)
def test_the_allowlist_read_is_one_statement_whatever_the_number_of_images(acme):
    """The patterns (and organisations, teams) are one array parameter each: 1, 5, 50 and 500
    refused images share one compiled statement (and on PostgreSQL one prepared statement),
    instead of one per number, which a worker would keep for as long as it lives."""
    from django.db import connection

    from policies.references import parse_reference
    from policies.selectors import _ALLOWLIST, pull_snapshot

    connection.close()  # a new connection: no statement prepared by an earlier test
    set_policy(acme.org, actor=acme.owner, enabled=True)
    add_entry(acme.org, "someone/tool-1", actor=acme.owner)
    connection.ensure_connection()
    postgresql = connection.vendor == "postgresql"
    runs = connection.connection.prepare_threshold + 1 if postgresql else 1
    for length in (1, 5, 50, 500):
        references = [parse_reference(f"someone/tool-{n}") for n in range(1, length + 1)]
        for _ in range(runs):
            snapshot = pull_snapshot(user=acme.member, references=references)
            assert [entry.pattern for entry in snapshot.entries] == ["someone/tool-1"]
    assert len(_ALLOWLIST.statements()) == 1
    if postgresql:
        assert len(prepared_statements("policies_allowlistentry")) == 1
