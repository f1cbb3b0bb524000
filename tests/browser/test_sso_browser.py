"""Single sign-on in a real Chromium against a real OpenID provider (Canaille, in-process):
an owner maps a group to a team, a new person signs in through the provider, gets an account
and the team, creates an access token and the registry's token service accepts it."""

import re

import pytest
import requests
from playwright.sync_api import expect

from orgs.models import TeamMembership
from tests.factories import make_org, make_user
from tests.identity.conftest import LABEL, start_idp

pytestmark = pytest.mark.browser


def test_sso_redirect_flow_account_team_and_token(
    request, settings, live_server, new_page, sign_in, screenshot, token_keys
):
    idp = start_idp(request, settings, host=live_server.url)
    olivia = make_user("olivia")
    make_org("acme", owner=olivia, members=[make_user("mike")])

    # The owner maps the provider's group "devs" to the team developers, after a confirmation.
    owner = new_page()
    sign_in(owner, olivia)
    owner.goto("/orgs/acme/sso/")
    owner.get_by_label("Identity provider").select_option(label=LABEL)
    owner.get_by_label("Group").fill("devs")
    owner.get_by_label("Team").select_option("developers")
    owner.get_by_role("button", name="Review the mapping").click()
    expect(owner.get_by_role("heading", name=f"Map group 'devs' of {LABEL} to team developers?"))
    screenshot(owner, "confirm-mapping")
    owner.get_by_role("button", name="Map the group").click()
    expect(owner.locator(".messages")).to_contain_text("Group 'devs' is mapped to team developers")
    expect(owner.get_by_test_id("group-mappings").get_by_role("row")).to_have_count(2)
    screenshot(owner, "mappings")

    # A new person signs in through the provider: an account made just in time, in the team.
    dana = idp.person("dana", groups=["devs"])
    idp.server.login(dana)
    idp.server.consent(dana, idp.oidc_client)
    page = new_page()
    try:
        page.goto("/orgs/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        screenshot(page, "sign-in-page")
        page.get_by_role("link", name=f"Sign in with {LABEL}").click()
        expect(page.locator(".whoami")).to_have_text("Signed in as dana")
    finally:
        idp.server.logout()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    expect(page.locator(".messages")).to_contain_text("You joined team developers")
    screenshot(page, "signed-in")
    assert TeamMembership.objects.filter(user__username="dana", team__name="developers").exists()

    # An access token for the registry (dana has no password).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Access tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-secret").inner_text().strip()
    screenshot(page, "token")
    answer = requests.get(
        f"{live_server.url}/auth/token",
        params={"service": settings.REGISTRY_SERVICE, "scope": "repository:acme/app:pull"},
        auth=("dana", secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token"]

    # Signing out ends the portal's session.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/orgs/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
