"""The owners' inbox (what waits for them: counts on the navigation, the Requests page), a
member's "Your access", a pending request on the check, and the History filter."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orgs.invitations.services import invitation_revoke
from orgs.models import Invitation
from policies.engine import (
    Category,
    ListEntry,
    OrgPolicy,
    PullSnapshot,
    Rule,
    TeamPolicy,
    access_summary,
)
from policies.exceptions import services as exception_services
from policies.exceptions.selectors import owner_inbox
from policies.references import parse_reference
from tests.factories import (
    add_entry,
    add_owner,
    ask_exception,
    invite,
    make_team,
    make_user,
    set_grant,
    set_policy,
)

PERMISSIONS = reverse("policies:permissions", kwargs={"org": "acme"})
REQUESTS = reverse("policies:requests", kwargs={"org": "acme"})
HISTORY = reverse("policies:history", kwargs={"org": "acme"})
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def waiting(acme):
    """acme and globex restrict their members. In acme: two of mike's requests pending, one
    approved, one declined; one invitation pending, one expired, one revoked. In globex: one
    request of oscar's pending."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    set_policy(acme.globex, actor=acme.gina, enabled=True)
    first = ask_exception(acme.org, acme.member, "first/app")
    ask_exception(acme.org, acme.member, "second/app")
    for image, answer in (("third/app", "approve"), ("fourth/app", "decline")):
        request = ask_exception(acme.org, acme.member, image)
        if answer == "approve":
            exception_services.exception_request_approve(
                request=request,
                actor=acme.owner,
                pattern=request.repository,
                expires_at=timezone.now() + timedelta(days=3),
            )
        else:
            exception_services.exception_request_decline(
                request=request, actor=acme.owner, note="no"
            )
    ask_exception(acme.globex, acme.outsider, "other/app")
    invite(acme.org, "pending@example.com", by=acme.owner)
    expired, _ = invite(acme.org, "expired@example.com", by=acme.owner)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    revoked, _ = invite(acme.org, "revoked@example.com", by=acme.owner)
    invitation_revoke(invitation=revoked, actor=acme.owner)
    acme.first_request = first
    return acme


def test_the_inbox_counts_only_whats_pending_in_the_organisations_one_owns(waiting):
    inbox = owner_inbox(user=waiting.owner)
    assert [(row.organization, row.requests, row.invitations) for row in inbox.rows] == [
        ("acme", 2, 1)
    ]
    assert inbox.rows[0].oldest_request == waiting.first_request.created_at
    assert inbox.requests == 2
    assert owner_inbox(user=waiting.member).rows == ()  # a member owns nothing
    assert [(row.organization, row.requests) for row in owner_inbox(user=waiting.gina).rows] == [
        ("globex", 1)
    ]
    # An owner of both sees both; an owner with nothing waiting has no row.
    add_owner(waiting.globex, waiting.owner)
    assert [row.organization for row in owner_inbox(user=waiting.owner).rows] == [
        "acme",
        "globex",
    ]
    assert owner_inbox(user=waiting.owner).requests == 3
    assert owner_inbox(user=make_user("nobody")).rows == ()


def test_owners_see_the_counts_on_every_navigation_in_one_query(waiting, login):
    client = login(waiting.owner)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("orgs:detail", kwargs={"org": "acme"})).content.decode()
    assert sum("policies_exceptionrequest" in q["sql"] for q in queries.captured_queries) == 1
    assert 'data-testid="nav-requests-count">2<' in html  # the top navigation
    assert 'data-testid="org-requests-count">2<' in html  # the organisation's Settings tab
    assert 'data-testid="org-invitations-count">1<' in html  # its Invitations tab
    inbox = html.split('data-testid="org-inbox"')[1].split("</section>")[0]
    assert f'href="{REQUESTS}">2 exception requests</a>' in inbox
    assert "1 invitation</a> not answered yet" in inbox
    # The owner's own requests page points to the organisation's Requests page.
    mine = client.get(reverse("policies:my_requests")).content.decode()
    assert f'<a href="{REQUESTS}">acme: 2 requests</a>' in mine
    assert "Waiting for your answer" in mine


def test_members_see_no_owners_counts(waiting, login):
    client = login(waiting.member)
    html = client.get(reverse("orgs:detail", kwargs={"org": "acme"})).content.decode()
    for count in ("nav-requests-count", "org-requests-count", "org-invitations-count", "org-inbox"):
        assert count not in html
    assert (
        "Waiting for your answer"
        not in client.get(reverse("policies:my_requests")).content.decode()
    )


def test_the_requests_page_lists_the_pending_oldest_first(waiting, login):
    html = login(waiting.owner).get(REQUESTS).content.decode()
    assert html.index("first/app") < html.index("second/app")
    for answered in ("third/app", "fourth/app", "other/app"):
        assert answered not in html
    assert html.count('data-testid="answer-form"') == 2


def test_a_pending_request_shows_on_the_check_and_a_second_one_is_refused(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    client = login(acme.member)
    html = client.get(PERMISSIONS, {"image": "someone/tool"}).content.decode()
    assert 'data-testid="exception-form"' in html and "request-pending" not in html
    create = reverse("policies:exception_create", kwargs={"org": "acme"})
    client.post(create, {"image": "someone/tool", "justification": "CI"})
    html = client.get(PERMISSIONS, {"image": "someone/tool:2"}).content.decode()
    decision = html.split('data-testid="decision"')[1].split("</div>")[0]
    assert "✖ Blocked" in decision  # the check's result, with the request's state
    assert "Request pending since" in decision
    assert 'data-testid="exception-form"' not in html
    # The service refuses a second request however it is sent.
    response = client.post(create, {"image": "someone/tool:3", "justification": "again"})
    assert response.status_code == 400
    assert "that request is still pending" in response.content.decode()
    assert "Request pending since" in response.content.decode()
    with pytest.raises(Exception, match="still pending"):
        exception_services.exception_request_create(
            organization=acme.org,
            requester=acme.member,
            reference=parse_reference("someone/tool:latest"),
            justification="once more",
        )


def test_your_access_reflects_a_team_grant_and_the_allowlist(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    developers = acme.org.teams.get(name="developers")
    set_grant(developers, actor=acme.owner, publishers=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, team=developers)
    add_entry(acme.org, "other/*", actor=acme.owner, team=make_team(acme.org, "ops"))
    html = login(acme.member).get(PERMISSIONS).content.decode()
    access = html.split('data-testid="your-access"')[1].split("</section>")[0]
    verified = access.split('data-testid="access-verified_publisher"')[1].split("</tr>")[0]
    assert "Allowed" in verified and "grant to your team developers" in verified
    official = access.split('data-testid="access-official"')[1].split("</tr>")[0]
    assert "Allowed by acme&#x27;s policy." in official
    community = access.split('data-testid="access-community"')[1].split("</tr>")[0]
    assert "Blocked" in community
    entries = access.split('data-testid="access-entries"')[1]
    assert "someone/*" in entries and "other/*" not in entries  # not mike's team
    # Owners are told they can pull anything; the summary is the members'.
    assert 'data-testid="your-access"' not in login(acme.owner).get(PERMISSIONS).content.decode()


def member(**settings) -> OrgPolicy:
    return OrgPolicy(name="acme", is_owner=False, **{"enabled": True, **settings})


@pytest.mark.parametrize(
    ("org", "category", "allowed", "rule", "team"),
    [
        (member(), Category.ORGANIZATION, True, Rule.ORGANIZATION, None),
        (member(), Category.OFFICIAL, False, Rule.CATEGORY, None),
        (member(allow_official_images=True), Category.OFFICIAL, True, Rule.CATEGORY, None),
        (
            member(teams=(TeamPolicy("a"), TeamPolicy("b", allow_verified_publishers=True))),
            Category.VERIFIED_PUBLISHER,
            True,
            Rule.TEAM_GRANT,
            "b",
        ),
        (
            member(teams=(TeamPolicy("b", allow_community_images=True),)),
            Category.COMMUNITY,
            True,
            Rule.TEAM_GRANT,
            "b",
        ),
        (member(allow_verified_publishers=True), Category.COMMUNITY, False, Rule.CATEGORY, None),
        (member(enabled=False), Category.COMMUNITY, True, Rule.UNMANAGED, None),
        (
            OrgPolicy(name="acme", is_owner=True, enabled=True),
            Category.COMMUNITY,
            True,
            Rule.OWNER,
            None,
        ),
    ],
)
def test_access_summary_follows_the_engines_rule(org, category, allowed, rule, team):
    summary = access_summary(PullSnapshot(username="mike", organizations=(org,), as_of=NOW), "acme")
    item = next(item for item in summary.categories if item.category is category)
    assert (item.allowed, item.rule, item.team) == (allowed, rule, team)


def test_access_summary_lists_the_entries_in_force_for_the_user():
    org = member(teams=(TeamPolicy("a"),))
    entries = (
        ListEntry("x/*", "acme"),
        ListEntry("y/*", "acme", team="a"),
        ListEntry("z/*", "acme", team="b"),  # another team's
        ListEntry("w/*", "acme", expires_at=NOW - timedelta(days=1)),  # expired
        ListEntry("v/*", "globex"),  # another organisation's
    )
    snapshot = PullSnapshot("mike", organizations=(org,), entries=entries, as_of=NOW)
    assert [entry.pattern for entry in access_summary(snapshot, "acme").entries] == ["x/*", "y/*"]
    assert access_summary(snapshot, "globex") is None


def test_history_filters_by_kind(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    set_grant(acme.org.teams.get(name="developers"), actor=acme.owner, publishers=True)
    add_entry(acme.org, "someone/*", actor=acme.owner)
    client = login(acme.member)
    every = client.get(HISTORY).content.decode()
    assert "Image Access Management: Off → On" in every and "someone/*" in every
    grants = client.get(HISTORY, {"kind": "grants"}).content.decode()
    assert "Team developers" in grants and "someone/*" not in grants
    assert "Off → On" not in grants
    policy = client.get(HISTORY, {"kind": "policy"}).content.decode()
    assert "Off → On" in policy and "Team developers" not in policy
    assert client.get(HISTORY, {"kind": "nonsense"}).status_code == 200  # every kind
