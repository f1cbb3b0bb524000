"""The layout every page shares, and the account pages, in a real Chromium: skip link, focus,
the top bar's menu on a phone, tokens, forgetting a password, signing out."""

import re

import pytest
from playwright.sync_api import expect

from tokens.models import AccessToken
from tokens.services import access_token_create, access_token_revoke

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_skip_link_is_first_and_visible_when_focused(acme, page, sign_in, screenshot):
    sign_in(page, acme.member)
    page.goto("/orgs/")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"  # focus is visible
    screenshot(page, "skip-link-focused")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab goes into the page's content, past the top bar.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('header')") is None


def test_the_top_bar_folds_into_a_menu_on_a_phone(acme, phone, sign_in, screenshot):
    sign_in(phone, acme.member)
    phone.goto("/orgs/")
    menu = phone.get_by_role("button", name="Menu")
    main_nav = phone.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(main_nav).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "menu-closed")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(main_nav).to_be_visible()
    expect(phone.get_by_role("button", name="Sign out")).to_be_in_viewport()
    screenshot(phone, "menu-open")
    phone.keyboard.press("Escape")
    expect(main_nav).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    main_nav.get_by_role("link", name="Access tokens").click()
    expect(phone).to_have_url(re.compile(r"/settings/tokens/$"))
    expect(phone.get_by_role("heading", name="Access tokens", level=1)).to_be_visible()


def test_without_javascript_the_menu_is_simply_open(acme, browser, live_server, sign_in):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, acme.member)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_tokens_login_command_expiry_and_clean_up(acme, page, sign_in, settings, screenshot):
    settings.REGISTRY_HOST = "registry.acme.example"
    old, _ = access_token_create(user=acme.member, name="old-ci")
    access_token_revoke(token=old)
    sign_in(page, acme.member)
    page.goto("/settings/tokens/")

    login_command = page.locator("#login-docker")
    expect(login_command).to_have_text("docker login registry.acme.example -u mike")
    page.get_by_role("button", name="Copy the docker login command").click()
    expect(page.get_by_test_id("live-region")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "docker login registry.acme.example -u mike"
    )

    expect(page.get_by_label("Expires after (days)")).to_have_value("90")
    page.get_by_label("Token name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text(re.compile(r"It expires \d{4}-.* UTC"))
    screenshot(page, "created")

    # The revoked token is hidden until asked for, then deleted after confirming.
    tokens = page.get_by_test_id("tokens")
    expect(tokens).not_to_contain_text("old-ci")
    page.get_by_role("link", name="Show 1 revoked or expired").click()
    expect(tokens).to_contain_text("old-ci")
    page.get_by_role("link", name="Delete token old-ci").click()
    expect(page.get_by_role("heading", name=re.compile("Delete token 'old-ci'"))).to_be_visible()
    page.get_by_role("button", name="Delete token").click()
    expect(page.locator(".messages")).to_contain_text("Token 'old-ci' deleted.")
    assert list(AccessToken.objects.values_list("name", flat=True)) == ["laptop"]
    screenshot(page, "deleted")


def test_forgot_password_then_sign_in_with_the_new_one(
    acme, page, screenshot, mailoutbox, live_server
):
    acme.member.email = "mike@example.com"
    acme.member.save()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill("mike@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    (mail,) = mailoutbox
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    screenshot(page, "choose-new-password")
    page.get_by_label("New password", exact=True).fill("a-new-long-passphrase-42")
    page.get_by_label("New password confirmation").fill("a-new-long-passphrase-42")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Username").fill("mike")
    page.get_by_label("Password").fill("a-new-long-passphrase-42")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_have_text("Signed in as mike")

    # Profile, then sign out: the sign-in page says it worked.
    page.locator(".whoami").click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    page.get_by_label("First name").fill("Mike")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator(".messages")).to_have_text("Profile saved.")
    expect(page.get_by_test_id("live-region")).to_have_text("Profile saved.")  # announced
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".messages")).to_have_text("You have been signed out.")
    screenshot(page, "signed-out")
