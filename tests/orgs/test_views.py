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
def test_create_org_form_errors(acme, login, name, message):
    response = login(acme.member).post(reverse("orgs:list"), {"name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Organization.objects.count() == 2


def test_create_org_makes_me_owner(acme, login):
    client = login(acme.member)
    response = client.post(reverse("orgs:list"), {"name": "mikesorg"})
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:detail", kwargs={"org": "mikesorg"})
    page = client.get(response["Location"]).content.decode()
    assert "Organization mikesorg created." in page
    assert "Owner" in page


def test_owner_adds_and_removes_members(acme, login):
    make_user("newbie")
    client = login(acme.owner)
    team = acme.org.teams.get(name="developers")
    url = reverse("orgs:detail", kwargs={"org": "acme"})
    assert client.post(url, {"username": "newbie", "team": team.pk}).status_code == 302
    assert TeamMembership.objects.filter(team=team, user__username="newbie").exists()
    response = client.post(url, {"username": "ghost", "team": team.pk})
    assert response.status_code == 400
    assert "There is no user named" in response.content.decode()
    response = client.post(url, {"username": "newbie", "team": team.pk})
    assert "already in team developers" in response.content.decode()
    other_team = acme.globex.teams.get(name="developers")
    response = client.post(url, {"username": "newbie", "team": other_team.pk})
    assert response.status_code == 400
    assert not TeamMembership.objects.filter(team=other_team, user__username="newbie").exists()
    remove = reverse("orgs:member_remove", kwargs={"org": "acme", "username": "newbie"})
    assert client.post(remove).status_code == 302
    assert not TeamMembership.objects.filter(user__username="newbie").exists()


def test_removing_last_owner_shows_a_message(acme, login):
    client = login(acme.owner)
    url = reverse("orgs:member_remove", kwargs={"org": "acme", "username": "olivia"})
    response = client.post(url, follow=True)
    assert "last owner of acme" in response.content.decode()
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


def test_owner_adds_a_member_from_the_team_page(acme, login):
    make_user("newbie")
    team = acme.org.teams.get(name="developers")
    url = reverse("orgs:team", kwargs={"org": "acme", "team": "developers"})
    response = login(acme.owner).post(url, {"username": "newbie", "team": team.pk})
    assert response.status_code == 302
    assert TeamMembership.objects.filter(team=team, user__username="newbie").exists()
    assert login(acme.owner).get(url).status_code == 200
    missing = reverse("orgs:team", kwargs={"org": "acme", "team": "nosuchteam"})
    assert login(acme.owner).get(missing).status_code == 404
