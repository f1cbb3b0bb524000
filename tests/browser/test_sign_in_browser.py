"""Settings > Enforce sign-in in a real browser: OS tabs, Copy buttons, owner-only access."""

import re

import pytest
from playwright.sync_api import expect

from policies import signin
from tests.browser.conftest import INSECURE_HOST

pytestmark = pytest.mark.browser

LINUX_MKDIR = "sudo mkdir -p /usr/share/docker-desktop/registry"
LINUX_TEE = (
    "printf '%s' '{\"allowedOrgs\":[\"acme\"]}'"
    " | sudo tee /usr/share/docker-desktop/registry/registry.json > /dev/null"
)
PANELS = ("windows", "macos", "linux")


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


def select_os(page, title, key):
    tab = page.get_by_role("tab", name=title)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    for other in PANELS:
        panel = page.get_by_test_id(f"panel-{other}")
        if other == key:
            expect(panel).to_be_visible()
        else:
            expect(panel).to_be_hidden()
    return page.get_by_test_id(f"panel-{key}")


def copy(page, panel, label):
    """Click the Copy button of the command labelled ``label``; returns the command's <pre>."""
    button = panel.get_by_role("button", name=f"Copy: {label}", exact=True)
    button.click()
    expect(button).to_have_text("Copied")
    return button.locator("xpath=preceding-sibling::pre")


def read_clipboard(page):
    return page.evaluate("navigator.clipboard.readText()")


def clear_clipboard(page):
    """The clipboard is shared by the whole browser: start each check from a known value."""
    page.evaluate("navigator.clipboard.writeText('(nothing copied yet)')")
    assert read_clipboard(page) == "(nothing copied yet)"


def test_linux_tab_and_copy_button(acme, page, sign_in, screenshot):
    # The texts hard-coded above are what the page must give, whatever signin.py builds.
    linux = signin.instructions_for("linux", signin.allowed_orgs(["acme"]))
    assert [c.text for c in linux.sections[0].commands][:2] == [LINUX_MKDIR, LINUX_TEE]

    sign_in(page, acme.owner)
    open_enforce_sign_in(page, "acme")
    expect(page.locator("#registry-json")).to_have_text('{"allowedOrgs":["acme"]}')
    expect(page.get_by_role("link", name="Download registry.json")).to_be_visible()

    # With the script running, the tabs appear and only the first OS (Windows) is shown.
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_text(["Windows", "macOS", "Linux"])
    expect(page.get_by_role("tab", name="Windows")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("panel-windows")).to_be_visible()
    expect(page.get_by_test_id("panel-linux")).to_be_hidden()
    screenshot(page, "windows-tab-default")

    panel = select_os(page, "Linux", "linux")
    expect(panel.get_by_role("heading", name="Linux")).to_be_visible()
    first = panel.locator(".cmd pre").first
    expect(first).to_have_text(LINUX_MKDIR)

    clear_clipboard(page)
    pre = copy(page, panel, "Create the folder")
    expect(pre).to_have_text(LINUX_MKDIR)
    assert read_clipboard(page) == LINUX_MKDIR
    screenshot(page, "linux-tab-copied")

    copy(page, panel, "Write registry.json")
    assert read_clipboard(page) == LINUX_TEE
    # The button label goes back to "Copy" after two seconds.
    expect(panel.get_by_role("button", name="Copy: Create the folder")).to_have_text(
        "Copy", timeout=5000
    )


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
    page.goto(f"{insecure_url}/orgs/acme/settings/sign-in/")
    assert page.evaluate("[window.isSecureContext, 'clipboard' in navigator]") == [False, False]

    panel = select_os(page, "Linux", "linux")
    copy(page, panel, "Write registry.json")
    screenshot(page, "insecure-origin-copied")
    reader.bring_to_front()
    assert read_clipboard(reader) == LINUX_TEE


def test_member_gets_403(acme, page, sign_in, screenshot):
    sign_in(page, acme.member)
    response = page.goto("/orgs/acme/settings/sign-in/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="403 · Not allowed")).to_be_visible()
    expect(page.get_by_text("Only owners of this organization can do that.")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your organizations")).to_be_visible()
    expect(page.locator("#registry-json")).to_have_count(0)
    expect(page.get_by_role("tab")).to_have_count(0)
    screenshot(page, "member-403")
