"""Registry sessions on the tokens page, and the throttled sign-in form, in a real Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tokens.models import RefreshToken
from tokens.selectors import password_binding
from tokens.services import access_token_create, refresh_token_create

pytestmark = pytest.mark.browser


def test_revoke_a_registry_session_after_confirming(acme, page, sign_in, screenshot):
    mike = acme.member
    token, _ = access_token_create(user=mike, name="build-node")
    refresh_token_create(user_id=mike.pk, access_token_id=token.pk, client_id="containerd-client")
    refresh_token_create(
        user_id=mike.pk,
        access_token_id=None,
        client_id="docker",
        password_binding=password_binding(password_hash=mike.password),
    )

    sign_in(page, mike)
    page.goto("/settings/tokens/")
    sessions = page.locator("#sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)  # header + two sessions
    expect(sessions).to_contain_text("containerd-client")
    expect(sessions).to_contain_text("token 'build-node'")
    screenshot(page, "sessions-listed")

    sessions.get_by_role("link", name="Revoke the registry session of containerd-client").click()
    expect(
        page.get_by_role("heading", name="Revoke the registry session of 'containerd-client'?")
    ).to_be_visible()
    expect(page.get_by_test_id("confirm")).to_contain_text("the access token 'build-node'")
    screenshot(page, "confirm")
    page.get_by_role("button", name="Revoke session").click()

    expect(page.locator(".messages")).to_contain_text("containerd-client' revoked")
    expect(page.locator("#sessions").get_by_role("row")).to_have_count(2)
    assert RefreshToken.objects.get(client_id="containerd-client").revoked_at is not None
    assert RefreshToken.objects.get(client_id="docker").revoked_at is None
    screenshot(page, "revoked")


def test_locked_sign_in_says_so(acme, page, screenshot, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    page.goto("/accounts/login/")
    for password in ("wrong-1", "wrong-2", PASSWORD):
        page.get_by_label("Username").fill("mike")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Too many failed sign-ins for this account")).to_be_visible()
    expect(page.locator(".whoami")).to_have_count(0)
    screenshot(page, "locked")
