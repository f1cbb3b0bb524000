"""Owners rename, describe and delete teams (never the owners team), add the organisation's
members to a team directly, and see the team's grant and allowlist entries on its page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from orgs import services
from orgs.models import Invitation, Team, TeamMembership
from policies.models import AllowlistEntry, PolicyChange, TeamGrant
from policies.selectors import policy_for_organization
from tests.factories import add_entry, invite, make_team, make_user, set_grant


def team_url(name="developers", action=""):
    return reverse(f"orgs:team{action}", kwargs={"org": "acme", "team": name})


# --- Services ---------------------------------------------------------------------------------


def test_a_team_is_renamed_and_keeps_its_grant_and_entries(acme):
    team = acme.org.teams.get(name="developers")
    set_grant(team, actor=acme.owner, community=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, team=team)
    renamed = services.team_update(team=team, name="builders", description="Build farm")
    assert (renamed.pk, renamed.name, renamed.description) == (team.pk, "builders", "Build farm")
    assert TeamGrant.objects.get(team=renamed).allow_community_images
    assert AllowlistEntry.objects.get(pattern="someone/*").team == renamed
    assert TeamMembership.objects.filter(team=renamed, user=acme.member).exists()


@pytest.mark.parametrize(
    ("team", "name", "error"),
    [
        ("developers", "members", "A team named 'members' already exists."),
        ("developers", "owners", "A team named 'owners' already exists."),
        ("owners", "bosses", "The owners team can't be renamed"),
        ("developers", "Not A Name", "Up to 30 characters"),
    ],
)
def test_renames_that_are_refused(acme, team, name, error):
    with pytest.raises(ValidationError, match=error) as refusal:
        services.team_update(team=acme.org.teams.get(name=team), name=name, description="")
    assert "name" in refusal.value.error_dict
    assert acme.org.teams.filter(name=team).exists()


def test_the_owners_team_keeps_its_name_but_its_description_changes(acme):
    owners = acme.org.teams.get(name="owners")
    assert services.team_update(team=owners, name="owners", description="Admins").description == (
        "Admins"
    )


def test_deleting_a_team_takes_its_grant_entries_and_invitations_and_records_it(acme):
    team = acme.org.teams.get(name="developers")
    set_grant(team, actor=acme.owner, official=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, team=team)
    invite(acme.org, "new@example.com", by=acme.owner, team="developers")
    version = policy_for_organization(organization=acme.org).version
    services.team_delete(team=team, actor=acme.owner)
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not TeamGrant.objects.exists() and not AllowlistEntry.objects.exists()
    assert not Invitation.objects.filter(team_id=team.pk).exists()
    # mike was only in developers: he is no longer a member of acme.
    assert not TeamMembership.objects.filter(user=acme.member, team__organization=acme.org)
    assert policy_for_organization(organization=acme.org).version == version + 1
    change = PolicyChange.objects.filter(organization=acme.org).first()
    assert change.described() == [
        "Team developers deleted",
        "Team developers: grant removed (Docker Official Images allowed)",
        "Allowlist: removed 'someone/*' for team developers (with the team)",
    ]


def test_a_team_that_allowed_nothing_goes_without_a_new_policy_version(acme):
    version = policy_for_organization(organization=acme.org).version
    services.team_delete(team=make_team(acme.org, "empty"), actor=acme.owner)
    assert policy_for_organization(organization=acme.org).version == version


def test_the_owners_team_is_never_deleted(acme):
    with pytest.raises(ValidationError, match="owners team can't be deleted"):
        services.team_delete(team=acme.org.teams.get(name="owners"), actor=acme.owner)
    assert acme.org.teams.filter(name="owners").exists()


def test_only_members_of_the_organisation_are_added_directly(acme):
    platform = make_team(acme.org, "platform")
    membership = services.team_member_add_existing(team=platform, user=acme.member)
    assert membership.team == platform
    with pytest.raises(ValidationError, match="already in team platform"):
        services.team_member_add_existing(team=platform, user=acme.member)
    with pytest.raises(ValidationError, match="oscar is not a member of acme: invite them"):
        services.team_member_add_existing(team=platform, user=acme.outsider)
    assert not TeamMembership.objects.filter(user=acme.outsider, team__organization=acme.org)


# --- Pages ------------------------------------------------------------------------------------


def test_owner_adds_a_member_from_the_list_of_those_not_in_the_team(acme, login):
    platform = make_team(acme.org, "platform")
    client = login(acme.owner)
    page = client.get(team_url("platform")).content.decode()
    # mike and olivia are members of acme, not in platform; oscar is not a member of acme.
    assert '<option value="mike">mike</option>' in page
    assert '<option value="olivia">olivia</option>' in page
    assert "oscar" not in page
    response = client.post(team_url("platform"), {"username": "mike"}, follow=True)
    assert "Added mike to team platform." in response.content.decode()
    assert TeamMembership.objects.filter(team=platform, user=acme.member).exists()
    assert '<option value="mike">' not in client.get(team_url("platform")).content.decode()


def test_adding_to_the_owners_team_is_confirmed(acme, login):
    client = login(acme.owner)
    response = client.post(team_url("owners"), {"username": "mike"})
    assert response.status_code == 400
    assert not TeamMembership.objects.filter(team__name="owners", user=acme.member).exists()
    client.post(team_url("owners"), {"username": "mike", "confirm_owner": "on"})
    assert TeamMembership.objects.filter(team__name="owners", user=acme.member).exists()


def test_members_cannot_add_rename_or_delete(acme, login):
    client = login(acme.member)
    page = client.get(team_url()).content.decode()
    assert "Add a member" not in page and "Delete team" not in page
    assert client.post(team_url(), {"username": "olivia"}).status_code == 403
    assert client.get(team_url(action="_edit")).status_code == 403
    assert client.post(team_url(action="_delete")).status_code == 403
    assert acme.org.teams.filter(name="developers").exists()


def test_owner_renames_a_team_and_a_taken_name_is_a_form_error(acme, login):
    client = login(acme.owner)
    response = client.post(team_url(action="_edit"), {"name": "members", "description": ""})
    assert response.status_code == 400
    assert "A team named &#x27;members&#x27; already exists." in response.content.decode()
    response = client.post(team_url(action="_edit"), {"name": "builders", "description": "CI"})
    assert response["Location"] == team_url("builders")
    assert acme.org.teams.get(name="builders").description == "CI"
    assert client.get(team_url()).status_code == 404


def test_owner_deletes_a_team_after_reading_what_goes_with_it(acme, login):
    team = acme.org.teams.get(name="developers")
    set_grant(team, actor=acme.owner, community=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, team=team)
    client = login(acme.owner)
    page = client.get(team_url(action="_delete")).content.decode()
    assert "Delete team developers?" in page
    assert "No longer members of acme (they are in no other team): mike." in page
    assert "its grant (Community images) and 1 allowlist entry for it are deleted" in page
    assert Team.objects.filter(pk=team.pk).exists()  # the confirmation changes nothing
    response = client.post(team_url(action="_delete"), follow=True)
    assert "Deleted team developers." in response.content.decode()
    assert not Team.objects.filter(pk=team.pk).exists()


def test_the_owners_team_page_offers_no_rename_or_delete(acme, login):
    client = login(acme.owner)
    page = client.get(team_url("owners")).content.decode()
    assert "Delete team" not in page and "Rename" not in page
    response = client.get(team_url("owners", "_delete"))
    assert "can&#x27;t be deleted" in response.content.decode()
    assert client.post(team_url("owners", "_delete")).status_code == 400


def test_the_team_page_shows_its_grant_and_entries(acme, login):
    team = acme.org.teams.get(name="developers")
    set_grant(team, actor=acme.owner, official=True, community=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, team=team, reason="CI images")
    add_entry(acme.org, "other/*", actor=acme.owner)  # the whole organization's: not listed
    page = login(acme.member).get(team_url()).content.decode()
    assert "Grant: Docker Official Images, Community images allowed" in page
    assert "Allowlist: &#x27;someone/*&#x27; (no expiry): CI images" in page
    assert "other/*" not in page
    make_user("nobody")
    assert "Grant: nothing extra" in login(acme.owner).get(team_url("members")).content.decode()


def test_sso_group_mappings_show_on_the_team_page_and_go_with_the_team(acme, login, settings):
    from identity.config import Provider
    from identity.services import group_mapping_create

    provider = Provider(
        id="corp", label="Corp", issuer="http://127.0.0.1:9", client_id="c", client_secret="s"
    )
    settings.OIDC_PROVIDERS = (provider,)
    team = acme.org.teams.get(name="developers")
    group_mapping_create(team=team, provider=provider, group="eng", actor=acme.owner)
    client = login(acme.owner)
    assert "Members of group &#x27;eng&#x27; of Corp join this team" in (
        client.get(team_url()).content.decode()
    )
    page = client.get(team_url(action="_delete")).content.decode()
    assert "Single sign-on: 1 group mapping to this team end." in page


def test_a_deletion_page_counts_what_it_does_not_name(acme, login):
    team = make_team(acme.org, "crowd", *(make_user(f"user{n:02}") for n in range(25)))
    add_entry(acme.org, "someone/*", actor=acme.owner, team=team)
    page = login(acme.owner).get(team_url("crowd", "_delete")).content.decode()
    assert "user00, user01," in page and "user19 and 5 more." in page and "user20" not in page
    assert "Image Access Management: 1 allowlist entry for it is deleted" in page
