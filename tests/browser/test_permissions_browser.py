"""Settings > Org Permissions in a real browser: the owner edits, a member reads and checks."""

import re

import pytest
from playwright.sync_api import expect

from policies.models import AccessPolicy
from tests.factories import set_policy

pytestmark = pytest.mark.browser


def open_org_permissions(page, org_name):
    """Organizations (main navigation) -> the organisation -> Settings (Org Permissions)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations").click()
    expect(page.get_by_role("heading", name="Organizations", exact=True)).to_be_visible()
    page.get_by_role("link", name=org_name, exact=True).click()
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(rf"/orgs/{org_name}/settings/permissions/$"))
    expect(
        page.get_by_role("navigation", name="Settings").get_by_role("link", name="Org Permissions")
    ).to_have_attribute("aria-current", "page")
    expect(
        page.get_by_role("navigation", name="Org Permissions").get_by_role("link", name="Policy")
    ).to_have_attribute("aria-current", "page")


def open_section(page, name):
    """One of Org Permissions' pages, through its sub-navigation."""
    tabs = page.get_by_role("navigation", name="Org Permissions")
    tabs.get_by_role("link", name=name).click()
    expect(tabs.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")


def category_row(page, label):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label))


def check_image(page, text):
    page.get_by_label("Image reference").fill(text)
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?image=.*#check$"))


def test_owner_enables_policy_and_member_sees_it_read_only(acme, new_page, sign_in, screenshot):
    # --- olivia, owner of acme -------------------------------------------------------------
    page = new_page()
    sign_in(page, acme.owner)
    open_org_permissions(page, "acme")

    expect(page.get_by_test_id("iam-status")).to_have_text(
        "Image Access Management is disabled. Members can pull any image."
    )
    expect(page.get_by_test_id("state-official")).to_have_text("Saved: Restricted")
    expect(page.get_by_test_id("state-verified")).to_have_text("Saved: Restricted")
    # While management is off, the categories say so and look off.
    categories = page.get_by_test_id("categories")
    expect(categories).to_have_class(re.compile(r"\bis-off\b"))
    expect(
        categories.get_by_text("Not applied while Image Access Management is off")
    ).to_be_visible()
    screenshot(page, "owner-before-save")

    # Each setting is a switch whose accessible name says what it is and its state.
    enable = page.get_by_role("switch", name="Image Access Management: Off")
    official = category_row(page, "Docker Official Images").get_by_role(
        "switch", name="Docker Official Images: Restricted"
    )
    verified = page.get_by_role("switch", name="Docker Verified Publisher images: Restricted")
    expect(enable).not_to_be_checked()
    expect(official).not_to_be_checked()
    expect(verified).not_to_be_checked()
    expect(page.get_by_test_id("unsaved")).to_be_hidden()
    enable.check()
    expect(page.get_by_role("switch", name="Image Access Management: On")).to_be_checked()
    expect(categories).not_to_have_class(re.compile(r"\bis-off\b"))
    page.get_by_role("switch", name="Docker Official Images: Restricted").check()
    official = page.get_by_role("switch", name="Docker Official Images: Allowed")
    expect(official).to_be_checked()
    expect(page.get_by_test_id("unsaved")).to_have_text("Unsaved changes")
    expect(page.get_by_test_id("announcer")).to_have_text(
        "Docker Official Images: Allowed (not saved)"
    )
    page.get_by_role("button", name="Save changes").click()

    # The success message says what changed, and the live region announces it.
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_have_text(
        "Saved. Image Access Management: Off → On; Docker Official Images: Restricted → Allowed."
    )
    expect(page.get_by_test_id("announcer")).to_contain_text("Saved. Image Access Management")
    expect(page.get_by_test_id("iam-status")).to_have_text(
        "Image Access Management is enabled. Members can pull only the image types allowed below."
    )
    expect(page.get_by_test_id("state-organization")).to_have_text("Always allowed")
    expect(page.get_by_test_id("state-official")).to_have_text("Saved: Allowed")
    expect(page.get_by_test_id("state-verified")).to_have_text("Saved: Restricted")
    expect(page.get_by_test_id("state-community")).to_have_text("Always blocked")
    expect(page.get_by_role("switch", name="Image Access Management: On")).to_be_checked()
    expect(official).to_be_checked()
    expect(verified).not_to_be_checked()
    expect(page.get_by_test_id("unsaved")).to_be_hidden()

    screenshot(page, "owner-after-save")
    open_section(page, "History")
    history = page.get_by_test_id("history").locator("tbody tr")
    expect(history).to_have_count(1)
    expect(history.locator("td").nth(1)).to_have_text("olivia")
    expect(history.locator("td").nth(2).locator("li")).to_have_text(
        ["Image Access Management: Off → On", "Docker Official Images: Restricted → Allowed"],
        ignore_case=False,
    )

    policy = AccessPolicy.objects.get(organization=acme.org)
    assert (policy.enabled, policy.allow_official_images, policy.allow_verified_publishers) == (
        True,
        True,
        False,
    )

    # --- mike, member of acme, in his own browser context -----------------------------------
    page = new_page()
    sign_in(page, acme.member)
    open_org_permissions(page, "acme")

    expect(page.locator(".org-header .badge")).to_have_text("Member")
    expect(page.get_by_test_id("iam-status")).to_have_text(
        "Image Access Management is enabled. Members can pull only the image types allowed below."
    )
    expect(page.get_by_test_id("state-official")).to_have_text("Allowed")
    expect(page.get_by_test_id("state-verified")).to_have_text("Restricted")
    # The introduction speaks to the member, not to owners.
    expect(
        page.get_by_text("These settings decide which Docker Hub images you can pull")
    ).to_be_visible()
    expect(page.get_by_text("Choose which kinds of Docker Hub images")).to_have_count(0)
    expect(page.get_by_test_id("readonly-note")).to_have_text(
        "You are viewing these settings read-only. Only owners of acme can change them."
    )
    # Nothing in the policy part of the page can be changed: no switch, no checkbox and no
    # Save button anywhere (the only form left is "Check an image").
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("switch")).to_have_count(0)
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    expect(
        page.locator("form[method=post]").filter(has=page.locator("[name=enabled]"))
    ).to_have_count(0)
    # Enforce sign-in is owner-only, so members are not offered a link that ends in a 403.
    settings_nav = page.get_by_role("navigation", name="Settings")
    expect(settings_nav.get_by_role("link")).to_have_text(["Org Permissions"])
    screenshot(page, "member-read-only")
    open_section(page, "History")
    expect(page.get_by_test_id("history").locator("tbody tr td").nth(1)).to_have_text("olivia")


def test_member_checks_images(acme, page, sign_in, screenshot):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True, publishers=False)
    sign_in(page, acme.member)
    open_org_permissions(page, "acme")
    decision = page.get_by_test_id("decision")
    expect(decision).to_have_count(0)

    check_image(page, "bitnami/redis")
    expect(decision).to_be_visible()
    expect(decision.locator(".verdict")).to_have_text("✖ Blocked: docker.io/bitnami/redis:latest")
    expect(decision).to_contain_text("Category: Docker Verified Publisher images · decided by acme")
    expect(decision).to_contain_text(
        "Docker Verified Publisher images are blocked by acme's Image Access Management."
    )
    expect(decision).to_have_class(re.compile(r"\bdecision-blocked\b"))
    expect(decision).to_be_in_viewport()
    screenshot(page, "bitnami-redis-blocked")

    check_image(page, "ubuntu")
    expect(decision.locator(".verdict")).to_have_text("✔ Allowed: docker.io/library/ubuntu:latest")
    expect(decision).to_contain_text("Category: Docker Official Images · decided by acme")
    expect(decision).to_contain_text(
        "Docker Official Images are allowed by acme's Image Access Management."
    )
    expect(decision).to_have_class(re.compile(r"\bdecision-allowed\b"))
    screenshot(page, "ubuntu-allowed")

    check_image(page, "Ubuntu")
    expect(decision).to_have_count(0)
    field = page.get_by_label("Image reference")
    expect(field).to_have_value("Ubuntu")
    expect(page.locator("#id_image_error .error")).to_have_text(
        "Invalid image reference 'Ubuntu': repository name must be lowercase."
    )
    # The field is outlined in the error colour (--bad), not the usual grey.
    expect(field).to_have_css("border-top-color", "rgb(180, 35, 24)")
    screenshot(page, "uppercase-invalid")
