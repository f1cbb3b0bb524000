"""The owners' activity page and CSV export, and a member's own activity page."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from activity.models import PullDecision
from orgs.models import Team
from tests.factories import make_team, make_user, record_pulls, set_policy

ACTIVITY = reverse("activity:activity", kwargs={"org": "acme"})
CSV = reverse("activity:activity_csv", kwargs={"org": "acme"})
MINE = reverse("activity:my_activity")


def rows_of(response) -> list[str]:
    """The repositories of the page's table rows, top to bottom."""
    html = response.content.decode()
    table = html.split('data-testid="activity"')[1].split("</table>")[0]
    return [
        cell.split("</code>")[0].replace("<wbr>", "")
        for cell in table.split('<code class="repo">')[1:]
    ]


def csv_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_owners_see_their_members_decisions_with_outcome_and_reason(acme, history, login):
    response = login(acme.owner).get(ACTIVITY)
    assert response.status_code == 200
    html = response.content.decode()
    # Newest first (one request's decisions have the same time: the last scope first).
    assert rows_of(response) == [
        "bitnami/redis",  # mike, audit-only: would be blocked
        "someone/thing",
        "someone/thing",  # olivia: owners pull anything
        "someone/thing",  # mike, enforced
        "library/ubuntu",
        "someone/thing",  # mike, management off
        "library/ubuntu",
    ]
    assert "oscar" not in html.split('data-testid="activity"')[1]
    # One line a decision: what the policy said and what became of the pull; the rest in a
    # <details> (open without JavaScript).
    rows = html.split('data-testid="activity"')[1].split("<tr data-outcome=")[1:]
    outcomes = [row.split('data-testid="outcome">')[1].split("</span>")[0] for row in rows]
    assert outcomes[0] == "⚠ Would be blocked (audit only) — pulled"
    assert "✖ Blocked" in outcomes and "✔ Allowed" in outcomes
    assert all(row.count("<details>") == 1 for row in rows)
    assert "bitnami/<wbr>redis" in rows[0]  # breaks after the "/", not inside a word
    assert "acme is in audit-only mode" in html.replace("&#x27;", "'")
    assert "Community images are blocked by acme&#x27;s Image Access Management." in html


def test_summary_counts_by_category_outcome_and_window(acme, history, login):
    summary = login(acme.owner).get(ACTIVITY).context["summary"]
    counts = {
        (row.category.value, o.outcome.value): o.counts
        for row in summary.categories
        for o in row.outcomes
        if any(o.counts)
    }
    assert counts == {
        ("official", "allowed"): (1, 2),  # (7 days, 30 days)
        ("community", "allowed"): (1, 2),  # olivia's, and mike's with management off
        ("community", "blocked"): (1, 1),
        ("community", "would_block"): (1, 1),
        ("verified_publisher", "would_block"): (1, 1),
    }
    assert [(i.repository, i.blocked, i.would_block, i.members) for i in summary.images] == [
        ("someone/thing", 1, 1, 1),
        ("bitnami/redis", 0, 1, 1),
    ]
    assert [(m.username, m.blocked, m.would_block) for m in summary.members] == [("mike", 1, 2)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"member": "olivia"}, ["someone/thing"]),
        ({"member": "nobody"}, []),
        ({"image": "UBUNTU"}, ["library/ubuntu", "library/ubuntu"]),
        ({"outcome": "would_block"}, ["bitnami/redis", "someone/thing"]),
        ({"outcome": "blocked"}, ["someone/thing"]),
        (
            {"member": "mike", "outcome": "allowed"},
            ["library/ubuntu", "someone/thing", "library/ubuntu"],
        ),
    ],
)
def test_filters(acme, history, login, query, expected):
    response = login(acme.owner).get(ACTIVITY, query)
    assert response.status_code == 200
    assert rows_of(response) == expected
    exported = [row["repository"] for row in csv_of(login(acme.owner).get(CSV, query))]
    assert exported == expected


def test_date_range_is_inclusive_days_in_utc(acme, history, login):
    day = (history - timedelta(days=3)).date()
    response = login(acme.owner).get(ACTIVITY, {"since": day, "until": day})
    assert rows_of(response) == ["someone/thing", "library/ubuntu"]
    response = login(acme.owner).get(ACTIVITY, {"until": (history - timedelta(days=4)).date()})
    assert rows_of(response) == ["someone/thing", "library/ubuntu"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-02-30"}, "Enter a valid date."),
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "The end of the range is before"),
        ({"outcome": "maybe"}, "Select a valid choice."),
        ({"member": "x" * 151}, "Ensure this value has at most 150 characters"),
        ({"until": "9999-12-31", "since": "0001-01-01"}, None),
    ],
)
def test_bad_filters_are_form_errors(acme, history, login, query, message):
    client = login(acme.owner)
    response = client.get(ACTIVITY, query)
    exported = client.get(CSV, query)
    if message is None:
        assert response.status_code == 200 and exported.status_code == 200
        return
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'data-testid="activity"' not in response.content.decode()
    assert exported.status_code == 400
    assert message in b"".join(exported.streaming_content).decode()


def test_csv_has_every_field_and_defuses_formulas(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    record_pulls(
        acme.member,
        "someone/thing",
        credential='=HYPERLINK("http://evil")',
        client_address="10.0.0.7",
        user_agent="+cmd|' /C calc'!A0",
    )
    response = login(acme.owner).get(CSV)
    assert response["Content-Disposition"].startswith('attachment; filename="acme-activity-')
    (row,) = csv_of(response)
    assert row == {
        "time_utc": row["time_utc"],
        "user": "mike",
        "signed_in_with": "access_token",
        "credential": '\'=HYPERLINK("http://evil")',
        "client_address": "10.0.0.7",
        "user_agent": "'+cmd|' /C calc'!A0",
        "repository": "someone/thing",
        "actions_asked": "pull",
        "actions_granted": "",
        "category": "community",
        "decided_by": "acme",
        "rule": "category",
        "outcome": "blocked",
        "reason": "Community images are blocked by acme's Image Access Management.",
        "policy_version": "2",
    }
    assert row["time_utc"].endswith("Z")


def test_another_organisations_decision_is_not_explained(acme, login):
    """mike is in acme and globex; globex refuses him an image: acme's owners see that it was
    refused, not globex's policy."""
    make_team(acme.globex, "contractors", acme.member)
    set_policy(acme.globex, actor=acme.gina, enabled=True)
    record_pulls(acme.member, "someone/thing")
    html = login(acme.owner).get(ACTIVITY).content.decode()
    table = html.split('data-testid="activity"')[1]
    assert "Decided by another organization the member belongs to." in table
    assert "globex" not in table
    (row,) = csv_of(login(acme.owner).get(CSV))
    assert (row["decided_by"], row["outcome"]) == ("another organization", "blocked")
    # gina, globex's owner, sees it with the reason.
    gina = login(acme.gina).get(reverse("activity:activity", kwargs={"org": "globex"}))
    assert "Community images are blocked by globex" in gina.content.decode().replace("&#x27;", "'")


def test_decisions_are_those_made_while_a_member(acme, login):
    """Filed under the organisations the user was in at the time: joining later shows none of
    the earlier pulls, leaving keeps the ones made while a member."""
    newcomer = make_user("nina")
    record_pulls(newcomer, "library/alpine")  # before joining
    developers = Team.objects.get(organization=acme.org, name="developers")
    make_team(acme.org, "newcomers", newcomer)
    record_pulls(newcomer, "library/busybox")
    developers.memberships.filter(user=acme.member).delete()  # mike leaves acme
    record_pulls(acme.member, "library/redis")  # after leaving
    html = login(acme.owner).get(ACTIVITY, {"member": "nina"})
    assert rows_of(html) == ["library/busybox"]
    assert rows_of(login(acme.owner).get(ACTIVITY, {"member": "mike"})) == []


def test_members_see_only_their_own_decisions_with_reasons(acme, history, login):
    response = login(acme.member).get(MINE)
    assert response.status_code == 200
    assert rows_of(response) == [
        "bitnami/redis",
        "someone/thing",
        "someone/thing",
        "library/ubuntu",
        "someone/thing",
        "library/ubuntu",
    ]
    html = response.content.decode()
    assert "olivia" not in html.split('data-testid="activity"')[1]
    assert "Community images are blocked by acme&#x27;s Image Access Management." in html
    # Someone in two organisations sees each decision once.
    make_team(acme.globex, "contractors", acme.member)
    record_pulls(acme.member, "library/alpine")
    assert PullDecision.objects.filter(repository="library/alpine").count() == 1
    assert rows_of(login(acme.member).get(MINE, {"image": "alpine"})) == ["library/alpine"]
    # Filters work, the member filter is not offered.
    assert rows_of(login(acme.member).get(MINE, {"outcome": "blocked"})) == ["someone/thing"]
    assert 'name="member"' not in html


def test_pagination_keeps_the_filters(acme, login):
    for _ in range(3):
        record_pulls(acme.member, *[f"someone/image{i:02}" for i in range(25)])
    client = login(acme.owner)
    first = client.get(ACTIVITY, {"member": "mike"})
    assert len(rows_of(first)) == 50
    html = first.content.decode()
    assert "75 decisions match these filters." in html
    assert "Page 1 of 2" in html
    assert '?member=mike&amp;page=2"' in html
    second = client.get(ACTIVITY, {"member": "mike", "page": "2"})
    assert len(rows_of(second)) == 25
    assert len(rows_of(client.get(ACTIVITY, {"page": "999"}))) == 25  # the last page
    assert len(rows_of(client.get(ACTIVITY, {"page": "x"}))) == 50


def test_query_count_does_not_grow_with_the_log(acme, login, django_assert_num_queries):
    client = login(acme.owner)
    record_pulls(acme.member, "library/alpine", "someone/thing")
    client.get(ACTIVITY)  # warm the session

    def count(url, **query):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, query)
            if response.streaming:
                b"".join(response.streaming_content)
        return len(captured)

    small = (count(ACTIVITY), count(ACTIVITY, member="mike", outcome="blocked"), count(CSV))
    for batch in range(4):
        record_pulls(acme.member, *[f"someone/image{batch}{i:02}" for i in range(40)])
        record_pulls(acme.owner, *[f"library/image{batch}{i:02}" for i in range(10)])
    large = (count(ACTIVITY), count(ACTIVITY, member="mike", outcome="blocked"), count(CSV))
    assert PullDecision.objects.count() == 202
    assert small == large
    # session, user, organisation, owner check, invitations notice, summary (3), count, page
    assert large[0] <= 10


def test_counting_stops_at_the_cap(acme, login, monkeypatch):
    """A large log is not counted to the end: "N+ decisions", and dates reach older ones."""
    from activity import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 60)
    for _ in range(3):
        record_pulls(acme.member, *[f"someone/image{i:02}" for i in range(25)])
    html = login(acme.owner).get(ACTIVITY).content.decode()
    assert "60+ decisions (counted up to 60: filter by date to reach older ones)." in html
    assert "Page 1 of 2" in html
    exact = login(acme.owner).get(ACTIVITY, {"image": "image0"}).content.decode()
    assert "30 decisions match these filters." in exact
