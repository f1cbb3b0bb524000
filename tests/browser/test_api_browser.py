"""The API's docs page (Swagger UI, served from this server) under the portal's
Content-Security-Policy, used as a signed-in owner would; and the scope choice on the tokens
page, in a real Chromium. The ``new_page`` fixture fails a test on any CSP violation,
JavaScript error or failed static file."""

import pytest
from playwright.sync_api import expect

from policies.models import AccessPolicy
from tokens.models import AccessToken

pytestmark = pytest.mark.browser


def test_the_docs_page_works_under_the_csp(acme, page, sign_in, screenshot, live_server):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, acme.owner)
    page.goto("/api/docs/")
    expect(page.get_by_text("IAM Portal API").first).to_be_visible()
    expect(page.get_by_text("Docker Hub compatible").first).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/v2/orgs/{name}/settings")
    ).to_have_count(2)
    screenshot(page, "docs")
    # Everything it loaded came from the portal itself: no CDN.
    assert requests and all(url.startswith(live_server.url) for url in requests), requests

    # "Try it out" with the browser session: a read, then a write (CSRF token sent by the UI).
    who = page.locator("#operations-Organizations-user")
    who.locator(".opblock-summary").click()
    who.get_by_role("button", name="Try it out").click()
    who.get_by_role("button", name="Execute").click()
    expect(who.locator(".live-responses-table tbody .response-col_status")).to_contain_text("200")
    expect(who.locator(".live-responses-table tbody")).to_contain_text('"username": "olivia"')

    patch = page.locator("#operations-Settings-orgs_settings_partial_update")
    patch.locator(".opblock-summary").click()
    patch.get_by_role("button", name="Try it out").click()
    patch.get_by_placeholder("org").fill("acme")
    patch.locator("textarea.body-param__text").fill('{"enabled": true}')
    patch.get_by_role("button", name="Execute").click()
    expect(patch.locator(".live-responses-table tbody .response-col_status")).to_contain_text("200")
    screenshot(page, "patched")
    assert AccessPolicy.objects.get(organization=acme.org).enabled


def test_choose_a_token_scope(acme, page, sign_in, screenshot):
    sign_in(page, acme.member)
    page.goto("/settings/tokens/")
    read_only = page.get_by_label("Read-only: pull images, read through the API")
    expect(read_only).to_be_checked()  # the least a token needs, as on Docker Hub
    page.get_by_label("Token name").fill("puller")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_be_visible()
    page.get_by_label("Token name").fill("pusher")
    page.get_by_label("Read & write: also push images and change settings through the API").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("row", name="pusher")).to_contain_text("repo:write")
    expect(page.get_by_role("row", name="puller")).to_contain_text("repo:read")
    screenshot(page, "scopes")
    assert dict(AccessToken.objects.values_list("name", "scope")) == {
        "puller": "repo:read",
        "pusher": "repo:write",
    }
