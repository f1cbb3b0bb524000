"""Browser tests: a real Chromium, driven by Playwright's sync API, against ``live_server``.

* Chromium is Debian's ``/usr/bin/chromium`` (Playwright's own download is not available
  here). When it is missing or does not start, :func:`tests.conftest.require_tool` skips the
  test locally and fails it in CI (``CI=true``).
* The machine has no network beyond loopback, so the flags turn off everything Chromium would
  otherwise fetch in the background.
* Screenshots are written, full page, to ``$SCREENSHOT_DIR`` (default
  ``<repo>/artifacts/screenshots``, git-ignored).
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error, expect, sync_playwright

from tests.conftest import require_tool
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# A host name that is not "localhost" or a loopback IP, so Chromium does NOT treat it as a
# secure context: this is how a portal served over plain HTTP on a LAN name looks to a browser
# (no ``navigator.clipboard``). ``--host-resolver-rules`` points it at the loopback live server.
INSECURE_HOST = "portal.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(
    os.environ.get("SCREENSHOT_DIR", str(REPO_ROOT / "artifacts" / "screenshots"))
)
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the tests of this package.

    Playwright's sync API runs an asyncio event loop in the main thread (in a greenlet) for as
    long as Playwright is started, so Django sees a *running* event loop in every ORM call made
    from the test or its fixtures (creating users, checking the database, flushing it) and
    raises ``SynchronousOnlyOperation``. Those calls are in fact synchronous and nothing else
    runs concurrently in this thread (the live server has its own thread), so
    ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while Playwright runs and restored afterwards. The
    scope is the package, not the session, so that Playwright's loop and the variable are gone
    before the rest of the suite runs.
    """
    if not os.path.exists(CHROMIUM):
        require_tool(False, f"Chromium at {CHROMIUM}")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Error as error:
            require_tool(
                False, f"Chromium at {CHROMIUM} (launch failed: {error.message.splitlines()[0]})"
            )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server, settings):
    """``new_page()`` opens a page in a fresh context (no cookies: a different user).

    The clipboard permissions are granted to the live server's origin. Uncaught JavaScript
    errors and failed static files are collected and fail the test at teardown.
    """
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, INSECURE_HOST]
    settings.SITE_URL = live_server.url  # e-mailed links lead to the running portal
    contexts, problems = [], []

    def _new_page():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        # The Content-Security-Policy allows no inline script or style: a violation is a bug.
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and problems.append(f"CSP violation: {message.text}")
            ),
        )
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and "/static/" in response.url
                and problems.append(f"{response.status} for {response.url}")
            ),
        )
        return page

    yield _new_page
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context."""
    return new_page()


@pytest.fixture
def sign_in():
    """``sign_in(page, user)``: open the home page (which sends visitors to the login form) and
    sign in through that form as a user would."""

    def _sign_in(page, user, *, base=""):
        page.goto(base + "/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".whoami")).to_have_text(f"Signed in as {user.username}")

    return _sign_in


@pytest.fixture
def screenshot(request):
    """``screenshot(page, name)`` writes a full-page PNG and returns its path.

    Files are named ``<test name>--<name>.png``.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def _screenshot(page, name: str) -> Path:
        path = SCREENSHOT_DIR / f"{test_name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _screenshot
