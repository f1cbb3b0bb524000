"""The owners' inbox and feedback where one acts, in a real browser.

* The inbox flow: a member asks for an exception, the count appears on the owner's top
  navigation and the organisation's, the owner approves from the Requests page, the member sees
  the answer.
* After each action (policy save, allowlist add and remove, team grants save, request approve
  and decline) the success message is inside the viewport, at a desktop's size and a phone's.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from policies.models import AllowlistEntry, ExceptionRequest
from tests.browser.test_permissions_browser import check_image, open_section
from tests.factories import PASSWORD, add_entry, ask_exception, set_policy

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def assert_in_viewport(page, locator):
    """``locator``'s box lies entirely inside the viewport, as the page opened (no scrolling)."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    size = page.viewport_size
    scrolled = page.evaluate("[window.scrollX, window.scrollY]")
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, (box, scrolled)
    assert box["x"] + box["width"] <= size["width"], (box, size)
    assert box["y"] + box["height"] <= size["height"], (box, size, scrolled)


def add_to_allowlist(page, pattern):
    open_section(page, "Allowlist")
    form = page.get_by_test_id("allowlist-form")
    form.get_by_label("Repository pattern").fill(pattern)
    form.get_by_label("Reason").fill("CI")
    form.get_by_role("button", name="Add to allowlist").click()


def message(page, text):
    return page.locator(".messages .message").filter(has_text=text)


def test_the_inbox_flow(acme, new_page, sign_in, screenshot):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    owner = new_page()
    sign_in(owner, acme.owner)
    main_nav = owner.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_test_id("nav-requests-count")).to_have_count(0)

    # --- mike is refused, asks, and cannot ask twice ----------------------------------------
    member = new_page()
    sign_in(member, acme.member)
    member.goto("/orgs/acme/settings/permissions/")
    check_image(member, "another/app:2.1")
    form = member.get_by_test_id("exception-form")
    form.get_by_label(re.compile("why do you need it")).fill("The release pipeline needs it.")
    form.get_by_role("button", name="Request an exception").click()
    expect(message(member, "Your request for another/app was sent")).to_be_visible()
    member.goto("/orgs/acme/settings/permissions/")
    check_image(member, "another/app:2.1")
    decision = member.get_by_test_id("decision")
    expect(decision.locator(".verdict")).to_have_text("✖ Blocked: docker.io/another/app:2.1")
    expect(decision.get_by_test_id("request-pending")).to_contain_text("Request pending since")
    expect(member.get_by_test_id("exception-form")).to_have_count(0)
    screenshot(member, "member-request-pending")

    # --- olivia sees the count, follows it, approves ------------------------------------------
    owner.reload()
    count = main_nav.get_by_test_id("nav-requests-count")
    expect(count).to_have_text("1 waiting for your answer")
    main_nav.get_by_role("link", name=re.compile("^Exception requests")).click()
    inbox = owner.get_by_test_id("owner-inbox")
    expect(inbox).to_contain_text("acme: 1 request")
    screenshot(owner, "owner-inbox")
    inbox.get_by_role("link", name="acme: 1 request").click()
    expect(owner).to_have_url(re.compile(r"/orgs/acme/settings/permissions/requests/$"))
    organization_nav = owner.get_by_role("navigation", name="Organization")
    expect(organization_nav.get_by_test_id("org-requests-count")).to_contain_text("1")
    tabs = owner.get_by_role("navigation", name="Org Permissions")
    expect(tabs.get_by_role("link", name=re.compile("^Requests"))).to_have_attribute(
        "aria-current", "page"
    )
    request = owner.locator("article.request")
    expect(request).to_contain_text("The release pipeline needs it.")
    screenshot(owner, "owner-requests")
    request.get_by_role("button", name="Approve mike's request for another/app").click()
    approved = message(owner, "Approved mike's request")
    assert_in_viewport(owner, approved)
    expect(owner.get_by_test_id("no-requests")).to_be_visible()
    expect(main_nav.get_by_test_id("nav-requests-count")).to_have_count(0)
    expect(organization_nav.get_by_test_id("org-requests-count")).to_have_count(0)
    screenshot(owner, "owner-approved")

    # --- mike sees the answer -----------------------------------------------------------------
    member.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Exception requests"
    ).click()
    row = member.get_by_test_id("my-requests").locator("tbody tr")
    expect(row.locator("td").nth(4)).to_have_text("Approved")
    member.goto("/orgs/acme/settings/permissions/")
    check_image(member, "another/app:2.1")
    expect(member.get_by_test_id("decision").locator(".verdict")).to_have_text(
        "✔ Allowed: docker.io/another/app:2.1"
    )
    screenshot(member, "member-approved")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_actions_message_is_in_view(acme, new_page, sign_in, screenshot, size):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    add_entry(acme.org, "old/*", actor=acme.owner)
    for number in range(30):  # a long allowlist: the add form stays at the top
        add_entry(acme.org, f"tool{number:02}/*", actor=acme.owner)
    first = ask_exception(acme.org, acme.member, "first/app")
    ask_exception(acme.org, acme.member, "second/app")
    page = new_page()
    page.set_viewport_size(SIZES[size])
    sign_in(page, acme.owner)

    # The policy.
    page.goto("/orgs/acme/settings/permissions/")
    page.get_by_role("switch", name="Docker Official Images: Restricted").check()
    page.get_by_role("button", name="Save changes").click()
    assert_in_viewport(page, message(page, "Saved. Docker Official Images"))
    screenshot(page, f"{size}-policy-saved")

    # The allowlist: add, then remove.
    add_to_allowlist(page, "new/*")
    assert_in_viewport(page, message(page, "Added 'new/*'"))
    screenshot(page, f"{size}-allowlist-added")
    page.get_by_role("link", name="Remove old/* for the whole organization").click()
    page.get_by_role("button", name="Remove entry").click()
    assert_in_viewport(page, message(page, "Removed 'old/*'"))
    assert not AllowlistEntry.objects.filter(pattern="old/*").exists()

    # The team grants.
    open_section(page, "Team grants")
    page.get_by_label("Allowed for team developers: Community images").check()
    page.get_by_role("button", name="Save team grants").click()
    assert_in_viewport(page, message(page, "Saved the team grants"))
    screenshot(page, f"{size}-grants-saved")

    # The requests: approve one, decline the other (with a note).
    open_section(page, "Requests")
    page.get_by_role("button", name="Approve mike's request for first/app").click()
    assert_in_viewport(page, message(page, "Approved mike's request"))
    request = page.locator("article.request")
    request.get_by_label("Note to the requester (optional)").fill("Use library/busybox.")
    request.get_by_role("button", name="Decline mike's request for second/app").click()
    assert_in_viewport(page, message(page, "Declined mike's request"))
    screenshot(page, f"{size}-request-declined")
    first.refresh_from_db()
    assert first.status == ExceptionRequest.Status.APPROVED
    assert ExceptionRequest.objects.get(repository="second/app").note == "Use library/busybox."


def test_declining_without_a_note_shows_the_error_at_the_top(acme, page, sign_in):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    ask_exception(acme.org, acme.member, "first/app")
    sign_in(page, acme.owner)
    page.goto("/orgs/acme/settings/permissions/requests/")
    page.get_by_role("button", name="Decline mike's request for first/app").click()
    summary = page.get_by_test_id("form-errors")
    assert_in_viewport(page, summary)
    summary.get_by_role("link", name="Note to the requester").click()
    expect(
        page.get_by_test_id("decline-form").get_by_label("Note to the requester")
    ).to_be_focused()
    assert ExceptionRequest.objects.get().is_pending
    assert timezone.now() - ExceptionRequest.objects.get().created_at < timedelta(minutes=5)


def test_without_javascript_the_messages_are_in_view_too(acme, browser, live_server):
    """The same pages with JavaScript off (a phone's size): the forms post, the pages open at
    the top with the message."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    ask_exception(acme.org, acme.member, "first/app")
    context = browser.new_context(
        base_url=live_server.url, viewport=SIZES["phone"], java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(acme.owner.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/orgs/acme/settings/permissions/teams/")
        page.get_by_label("Allowed for team developers: Community images").check()
        page.get_by_role("button", name="Save team grants").click()
        assert_in_viewport(page, message(page, "Saved the team grants"))
        add_to_allowlist(page, "new/*")
        assert_in_viewport(page, message(page, "Added 'new/*'"))
        open_section(page, "Requests")
        page.get_by_label("Note to the requester (optional)").fill("No.")
        page.get_by_role("button", name="Decline mike's request for first/app").click()
        assert_in_viewport(page, message(page, "Declined mike's request"))
    finally:
        context.close()
