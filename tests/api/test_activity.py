"""Pull activity in the API: an organisation's for its owners, and the caller's own, with the
activity pages' filters and a bounded number of queries per page."""

from datetime import timedelta

import pytest

from activity.models import PullDecision
from tests.factories import make_team, make_user, record_pulls, set_policy

ACTIVITY = "/api/v1/orgs/acme/activity"
MINE = "/api/v1/user/activity"


def repositories(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["repository"] for item in response.json()["results"]]


def test_owners_read_their_members_decisions_with_every_field(acme, owner_api):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    (decision,) = record_pulls(
        acme.member,
        "someone/thing",
        credential="laptop",
        client_address="10.0.0.7",
        user_agent="docker/27.0",
    )
    body = owner_api.get(ACTIVITY).json()
    assert body == {
        "count": 1,
        "next": None,
        "previous": None,
        "count_capped": False,
        "results": [
            {
                "decided_at": decision.decided_at.isoformat().replace("+00:00", "Z"),
                "username": "mike",
                "signed_in_with": "access_token",
                "credential": "laptop",
                "client_address": "10.0.0.7",
                "user_agent": "docker/27.0",
                "repository": "someone/thing",
                "actions_asked": ["pull"],
                "actions_granted": [],
                "category": "community",
                "deciding_organization": "acme",
                "rule": "category",
                "reason": "Community images are blocked by acme's Image Access Management.",
                "outcome": "blocked",
                "policy_version": 2,
            }
        ],
    }


def test_newest_first_and_only_those_made_for_members(acme, history, owner_api):
    assert repositories(owner_api.get(ACTIVITY)) == [
        "bitnami/redis",
        "someone/thing",
        "someone/thing",
        "someone/thing",
        "library/ubuntu",
        "someone/thing",
        "library/ubuntu",
    ]
    usernames = {item["username"] for item in owner_api.get(ACTIVITY).json()["results"]}
    assert usernames == {"mike", "olivia"}  # not oscar (globex)
    outcomes = [item["outcome"] for item in owner_api.get(ACTIVITY).json()["results"][:2]]
    assert outcomes == ["would_block", "would_block"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("member=olivia", ["someone/thing"]),
        ("member=nobody", []),
        ("image=UBUNTU", ["library/ubuntu", "library/ubuntu"]),
        ("outcome=would_block", ["bitnami/redis", "someone/thing"]),
        ("outcome=blocked", ["someone/thing"]),
        ("member=mike&outcome=allowed", ["library/ubuntu", "someone/thing", "library/ubuntu"]),
    ],
)
def test_filters_are_the_pages(acme, history, owner_api, login, query, expected):
    assert repositories(owner_api.get(f"{ACTIVITY}?{query}")) == expected
    page = login(acme.owner).get(f"/orgs/acme/activity/?{query}")
    assert [d.repository for d in page.context["page"]] == expected


def test_date_range_is_inclusive_days_in_utc(acme, history, owner_api):
    day = (history - timedelta(days=3)).date()
    assert repositories(owner_api.get(f"{ACTIVITY}?since={day}&until={day}")) == [
        "someone/thing",
        "library/ubuntu",
    ]
    # Empty filters are no filters, as in the pages' form.
    assert len(repositories(owner_api.get(f"{ACTIVITY}?since=&until=&outcome=&member="))) == 7


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("since=2026-02-30", {"since": "Enter a valid date."}),
        ("until=yesterday", {"until": "Enter a valid date."}),
        (
            "since=2026-05-02&until=2026-05-01",
            {"until": "The end of the range is before its start."},
        ),
        (
            "outcome=maybe",
            {"outcome": "Select a valid choice. maybe is not one of the available choices."},
        ),
        (
            "member=" + "x" * 151,
            {"member": "Ensure this value has at most 150 characters (it has 151)."},
        ),
        (
            "outcome=maybe&page_size=0",
            {
                "outcome": "Select a valid choice. maybe is not one of the available choices.",
                "page_size": "Ensure this value is greater than or equal to 1.",
            },
        ),
        ("page=2", {"page": "Page 2 does not exist: there is 1 page of 25."}),
    ],
)
def test_bad_filters_are_400_with_a_message_per_field(acme, owner_api, query, expected):
    record_pulls(acme.member, "library/alpine")
    response = owner_api.get(f"{ACTIVITY}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == expected
    assert response.json()["detail"].startswith("Invalid input.")


def test_pages_keep_the_filters_and_stop_counting_at_the_cap(acme, owner_api, monkeypatch):
    for _ in range(3):
        record_pulls(acme.member, *[f"someone/image{i:02}" for i in range(10)])
    first = owner_api.get(f"{ACTIVITY}?member=mike&page_size=12").json()
    assert (first["count"], first["count_capped"], len(first["results"])) == (30, False, 12)
    assert first["previous"] is None
    assert (
        first["next"]
        == "http://testserver/api/v1/orgs/acme/activity?member=mike&page=2&page_size=12"
    )
    last = owner_api.get(f"{ACTIVITY}?member=mike&page_size=12&page=3").json()
    assert len(last["results"]) == 6 and last["next"] is None
    assert "page=2" in last["previous"] and "member=mike" in last["previous"]

    from activity import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 20)
    capped = owner_api.get(f"{ACTIVITY}?page_size=10&page=2").json()
    assert (capped["count"], capped["count_capped"], capped["next"]) == (20, True, None)
    assert owner_api.get(f"{ACTIVITY}?page_size=10&page=3").status_code == 400
    exact = owner_api.get(f"{ACTIVITY}?image=image0").json()  # image00..image09: 30 rows
    assert (exact["count"], exact["count_capped"]) == (20, True)
    narrow = owner_api.get(f"{ACTIVITY}?image=image01").json()
    assert (narrow["count"], narrow["count_capped"]) == (3, False)


def test_another_organisations_decision_is_not_explained(acme, owner_api, api):
    make_team(acme.globex, "contractors", acme.member)
    set_policy(acme.globex, actor=acme.gina, enabled=True)
    record_pulls(acme.member, "someone/thing")
    (item,) = owner_api.get(ACTIVITY).json()["results"]
    assert item["deciding_organization"] == "another organization"
    assert item["reason"] == "Decided by another organization the member belongs to."
    (theirs,) = api(acme.gina).get("/api/v1/orgs/globex/activity").json()["results"]
    assert theirs["deciding_organization"] == "globex"
    assert theirs["reason"] == "Community images are blocked by globex's Image Access Management."
    # mike's own activity says which organisation refused, and why.
    (mine,) = api(acme.member).get(MINE).json()["results"]
    assert (mine["deciding_organization"], mine["reason"]) == (
        theirs["deciding_organization"],
        theirs["reason"],
    )


@pytest.mark.parametrize("role", ["outsider", "member"])
def test_only_owners_read_an_organisations_activity(acme, history, api, role):
    caller = {"outsider": acme.outsider, "member": acme.member}[role]
    response = api(caller).get(ACTIVITY)
    assert response.status_code == {"outsider": 404, "member": 403}[role]
    assert "results" not in response.json()


def test_my_activity_is_my_decisions_once_each(acme, history, member_api, api):
    make_team(acme.globex, "contractors", acme.member)
    record_pulls(acme.member, "library/alpine")
    assert PullDecision.objects.filter(repository="library/alpine").count() == 1
    assert repositories(member_api.get(MINE)) == [
        "library/alpine",
        "bitnami/redis",
        "someone/thing",
        "someone/thing",
        "library/ubuntu",
        "someone/thing",
        "library/ubuntu",
    ]
    assert repositories(member_api.get(f"{MINE}?outcome=blocked")) == ["someone/thing"]
    # There is no member filter: it is always the caller's own.
    assert len(repositories(member_api.get(f"{MINE}?member=olivia"))) == 7
    assert member_api.get(f"{MINE}?since=soon").json()["fields"] == {"since": "Enter a valid date."}
    assert {item["username"] for item in member_api.get(MINE).json()["results"]} == {"mike"}
    # Someone in no organisation has decisions of their own too.
    lonely = make_user("lonely")
    record_pulls(lonely, "library/alpine")
    assert repositories(api(lonely).get(MINE)) == ["library/alpine"]


@pytest.mark.parametrize("how", ["repo:read", "token:repo:read"])
def test_a_read_only_token_reads_activity(acme, history, api, how):
    assert len(repositories(api(acme.owner, how).get(ACTIVITY))) == 7
    assert repositories(api(acme.member, how).get(MINE))[0] == "bitnami/redis"


def test_anonymous_is_401(acme, api):
    for url in (ACTIVITY, MINE):
        response = api(None).get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="iam-portal"'


def test_query_count_does_not_grow_with_the_log(acme, api, django_assert_num_queries):
    owner = api(acme.owner, "token:repo:read")
    member = api(acme.member, "token:repo:read")
    record_pulls(acme.member, "library/alpine", "someone/thing")
    owner.get(ACTIVITY)  # the token's first use is recorded (once a minute)
    member.get(MINE)

    def pinned():
        # token, organisation, owner check, capped count, page
        with django_assert_num_queries(5):
            assert (
                owner.get(f"{ACTIVITY}?member=mike&outcome=allowed&page_size=100").status_code
                == 200
            )
        # token, capped count, page
        with django_assert_num_queries(3):
            assert member.get(f"{MINE}?image=someone&page_size=100").status_code == 200

    pinned()
    for batch in range(3):
        record_pulls(acme.member, *[f"someone/image{batch}{i:02}" for i in range(40)])
        record_pulls(acme.owner, *[f"library/image{batch}{i:02}" for i in range(10)])
    assert PullDecision.objects.count() == 152
    pinned()
