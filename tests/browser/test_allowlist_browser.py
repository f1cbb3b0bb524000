"""The allowlist, team grants and exception requests in a real browser: the owner edits them on
Org Permissions' Allowlist, Team grants and Requests pages, a member reads them, checks an
image, asks for an exception and sees the answer."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orgs.models import Team
from policies.models import AllowlistEntry, ExceptionRequest
from tests.browser.test_permissions_browser import (
    check_image,
    open_org_permissions,
    open_section,
)
from tests.factories import add_entry, set_policy

pytestmark = pytest.mark.browser


def test_owner_edits_the_allowlist_and_a_team_grant_and_a_member_reads_them(
    acme, new_page, sign_in, screenshot
):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    expires = (timezone.now() + timedelta(days=90)).date()

    # --- olivia, owner -------------------------------------------------------------------
    page = new_page()
    sign_in(page, acme.owner)
    open_org_permissions(page, "acme")
    open_section(page, "Allowlist")
    expect(page.get_by_text("No entries.")).to_be_visible()

    form = page.get_by_test_id("allowlist-form")
    form.get_by_label("Repository pattern").fill("Someone/*")
    form.get_by_label("Reason").fill("CI base images")
    form.get_by_role("button", name="Add to allowlist").click()
    # The mistake is named at the top of the form, with a link to the field, and next to the
    # field; the input is kept, nothing saved.
    form = page.get_by_test_id("allowlist-form")
    expect(form.locator(".error")).to_have_text(
        "Invalid pattern 'Someone/*': repository name must be lowercase."
    )
    summary = form.get_by_test_id("form-errors")
    expect(summary).to_be_in_viewport()
    summary.get_by_role("link", name="Repository pattern").click()
    expect(form.get_by_label("Repository pattern")).to_be_focused()
    expect(form.get_by_label("Repository pattern")).to_have_value("Someone/*")
    screenshot(page, "owner-invalid-pattern")

    form.get_by_label("Repository pattern").fill("someone/*")
    form.get_by_label("For").select_option(label="Team developers")
    form.get_by_label("Expires on (optional)").fill(f"{expires:%Y-%m-%d}")
    form.get_by_role("button", name="Add to allowlist").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/permissions/allowlist/$"))
    expect(page.get_by_role("status").filter(has_text="Added")).to_have_text(
        f"Added 'someone/*' to acme's allowlist for team developers (expires {expires:%Y-%m-%d})."
    )
    row = page.get_by_test_id("allowlist").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(
        [
            "someone/*",
            "Team developers",
            "CI base images",
            re.compile(r"^olivia, \d{4}-\d\d-\d\d$"),
            f"expires {expires:%Y-%m-%d}",
            "Remove",
        ]
    )

    open_section(page, "Team grants")
    grants = page.get_by_test_id("grant-developers")
    verified = grants.get_by_label("Allowed for team developers: Docker Verified Publisher images")
    expect(verified).not_to_be_checked()
    verified.check()
    expect(page.get_by_test_id("unsaved")).to_be_visible()
    page.get_by_role("button", name="Save team grants").click()
    expect(page.get_by_role("status").filter(has_text="grant")).to_have_text(
        "Saved the team grants: Team developers: Docker Verified Publisher images: "
        "Restricted → Allowed."
    )
    expect(
        page.get_by_test_id("grant-developers").get_by_label(
            "Allowed for team developers: Docker Verified Publisher images"
        )
    ).to_be_checked()
    screenshot(page, "owner-allowlist-and-grant")
    open_section(page, "History")
    history = page.get_by_test_id("history").locator("tbody tr")
    expect(history.nth(0).locator("li")).to_have_text(
        ["Team developers: Docker Verified Publisher images: Restricted → Allowed"]
    )
    expect(history.nth(1).locator("li")).to_have_text(
        [
            f"Allowlist: added 'someone/*' for team developers, expires {expires:%Y-%m-%d}: "
            "'CI base images'"
        ]
    )
    assert developers_grant(acme).allow_verified_publishers is True

    # --- mike, member of developers ------------------------------------------------------
    page = new_page()
    sign_in(page, acme.member)
    open_org_permissions(page, "acme")
    # His access says what his team's grant and the allowlist give him.
    access = page.get_by_test_id("your-access")
    expect(access.get_by_test_id("access-verified_publisher")).to_contain_text(
        "Allowed by acme's grant to your team developers."
    )
    expect(access.get_by_test_id("access-entries")).to_contain_text("someone/*")
    screenshot(page, "member-your-access")
    open_section(page, "Allowlist")
    expect(page.get_by_test_id("allowlist").locator("tbody tr td").first).to_have_text("someone/*")
    expect(page.get_by_role("link", name="Remove")).to_have_count(0)
    expect(page.get_by_test_id("allowlist-form")).to_have_count(0)
    open_section(page, "Team grants")
    expect(page.get_by_test_id("grant-developers").locator("td").nth(1)).to_have_text("Allowed")
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Save team grants")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Org Permissions").get_by_role("link", name="Requests")
    ).to_have_count(0)

    decision = page.get_by_test_id("decision")
    check_image(page, "someone/tool:1.0")
    expect(decision.locator(".verdict")).to_have_text("✔ Allowed: docker.io/someone/tool:1.0")
    expect(decision.get_by_test_id("decision-rule")).to_have_text("Rule: Allowlist entry allowlist")
    expect(decision).to_contain_text(
        "but someone/tool is allowed by acme's allowlist entry 'someone/*' for team developers, "
        f"added by olivia, expires {expires:%Y-%m-%d}: 'CI base images'."
    )
    screenshot(page, "member-allowed-by-allowlist")

    check_image(page, "bitnami/redis")
    expect(decision.get_by_test_id("decision-rule")).to_have_text("Rule: Team grant team_grant")
    expect(decision).to_contain_text(
        "Docker Verified Publisher images are allowed by acme's grant to team developers."
    )
    screenshot(page, "member-allowed-by-team-grant")


def test_owner_removes_an_entry_after_confirming(acme, new_page, sign_in, screenshot):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    add_entry(acme.org, "someone/*", actor=acme.owner, reason="CI base images")
    page = new_page()
    sign_in(page, acme.owner)
    open_org_permissions(page, "acme")
    open_section(page, "Allowlist")
    remove = page.get_by_role("link", name="Remove someone/* for the whole organization")

    # Remove asks first; Cancel goes back and changes nothing.
    remove.click()
    confirm = page.get_by_test_id("confirm")
    expect(confirm.get_by_role("heading")).to_have_text(
        "Remove 'someone/*' for the whole organization from acme's allowlist?"
    )
    expect(confirm.locator(".consequences li").first).to_have_text(
        "acme's members can no longer pull what 'someone/*' covers, unless another rule allows it."
    )
    screenshot(page, "owner-confirms-allowlist-remove")
    confirm.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/permissions/allowlist/$"))
    assert AllowlistEntry.objects.filter(pattern="someone/*").exists()

    remove.click()
    page.get_by_test_id("confirm").get_by_role("button", name="Remove entry").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/permissions/allowlist/$"))
    expect(page.get_by_role("status").filter(has_text="Removed")).to_have_text(
        "Removed 'someone/*' from acme's allowlist."
    )
    expect(page.get_by_text("No entries.")).to_be_visible()
    assert not AllowlistEntry.objects.exists()


def developers_grant(acme):
    return Team.objects.get(organization=acme.org, name="developers").grant


def test_member_asks_for_an_exception_and_the_owner_approves_it(
    acme, new_page, sign_in, screenshot
):
    set_policy(acme.org, actor=acme.owner, enabled=True)

    # --- mike is refused and asks ----------------------------------------------------------
    member = new_page()
    sign_in(member, acme.member)
    open_org_permissions(member, "acme")
    check_image(member, "another/app:2.1")
    decision = member.get_by_test_id("decision")
    expect(decision.locator(".verdict")).to_have_text("✖ Blocked: docker.io/another/app:2.1")
    expect(decision.get_by_test_id("decision-rule")).to_have_text(
        re.compile(r"^Rule: Image category")
    )
    request_form = member.get_by_test_id("exception-form")
    request_form.get_by_label("Request an exception from acme's owners: why do you need it?").fill(
        "The release pipeline builds on it."
    )
    screenshot(member, "member-refused-asks")
    request_form.get_by_role("button", name="Request an exception").click()

    expect(member).to_have_url(re.compile(r"/settings/exception-requests/$"))
    expect(member.get_by_role("heading", name="Your own requests")).to_be_visible()
    expect(member.get_by_role("status")).to_have_text(
        "Your request for another/app was sent to acme's owners. You will find their answer here."
    )
    row = member.get_by_test_id("my-requests").locator("tbody tr")
    expect(row.locator("td").nth(4)).to_have_text("Pending")
    screenshot(member, "member-request-pending")

    # --- olivia answers from the Requests page ------------------------------------------
    owner = new_page()
    sign_in(owner, acme.owner)
    open_org_permissions(owner, "acme")
    open_section(owner, "Requests")
    request = owner.locator("article.request")
    expect(request).to_have_count(1)
    expect(request).to_contain_text("The release pipeline builds on it.")
    screenshot(owner, "owner-sees-pending")
    answer = request.get_by_test_id("answer-form")
    expect(answer.get_by_label("Allow")).to_have_value("another/app")
    in_30_days = (timezone.now() + timedelta(days=30)).date()
    expect(answer.get_by_label("Until")).to_have_value(f"{in_30_days:%Y-%m-%d}")
    answer.get_by_label("Allow").fill("unrelated/*")
    answer.get_by_role("button", name="Approve mike's request for another/app").click()
    # Refused: the request's own page, the error at its top, linked to the field.
    expect(owner.get_by_role("heading", name=re.compile(r"Exception request #\d+"))).to_be_visible()
    summary = owner.get_by_test_id("form-errors")
    expect(summary).to_contain_text(
        "`unrelated/*` does not cover the requested repository another/app."
    )
    expect(summary).to_be_in_viewport()
    expect(owner.get_by_test_id("approve-form").locator(".error")).to_have_text(
        "`unrelated/*` does not cover the requested repository another/app."
    )
    expect(owner.get_by_test_id("requester-decision")).to_contain_text("For mike now: ✖ Blocked")
    screenshot(owner, "owner-approval-refused")
    approve = owner.get_by_test_id("approve-form")
    approve.get_by_label("Allow").fill("another/*")
    approve.get_by_label("Note to the requester (optional)").fill("For one month.")
    approve.get_by_role("button", name="Approve").click()
    expect(owner).to_have_url(re.compile(r"/orgs/acme/settings/permissions/requests/$"))
    expect(owner.get_by_role("status").filter(has_text="Approved")).to_have_text(
        "Approved mike's request: 'another/*' is on the allowlist for the whole organization "
        f"(expires {in_30_days:%Y-%m-%d})."
    )
    expect(owner.locator("article.request")).to_have_count(0)
    screenshot(owner, "owner-approved")
    entry = AllowlistEntry.objects.get()
    assert (entry.pattern, entry.team) == ("another/*", None)

    # --- mike sees the answer, and can pull -------------------------------------------------
    member.reload()
    answer = member.get_by_test_id("my-requests").locator("tbody tr td").nth(5)
    expect(answer).to_contain_text(f"Approved by olivia, {timezone.now():%Y-%m-%d}")
    expect(answer).to_contain_text(
        f"'another/*' for the whole organization, expires {in_30_days:%Y-%m-%d}"
    )
    expect(answer).to_contain_text("“For one month.”")
    screenshot(member, "member-request-approved")
    member.get_by_role("link", name="acme").click()
    check_image(member, "another/app:2.1")
    expect(member.get_by_test_id("decision").locator(".verdict")).to_have_text(
        "✔ Allowed: docker.io/another/app:2.1"
    )
    expect(member.get_by_test_id("decision-rule")).to_have_text("Rule: Allowlist entry allowlist")
    screenshot(member, "member-allowed-after-approval")


def test_owner_declines_with_a_note(acme, new_page, sign_in, screenshot):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    member = new_page()
    sign_in(member, acme.member)
    member.goto("/orgs/acme/settings/permissions/exceptions/?image=someone/thing")
    expect(member.get_by_test_id("decision")).to_contain_text("✖ Blocked")
    member.get_by_label("Why do you need it?").fill("Testing.")
    member.get_by_role("button", name="Request an exception").click()
    request = ExceptionRequest.objects.get()

    owner = new_page()
    sign_in(owner, acme.owner)
    owner.goto(f"/orgs/acme/settings/permissions/exceptions/{request.pk}/")
    decline = owner.get_by_test_id("decline-form")
    decline.get_by_label("Note to the requester").fill("Use library/busybox instead.")
    decline.get_by_role("button", name="Decline").click()
    expect(owner).to_have_url(re.compile(r"/orgs/acme/settings/permissions/requests/$"))
    expect(owner.get_by_role("status").filter(has_text="Declined")).to_have_text(
        "Declined mike's request for someone/thing."
    )
    member.reload()
    row = member.get_by_test_id("my-requests").locator("tbody tr")
    expect(row.locator("td").nth(4)).to_have_text("Declined")
    expect(row.locator("td").nth(5)).to_contain_text("“Use library/busybox instead.”")
    screenshot(member, "member-request-declined")
