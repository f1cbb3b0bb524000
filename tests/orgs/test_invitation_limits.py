"""Invitations are rate-limited per organisation, per invited address and, since each answer
says whether a username exists, per inviting user; the owner sees what remains, and nothing is
sent while the shared cache that counts is down."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from orgs.models import Invitation
from tests.factories import add_owner, invite, make_user


@pytest.fixture
def invite_page(acme, login, django_capture_on_commit_callbacks):
    """``post(invitee)`` -> the response of olivia's invite form (team members); the mails
    that go out once the invitation is saved are sent."""
    client = login(acme.owner)
    url = reverse("orgs:invitations", kwargs={"org": "acme"})
    team = acme.org.teams.get(name="members").pk

    def post(invitee: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"invitee": invitee, "team": team})

    post.client, post.url = client, url
    return post


def test_the_page_says_how_many_invitations_remain(acme, invite_page):
    html = invite_page.client.get(invite_page.url).content.decode()
    assert "20 of 20 invitations left this hour for acme" in html
    assert "an address receives at most 3 invitations a day" in html
    assert invite_page("one@example.com").status_code == 302
    html = invite_page.client.get(invite_page.url).content.decode()
    assert "19 of 20 invitations left this hour for acme" in html


def test_an_organisation_sends_at_most_its_hourly_invitations(
    acme, invite_page, settings, mailoutbox
):
    settings.INVITATIONS_PER_ORGANIZATION_PER_HOUR = 2
    assert invite_page("one@example.com").status_code == 302
    assert invite_page("gina").status_code == 302  # an account, without an address: counted
    response = invite_page("three@example.com")
    assert response.status_code == 400
    html = response.content.decode()
    assert "acme has sent its 2 invitations for this hour" in html
    assert "you can invite again in" in html
    assert [m.to for m in mailoutbox] == [["one@example.com"]]
    assert not Invitation.objects.filter(email="three@example.com").exists()
    html = invite_page.client.get(invite_page.url).content.decode()
    assert "0 of 2 invitations left this hour for acme" in html
    # Another organisation has its own count.
    invite(acme.globex, "four@example.com", by=acme.gina)


def test_an_address_receives_at_most_its_daily_invitations_from_every_organisation(
    acme, invite_page, settings, mailoutbox
):
    settings.INVITATIONS_PER_ADDRESS_PER_DAY = 1
    assert invite_page("someone@example.com").status_code == 302
    # gina (globex) invites the same address, written differently: refused, nothing sent.
    with pytest.raises(ValidationError, match=r"invitations the portal sends to one address"):
        invite(acme.globex, "SomeOne@Example.com", by=acme.gina)
    # An account is invited at its address: the account's address counts too.
    make_user("sam", email="someone@example.com")
    response = invite_page("sam")
    assert response.status_code == 400
    html = response.content.decode()
    assert "the most invitations the portal sends to one address in a day (1)" in html
    assert "someone@example.com" not in html.split("Invite someone")[1].split("</section>")[0]
    assert len(mailoutbox) == 1


def test_a_refused_invitation_does_not_use_up_the_organisations_count(acme, invite_page, settings):
    settings.INVITATIONS_PER_ORGANIZATION_PER_HOUR = 2
    assert invite_page("nosuchuser").status_code == 400  # neither an account nor an address
    assert invite_page("one@example.com").status_code == 302
    response = invite_page("one@example.com")
    assert "already has a pending invitation" in response.content.decode()
    assert invite_page("two@example.com").status_code == 302


def test_invite_attempts_are_rate_limited_per_user(acme, invite_page, settings):
    """Each answer says whether a username exists: an owner probing usernames is stopped."""
    settings.INVITE_ATTEMPTS_PER_USER_PER_HOUR = 2
    assert "There is no user named" in invite_page("nosuch1").content.decode()
    assert "There is no user named" in invite_page("nosuch2").content.decode()
    response = invite_page("gina")
    assert response.status_code == 400
    html = response.content.decode()
    assert "You have made 2 invitation attempts within the hour" in html
    assert "There is no user named" not in html
    assert not Invitation.objects.filter(invitee=acme.gina).exists()
    # Another owner of acme has their own count.
    add_owner(acme.org, acme.gina)
    invite(acme.org, "one@example.com", by=acme.gina)


def test_no_invitation_is_sent_while_the_shared_cache_is_down(
    acme, invite_page, settings, mailoutbox
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        }
    }
    html = invite_page.client.get(invite_page.url).content.decode()
    assert "Invitations can't be sent right now" in html
    response = invite_page("one@example.com")
    assert response.status_code == 400
    assert "the portal&#x27;s rate-limit store (its shared cache) is unavailable" in (
        response.content.decode()
    )
    assert mailoutbox == []
    assert not Invitation.objects.exists()
