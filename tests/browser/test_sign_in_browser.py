"""Settings > Enforce sign-in in a real browser: the OS is preselected from the browser, the OS
tabs follow the WAI-ARIA pattern (and are plain links without JavaScript), Copy buttons copy
and announce it, owners only."""

import re

import pytest
from playwright.sync_api import expect

from signin import files, instructions
from tests.browser.conftest import INSECURE_HOST

pytestmark = pytest.mark.browser

LINUX_ACTION = (
    "sudo mkdir -p /usr/share/docker-desktop/registry\n"
    "printf '%s' '{\"allowedOrgs\":[\"acme\"]}'"
    " | sudo tee /usr/share/docker-desktop/registry/registry.json > /dev/null"
)
PANELS = ("windows", "macos", "linux")
MAC_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def open_enforce_sign_in(page, org_name):
    """Organizations -> the organisation -> Settings -> Enforce sign-in."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organizations").click()
    page.get_by_role("link", name=org_name, exact=True).click()
    page.get_by_role("navigation", name="Organization").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role(
        "link", name="Enforce sign-in"
    ).click()
    expect(page).to_have_url(re.compile(rf"/orgs/{org_name}/settings/sign-in/$"))
    expect(page.get_by_role("heading", name="Enforce sign-in")).to_be_visible()


def expect_selected(page, key):
    for other in PANELS:
        tab = page.locator(f"#tab-{other}")
        panel = page.get_by_test_id(f"panel-{other}")
        if other == key:
            expect(tab).to_have_attribute("aria-selected", "true")
            expect(tab).to_have_attribute("tabindex", "0")
            expect(panel).to_be_visible()
        else:
            expect(tab).to_have_attribute("aria-selected", "false")
            expect(tab).to_have_attribute("tabindex", "-1")
            expect(panel).to_be_hidden()
    return page.get_by_test_id(f"panel-{key}")


def read_clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def clear_clipboard(page):
    """The clipboard is shared by the whole browser: start each check from a known value."""
    page.evaluate("navigator.clipboard.writeText('(nothing copied yet)')")
    assert read_clipboard(page) == "(nothing copied yet)"


def test_tabs_keyboard_copy_and_announcement(acme, page, sign_in, screenshot):
    # The texts hard-coded above are what the page must give, whatever instructions.py builds.
    linux = instructions.instructions_for("linux", files.allowed_orgs(["acme"]))
    assert linux.recommended.action.text == LINUX_ACTION

    sign_in(page, acme.owner)
    open_enforce_sign_in(page, "acme")
    # Headless Chromium says "X11; Linux" in its User-Agent: Linux comes first.
    tabs = page.get_by_role("tablist", name="Operating system").get_by_role("tab")
    expect(tabs).to_have_text(["Windows", "macOS", "Linux"])
    panel = expect_selected(page, "linux")
    expect(panel.get_by_role("heading", name="Linux: registry.json Recommended")).to_be_visible()
    expect(page.get_by_role("tabpanel")).to_have_count(1)  # only the selected one is exposed
    screenshot(page, "linux-preselected")

    # WAI-ARIA tabs: arrows move and wrap, Home and End jump; the address follows.
    page.get_by_role("tab", name="Linux").focus()
    page.keyboard.press("ArrowRight")
    expect_selected(page, "windows")
    expect(page.get_by_role("tab", name="Windows")).to_be_focused()
    expect(page).to_have_url(re.compile(r"\?os=windows$"))
    page.keyboard.press("ArrowLeft")
    expect_selected(page, "linux")
    page.keyboard.press("Home")
    expect_selected(page, "windows")
    page.keyboard.press("End")
    expect_selected(page, "linux")
    page.keyboard.press("ArrowLeft")
    panel = expect_selected(page, "macos")
    expect(
        panel.get_by_role("heading", name="macOS: Configuration profile Recommended")
    ).to_be_visible()
    expect(panel.get_by_role("link", name="Download docker.mobileconfig")).to_have_attribute(
        "href", "/orgs/acme/settings/sign-in/docker.mobileconfig"
    )
    # Tab leaves the tab list for the panel: the other tabs are not in the Tab order.
    page.keyboard.press("Tab")
    expect(panel).to_be_focused()
    screenshot(page, "macos-by-keyboard")

    page.get_by_role("tab", name="Linux").click()
    panel = expect_selected(page, "linux")
    clear_clipboard(page)
    button = panel.get_by_role("button", name="Copy the registry.json commands")
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.get_by_test_id("live-region")).to_have_text("Copied")
    assert read_clipboard(page) == LINUX_ACTION
    screenshot(page, "linux-copied")
    # The label goes back to "Copy" after two seconds.
    expect(button).to_have_text("Copy", timeout=5000)

    # A reload keeps the chosen system.
    page.get_by_role("tab", name="Windows").click()
    page.reload()
    expect_selected(page, "windows")


def test_alternatives_are_folded_and_downloads_are_links(acme, page, sign_in, screenshot):
    sign_in(page, acme.owner)
    page.goto("/orgs/acme/settings/sign-in/?os=windows")
    panel = page.get_by_test_id("panel-windows")
    registry_json = panel.get_by_test_id("method-windows-registry-json")
    expect(registry_json.locator("pre").first).to_be_hidden()
    registry_json.get_by_text("Alternative: registry.json").click()
    expect(registry_json.locator("pre").first).to_be_visible()
    expect(registry_json.get_by_role("link", name="registry.json")).to_have_attribute(
        "href", "/orgs/acme/settings/sign-in/registry.json"
    )
    with page.expect_download() as download:
        panel.get_by_role("link", name="docker-desktop-allowed-orgs.reg").click()
    assert download.value.suggested_filename == "docker-desktop-allowed-orgs.reg"
    # Nothing visible is said twice (the numbered step labels aside).
    visible = page.locator("main p:not(.step):visible").all_inner_texts()
    repeated = {text for text in visible if visible.count(text) > 1 and text.strip()}
    assert not repeated, repeated
    screenshot(page, "windows-registry-json-open")


def test_without_javascript_the_systems_are_links(acme, browser, live_server, sign_in, screenshot):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, user_agent=MAC_UA
    )
    try:
        page = context.new_page()
        sign_in(page, acme.owner)
        page.goto("/orgs/acme/settings/sign-in/")
        expect(page.get_by_role("tab")).to_have_count(0)
        expect(page.get_by_test_id("panel-macos")).to_be_visible()
        expect(page.get_by_test_id("panel-windows")).to_be_hidden()
        expect(page.get_by_role("button", name=re.compile("^Copy"))).to_have_count(0)
        page.get_by_role("link", name="Windows", exact=True).click()
        expect(page).to_have_url(re.compile(r"\?os=windows$"))
        expect(page.get_by_test_id("panel-windows")).to_be_visible()
        expect(page.get_by_test_id("panel-macos")).to_be_hidden()
        screenshot(page, "no-javascript-windows")
    finally:
        context.close()


def test_copy_falls_back_to_exec_command_without_secure_context(
    acme, new_page, sign_in, live_server, screenshot
):
    """Served over plain HTTP on a non-loopback host name, a page is not a secure context and
    has no ``navigator.clipboard``: copy.js then copies through a hidden textarea and
    ``document.execCommand("copy")``. Nothing is stubbed: the host name only resolves to the
    live server through Chromium's ``--host-resolver-rules``."""
    insecure_url = live_server.url.replace("localhost", INSECURE_HOST).replace(
        "127.0.0.1", INSECURE_HOST
    )
    # A second tab on the (secure) loopback origin reads the browser-wide clipboard.
    page = new_page()
    reader = page.context.new_page()
    reader.goto(f"{live_server.url}/healthz")
    clear_clipboard(reader)
    page.bring_to_front()  # a background tab gets throttled animation frames: slow clicks

    sign_in(page, acme.owner, base=insecure_url)
    page.goto(f"{insecure_url}/orgs/acme/settings/sign-in/?os=linux")
    assert page.evaluate("[window.isSecureContext, 'clipboard' in navigator]") == [False, False]

    button = page.get_by_test_id("panel-linux").get_by_role(
        "button", name="Copy the registry.json commands"
    )
    button.click()
    expect(button).to_have_text("Copied")
    screenshot(page, "insecure-origin-copied")
    reader.bring_to_front()
    assert read_clipboard(reader) == LINUX_ACTION


def test_member_gets_403(acme, page, sign_in, screenshot):
    sign_in(page, acme.member)
    response = page.goto("/orgs/acme/settings/sign-in/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="403 · Not allowed")).to_be_visible()
    expect(page.get_by_text("Only owners of acme can do that.")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your organizations")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)
    screenshot(page, "member-403")
