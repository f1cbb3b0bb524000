"""Membership by consent: the invitation lifecycle, e-mail invitations with account creation,
the owners' confirmation step, the notice on every page, sign-up."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orgs.invitations import services
from orgs.models import Invitation, Organization, TeamMembership
from tests.factories import PASSWORD, invite, make_user

User = get_user_model()
LINK_RE = re.compile(r"https?://[^/\s]+/invite/([A-Za-z0-9_-]{43})/")


def in_org(user, organization) -> bool:
    return Organization.objects.for_user(user).filter(pk=organization.pk).exists()


def expire(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    invitation.refresh_from_db()


# --- the lifecycle, through the services -----------------------------------------------------


def test_only_acceptance_makes_a_member(acme):
    invitation, token = invite(acme.org, "gina", by=acme.owner)
    assert invitation.status == "pending" and invitation.invitee == acme.gina
    assert invitation.invited_by_username == "olivia"
    assert not in_org(acme.gina, acme.org)
    membership = services.invitation_accept(invitation=invitation, user=acme.gina)
    assert membership.team.name == "members"
    assert in_org(acme.gina, acme.org)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_by) == ("accepted", acme.gina)


def test_the_link_token_is_random_and_stored_only_as_a_digest(acme):
    invitation, token = invite(acme.org, "gina", by=acme.owner)
    other, other_token = invite(acme.org, "someone@example.com", by=acme.owner)
    assert len(token) == 43 and token != other_token
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in {str(value) for value in stored.values()}


def test_decline_changes_nothing_and_closes_the_invitation(acme):
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    services.invitation_decline(invitation=invitation, user=acme.gina)
    assert not in_org(acme.gina, acme.org)
    with pytest.raises(ValidationError, match="was declined"):
        services.invitation_accept(invitation=invitation, user=acme.gina)
    assert not in_org(acme.gina, acme.org)


def test_an_expired_invitation_cannot_be_accepted_and_can_be_sent_again(acme):
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    expire(invitation)
    assert invitation.current_status == "expired"
    with pytest.raises(ValidationError, match="expired on .* Ask an owner of acme"):
        services.invitation_accept(invitation=invitation, user=acme.gina)
    assert not in_org(acme.gina, acme.org)
    again, _ = invite(acme.org, "gina", by=acme.owner)  # the expired one is no obstacle
    invitation.refresh_from_db()
    assert invitation.status == "expired" and again.status == "pending"


def test_expiry_follows_the_setting(acme, settings):
    settings.INVITATION_TTL_DAYS = 3
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    expected = timezone.now() + timedelta(days=3)
    assert abs((invitation.expires_at - expected).total_seconds()) < 60


def test_a_revoked_invitation_cannot_be_accepted(acme):
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    services.invitation_revoke(invitation=invitation, actor=acme.owner)
    with pytest.raises(ValidationError, match="withdrawn by an owner of acme"):
        services.invitation_accept(invitation=invitation, user=acme.gina)
    with pytest.raises(ValidationError):
        services.invitation_revoke(invitation=invitation, actor=acme.owner)
    assert not in_org(acme.gina, acme.org)


def test_an_invitation_works_once(acme):
    invitation, _ = invite(acme.org, "someone@example.com", by=acme.owner)
    services.invitation_accept(invitation=invitation, user=acme.gina)
    with pytest.raises(ValidationError, match="already been accepted"):
        services.invitation_accept(invitation=invitation, user=acme.outsider)
    with pytest.raises(ValidationError, match="already been accepted"):
        services.invitation_decline(invitation=invitation, user=acme.gina)
    assert not in_org(acme.outsider, acme.org)


def test_an_invitation_to_an_account_is_refused_to_anyone_else(acme):
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    for answer in (services.invitation_accept, services.invitation_decline):
        with pytest.raises(ValidationError, match="This invitation is for gina, but you are"):
            answer(invitation=invitation, user=acme.outsider)
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not in_org(acme.outsider, acme.org)


@pytest.mark.parametrize(
    ("invitee", "message"),
    [
        ("ghost", "There is no user named 'ghost'. To invite someone who has no account"),
        ("Gina", "There is no user named 'Gina'"),
        ("not@an@address", "neither a username nor a valid e-mail address"),
        ("mike", None),  # in developers, not in members: can be invited there
        ("olivia", None),
    ],
)
def test_whom_can_be_invited(acme, invitee, message):
    if message is None:
        invite(acme.org, invitee, by=acme.owner)
        return
    with pytest.raises(ValidationError, match=message):
        invite(acme.org, invitee, by=acme.owner)
    assert Invitation.objects.count() == 0


def test_nobody_is_invited_twice_or_into_a_team_they_are_in(acme):
    invite(acme.org, "gina", by=acme.owner)
    with pytest.raises(ValidationError, match="gina already has a pending invitation to team"):
        invite(acme.org, "gina", by=acme.owner)
    invite(acme.org, "Someone@Example.com", by=acme.owner)
    with pytest.raises(ValidationError, match="already has a pending invitation"):
        invite(acme.org, "someone@example.com", by=acme.owner)
    with pytest.raises(ValidationError, match="mike is already in team developers"):
        invite(acme.org, "mike", by=acme.owner, team="developers")
    acme.outsider.is_active = False
    acme.outsider.save()
    with pytest.raises(ValidationError, match="deactivated"):
        invite(acme.org, "oscar", by=acme.owner)


# --- the owners' page ------------------------------------------------------------------------


def invitations_url(**query):
    url = reverse("orgs:invitations", kwargs={"org": "acme"})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def selected_team(html: str) -> str | None:
    match = re.search(r'<option value="\d+" selected>([^<]+)</option>', html)
    return match.group(1) if match else None


def test_members_is_preselected_never_owners(acme, login):
    client = login(acme.owner)
    assert selected_team(client.get(invitations_url()).content.decode()) == "members"
    html = client.get(invitations_url(team="developers")).content.decode()
    assert selected_team(html) == "developers"
    assert selected_team(client.get(invitations_url(team="owners")).content.decode()) == "members"
    # Without a members team, nothing is preselected (the browser would pick the first).
    acme.org.teams.get(name="members").delete()
    html = client.get(invitations_url()).content.decode()
    assert selected_team(html) is None and "Choose a team" in html


def test_owner_invites_and_sees_who_invited_whom_and_when(acme, login, mailoutbox):
    client = login(acme.owner)
    members = acme.org.teams.get(name="members")
    response = client.post(invitations_url(), {"invitee": "gina", "team": members.pk})
    assert response.status_code == 302
    assert not in_org(acme.gina, acme.org)
    html = client.get(response["Location"]).content.decode()
    assert "Invited gina to team members. They become a member when they accept." in html
    invitation = Invitation.objects.get()
    table = html[html.index('data-testid="pending-invitations"') :]
    for text in ("gina", "members", "olivia", f"{invitation.created_at:%Y-%m-%d %H:%M} UTC"):
        assert text in table
    assert mailoutbox == []  # gina's account has no e-mail address: she sees the notice


def test_inviting_into_owners_asks_first_and_says_what_owners_can_do(acme, login):
    client = login(acme.owner)
    owners = acme.org.teams.get(name="owners")
    response = client.post(invitations_url(), {"invitee": "gina", "team": owners.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Invite gina as an owner of acme?" in html
    assert "Owners manage acme" in html and "can pull any image" in html
    assert 'name="confirm_owner" value="on"' in html
    assert Invitation.objects.count() == 0
    data = {"invitee": "gina", "team": owners.pk, "confirm_owner": "on"}
    assert client.post(invitations_url(), data).status_code == 302
    assert Invitation.objects.get().team == owners


def test_invitation_form_errors(acme, login):
    client = login(acme.owner)
    members = acme.org.teams.get(name="members")
    response = client.post(invitations_url(), {"invitee": "ghost", "team": members.pk})
    assert response.status_code == 400
    assert "There is no user named &#x27;ghost&#x27;" in response.content.decode()
    other = acme.globex.teams.get(name="members")  # another organisation's team
    response = client.post(invitations_url(), {"invitee": "gina", "team": other.pk})
    assert response.status_code == 400
    assert Invitation.objects.count() == 0


def test_owner_revokes_after_confirming(acme, login):
    invitation, token = invite(acme.org, "gina", by=acme.owner)
    client = login(acme.owner)
    url = reverse("orgs:invitation_revoke", kwargs={"org": "acme", "pk": invitation.pk})
    html = client.get(url).content.decode()
    assert "Revoke the invitation of gina to team members?" in html
    assert "its link will stop working" in html
    assert client.post(url).status_code == 302
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_by) == ("revoked", acme.owner)
    html = client.get(invitations_url()).content.decode()
    assert "Revoked" in html[html.index("Recent answers") :]
    assert "Nothing to revoke" in client.get(url).content.decode()
    assert client.post(url).status_code == 400
    # Another organisation's invitation is not found through acme.
    theirs, _ = invite(acme.globex, "mike", by=acme.gina)
    url = reverse("orgs:invitation_revoke", kwargs={"org": "acme", "pk": theirs.pk})
    assert client.get(url).status_code == 404


# --- the invitee's side ----------------------------------------------------------------------


def test_pending_invitations_show_on_every_page_until_answered(acme, login):
    invite(acme.org, "gina", by=acme.owner)
    client = login(acme.gina)
    for url in (
        reverse("orgs:list"),
        reverse("tokens:list"),
        reverse("orgs:detail", kwargs={"org": "globex"}),
        reverse("policies:permissions", kwargs={"org": "globex"}),
    ):
        html = client.get(url).content.decode()
        assert "You have 1 pending invitation to join an organization." in html, url
    html = client.get(reverse("invitations:list")).content.decode()
    invitation = Invitation.objects.get()
    assert "acme" in html and "olivia" in html
    response = client.post(reverse("invitations:accept", kwargs={"pk": invitation.pk}))
    assert response["Location"] == reverse("orgs:detail", kwargs={"org": "acme"})
    html = client.get(response["Location"]).content.decode()
    assert "You joined acme (team members)." in html
    assert "pending invitation" not in html
    assert in_org(acme.gina, acme.org)


def notice_queries(queries) -> int:
    """The queries of the pending-invitations notice (the owners' inbox, which counts the
    invitations their organisations sent, is another)."""
    return sum(
        "orgs_invitation" in q["sql"] and "policies_exceptionrequest" not in q["sql"]
        for q in queries.captured_queries
    )


def test_the_notice_costs_one_query(acme, login):
    invite(acme.org, "gina", by=acme.owner)
    client = login(acme.gina)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("tokens:list"))
    assert notice_queries(queries) == 1
    client = login(acme.member)  # no invitation: no notice, still one query
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("tokens:list")).content.decode()
    assert "pending invitation" not in html
    assert notice_queries(queries) == 1


def test_expired_invitations_are_not_pending(acme, login):
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    expire(invitation)
    client = login(acme.gina)
    html = client.get(reverse("orgs:list")).content.decode()
    assert "pending invitation" not in html
    assert "No pending invitations." in client.get(reverse("invitations:list")).content.decode()
    response = client.post(reverse("invitations:accept", kwargs={"pk": invitation.pk}), follow=True)
    assert "This invitation expired on" in response.content.decode()
    assert not in_org(acme.gina, acme.org)


def test_decline_from_the_list(acme, login):
    invitation, _ = invite(acme.org, "gina", by=acme.owner)
    client = login(acme.gina)
    response = client.post(
        reverse("invitations:decline", kwargs={"pk": invitation.pk}), follow=True
    )
    assert "You declined the invitation to acme." in response.content.decode()
    assert Invitation.objects.get().status == "declined"
    assert not in_org(acme.gina, acme.org)


# --- links ----------------------------------------------------------------------------------


def test_username_invitation_mails_its_link_and_only_that_user_can_use_it(
    acme, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    acme.gina.email = "gina@globex.example"
    acme.gina.save()
    with django_capture_on_commit_callbacks(execute=True):
        invite(acme.org, "gina", by=acme.owner)
    (mail,) = mailoutbox
    assert mail.to == ["gina@globex.example"]
    assert mail.subject == "olivia invited you to join acme"
    assert "and sign in as gina" in mail.body
    token = LINK_RE.search(mail.body).group(1)
    url = reverse("invitations:open", kwargs={"token": token})

    html = client.get(url).content.decode()  # anonymous: who is asked to sign in
    assert "Sign in as gina to answer" in html
    assert "Create account" not in html
    assert client.post(url, {"username": "x"})["Location"].startswith(reverse("login"))

    response = login(acme.outsider).get(url)  # signed in as someone else
    assert response.status_code == 403
    assert "This invitation is for gina, but you are signed in as oscar." in (
        response.content.decode()
    )
    response = client.post(url, {"answer": "accept"})
    assert response.status_code == 403
    assert not in_org(acme.outsider, acme.org)

    client = login(acme.gina)
    assert "Accept as gina" in client.get(url).content.decode()
    assert client.post(url, {"answer": "accept"}).status_code == 302
    assert in_org(acme.gina, acme.org)
    response = client.get(url)
    assert response.status_code == 410
    assert "already been accepted" in response.content.decode()


def test_email_invitation_creates_an_account_that_lands_as_a_member(
    acme, client, login, mailoutbox, django_capture_on_commit_callbacks
):
    members = acme.org.teams.get(name="members")
    data = {"invitee": "newdev@example.com", "team": members.pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = login(acme.owner).post(invitations_url(), data, follow=True)
    assert "e-mailed to newdev@example.com" in response.content.decode()
    client.logout()
    (mail,) = mailoutbox
    assert mail.to == ["newdev@example.com"]
    assert mail.from_email == "IAM Portal <noreply@localhost>"
    assert "you can create an account there" in mail.body
    link = LINK_RE.search(mail.body)  # an absolute link on the request's host
    url = reverse("invitations:open", kwargs={"token": link.group(1)})

    html = client.get(url).content.decode()
    assert "olivia</strong> invited <strong>newdev@example.com" in html
    assert "Create account and join acme" in html

    weak = {"username": "newdev", "password1": "12345678", "password2": "12345678"}
    response = client.post(url, weak)
    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()
    similar = {"username": "newdev", "password1": "newdev@example", "password2": "newdev@example"}
    assert "too similar" in client.post(url, similar).content.decode()
    taken = {"username": "Mike", "password1": PASSWORD * 2, "password2": PASSWORD * 2}
    assert "already exists" in client.post(url, taken).content.decode()
    assert not User.objects.filter(username="newdev").exists()

    good = {
        "username": "newdev",
        "password1": "a-long-pass-phrase",
        "password2": "a-long-pass-phrase",
    }
    response = client.post(url, good)
    assert response["Location"] == reverse("orgs:detail", kwargs={"org": "acme"})
    user = User.objects.get(username="newdev")
    assert user.email == "newdev@example.com" and user.check_password("a-long-pass-phrase")
    assert TeamMembership.objects.filter(user=user, team=members).exists()
    html = client.get(response["Location"]).content.decode()
    assert "Signed in as <strong>newdev</strong>" in html
    assert "Your account is ready and you joined acme (team members)." in html

    client.logout()
    response = client.post(url, {**good, "username": "second"})  # the link works once
    assert response.status_code == 410
    assert not User.objects.filter(username="second").exists()


def test_a_signed_in_user_accepts_an_email_invitation_through_its_link(
    acme, login, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(acme.org, "gina@globex.example", by=acme.owner)
    token = LINK_RE.search(mailoutbox[0].body).group(1)
    client = login(acme.gina)
    url = reverse("invitations:open", kwargs={"token": token})
    assert "Accept as gina" in client.get(url).content.decode()
    assert client.post(url, {"answer": "decline"}).status_code == 302
    assert not in_org(acme.gina, acme.org)
    assert client.get(url).status_code == 410


def test_closed_links_say_why(acme, client):
    invitation, token = invite(acme.org, "someone@example.com", by=acme.owner)
    url = reverse("invitations:open", kwargs={"token": token})
    expire(invitation)
    response = client.get(url)
    assert response.status_code == 410
    html = response.content.decode()
    assert "This invitation expired on" in html and "Create account" not in html
    other = token[:-1] + ("B" if token.endswith("A") else "A")
    response = client.get(reverse("invitations:open", kwargs={"token": other}))
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


# --- sign-up --------------------------------------------------------------------------------


def test_no_self_sign_up_unless_the_operator_opens_it(db, client, settings):
    assert settings.SIGNUP_OPEN is False
    assert client.get(reverse("invitations:signup")).status_code == 404
    assert "Create one" not in client.get(reverse("login")).content.decode()
    data = {
        "username": "walkin",
        "password1": "a-long-pass-phrase",
        "password2": "a-long-pass-phrase",
    }
    assert client.post(reverse("invitations:signup"), data).status_code == 404
    assert not User.objects.filter(username="walkin").exists()

    settings.SIGNUP_OPEN = True
    assert "Create one" in client.get(reverse("login")).content.decode()
    response = client.post(reverse("invitations:signup"), {**data, "password2": "other"})
    assert response.status_code == 400
    response = client.post(reverse("invitations:signup"), data)
    assert response["Location"] == reverse("orgs:list")
    html = client.get(response["Location"]).content.decode()
    assert "Signed in as <strong>walkin</strong>" in html
    assert not Organization.objects.for_user(User.objects.get(username="walkin")).exists()


def test_account_create_refuses_a_taken_username(db):
    make_user("walkin")
    with pytest.raises(ValidationError, match="taken"):
        services.account_create(username="WALKIN", password="a-long-pass-phrase")


@pytest.mark.django_db(transaction=True)
def test_two_people_using_one_link_at_once_make_one_member():
    """The answer is a conditional UPDATE: the second waits for the first's row lock, then
    finds the invitation no longer pending. Each UPDATE of the invitation is followed by a
    pause, so that without the condition both would pass. SQLite serialises writers anyway."""
    import threading
    import time

    from django.db import DatabaseError, connections

    from tests.factories import make_org

    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (PostgreSQL): SQLite serialises the two writers anyway")
    olivia = make_user("olivia")
    organization = make_org("acme", owner=olivia)
    invitation, _ = invite(organization, "team@example.com", by=olivia)
    takers = [make_user("first"), make_user("second")]
    barrier = threading.Barrier(2)
    outcomes = []

    def slow_updates(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("UPDATE") and "orgs_invitation" in sql:
            time.sleep(0.3)
        return result

    def accept(user):
        try:
            with connections["default"].execute_wrapper(slow_updates):
                barrier.wait(timeout=10)
                services.invitation_accept(
                    invitation=Invitation.objects.get(pk=invitation.pk), user=user
                )
            outcomes.append("joined")
        except (ValidationError, DatabaseError) as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(user,)) for user in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ValidationError", "joined"], outcomes
    assert TeamMembership.objects.filter(team__organization=organization).count() == 2
