"""The repository allowlist and team grants: services (validation, history, versions,
concurrency) and the Org Permissions page (owners edit, members read)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from orgs.models import Team
from policies import services
from policies.engine import Rule, pull_decide
from policies.models import (
    ALLOWLIST_MAX_ENTRIES,
    AccessPolicy,
    AllowlistEntry,
    PolicyChange,
    TeamGrant,
)
from policies.references import parse_reference
from policies.selectors import pull_snapshot
from tests.concurrency import run_at_once
from tests.factories import add_entry, make_org, make_team, make_user, set_grant, set_policy

URL = reverse("policies:permissions", kwargs={"org": "acme"})
ALLOWLIST = reverse("policies:allowlist", kwargs={"org": "acme"})
GRANTS = reverse("policies:grants", kwargs={"org": "acme"})
HISTORY = reverse("policies:history", kwargs={"org": "acme"})


def version(org):
    return AccessPolicy.objects.get(organization=org).version


def decide(user, image):
    reference = parse_reference(image)
    return pull_decide(pull_snapshot(user=user, references=[reference]), reference)


def developers(acme):
    return Team.objects.get(organization=acme.org, name="developers")


# --- allowlist services -----------------------------------------------------------------------


def test_adding_an_entry_is_a_new_policy_version_and_recorded(acme):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    before = version(acme.org)
    entry = services.allowlist_entry_add(
        organization=acme.org,
        actor=acme.owner,
        pattern="ubuntu",
        reason="  base image  ",
        expires_at=datetime(2099, 12, 31, tzinfo=UTC),
    )
    assert (entry.pattern, entry.reason, entry.team) == ("library/ubuntu", "base image", None)
    assert (entry.added_by, entry.added_by_username) == (acme.owner, "olivia")
    assert version(acme.org) == before + 1
    change = PolicyChange.objects.filter(organization=acme.org).first()
    assert change.version == before + 1 and change.actor == acme.owner
    assert change.described() == [
        "Allowlist: added 'library/ubuntu' for the whole organization, expires 2099-12-31: "
        "'base image'"
    ]
    assert decide(acme.member, "ubuntu:22.04").rule is Rule.ALLOWLIST

    services.allowlist_entry_remove(organization=acme.org, entry_id=entry.pk, actor=acme.owner)
    assert not AllowlistEntry.objects.exists()
    assert version(acme.org) == before + 2
    assert PolicyChange.objects.filter(organization=acme.org).first().described() == [
        "Allowlist: removed 'library/ubuntu' for the whole organization, expires 2099-12-31: "
        "'base image'"
    ]
    assert decide(acme.member, "ubuntu").allowed is False


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"pattern": "Someone/*"}, "pattern", "Invalid pattern 'Someone/*': repository name must"),
        ({"pattern": "*"}, "pattern", "a wildcard needs a namespace"),
        ({"pattern": "someone/*/x"}, "pattern", "a wildcard can only end the pattern"),
        ({"pattern": "docker.io/a/b"}, "pattern", "must not include a registry domain"),
        ({"pattern": "a/b:1"}, "pattern", "must not include a tag"),
        ({"reason": "   "}, "reason", "Say why members need this"),
        ({"reason": "x" * 501}, "reason", "At most 500 characters (this is 501)."),
        ({"expires_at": "past"}, "expires_at", "is in the past"),
        ({"team": "owners"}, "team", "The owners team can pull any image already"),
        ({"team": "globex"}, "team", "Team developers is not a team of acme."),
    ],
)
def test_invalid_entries_are_refused_with_a_precise_message(acme, fields, field, message):
    values = {"pattern": "someone/tool", "reason": "CI", "team": None, "expires_at": None}
    values.update(fields)
    if values["expires_at"] == "past":
        values["expires_at"] = timezone.now() - timedelta(minutes=1)
    if values["team"] == "owners":
        values["team"] = Team.objects.get(organization=acme.org, name="owners")
    elif values["team"] == "globex":
        values["team"] = Team.objects.get(organization=acme.globex, name="developers")
    with pytest.raises(ValidationError) as excinfo:
        services.allowlist_entry_add(organization=acme.org, actor=acme.owner, **values)
    assert message in " ".join(excinfo.value.message_dict[field])
    assert not AllowlistEntry.objects.exists()
    assert not PolicyChange.objects.exists()
    assert version(acme.org) == 1


def test_a_duplicate_is_refused_and_an_expired_one_replaced(acme):
    add_entry(acme.org, "someone/*", actor=acme.owner, reason="first")
    with pytest.raises(ValidationError) as excinfo:
        add_entry(acme.org, "someone/*", actor=acme.gina, reason="again")
    assert excinfo.value.message_dict["pattern"] == [
        "acme's allowlist already has 'someone/*' for the whole organization (no expiry), "
        "added by olivia."
    ]
    # The same pattern for a team is another entry.
    team_entry = add_entry(acme.org, "someone/*", actor=acme.owner, team=developers(acme))
    AllowlistEntry.objects.filter(pk=team_entry.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    renewed = add_entry(acme.org, "someone/*", actor=acme.owner, team=developers(acme))
    assert AllowlistEntry.objects.filter(organization=acme.org).count() == 2
    assert renewed.pk != team_entry.pk
    assert PolicyChange.objects.first().described()[0].endswith("(replacing an expired entry)")


def test_the_allowlist_holds_at_most_the_limit(acme):
    AllowlistEntry.objects.bulk_create(
        AllowlistEntry(organization=acme.org, pattern=f"v{i}/*", reason="r", added_by_username="o")
        for i in range(ALLOWLIST_MAX_ENTRIES)
    )
    with pytest.raises(ValidationError, match="has 1000 entries, the most it can hold"):
        add_entry(acme.org, "someone/*", actor=acme.owner)


def test_removing_a_missing_entry_says_so(acme):
    with pytest.raises(ValidationError, match="not there any more"):
        services.allowlist_entry_remove(organization=acme.org, entry_id=999, actor=acme.owner)
    other = add_entry(acme.globex, "someone/*", actor=acme.gina)
    with pytest.raises(ValidationError, match="not there any more"):
        services.allowlist_entry_remove(organization=acme.org, entry_id=other.pk, actor=acme.owner)
    assert AllowlistEntry.objects.filter(pk=other.pk).exists()


def test_expired_entries_are_not_even_read(acme):
    """The selector filters expired entries in SQL; the engine ignores them too."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    entry = add_entry(
        acme.org, "someone/*", actor=acme.owner, expires_at=timezone.now() + timedelta(hours=1)
    )
    reference = parse_reference("someone/thing")
    now = pull_snapshot(user=acme.member, references=[reference])
    assert [e.pattern for e in now.entries] == ["someone/*"]
    later = pull_snapshot(
        user=acme.member, references=[reference], as_of=timezone.now() + timedelta(hours=2)
    )
    assert later.entries == ()
    assert pull_decide(later, reference).allowed is False
    AllowlistEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now())
    assert decide(acme.member, "someone/thing").allowed is False


# --- team grants -------------------------------------------------------------------------------


def test_a_team_grant_is_a_new_policy_version_and_applies_to_its_members(acme):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    platform = make_team(acme.org, "platform", acme.gina)
    before = version(acme.org)
    grant, change = services.team_grant_update(
        team=platform,
        actor=acme.owner,
        expected_version=before,
        values={"allow_community_images": True},
    )
    assert grant.allow_community_images is True
    assert version(acme.org) == before + 1
    assert change.described() == ["Team platform: Community images: Restricted → Allowed"]
    assert decide(acme.gina, "someone/thing").rule is Rule.TEAM_GRANT
    assert decide(acme.member, "someone/thing").allowed is False  # mike is not in platform
    # Saving the same values again records nothing.
    assert services.team_grant_update(
        team=platform,
        actor=acme.owner,
        expected_version=before + 1,
        values={"allow_community_images": True},
    ) == (grant, None)


def test_a_stale_grant_edit_is_refused(acme):
    members = Team.objects.get(organization=acme.org, name="members")
    set_policy(acme.org, actor=acme.owner, enabled=True)  # version 2
    with pytest.raises(
        services.StalePolicyEdit, match="you edited version 1, the current one"
    ) as refusal:
        services.team_grant_update(
            team=members,
            actor=acme.owner,
            expected_version=1,
            values={"allow_official_images": True},
        )
    # A team's name is never made possessive ("Team members's grant").
    assert "The grant of team members was not saved" in refusal.value.messages[0]
    with pytest.raises(ValidationError, match="owners team can pull any image already"):
        services.team_grant_update(
            team=Team.objects.get(organization=acme.org, name="owners"),
            actor=acme.owner,
            expected_version=2,
            values={"allow_official_images": True},
        )


def test_an_allowlist_change_makes_an_open_policy_form_stale(acme, login):
    """A change of what members may pull is a new policy version: an owner saving the policy
    form loaded before it must review the new state."""
    client = login(acme.owner)
    add_entry(acme.org, "someone/*", actor=acme.gina)
    response = client.post(URL, {"version": "1", "enabled": "on"})
    assert response.status_code == 409
    assert AccessPolicy.objects.get(organization=acme.org).enabled is False


# --- concurrency (PostgreSQL: row locks) -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_owners_adding_the_same_entry_at_once_make_one():
    olivia, gina = make_user("olivia"), make_user("gina")
    org = make_org("acme", owner=olivia)
    outcomes = run_at_once(
        lambda: add_entry(org, "someone/*", actor=olivia),
        lambda: add_entry(org, "someone/*", actor=gina),
    )
    assert outcomes == ["ValidationError", "ok"]
    assert AllowlistEntry.objects.count() == 1
    assert version(org) == 2
    assert list(PolicyChange.objects.values_list("version", flat=True)) == [2]


@pytest.mark.django_db(transaction=True)
def test_two_grant_edits_from_the_same_version_do_not_both_pass():
    olivia = make_user("olivia")
    org = make_org("acme", owner=olivia)
    platform = make_team(org, "platform")

    def edit(field):
        return lambda: services.team_grant_update(
            team=platform, actor=olivia, expected_version=1, values={field: True}
        )

    outcomes = run_at_once(edit("allow_official_images"), edit("allow_community_images"))
    assert outcomes == ["StalePolicyEdit", "ok"]
    assert version(org) == 2
    grant = Team.objects.get(pk=platform.pk).grant
    assert grant.allow_official_images != grant.allow_community_images


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_each_get_their_own_version():
    olivia = make_user("olivia")
    org = make_org("acme", owner=olivia)
    outcomes = run_at_once(
        *(lambda i=i: add_entry(org, f"vendor{i}/*", actor=olivia) for i in range(3))
    )
    assert outcomes == ["ok", "ok", "ok"]
    assert version(org) == 4
    assert sorted(PolicyChange.objects.values_list("version", flat=True)) == [2, 3, 4]


# --- the page -------------------------------------------------------------------------------


def test_owner_adds_an_entry_on_the_page(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    client = login(acme.owner)
    page = client.get(ALLOWLIST).content.decode()
    assert 'data-testid="allowlist-form"' in page
    response = client.post(
        ALLOWLIST,
        {"pattern": "someone/*", "team": "developers", "reason": "CI", "expires_at": "2099-01-31"},
    )
    assert response.status_code == 302
    assert response["Location"] == ALLOWLIST  # the top of the page, where the message is
    entry = AllowlistEntry.objects.get()
    assert (entry.pattern, entry.team.name) == ("someone/*", "developers")
    assert entry.expires_at == datetime(2099, 1, 31, tzinfo=UTC)
    page = client.get(ALLOWLIST).content.decode()
    assert (
        "Added &#x27;someone/*&#x27; to acme&#x27;s allowlist for team developers "
        "(expires 2099-01-31)" in page
    )
    table = page.split('data-testid="allowlist"')[1].split("</table>")[0]
    assert "<code>someone/*</code>" in table and "Team developers" in table
    history = client.get(HISTORY, {"kind": "allowlist"}).content.decode()
    history = history.split('data-testid="history"')[1]
    assert (
        "Allowlist: added &#x27;someone/*&#x27; for team developers, expires 2099-01-31: &#x27;CI"
        in history
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pattern": "Someone/*", "reason": "CI"}, "repository name must be lowercase"),
        ({"pattern": "someone/*", "reason": ""}, "This field is required."),
        ({"pattern": "someone/*", "reason": "CI", "expires_at": "2001-01-01"}, "is in the past"),
        ({"pattern": "someone/*", "reason": "CI", "expires_at": "soon"}, "Enter a valid date."),
        ({"pattern": "someone/*", "reason": "CI", "team": "owners"}, "Select a valid choice."),
        ({"pattern": "someone/*", "reason": "CI", "team": "ops"}, "Select a valid choice."),
    ],
)
def test_bad_entries_on_the_page_show_the_error_and_change_nothing(acme, login, data, message):
    response = login(acme.owner).post(ALLOWLIST, data)
    assert response.status_code == 400
    form = response.content.decode().split('data-testid="allowlist-form"')[1].split("</form>")[0]
    assert message in form
    # The summary at the top of the form names the field and links to it.
    summary = form.split('data-testid="form-errors"')[1].split("</div>")[0]
    assert '<a href="#id_' in summary and message in summary
    assert not AllowlistEntry.objects.exists()
    assert version(acme.org) == 1


def test_owner_removes_an_entry_after_a_confirmation(acme, login):
    entry = add_entry(acme.org, "someone/*", actor=acme.owner, reason="CI base images")
    url = reverse("policies:allowlist_remove", kwargs={"org": "acme", "pk": entry.pk})
    client = login(acme.owner)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    title = "Remove &#x27;someone/*&#x27; for the whole organization from acme&#x27;s allowlist?"
    assert title in html
    assert "Added by olivia on" in html and "CI base images" in html
    assert AllowlistEntry.objects.exists()  # the confirmation page changes nothing
    assert version(acme.org) == 2
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == ALLOWLIST
    assert not AllowlistEntry.objects.exists()
    assert version(acme.org) == 3
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_the_confirmation_says_what_removing_an_expired_or_team_entry_does(acme, login):
    team = developers(acme)
    entry = add_entry(acme.org, "someone/*", actor=acme.owner, team=team)
    url = reverse("policies:allowlist_remove", kwargs={"org": "acme", "pk": entry.pk})
    client = login(acme.owner)
    html = client.get(url).content.decode()
    assert "Members of team developers can no longer pull what &#x27;someone/*&#x27; covers" in html
    AllowlistEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now())
    html = client.get(url).content.decode()
    assert "It has expired already" in html and "removing it changes no pull" in html


def test_the_permissions_page_links_remove_to_its_confirmation(acme, login):
    entry = add_entry(acme.org, "someone/*", actor=acme.owner)
    url = reverse("policies:allowlist_remove", kwargs={"org": "acme", "pk": entry.pk})
    html = login(acme.owner).get(ALLOWLIST).content.decode()
    assert f'<a href="{url}" class="button danger small"' in html
    assert f'action="{url}"' not in html  # no one-click removal from the page


def test_owner_saves_every_team_grant_with_one_form_and_stale_edits_are_refused(acme, login):
    platform = make_team(acme.org, "platform")
    client = login(acme.owner)
    body = client.get(GRANTS).content.decode().split('class="settings-body"')[1]
    assert body.count('method="post"') == 1 and body.count(">Save team grants</button>") == 1
    response = client.post(
        GRANTS,
        {
            "version": "1",
            "developers-allow_community_images": "on",
            "platform-allow_official_images": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == GRANTS
    assert developers(acme).grant.allow_community_images is True
    platform.refresh_from_db()
    assert platform.grant.allow_official_images is True
    assert version(acme.org) == 3  # one version per team that changed
    html = client.get(GRANTS).content.decode()
    assert (
        "Saved the team grants: Team developers: Community images: Restricted → Allowed; "
        "Team platform: Docker Official Images: Restricted → Allowed." in html
    )
    # Saving the same values again changes nothing.
    same = {
        "version": "3",
        "developers-allow_community_images": "on",
        "platform-allow_official_images": "on",
    }
    assert client.post(GRANTS, same).status_code == 302
    assert version(acme.org) == 3
    # A form loaded at an older version is refused, and shows the grants as they are now.
    response = client.post(GRANTS, {"version": "1", "developers-allow_official_images": "on"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "you edited version 1, the current one is 3" in html
    assert 'name="version" value="3"' in html
    assert developers(acme).grant.allow_official_images is False
    assert developers(acme).grant.allow_community_images is True
    # Tampered values and keys are refused; the owners team has no row.
    bad = {"version": "3", "developers-allow_community_images": "maybe"}
    assert client.post(GRANTS, bad).status_code == 400
    owners = {"version": "3", "owners-allow_community_images": "on"}
    response = client.post(GRANTS, owners)
    assert response.status_code == 400 and "Unknown field(s)" in response.content.decode()
    # The former URL of one team's grant leads to the page.
    old = reverse("policies:team_grant", kwargs={"org": "acme", "team": "developers"})
    assert client.get(old)["Location"] == GRANTS


def test_team_grants_update_is_all_or_nothing(acme):
    with pytest.raises(ValidationError) as refused:
        services.team_grants_update(
            organization=acme.org,
            actor=acme.owner,
            expected_version=1,
            grants={"developers": {"allow_community_images": True}, "ops": {}},
        )
    assert refused.value.code == "unknown_team"
    with pytest.raises(ValidationError) as refused:
        services.team_grants_update(
            organization=acme.org,
            actor=acme.owner,
            expected_version=1,
            grants={"owners": {"allow_community_images": True}},
        )
    assert refused.value.code == "owners"
    assert version(acme.org) == 1 and not TeamGrant.objects.exists()


def test_members_see_grants_and_entries_read_only(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    set_grant(developers(acme), actor=acme.owner, publishers=True)
    expired = add_entry(
        acme.org, "old/*", actor=acme.owner, expires_at=timezone.now() + timedelta(1)
    )
    AllowlistEntry.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    add_entry(acme.org, "someone/tool", actor=acme.owner, reason="CI base image")
    client = login(acme.member)
    html = client.get(GRANTS).content.decode()
    grants = html.split('data-testid="grant-developers"')[1].split("</tr>")[0]
    assert grants.count("Allowed") == 1 and "checkbox" not in grants
    assert 'method="post"' not in html.split('class="settings-body"')[1]
    html = client.get(ALLOWLIST).content.decode().split('class="settings-body"')[1]
    table = html.split('data-testid="allowlist"')[1].split("</table>")[0]
    assert "someone/tool" in table and "CI base image" in table
    assert "Expired" in table.split("old/*")[1]
    for control in ('data-testid="allowlist-form"', ">Remove<", 'type="checkbox"', 'method="post"'):
        assert control not in html
    assert 'data-testid="requests-tab"' not in html


def test_the_check_box_names_the_rule(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, reason="CI base images")
    html = login(acme.member).get(URL, {"image": "someone/tool"}).content.decode()
    decision = html.split('data-testid="decision"')[1].split("</div>")[0]
    assert "Rule: <strong>Allowlist entry</strong>" in decision
    assert (
        "allowed by acme&#x27;s allowlist entry &#x27;someone/*&#x27;, added by olivia, no expiry"
        in decision
    )
    # The owner's preview of a plain member counts the organisation-wide entry too.
    html = login(acme.owner).get(URL, {"image": "someone/tool"}).content.decode()
    member = html.split('data-testid="member-decision"')[1].split("</div>")[0]
    assert "✔ Allowed" in member and "Allowlist entry" in member


def test_the_allowlist_is_paged(acme, login):
    AllowlistEntry.objects.bulk_create(
        AllowlistEntry(
            organization=acme.org, pattern=f"v{i:03}/*", reason="r", added_by_username="o"
        )
        for i in range(120)
    )
    client = login(acme.member)
    first = client.get(ALLOWLIST).content.decode()
    assert "v000/*" in first and "v050/*" not in first and "Page 1 of 3" in first
    third = client.get(ALLOWLIST, {"entries": "3"}).content.decode()
    assert "v119/*" in third and "v000/*" not in third
    assert client.get(ALLOWLIST, {"entries": "nonsense"}).status_code == 200


def test_the_page_reads_a_fixed_number_of_queries(acme, login, django_assert_max_num_queries):
    """However long the allowlist and however many teams, the page's reads stay the same."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    teams = Team.objects.bulk_create(
        Team(organization=acme.org, name=f"t{i:03}") for i in range(60)
    )
    AllowlistEntry.objects.bulk_create(
        AllowlistEntry(
            organization=acme.org,
            team=teams[i % 60] if i % 2 else None,
            pattern=f"v{i:04}/*",
            reason="r",
            added_by_username="o",
        )
        for i in range(1000)
    )
    client = login(acme.owner)
    # session, user, org, owner?, policy, memberships, publishers, entries for the members'
    # preview, the pending-invitations notice, the owners' inbox
    with django_assert_max_num_queries(10):
        response = client.get(URL, {"image": "someone/tool"})
    assert response.status_code == 200
    # session, user, org, owner?, policy, entry count, a page of entries, the teams to choose
    # from, the pending-invitations notice, the owners' inbox
    with django_assert_max_num_queries(10):
        response = client.get(ALLOWLIST)
    assert response.status_code == 200
    # session, user, org, owner?, policy, teams with grants, the notice, the inbox
    with django_assert_max_num_queries(8):
        response = client.get(GRANTS)
    assert response.status_code == 200
    assert response.content.decode().count('id="id_t0') == 60 * 3  # 3 checkboxes a team
