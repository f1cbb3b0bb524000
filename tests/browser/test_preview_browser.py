"""Org Permissions in a real browser: previewing unsaved settings, checking an image against
them without losing them, the confirmation a blocking save asks for, the warning before leaving
with unsaved choices; and the activity pages."""

import re

import pytest
from playwright.sync_api import expect

from policies.models import AccessPolicy, PolicyChange
from tests.factories import record_pulls, set_policy

pytestmark = pytest.mark.browser

PAGE = "/orgs/acme/settings/permissions/"


@pytest.fixture
def pulled(acme):
    """With management off, mike pulled ubuntu and someone/thing, and acme/app."""
    record_pulls(acme.member, "library/ubuntu", "someone/thing", "acme/app")
    record_pulls(acme.member, "library/ubuntu")


def saved(acme):
    return AccessPolicy.objects.get(organization=acme.org)


def test_preview_check_and_confirm_keep_the_draft(acme, pulled, page, sign_in, screenshot):
    sign_in(page, acme.owner)
    page.goto(PAGE)
    page.get_by_role("switch", name="Image Access Management: Off").check()
    unsaved = page.get_by_test_id("unsaved")
    expect(unsaved).to_be_visible()

    # Checking an image submits the draft with it: nothing is saved, nothing is lost.
    page.get_by_label("Image reference").fill("ubuntu")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page).to_have_url(re.compile(r"/permissions/preview/#check$"))
    expect(page.get_by_role("switch", name="Image Access Management: On")).to_be_checked()
    expect(unsaved).to_be_visible()
    expect(page.get_by_label("Image reference")).to_have_value("ubuntu")
    expect(page.get_by_test_id("member-decision").locator(".verdict")).to_contain_text("✔ Allowed")
    draft = page.get_by_test_id("draft-decision")
    expect(draft.locator(".verdict")).to_contain_text("✖ Blocked")
    expect(draft).to_contain_text("Docker Official Images are blocked by acme")
    expect(page.get_by_test_id("announcer")).to_contain_text(
        "For members, unsaved settings: Blocked"
    )
    # The check also previews the draft's impact.
    impact = page.get_by_test_id("impact")
    expect(impact.get_by_test_id("impact-blocked")).to_contain_text(
        "3 requests by 1 member would have been blocked"
    )
    expect(impact.get_by_test_id("impact-not-saved")).to_be_visible()
    screenshot(page, "check-against-draft")
    assert saved(acme).enabled is False

    # Saving asks first, listing what it would block; still nothing saved.
    page.get_by_role("button", name="Save changes").click()
    expect(impact.get_by_role("heading", level=3)).to_have_text(
        "Confirm: these settings block pulls members made recently"
    )
    expect(impact).to_be_focused()
    expect(impact).to_contain_text("library/ubuntu")
    expect(impact).to_contain_text("someone/thing")
    expect(impact.get_by_text("mike", exact=True)).to_be_visible()
    expect(page.get_by_role("switch", name="Image Access Management: On")).to_be_checked()
    screenshot(page, "confirmation")
    assert saved(acme).enabled is False and PolicyChange.objects.count() == 0

    impact.get_by_role("button", name="Save and block these pulls").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_have_text(
        "Saved. Image Access Management: Off → On."
    )
    expect(page.get_by_test_id("unsaved")).to_be_hidden()
    screenshot(page, "saved-after-confirmation")
    assert saved(acme).enabled is True


def test_preview_button_shows_the_impact_and_saves_nothing(acme, pulled, page, sign_in, screenshot):
    sign_in(page, acme.owner)
    page.goto(PAGE)
    page.get_by_role("switch", name="Image Access Management: Off").check()
    page.get_by_role("switch", name="Audit-only mode: Off").check()
    page.get_by_role("button", name="Preview impact").click()
    impact = page.get_by_test_id("impact")
    expect(impact).to_be_in_viewport()
    expect(impact.get_by_test_id("impact-would-block")).to_contain_text(
        "3 requests by 1 member would be recorded as “would be blocked”"
    )
    expect(impact.get_by_test_id("impact-blocked")).to_have_count(0)
    expect(page.get_by_role("switch", name="Audit-only mode: On")).to_be_checked()
    screenshot(page, "preview-audit-only")
    assert saved(acme).enabled is False
    # Audit-only blocks nothing: saving needs no confirmation.
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("iam-status")).to_contain_text(
        "Image Access Management is enabled in audit-only mode."
    )
    assert (saved(acme).enabled, saved(acme).audit_only) == (True, True)


def test_leaving_with_unsaved_changes_asks_first(acme, page, sign_in):
    sign_in(page, acme.owner)
    page.goto(PAGE)
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss() if len(dialogs) == 1 else dialog.accept()

    page.on("dialog", answer)
    # Nothing changed: leaving asks nothing.
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Teams").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/teams/$"))
    assert dialogs == []
    page.goto(PAGE)
    page.get_by_role("switch", name="Docker Official Images: Restricted").check()
    members = page.get_by_role("navigation", name="Organization").get_by_role(
        "link", name="Members"
    )
    members.click()
    expect(page).to_have_url(re.compile(r"/settings/permissions/$"))  # stayed
    expect(page.get_by_role("switch", name="Docker Official Images: Allowed")).to_be_checked()
    assert dialogs == ["beforeunload"]
    # Saving a team grant would lose the unsaved policy choice too: asked again, then left.
    members.click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/$"))
    assert dialogs == ["beforeunload", "beforeunload"]
    assert saved(acme).allow_official_images is False


def test_owners_activity_page_and_csv(acme, page, sign_in, screenshot):
    record_pulls(acme.member, "library/ubuntu", "someone/thing")
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    record_pulls(acme.member, "library/ubuntu", "someone/thing", "bitnami/redis")
    sign_in(page, acme.owner)
    page.goto("/orgs/acme/")
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Pull activity")).to_be_visible()
    expect(page.get_by_test_id("top-images")).to_contain_text("someone/thing")
    expect(page.get_by_test_id("activity").locator("tbody tr")).to_have_count(5)
    screenshot(page, "activity")
    page.get_by_label("Outcome").select_option("blocked")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("activity").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Blocked")
    with page.expect_download() as download:
        page.get_by_test_id("csv-link").click()
    text = download.value.path().read_text()
    assert text.count("\n") == 3 and ",blocked," in text and ",allowed," not in text
    screenshot(page, "activity-filtered")


def test_members_own_activity(acme, page, sign_in, screenshot):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=True)
    record_pulls(acme.member, "someone/thing")
    record_pulls(acme.owner, "someone/other")
    sign_in(page, acme.member)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pull activity").click()
    rows = page.get_by_test_id("activity").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Would be blocked")
    expect(rows.first).to_contain_text("acme is in audit-only mode")
    screenshot(page, "my-activity")
    # Members cannot open the owners' page.
    response = page.goto("/orgs/acme/activity/")
    assert response.status == 403
