"""An organisation's owners see their own organisation's part of each decision filed under it,
never which other organisations a member belongs to: not on the Activity page, not in the CSV,
not through the API. The member sees the whole decision."""

import pytest
from django.urls import reverse

from tests.factories import make_team, record_pulls, set_policy


@pytest.fixture
def two_orgs(acme):
    """mike in acme and globex, both restricting him: both allow Docker Official Images (acme
    decides, globex also allowed), only acme allows Verified Publisher images (globex refuses),
    and, with both off, nobody restricts him. Every decision is filed under both."""
    make_team(acme.globex, "contractors", acme.member)
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True, publishers=True)
    set_policy(acme.globex, actor=acme.gina, enabled=True, official=True)
    rows = record_pulls(acme.member, "library/ubuntu", "bitnami/redis")
    decided = {(row.repository, row.deciding_organization) for row in rows}
    assert decided == {("library/ubuntu", "acme"), ("bitnami/redis", "globex")}
    assert {row.also_allowed_by for row in rows if row.repository == "library/ubuntu"} == {"globex"}
    set_policy(acme.org, actor=acme.owner, enabled=False)
    set_policy(acme.globex, actor=acme.gina, enabled=False)
    record_pulls(acme.member, "someone/thing")
    return acme


def owners_views(client, api, owner, org: str) -> dict[str, str]:
    """What ``org``'s owner reads of its activity: the page, the CSV, the API's answer."""
    client.force_login(owner)
    page = client.get(reverse("activity:activity", kwargs={"org": org}))
    csv = client.get(reverse("activity:activity_csv", kwargs={"org": org}))
    answer = api(owner).get(f"/api/v1/orgs/{org}/activity")
    assert page.status_code == csv.status_code == answer.status_code == 200
    return {
        "page": page.content.decode().split('data-testid="activity"')[1].replace("<wbr>", ""),
        "csv": b"".join(csv.streaming_content).decode(),
        "api": answer.content.decode(),
    }


@pytest.mark.parametrize(
    ("owner", "org", "other"), [("owner", "acme", "globex"), ("gina", "globex", "acme")]
)
def test_no_other_organisations_name_reaches_an_organisations_owners(
    two_orgs, client, api, owner, org, other
):
    for where, text in owners_views(client, api, getattr(two_orgs, owner), org).items():
        assert text.count("library/ubuntu") and text.count("bitnami/redis"), where
        assert other not in text, where


def test_owners_see_their_own_organisations_part(two_orgs, client, api):
    acme = owners_views(client, api, two_orgs.owner, "acme")
    assert "Docker Official Images are allowed by acme" in acme["csv"]
    assert "Decided by another organization the member belongs to." in acme["csv"]
    globex = owners_views(client, api, two_orgs.gina, "globex")
    assert "Docker Verified Publisher images are blocked by globex" in globex["csv"]


def test_the_member_sees_every_organisation_that_decided(two_orgs, client, api):
    client.force_login(two_orgs.member)
    page = client.get(reverse("activity:my_activity")).content.decode().replace("&#x27;", "'")
    mine = api(two_orgs.member).get("/api/v1/user/activity").json()["results"]
    for text in (page, str(mine)):
        assert "allowed by acme's Image Access Management. Also allowed by globex." in text
        assert "blocked by globex" in text
