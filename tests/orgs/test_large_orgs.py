"""Large organisations: the members and team pages search and paginate in a constant number of
queries, and the organisation list costs one query however many organisations a user is in."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgs.models import Team, TeamMembership
from tests.factories import make_org, make_user, set_policy

MEMBERS = 10_000
MAX_QUERIES = 10  # session, user, org, role, invitations notice, count, page, teams (+ slack)


def add_members(team: Team, count: int, prefix: str = "user") -> None:
    users = get_user_model().objects.bulk_create(
        (get_user_model()(username=f"{prefix}{i:05d}", password="!") for i in range(count)),
        batch_size=2000,
    )
    TeamMembership.objects.bulk_create(
        (TeamMembership(team=team, user=user) for user in users), batch_size=5000
    )


def rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [name.strip() for name in re.findall(r"<tr>\s*<td[^>]*>([^<]+)", body)]


def count_queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.fixture
def big(acme):
    add_members(acme.org.teams.get(name="developers"), MEMBERS)
    return acme


def test_members_page_of_10000_members(big, login, django_assert_max_num_queries):
    client = login(big.owner)
    url = reverse("orgs:detail", kwargs={"org": "acme"})
    with django_assert_max_num_queries(MAX_QUERIES):
        html = client.get(url).content.decode()
    total = MEMBERS + 2  # + olivia and mike
    assert f'data-testid="member-count">{total}<' in html
    assert "Page 1 of 201" in html
    assert rows(html)[:3] == ["mike", "olivia", "user00000"] and len(rows(html)) == 50
    with django_assert_max_num_queries(MAX_QUERIES):
        html = client.get(url + "?page=201").content.decode()
    assert rows(html) == ["user09998", "user09999"]  # 10,002 = 200 pages of 50 + 2
    with django_assert_max_num_queries(MAX_QUERIES):
        html = client.get(url + "?q=USER0999").content.decode()  # case-insensitive
    assert rows(html) == [f"user{i:05d}" for i in range(9990, 10000)]
    assert "Page 1 of" not in html  # one page: no pagination
    html = client.get(url + "?page=nonsense&q=user").content.decode()
    assert "Page 1 of 200" in html and "q=user&amp;page=2" in html  # mike, olivia left out
    html = client.get(url + "?q=nobody-like-this").content.decode()
    assert "No member's username contains “nobody-like-this”." in html


def test_members_page_costs_the_same_for_a_small_and_a_large_organisation(big, login):
    small = make_org("tinyorg", owner=big.owner, members=[big.member])
    client = login(big.owner)
    small_count, _ = count_queries(client, reverse("orgs:detail", kwargs={"org": small.name}))
    large_count, _ = count_queries(client, reverse("orgs:detail", kwargs={"org": "acme"}))
    assert small_count == large_count <= MAX_QUERIES


def test_team_pages_of_10000_members(big, login, django_assert_max_num_queries):
    client = login(big.owner)
    url = reverse("orgs:team", kwargs={"org": "acme", "team": "developers"})
    # ... and the members who could be added, the team's grant, its allowlist entries and the
    # single sign-on groups mapped to it.
    with django_assert_max_num_queries(MAX_QUERIES + 4):
        html = client.get(url + "?page=2&q=user").content.decode()
    assert rows(html)[0] == "user00050" and "Page 2 of 200" in html
    with django_assert_max_num_queries(MAX_QUERIES):
        html = client.get(reverse("orgs:teams", kwargs={"org": "acme"})).content.decode()
    assert f'<td data-label="Members">{MEMBERS + 1}</td>' in html  # developers: mike + 10,000


@pytest.mark.parametrize("orgs", [2, 30])
def test_org_list_shows_role_and_management_in_constant_queries(db, login, orgs):
    user, other = make_user("olivia"), make_user("gina")
    for i in range(orgs):
        owned = i % 2 == 0
        org = make_org(
            f"org{i:03d}", owner=user if owned else other, members=[] if owned else [user]
        )
        if i % 3 == 0:
            set_policy(org, actor=user if owned else other, enabled=True)
    client = login(user)
    count, html = count_queries(client, reverse("orgs:list"))
    assert count <= 5  # session, user, organisations with role and state, invitations notice
    table = html[html.index('data-testid="organizations"') :]
    for i in range(orgs):
        row = table[table.index(f">org{i:03d}<") :].split("</tr>")[0]
        assert ("Owner" if i % 2 == 0 else "Member") in row
        assert (">On<" if i % 3 == 0 else ">Off<") in row
