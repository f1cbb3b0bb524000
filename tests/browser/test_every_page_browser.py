"""Every page, as each role sees it, at a phone's size (390x844) and a desktop's (1280x800):
no sideways scroll, no serious or critical accessibility violation (axe-core), a screenshot.

axe-core comes from the pinned ``axe-playwright-python`` package, which ships axe-core's
``axe.min.js`` (MPL-2.0): installed by ``make install`` like every other dependency, so the
suite needs no network, npm or file kept in this repository. It is evaluated through the
DevTools protocol, which the pages' Content-Security-Policy does not apply to.

The screenshots go to ``$SCREENSHOT_DIR/pages/<size>/<role>--<page>.png`` and
``artifacts/gallery/index.html`` (next to the screenshot folder) shows them side by side.
"""

import html
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from identity.config import Provider
from identity.services import group_mapping_create
from orgs import services as org_services
from policies.exceptions.services import exception_request_approve, exception_request_create
from policies.references import parse_reference
from provisioning.services import UserData, scim_token_create, scim_user_create
from tests.browser.conftest import SCREENSHOT_DIR
from tests.factories import (
    PASSWORD,
    add_entry,
    invite,
    make_org,
    make_org_token,
    make_publisher,
    make_team,
    make_user,
    record_pulls,
    set_grant,
    set_policy,
    set_token_policy,
)
from tokens.models import AccessToken
from tokens.services import (
    access_token_create,
    access_token_revoke,
    member_token_revoke,
    organization_token_revoke,
    refresh_token_create,
)

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
BLOCKING_IMPACTS = ("serious", "critical")
PAGES_DIR = SCREENSHOT_DIR / "pages"
GALLERY = SCREENSHOT_DIR.parent / "gallery" / "index.html"
SSO_PROVIDER = Provider(
    id="corp", label="Example Corp", issuer="http://127.0.0.1:9", client_id="c", client_secret="s"
)
LONG_TEAM = "platform-engineering-build-ops"  # 30 characters, the longest team name
LONG_USERNAME = "u" * 150  # the longest username Django accepts
LONG_EMAIL = "a" * 64 + "@" + "b" * 60 + ".example.com"
LONG_TOKEN_NAME = "deploy-" + "x" * 93  # 100 characters without a space
# A 300-character reference (refused: too long) and a 240-character one (checked): both must
# wrap, not widen the page.
LONG_REFERENCE = "someone/" + "a" * 250 + "/tool:" + "1" * 35
LONG_VALID_REFERENCE = "someone/" + "a" * 200 + "/tool:" + "1" * 25


@dataclass(frozen=True)
class Visit:
    """One page: its slug (the screenshot's name), URL, expected status, and what to do on it
    before checking (open the collapsed parts, say)."""

    name: str
    url: str
    status: int = 200
    prepare: object = None


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)


def submit_without_csrf_cookie(page):
    """The sign-in form, sent after its CSRF cookie is gone: the CSRF failure page."""
    page.context.clear_cookies()
    page.get_by_label("Username").fill("mike")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="403 · Form expired or invalid")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the form")).to_be_visible()


def open_all_details(page):
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


@pytest.fixture
def site(settings):
    """acme (owner olivia, member mike in developers and a long-named team) with management
    on, grants, allowlist entries, exception requests, invitations and mike's tokens; globex
    (owner gina, member oscar, whom olivia invited to acme); admin, site staff."""
    settings.ROOT_URLCONF = "tests.error_urls"
    settings.DOCKER_HUB_CACHE_HOST = "cache.example.com"  # the cache's commands shown too
    olivia, mike, oscar, gina = (
        make_user(name, email=f"{name}@example.com") for name in ("olivia", "mike", "oscar", "gina")
    )
    make_user("admin", is_staff=True, is_superuser=True)
    make_publisher("bitnami")
    acme = make_org("acme", owner=olivia, members=[mike])
    settings.OIDC_PROVIDERS = (SSO_PROVIDER,)
    group_mapping_create(
        team=acme.teams.get(name="developers"), provider=SSO_PROVIDER, group="eng", actor=olivia
    )
    make_org("globex", owner=gina, members=[oscar])
    org_services.organization_create(name="initech", creator=olivia)
    set_policy(acme, actor=olivia, enabled=True, official=True)
    make_team(acme, "interns", *(make_user(f"intern{n:02}") for n in range(55)))  # 2 pages
    long_user = make_user(LONG_USERNAME)
    team = make_team(acme, LONG_TEAM, mike, long_user)
    set_grant(team, actor=olivia, publishers=True)
    add_entry(
        acme,
        "someone/*",
        actor=olivia,
        reason="CI base images built by the platform team; reviewed every quarter " * 2,
    )
    add_entry(
        acme,
        "grafana/**",
        actor=olivia,
        team=team,
        expires_at=timezone.now() + timedelta(days=30),
    )
    pending = exception_request_create(
        organization=acme,
        requester=mike,
        reference=parse_reference("another/app:2.1"),
        justification="The release pipeline builds on it and has no other base image available.",
    )
    decided = exception_request_create(
        organization=acme,
        requester=mike,
        reference=parse_reference("third/tool"),
        justification="Load tests.",
    )
    exception_request_approve(
        request=decided,
        actor=olivia,
        pattern="third/tool",
        team=None,
        expires_at=timezone.now() + timedelta(days=30),
        note="Fine for the load tests.",
    )
    oscar_invitation, oscar_token = invite(acme, "oscar", by=olivia)
    _, email_token = invite(acme, "new.person@example.com", by=olivia)
    invite(acme, LONG_EMAIL, by=olivia)

    record_pulls(
        mike,
        "library/ubuntu",
        "bitnami/redis",
        f"someone/{'platform-build-' * 4}tools/app",
        client_address="203.0.113.7",
        user_agent="docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.1.0 os/linux arch/amd64",
    )
    laptop, _ = access_token_create(user=mike, name="laptop", expires_days=90)
    access_token_create(user=mike, name=LONG_TOKEN_NAME)
    old, _ = access_token_create(user=mike, name="old-ci")
    access_token_revoke(token=old)
    expired, _ = access_token_create(user=mike, name="nightly", expires_days=1)
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=2))
    session, _ = refresh_token_create(
        user_id=mike.pk, access_token_id=laptop.pk, client_id="containerd-build-node-17"
    )
    scim_token, _ = scim_token_create(organization=acme, name=LONG_TOKEN_NAME, actor=olivia)
    scim_user_create(
        organization=acme,
        token=scim_token,
        data=UserData(username="alice", email="alice@example.com", first_name="Alice"),
    )
    ci, _ = make_org_token(
        acme, by=olivia, scope="repo:write", repositories="acme/** library/* grafana/loki"
    )
    retired, _ = make_org_token(acme, by=olivia, name=LONG_TOKEN_NAME, expires_days=365)
    organization_token_revoke(token=retired, actor=olivia)
    set_token_policy(acme, by=olivia, personal_token_max_days=90)
    revoked_by_owner, _ = access_token_create(user=mike, name="shared-ci")
    member_token_revoke(organization=acme, token=revoked_by_owner, actor=olivia)
    reset_uid = urlsafe_base64_encode(force_bytes(mike.pk))
    return {
        "scim_token": scim_token.pk,
        "org_token": ci.pk,
        "pending_request": pending.pk,
        "oscar_invitation": oscar_invitation.pk,
        "oscar_token": oscar_token,
        "email_token": email_token,
        "laptop": laptop.pk,
        "old": old.pk,
        "session": session.pk,
        "reset": f"{reset_uid}/{default_token_generator.make_token(mike)}",
        "users": {"olivia": olivia, "mike": mike, "oscar": oscar, "admin": None},
    }


def visits(role: str, site) -> list[Visit]:
    account = [
        Visit("profile", "/settings/profile/"),
        Visit("password-change", "/accounts/password_change/"),
        Visit("tokens", "/settings/tokens/"),
        Visit("my-requests", "/settings/exception-requests/"),
        Visit("invitations", "/invitations/"),
    ]
    if role == "anonymous":
        return [
            Visit("login", "/accounts/login/"),
            Visit("password-reset", "/accounts/password_reset/"),
            Visit("password-reset-sent", "/accounts/password_reset/done/"),
            Visit("password-reset-new", f"/accounts/reset/{site['reset']}/"),
            Visit("password-reset-bad-link", "/accounts/reset/MQ/not-a-token/"),
            Visit("password-reset-complete", "/accounts/reset/done/"),
            Visit("invitation-signup", f"/invite/{site['email_token']}/"),
            Visit("invitation-unknown", f"/invite/{'x' * 43}/", 404),
            Visit("not-found", "/no/such/page/", 404),
            Visit("error-400", "/test-errors/400/", 400),
            Visit("error-500", "/test-errors/500/", 500),
            Visit("csrf-failure", "/accounts/login/", prepare=submit_without_csrf_cookie),
            Visit("sso-failed", "/sso/corp/callback/", 400),
        ]
    if role == "outsider":
        return [
            Visit("organizations", "/orgs/"),
            *account,
            Visit("invitation-link", f"/invite/{site['oscar_token']}/"),
            Visit("hidden-org", "/orgs/acme/", 404),
        ]
    if role == "member":
        return [
            Visit("organizations", "/orgs/"),
            Visit("members", "/orgs/acme/"),
            Visit("members-search", "/orgs/acme/?q=o"),
            Visit("teams", "/orgs/acme/teams/"),
            Visit("team", f"/orgs/acme/teams/{LONG_TEAM}/"),
            Visit("permissions", "/orgs/acme/settings/permissions/"),
            Visit(
                "permissions-check-long",
                f"/orgs/acme/settings/permissions/?image={LONG_REFERENCE}#check",
            ),
            Visit(
                "permissions-check-long-valid",
                f"/orgs/acme/settings/permissions/?image={LONG_VALID_REFERENCE}#check",
            ),
            Visit("permissions-allowlist", "/orgs/acme/settings/permissions/allowlist/"),
            Visit("permissions-grants", "/orgs/acme/settings/permissions/teams/"),
            Visit("permissions-history", "/orgs/acme/settings/permissions/history/"),
            Visit(
                "permissions-requests-forbidden", "/orgs/acme/settings/permissions/requests/", 403
            ),
            Visit("exception-request", "/orgs/acme/settings/permissions/exceptions/"),
            Visit(
                "exception-request-pending",
                "/orgs/acme/settings/permissions/exceptions/?image=another/app:2.1",
            ),
            Visit(
                "permissions-check-pending",
                "/orgs/acme/settings/permissions/?image=another/app:2.1#check",
            ),
            Visit("sign-in-forbidden", "/orgs/acme/settings/sign-in/", 403),
            Visit("org-tokens-forbidden", "/orgs/acme/settings/tokens/", 403),
            Visit("leave", "/orgs/acme/leave/"),
            *account,
            Visit("tokens-all", "/settings/tokens/?show=all"),
            Visit("my-activity", "/settings/activity/", prepare=open_all_details),
            Visit("token-revoke", f"/settings/tokens/{site['laptop']}/revoke/"),
            Visit("token-delete", f"/settings/tokens/{site['old']}/delete/"),
            Visit("tokens-delete-inactive", "/settings/tokens/delete-inactive/"),
            Visit("session-revoke", f"/settings/tokens/sessions/{site['session']}/revoke/"),
            Visit("password-changed", "/accounts/password_change/done/"),
        ]
    if role == "owner":
        return [
            Visit("organizations", "/orgs/"),
            Visit("members", "/orgs/acme/"),
            Visit("members-page-2", "/orgs/acme/?page=2"),
            Visit("team-page-2", "/orgs/acme/teams/interns/?page=2&q=intern"),
            Visit("invite", "/orgs/acme/invitations/"),
            Visit(
                "invitation-revoke",
                f"/orgs/acme/invitations/{site['oscar_invitation']}/revoke/",
            ),
            Visit("teams", "/orgs/acme/teams/"),
            Visit("team", "/orgs/acme/teams/developers/"),
            Visit("team-long", f"/orgs/acme/teams/{LONG_TEAM}/"),
            Visit("team-owners", "/orgs/acme/teams/owners/"),
            Visit("team-edit", "/orgs/acme/teams/developers/edit/"),
            Visit("team-delete", f"/orgs/acme/teams/{LONG_TEAM}/delete/"),
            Visit("team-delete-owners", "/orgs/acme/teams/owners/delete/"),
            Visit("activity", "/orgs/acme/activity/"),
            Visit("new-org-next-steps", "/orgs/initech/"),
            Visit("member-remove", "/orgs/acme/members/mike/remove/"),
            Visit("team-member-remove", "/orgs/acme/teams/developers/members/mike/remove/"),
            Visit("permissions", "/orgs/acme/settings/permissions/"),
            Visit(
                "permissions-check-long",
                f"/orgs/acme/settings/permissions/?image={LONG_REFERENCE}#check",
            ),
            Visit(
                "permissions-check-long-valid",
                f"/orgs/acme/settings/permissions/?image={LONG_VALID_REFERENCE}#check",
            ),
            Visit("my-requests-inbox", "/settings/exception-requests/"),
            Visit("permissions-allowlist", "/orgs/acme/settings/permissions/allowlist/"),
            Visit("permissions-grants", "/orgs/acme/settings/permissions/teams/"),
            Visit("permissions-requests", "/orgs/acme/settings/permissions/requests/"),
            Visit("permissions-history", "/orgs/acme/settings/permissions/history/"),
            Visit(
                "permissions-history-requests",
                "/orgs/acme/settings/permissions/history/?kind=requests",
            ),
            Visit(
                "exception-review",
                f"/orgs/acme/settings/permissions/exceptions/{site['pending_request']}/",
            ),
            Visit("sign-in", "/orgs/acme/settings/sign-in/", prepare=open_all_details),
            *(
                Visit(f"sign-in-{os_key}", f"/orgs/acme/settings/sign-in/?os={os_key}")
                for os_key in ("windows", "macos", "linux")
            ),
            Visit(
                "sign-in-several-all-open",
                "/orgs/acme/settings/sign-in/?also=initech&os=windows",
                prepare=open_all_details,
            ),
            Visit("leave-last-owner", "/orgs/acme/leave/"),
            Visit("org-tokens", "/orgs/acme/settings/tokens/"),
            Visit("org-tokens-all", "/orgs/acme/settings/tokens/?show=all"),
            Visit("org-token-revoke", f"/orgs/acme/settings/tokens/{site['org_token']}/revoke/"),
            Visit("token-rules", "/orgs/acme/settings/tokens/rules/"),
            Visit("member-tokens", "/orgs/acme/settings/member-tokens/"),
            Visit(
                "member-token-revoke", f"/orgs/acme/settings/member-tokens/{site['laptop']}/revoke/"
            ),
            Visit("sso", "/orgs/acme/sso/"),
            Visit("provisioning", "/orgs/acme/settings/provisioning/"),
            Visit(
                "provisioning-token-revoke",
                f"/orgs/acme/settings/provisioning/tokens/{site['scim_token']}/revoke/",
            ),
            Visit("sso-require", "/orgs/acme/sso/require/"),
            Visit(
                "sso-mapping-add",
                f"/orgs/acme/sso/mappings/add/?provider=corp&group={'g' * 80}&team={LONG_TEAM}",
            ),
        ]
    assert role == "staff"
    return [Visit("organizations", "/orgs/"), *account[:3], Visit("admin", "/admin/")]


ROLE_USERS = {"outsider": "oscar", "member": "mike", "owner": "olivia", "staff": "admin"}


def sign_in_as(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".whoami")).to_contain_text(username)


def check(page, visit: Visit, role: str, size: str, findings: Findings, axe: Axe) -> None:
    where = f"{role} {size} {visit.url}"
    response = page.goto(visit.url)
    if response.status != visit.status:
        findings.problems.append(f"{where}: status {response.status}, expected {visit.status}")
    if visit.prepare:
        visit.prepare(page)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > inner_width:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(0, 5).map(e => e.outerHTML.slice(0, 100))"""
        )
        findings.problems.append(
            f"{where}: the page scrolls sideways ({scroll_width} > {inner_width}): {wide}"
        )
    violations = [
        violation
        for violation in axe.run(page).response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"]][:3]
        findings.problems.append(
            f"{where}: axe {violation['impact']} {violation['id']}: {violation['help']} {targets}"
        )
    path = PAGES_DIR / size / f"{role}--{visit.name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("role", ["anonymous", "outsider", "member", "owner", "staff"])
def test_every_page_fits_and_passes_axe(role, site, browser, live_server, settings):
    settings.ALLOWED_HOSTS = ["*"]
    findings = Findings()
    problems = findings.problems
    axe = Axe()
    for size, viewport in SIZES.items():
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda error, size=size: problems.append(f"{role} {size}: {error}"))
        page.on(
            "console",
            lambda message, size=size: (
                "Content Security Policy" in message.text
                and problems.append(f"{role} {size}: {message.text}")
            ),
        )
        if role != "anonymous":
            sign_in_as(page, ROLE_USERS[role])
        for visit in visits(role, site):
            check(page, visit, role, size, findings, axe)
        context.close()
    write_gallery()
    assert not findings.problems, "\n".join(findings.problems)


@pytest.mark.parametrize("size", list(SIZES))
def test_pages_without_the_portals_scripts_fit_and_pass_axe(size, site, browser, live_server):
    """Without JavaScript the menu stays open, the OS tabs are links and tables don't join the
    Tab order: still no sideways scroll and no serious violation. (axe itself needs JavaScript,
    so the portal's own scripts are blocked instead of JavaScript as a whole.)"""
    context = browser.new_context(base_url=live_server.url, viewport=SIZES[size])
    context.route(re.compile(r".*/static/portal/.*\.js$"), lambda route: route.abort())
    findings, axe = Findings(), Axe()
    try:
        page = context.new_page()
        sign_in_as(page, "olivia")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        for visit in (
            Visit("sign-in", "/orgs/acme/settings/sign-in/?os=macos", prepare=open_all_details),
            Visit("permissions", "/orgs/acme/settings/permissions/"),
            Visit("permissions-grants", "/orgs/acme/settings/permissions/teams/"),
            Visit("permissions-requests", "/orgs/acme/settings/permissions/requests/"),
            Visit("tokens", "/settings/tokens/"),
        ):
            check(page, visit, "owner-no-js", size, findings, axe)
    finally:
        context.close()
    assert not findings.problems, "\n".join(findings.problems)


# --- Phones: every control within the screen's width ------------------------------------------

NARROW = {"width": 360, "height": 800}
# Labels too: a switch whose words are hidden to the right is as unusable as a hidden switch.
CONTROLS = "a, button, input, select, textarea, summary, label"
# A placeholder for the site's ids and links, enough to list the pages when collecting.
_NAMES_ONLY = defaultdict(lambda: "0")


def _page_ids():
    return [
        pytest.param(role, visit.name, id=f"{role}--{visit.name}")
        for role in ("anonymous", "outsider", "member", "owner", "staff")
        for visit in visits(role, _NAMES_ONLY)
        if visit.name not in ("admin", "csrf-failure")  # Django's admin; a form's error page
    ]


@pytest.mark.parametrize(("role", "name"), _page_ids())
def test_on_a_360_px_phone_every_control_is_within_the_screen(
    role, name, site, browser, live_server, settings
):
    """At 360 px, every visible link, button, field, label and <summary> lies within the screen's
    width and nothing scrolls sideways: a table's rows are cards whose actions come last, not
    columns hidden to the right. Also: no page asks for a file that is missing (the icon)."""
    settings.ALLOWED_HOSTS = ["*"]
    (visit,) = [v for v in visits(role, site) if v.name == name]
    context = browser.new_context(base_url=live_server.url, viewport=NARROW)
    context.set_default_timeout(10_000)
    missing = []
    try:
        page = context.new_page()
        page.on(
            "response",
            lambda response: (
                response.status == 404
                and "/favicon" in response.url
                and missing.append(response.url)
            ),
        )
        if role != "anonymous":
            sign_in_as(page, ROLE_USERS[role])
        assert page.goto(visit.url).status == visit.status
        if visit.prepare:
            visit.prepare(page)
        page.wait_for_load_state("load")
        outside = page.evaluate(
            """([selector, width]) => [...document.querySelectorAll(selector)]
                .filter(e => e.checkVisibility({visibilityProperty: true}))
                .map(e => [e, e.getBoundingClientRect()])
                .filter(([e, r]) => r.width > 0 && r.height > 0)
                .filter(([e, r]) => r.left < -1 || r.right > width + 1)
                .map(([e, r]) => `${Math.round(r.left)}..${Math.round(r.right)}: `
                    + e.outerHTML.slice(0, 120))""",
            [CONTROLS, NARROW["width"]],
        )
        scroll_width, client_width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        path = PAGES_DIR / "phone-360" / f"{role}--{visit.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    finally:
        context.close()
    assert outside == [], f"{visit.url}: controls outside the screen's width:\n" + "\n".join(
        outside
    )
    assert scroll_width <= client_width, f"{visit.url}: scrolls sideways"
    assert missing == []


def test_the_icon_is_served(page):
    """The pages' <link rel="icon"> and /favicon.ico, which browsers ask for on their own."""
    page.goto("/accounts/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon.endswith(".svg")
    response = page.request.get(icon)
    assert response.status == 200 and "<svg" in response.text()
    response = page.request.get("/favicon.ico")  # follows the redirect
    assert response.status == 200 and response.url.endswith(".svg")


def write_gallery() -> None:
    """``artifacts/gallery/index.html``: every page screenshot, phone and desktop side by side,
    grouped by role. Rebuilt from the files present, so each role's test adds its own."""
    names = sorted(
        {path.name for size in SIZES for path in (PAGES_DIR / size).glob("*.png")},
        key=lambda name: (
            ["anonymous", "outsider", "member", "owner", "staff"].index(name.split("--")[0])
            if name.split("--")[0] in ("anonymous", "outsider", "member", "owner", "staff")
            else 9,
            name,
        ),
    )
    GALLERY.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        role, page_name = name.removesuffix(".png").split("--", 1)
        cells = []
        for size in SIZES:
            image = PAGES_DIR / size / name
            if image.exists():
                href = html.escape(Path(os.path.relpath(image, GALLERY.parent)).as_posix())
                cells.append(
                    f'<figure class="{size}"><a href="{href}"><img src="{href}" loading="lazy" '
                    f'alt="{html.escape(role)}: {html.escape(page_name)} ({size})"></a>'
                    f"<figcaption>{size}</figcaption></figure>"
                )
        title = f"{html.escape(role)}: {html.escape(page_name)}"
        rows.append(f"<section><h2>{title}</h2>{''.join(cells)}</section>")
    GALLERY.write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>IAM Portal: every page</title>"
        "<style>body{font:14px system-ui;margin:1rem}section{display:flex;flex-wrap:wrap;"
        "gap:1rem;align-items:flex-start;border-top:1px solid #ccc}h2{flex-basis:100%;"
        "font-size:1rem}figure{margin:0}.phone img{width:195px}.desktop img{width:640px}"
        "img{border:1px solid #ccc;vertical-align:top}</style>"
        "<h1>IAM Portal: every page at 390x844 and 1280x800</h1>"
        "<p>Written by tests/browser/test_every_page_browser.py.</p>" + "".join(rows),
        encoding="utf-8",
    )
