"""Organisation pages: create, members, teams, with clear errors."""

import pytest
from django.urls import reverse

from orgs.models import Organization, TeamMembership
from tests.factories import make_user


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Acme2", "only lowercase letters"),
        (" acme2", "only lowercase letters"),
        ("ab", "4 to 30 characters"),
        ("acme", "already taken"),
    ],
)
def test_create_org_form_errors(acme, login, settings, name, message):
    settings.ORGANIZATION_CREATION = "any"
    response = login(acme.member).post(reverse("orgs:list"), {"name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Organization.objects.count() == 2


def test_create_org_makes_me_owner(acme, login, settings):
    settings.ORGANIZATION_CREATION = "any"
    client = login(acme.member)
    response = client.post(reverse("orgs:list"), {"name": "mikesorg"})
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:detail", kwargs={"org": "mikesorg"})
    page = client.get(response["Location"]).content.decode()
    assert "Organization mikesorg created." in page
    assert "Owner" in page


def test_people_who_are_not_members_join_only_by_invitation(acme, login):
    """People join by accepting an invitation: the members page has no add form, and a team's
    add form takes only members of the organisation."""
    make_user("newbie")
    team = acme.org.teams.get(name="developers")
    client = login(acme.owner)
    url = reverse("orgs:detail", kwargs={"org": "acme"})
    assert client.post(url, {"username": "newbie", "team": team.pk}).status_code == 405
    url = reverse("orgs:team", kwargs={"org": "acme", "team": "developers"})
    response = client.post(url, {"username": "newbie"})
    assert response.status_code == 400
    assert "newbie is not a member of acme outside this team" in response.content.decode()
    assert not TeamMembership.objects.filter(user__username="newbie").exists()


def test_owner_removes_a_member_after_confirming(acme, login):
    client = login(acme.owner)
    url = reverse("orgs:member_remove", kwargs={"org": "acme", "username": "mike"})
    page = client.get(url)
    html = page.content.decode()
    assert "Remove mike from acme?" in html
    assert "taken out of every team of acme (developers)" in html
    assert "Image Access Management will no longer apply to their pulls" in html
    assert TeamMembership.objects.filter(user=acme.member).exists()  # GET changed nothing
    response = client.post(url, follow=True)
    assert "Removed mike from acme." in response.content.decode()
    assert not TeamMembership.objects.filter(user=acme.member).exists()
    assert client.get(url).status_code == 404  # no longer a member: nothing to confirm


def test_removing_last_owner_is_refused_with_the_reason(acme, login):
    client = login(acme.owner)
    url = reverse("orgs:member_remove", kwargs={"org": "acme", "username": "olivia"})
    page = client.get(url).content.decode()
    assert "olivia is the last owner of acme" in page
    assert "Remove olivia</button>" not in page  # refused up front: no button
    response = client.post(url)
    assert response.status_code == 400
    assert "olivia is the last owner of acme" in response.content.decode()
    assert TeamMembership.objects.filter(user=acme.owner, team__name="owners").exists()


def test_teams_page_and_create(acme, login):
    client = login(acme.owner)
    url = reverse("orgs:teams", kwargs={"org": "acme"})
    assert client.post(url, {"name": "qa", "description": "Testers"}).status_code == 302
    assert client.post(url, {"name": "qa"}).status_code == 400
    html = login(acme.member).get(url).content.decode()
    assert "qa" in html and "Testers" in html
    assert "Create a team" not in html


def test_member_sees_members_read_only(acme, login):
    html = login(acme.member).get(reverse("orgs:detail", kwargs={"org": "acme"})).content.decode()
    assert "olivia" in html and "mike" in html
    assert "Add a member" not in html and ">Remove<" not in html
    assert "oscar" not in html


def test_org_list_shows_only_my_orgs(acme, login):
    html = login(acme.member).get(reverse("orgs:list")).content.decode()
    assert "acme" in html and "globex" not in html


def test_team_page_lists_members_and_links_to_invite_into_it(acme, login):
    url = reverse("orgs:team", kwargs={"org": "acme", "team": "developers"})
    html = login(acme.owner).get(url).content.decode()
    assert "mike" in html
    assert reverse("orgs:invitations", kwargs={"org": "acme"}) + "?team=developers" in html
    html = login(acme.member).get(url).content.decode()
    assert "mike" in html and "Invite to developers" not in html and ">Remove<" not in html
    missing = reverse("orgs:team", kwargs={"org": "acme", "team": "nosuchteam"})
    assert login(acme.owner).get(missing).status_code == 404


def test_team_member_remove_confirms_and_says_what_happens(acme, login):
    client = login(acme.owner)
    url = reverse(
        "orgs:team_member_remove", kwargs={"org": "acme", "team": "developers", "username": "mike"}
    )
    html = client.get(url).content.decode()
    assert "Remove mike from team developers?" in html
    assert "developers is mike&#x27;s only team in acme" in html
    assert client.post(url).status_code == 302
    assert not TeamMembership.objects.filter(user=acme.member).exists()
    assert client.get(url).status_code == 404


def test_removing_the_last_owner_from_the_owners_team_is_refused(acme, login):
    client = login(acme.owner)
    url = reverse(
        "orgs:team_member_remove", kwargs={"org": "acme", "team": "owners", "username": "olivia"}
    )
    assert "olivia is the last owner of acme" in client.get(url).content.decode()
    assert client.post(url).status_code == 400
    assert TeamMembership.objects.filter(user=acme.owner, team__name="owners").exists()


def test_org_list_shows_role_and_image_access_management(acme, login):
    from tests.factories import set_policy

    set_policy(acme.org, actor=acme.owner, enabled=True)
    html = login(acme.owner).get(reverse("orgs:list")).content.decode()
    assert "Owner" in html and ">On<" in html
    html = login(acme.outsider).get(reverse("orgs:list")).content.decode()
    assert "globex" in html and "acme" not in html
    assert ">Member<" in html and ">Off<" in html
