"""Leaving an organisation: confirmed first, never by its last owner."""

from django.urls import reverse

from orgs.models import Organization, TeamMembership
from orgs.services import team_create, team_member_add
from tests.factories import add_owner

LEAVE = reverse("orgs:leave", kwargs={"org": "acme"})


def test_a_member_leaves_after_confirming(acme, login):
    qa = team_create(organization=acme.org, name="qa")
    team_member_add(team=qa, user=acme.member)
    client = login(acme.member)
    html = client.get(reverse("orgs:detail", kwargs={"org": "acme"})).content.decode()
    assert f'href="{LEAVE}"' in html
    html = client.get(LEAVE).content.decode()
    assert "Leave acme?" in html
    assert "Image Access Management will no longer apply to your pulls" in html
    assert "you need a new invitation" in html
    assert TeamMembership.objects.filter(user=acme.member).count() == 2  # GET changed nothing
    response = client.post(LEAVE)
    assert response["Location"] == reverse("orgs:list")
    assert "You left acme." in client.get(response["Location"]).content.decode()
    assert not TeamMembership.objects.filter(user=acme.member).exists()
    assert client.get(reverse("orgs:detail", kwargs={"org": "acme"})).status_code == 404
    assert client.get(LEAVE).status_code == 404


def test_the_last_owner_cannot_leave_and_is_told_why(acme, login):
    client = login(acme.owner)
    html = client.get(LEAVE).content.decode()
    assert "olivia is the last owner of acme. An organization needs an owner" in html
    assert "Leave acme</button>" not in html
    response = client.post(LEAVE)
    assert response.status_code == 400
    assert "olivia is the last owner of acme" in response.content.decode()
    assert Organization.objects.owned_by(acme.owner).filter(name="acme").exists()


def test_an_owner_leaves_when_another_active_owner_remains(acme, login):
    add_owner(acme.org, acme.gina)
    client = login(acme.owner)
    assert "Leave acme</button>" in client.get(LEAVE).content.decode()
    assert client.post(LEAVE).status_code == 302
    assert not Organization.objects.for_user(acme.owner).exists()
    assert "gina is the last owner" in login(acme.gina).get(LEAVE).content.decode()
