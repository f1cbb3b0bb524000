"""The invitation e-mail (core.mail's policy): its body from the templates, sent once the
invitation is saved, never for one rolled back; a mail that cannot be sent is logged, the
invitation stays, and the owner is warned (and, for an e-mail invitation, given its link)."""

import logging
import re

import pytest
from django.db import transaction
from django.urls import reverse

from orgs.models import Invitation
from tests.factories import invite
from tests.mail import FAILING, use_templates

INVITATIONS = reverse("orgs:invitations", kwargs={"org": "acme"})
LINK_RE = re.compile(r"http://127\.0\.0\.1:8000/invite/[A-Za-z0-9_-]{43}/")  # SITE_URL's default


def test_the_mail_is_sent_once_the_invitation_is_saved(
    acme, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        invite(acme.org, "someone@example.com", by=acme.owner)
        assert mailoutbox == []  # not while the transaction is open
    assert len(callbacks) == 1
    callbacks[0]()
    (mail,) = mailoutbox
    assert (mail.to, mail.subject) == (["someone@example.com"], "olivia invited you to join acme")
    assert mail.body.endswith(" UTC (7 days).\n")  # one line break at the end


def test_no_mail_for_an_invitation_rolled_back(
    acme, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        invite(acme.org, "someone@example.com", by=acme.owner)
        raise RuntimeError("the rest of the change failed")
    assert (callbacks, mailoutbox) == ([], [])
    assert not Invitation.objects.exists()


def test_the_body_comes_from_the_template(
    acme, mailoutbox, settings, tmp_path, django_capture_on_commit_callbacks
):
    use_templates(
        settings,
        tmp_path,
        {"orgs/email/invitation_body.txt": "Join {{ organization.name }}: {{ link }}"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        invite(acme.org, "someone@example.com", by=acme.owner)
    (mail,) = mailoutbox
    assert LINK_RE.fullmatch(mail.body.removeprefix("Join acme: ").strip())


# The pages' tests commit for real, as a request does: the mail goes when the service's
# transaction commits, before the view answers.
pages = pytest.mark.django_db(transaction=True)


def members_team(acme) -> int:
    return acme.org.teams.get(name="members").pk


@pages
def test_an_email_invitation_that_cannot_be_mailed_shows_its_link_once(
    acme, login, settings, caplog
):
    settings.EMAIL_BACKEND = FAILING
    client = login(acme.owner)
    data = {"invitee": "someone@example.com", "team": members_team(acme)}
    with caplog.at_level(logging.ERROR, logger="core.mail"):
        response = client.post(INVITATIONS, data)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    invitation = Invitation.objects.get()  # saved all the same
    assert invitation.status == "pending"
    messages = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert messages == [
        (
            "warning",
            "The invitation was saved, but the e-mail to someone@example.com could not be sent. "
            "Share its link below with them yourself (it is shown only now), or revoke the "
            "invitation.",
        )
    ]
    html = response.content.decode()
    box = html.split('data-testid="share-link"')[1].split("</section>")[0]
    link = LINK_RE.search(box).group(0)
    assert client.get(link).status_code == 200  # the link works
    assert 'name="invitee"' in html and 'value="someone@example.com"' not in html.split(box)[1]
    (record,) = [record for record in caplog.records if record.name == "core.mail"]
    assert record.getMessage() == (
        "Could not send 'olivia invited you to join acme' to 1 recipient(s)"
    )
    assert record.exc_info is not None  # with the backend's error
    assert "someone@example.com" not in caplog.text
    # The link is not kept anywhere: the pending list does not show it.
    assert link not in client.get(INVITATIONS).content.decode()


@pages
def test_an_account_invitation_that_cannot_be_mailed_warns_the_owner(acme, login, settings):
    settings.EMAIL_BACKEND = FAILING
    acme.gina.email = "gina@globex.example"
    acme.gina.save()
    client = login(acme.owner)
    response = client.post(
        INVITATIONS, {"invitee": "gina", "team": members_team(acme)}, follow=True
    )
    messages = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert messages == [
        ("success", "Invited gina to team members. They become a member when they accept."),
        (
            "warning",
            "The invitation was saved, but the e-mail to gina could not be sent: they will see "
            "it under Invitations when they sign in.",
        ),
    ]
    assert 'data-testid="share-link"' not in response.content.decode()
    assert Invitation.objects.get().invitee == acme.gina


@pages
def test_an_invitation_mailed_from_the_page_has_no_warning(acme, login, mailoutbox):
    client = login(acme.owner)
    response = client.post(
        INVITATIONS, {"invitee": "someone@example.com", "team": members_team(acme)}, follow=True
    )
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    (mail,) = mailoutbox
    assert LINK_RE.search(mail.body)
