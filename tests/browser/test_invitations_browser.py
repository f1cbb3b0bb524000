"""Membership by consent in a real browser: an owner invites, the invitee sees the notice,
accepts, and reads the organisation's policy read-only; an e-mail invitation creates an
account; owners-team invitations and leaving ask first."""

import re

import pytest
from playwright.sync_api import expect

from orgs.models import Invitation, TeamMembership
from tests.browser.test_permissions_browser import open_org_permissions
from tests.factories import set_policy

pytestmark = pytest.mark.browser


def open_invitations(page, org_name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations").click()
    page.get_by_role("link", name=org_name, exact=True).click()
    page.get_by_role("navigation", name="Organization").get_by_role(
        "link", name="Invitations"
    ).click()
    expect(page).to_have_url(re.compile(rf"/orgs/{org_name}/invitations/$"))


def test_invite_accept_and_the_member_sees_the_policy_read_only(
    acme, new_page, sign_in, screenshot
):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)

    # --- olivia, owner of acme, invites gina ------------------------------------------------
    page = new_page()
    sign_in(page, acme.owner)
    orgs = page.get_by_test_id("organizations").locator("tbody tr")
    expect(orgs.locator("td")).to_have_text(["acme", "Owner", "On"])
    screenshot(page, "owner-organizations")
    page.get_by_role("link", name="acme", exact=True).click()
    page.get_by_role("link", name="Remove mike from acme").click()
    expect(page.get_by_test_id("confirm")).to_contain_text(
        "mike will be taken out of every team of acme (developers)."
    )
    screenshot(page, "owner-remove-confirmation")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("members").locator("tbody tr")).to_have_count(2)
    open_invitations(page, "acme")
    team = page.get_by_label("Team")
    expect(team.locator("option:checked")).to_have_text("members")
    page.get_by_label("Username or e-mail address").fill("gina")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".message.success")).to_have_text(
        "Invited gina to team members. They become a member when they accept."
    )
    row = page.get_by_test_id("pending-invitations").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("gina")
    expect(row.locator("td").nth(1)).to_have_text("members")
    expect(row.locator("td").nth(2)).to_have_text("olivia")
    screenshot(page, "owner-sent-invitation")
    assert not TeamMembership.objects.filter(user=acme.gina, team__organization=acme.org).exists()

    # --- gina sees the notice on every page, accepts -----------------------------------------
    page = new_page()
    sign_in(page, acme.gina)
    notice = page.get_by_test_id("invitation-notice")
    expect(notice).to_have_text("You have 1 pending invitation to join an organization. Review it")
    page.get_by_role("link", name="Access tokens").click()
    expect(notice).to_be_visible()
    screenshot(page, "invitee-notice")
    notice.get_by_role("link", name="Review it").click()
    invitations = page.get_by_test_id("my-invitations").locator("tbody tr")
    expect(invitations).to_have_count(1)
    expect(invitations.locator("td").nth(0)).to_have_text("acme")
    screenshot(page, "invitee-invitations")
    page.get_by_role("button", name="Accept the invitation to acme").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/$"))
    expect(page.locator(".message.success")).to_have_text("You joined acme (team members).")
    expect(page.get_by_test_id("invitation-notice")).to_have_count(0)
    expect(page.locator(".org-header .badge")).to_have_text("Member")
    screenshot(page, "invitee-joined")

    # --- ... and reads acme's Org Permissions, read-only ------------------------------------
    open_org_permissions(page, "acme")
    expect(page.get_by_test_id("iam-status")).to_have_text(
        "Image Access Management is enabled. Members can pull only the image types allowed below."
    )
    expect(page.get_by_test_id("state-official")).to_have_text("Allowed")
    expect(page.get_by_test_id("readonly-note")).to_have_text(
        "You are viewing these settings read-only. Only owners of acme can change them."
    )
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    screenshot(page, "member-policy-read-only")


def test_email_invitation_creates_an_account(acme, new_page, sign_in, screenshot, mailoutbox):
    page = new_page()
    sign_in(page, acme.owner)
    open_invitations(page, "acme")
    page.get_by_label("Username or e-mail address").fill("newdev@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".message.success")).to_contain_text("e-mailed to newdev@example.com")
    (mail,) = mailoutbox
    link = re.search(r"http://\S+/invite/\S+/", mail.body).group(0)

    page = new_page()  # someone without an account opens the link
    page.goto(link)
    expect(page.get_by_role("heading", name="Join acme")).to_be_visible()
    page.get_by_label("Username").fill("newdev")
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_label("Password confirmation").fill("password")
    page.get_by_role("button", name="Create account and join acme").click()
    expect(page.locator(".field .error").first).to_contain_text("too common")
    screenshot(page, "signup-weak-password")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Create account and join acme").click()
    expect(page.locator(".whoami")).to_have_text("Signed in as newdev")
    expect(page.locator(".message.success")).to_contain_text("you joined acme (team members)")
    screenshot(page, "signup-joined")

    page.goto(link)  # the link worked once
    expect(page.get_by_test_id("closed")).to_have_text(
        "This invitation has already been accepted. An invitation works once."
    )


def test_an_invitation_that_cannot_be_mailed_gives_the_owner_its_link(
    acme, new_page, sign_in, screenshot, settings
):
    settings.EMAIL_BACKEND = "tests.mail.Failing"
    page = new_page()
    sign_in(page, acme.owner)
    open_invitations(page, "acme")
    page.get_by_label("Username or e-mail address").fill("newdev@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".message.warning")).to_contain_text(
        "The invitation was saved, but the e-mail to newdev@example.com could not be sent."
    )
    share = page.get_by_test_id("share-link")
    link = share.get_by_label("Link").input_value()
    assert re.fullmatch(r"http://\S+/invite/[A-Za-z0-9_-]{43}/", link)
    expect(page.get_by_label("Username or e-mail address")).to_have_value("")
    expect(page.get_by_test_id("pending-invitations")).to_contain_text("newdev@example.com")
    screenshot(page, "owner-gets-the-link-of-an-unsent-invitation")

    other = new_page()  # the link works for whoever it is passed to
    other.goto(link)
    expect(other.get_by_role("heading", name="Join acme")).to_be_visible()


def test_owners_team_invitation_and_leaving_ask_first(acme, new_page, sign_in, screenshot):
    page = new_page()
    sign_in(page, acme.owner)
    open_invitations(page, "acme")
    page.get_by_label("Username or e-mail address").fill("gina")
    page.get_by_label("Team").select_option(label="owners (manage the organization)")
    page.get_by_role("button", name="Send invitation").click()
    confirm = page.get_by_test_id("confirm-owner")
    expect(confirm.get_by_role("heading")).to_have_text("Invite gina as an owner of acme?")
    expect(confirm).to_contain_text("can pull any image")
    screenshot(page, "owners-confirmation")
    assert Invitation.objects.count() == 0
    confirm.get_by_role("button", name="Yes, invite as owner").click()
    expect(page.locator(".message.success")).to_have_text(
        "Invited gina to team owners. They become a member when they accept."
    )

    page = new_page()
    sign_in(page, acme.member)
    page.get_by_role("link", name="acme", exact=True).click()
    page.get_by_role("link", name="Leave acme…").click()
    expect(page.get_by_test_id("confirm")).to_contain_text(
        "acme's Image Access Management will no longer apply to your pulls"
    )
    screenshot(page, "leave-confirmation")
    page.get_by_role("button", name="Leave acme").click()
    expect(page.locator(".message.success")).to_have_text("You left acme.")
    expect(page.get_by_role("link", name="acme", exact=True)).to_have_count(0)
