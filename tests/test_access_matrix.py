"""Every URL x {anonymous, outsider, member, owner} x {GET, POST} -> the expected status.

Anonymous visitors are sent to the login page, outsiders get 404 for anything of an
organisation they are not in, members get 403 on owner actions.
"""

import json
import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from orgs.models import Invitation, TeamMembership
from policies.models import AllowlistEntry
from tests.api.conftest import sign_in
from tests.factories import PASSWORD, add_entry, ask_exception, invite, set_policy
from tokens.models import AccessToken, OrganizationToken
from tokens.services import (
    access_token_create,
    access_token_revoke,
    organization_token_create,
    refresh_token_create,
)

ROLES = ("anonymous", "outsider", "member", "owner")
LOGIN = 302  # anonymous -> /accounts/login/?next=...

# (url name, kwargs, {(role, method): status}); "*" for a method means every signed-in role.
ORG = {"org": "acme"}


def row(get, post):
    """Statuses for (outsider, member, owner) on GET and POST."""
    return {"GET": get, "POST": post}


MATRIX = [
    # Organisations are created by site staff only (ORGANIZATION_CREATION's production default).
    ("orgs:list", {}, row((200, 200, 200), (403, 403, 403))),
    ("orgs:detail", ORG, row((404, 200, 200), (404, 403, 405))),
    # Destructive actions: GET is the confirmation page, POST does it.
    ("orgs:member_remove", {**ORG, "username": "mike"}, row((404, 403, 200), (404, 403, 302))),
    # olivia is acme's last owner: her confirmation page says why she can't leave, POST is 400.
    ("orgs:leave", ORG, row((404, 200, 200), (404, 302, 400))),
    ("orgs:invitations", ORG, row((404, 403, 200), (404, 403, 400))),
    ("orgs:teams", ORG, row((404, 200, 200), (404, 403, 400))),
    # Owners add the organisation's members to a team on its page (an empty POST: 400).
    ("orgs:team", {**ORG, "team": "developers"}, row((404, 200, 200), (404, 403, 400))),
    ("orgs:team_edit", {**ORG, "team": "developers"}, row((404, 403, 200), (404, 403, 400))),
    ("orgs:team_delete", {**ORG, "team": "developers"}, row((404, 403, 200), (404, 403, 302))),
    ("orgs:next_steps_dismiss", ORG, row((404, 405, 405), (404, 403, 302))),
    (
        "orgs:team_member_remove",
        {**ORG, "team": "developers", "username": "mike"},
        row((404, 403, 200), (404, 403, 302)),
    ),
    ("orgs:settings", ORG, row((404, 302, 302), (404, 403, 302))),
    ("policies:permissions", ORG, row((404, 200, 200), (404, 403, 400))),
    ("signin:sign_in", ORG, row((404, 403, 200), (404, 403, 405))),
    ("signin:sign_in_registry_json", ORG, row((404, 403, 200), (404, 403, 405))),
    ("signin:sign_in_reg", ORG, row((404, 403, 200), (404, 403, 405))),
    ("signin:sign_in_mobileconfig", ORG, row((404, 403, 200), (404, 403, 405))),
    ("tokens:list", {}, row((200, 200, 200), (400, 400, 400))),
    ("invitations:list", {}, row((200, 200, 200), (405, 405, 405))),
    # Org Permissions' sub-pages: members read them (not Requests), owners save on them.
    ("policies:allowlist", ORG, row((404, 200, 200), (404, 403, 400))),
    ("policies:grants", ORG, row((404, 200, 200), (404, 403, 400))),
    ("policies:requests", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:history", ORG, row((404, 200, 200), (404, 403, 405))),
    # The former URL of one team's grant leads to the Team grants page.
    ("policies:team_grant", {**ORG, "team": "developers"}, row((404, 302, 302), (404, 403, 405))),
    ("policies:exception_create", ORG, row((404, 200, 200), (404, 400, 400))),
    ("policies:my_requests", {}, row((200, 200, 200), (405, 405, 405))),
    # A person's own account: the same for every signed-in role.
    ("accounts:profile", {}, row((200, 200, 200), (302, 302, 302))),
    ("password_change", {}, row((200, 200, 200), (200, 200, 200))),
    ("password_change_done", {}, row((200, 200, 200), (405, 405, 405))),
    ("tokens:delete_inactive", {}, row((200, 200, 200), (400, 400, 400))),
    # Pull activity: owners only (the CSV streams); a preview never saves (an empty POST is
    # invalid); members' own activity.
    ("activity:activity", ORG, row((404, 403, 200), (404, 403, 405))),
    ("activity:activity_csv", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:permissions_preview", ORG, row((404, 403, 302), (404, 403, 400))),
    ("activity:my_activity", {}, row((200, 200, 200), (405, 405, 405))),
    # Single sign-on (owners). No provider is configured here: "Require" says why it can't be
    # turned on (POST 400); an empty mapping is shown as invalid (POST 400).
    ("identity:organization", ORG, row((404, 403, 200), (404, 403, 405))),
    ("identity:require", ORG, row((404, 403, 200), (404, 403, 400))),
    ("identity:mapping_add", ORG, row((404, 403, 200), (404, 403, 400))),
    # Provisioning (owners): an empty token name is invalid (POST 400).
    ("provisioning:organization", ORG, row((404, 403, 200), (404, 403, 400))),
    # Access tokens of the organisation and its members' (owners). An empty token form is
    # invalid (400); an empty rules form is valid (no limit, no never-expiring tokens): 302.
    ("tokens:organization", ORG, row((404, 403, 200), (404, 403, 400))),
    ("tokens:policy", ORG, row((404, 403, 200), (404, 403, 302))),
    ("tokens:member_tokens", ORG, row((404, 403, 200), (404, 403, 405))),
]

CASES = [
    pytest.param(
        name,
        kwargs,
        method,
        role,
        statuses[method][ROLES.index(role) - 1] if role != "anonymous" else LOGIN,
        id=f"{name}-{method}-{role}",
    )
    for name, kwargs, statuses in MATRIX
    for method in ("GET", "POST")
    for role in ROLES
]


@pytest.mark.parametrize(("name", "kwargs", "method", "role", "expected"), CASES)
def test_access_matrix(acme, client, login, name, kwargs, method, role, expected):
    users = {"outsider": acme.outsider, "member": acme.member, "owner": acme.owner}
    if role != "anonymous":
        login(users[role])
    url = reverse(name, kwargs=kwargs)
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert response.status_code == expected, response.content[:300]
    if expected == LOGIN and role == "anonymous":
        assert response["Location"].startswith(reverse("login") + "?next=")


# URLs of one allowlist entry or exception request: (url name, GET row, POST row).
OBJECT_MATRIX = [
    # Removing an entry: GET is the confirmation page, POST removes it.
    ("policies:allowlist_remove", (404, 403, 200), (404, 403, 302)),
    ("policies:exception_review", (404, 403, 200), (404, 403, 400)),
    ("policies:exception_decline", (404, 403, 302), (404, 403, 400)),
]


@pytest.mark.parametrize(
    ("name", "method", "role", "expected"),
    [
        pytest.param(
            name,
            method,
            role,
            LOGIN if role == "anonymous" else statuses[ROLES.index(role) - 1],
            id=f"{name}-{method}-{role}",
        )
        for name, get, post in OBJECT_MATRIX
        for method, statuses in (("GET", get), ("POST", post))
        for role in ROLES
    ],
)
def test_object_access_matrix(acme, client, login, name, method, role, expected):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    entry = add_entry(acme.org, "someone/*", actor=acme.owner)
    request = ask_exception(acme.org, acme.member)
    pk = entry.pk if name == "policies:allowlist_remove" else request.pk
    users = {"outsider": acme.outsider, "member": acme.member, "owner": acme.owner}
    if role != "anonymous":
        login(users[role])
    url = reverse(name, kwargs={**ORG, "pk": pk})
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert response.status_code == expected, response.content[:300]
    removed = name == "policies:allowlist_remove" and method == "POST" and role == "owner"
    assert AllowlistEntry.objects.filter(pk=entry.pk).exists() is not removed
    request.refresh_from_db()
    assert request.is_pending


def test_another_organisations_objects_are_404_for_its_owners(acme, login):
    """gina owns globex, not acme: acme's entry and request are not found through globex."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    entry = add_entry(acme.org, "someone/*", actor=acme.owner)
    request = ask_exception(acme.org, acme.member)
    client = login(acme.gina)
    globex = {"org": "globex"}
    remove = reverse("policies:allowlist_remove", kwargs={**globex, "pk": entry.pk})
    assert client.get(remove).status_code == 404
    assert client.post(remove).status_code == 404
    assert AllowlistEntry.objects.filter(pk=entry.pk).exists()
    for name in ("policies:exception_review", "policies:exception_decline"):
        assert (
            client.post(
                reverse(name, kwargs={**globex, "pk": request.pk}), {"note": "x"}
            ).status_code
            == 404
        )


@pytest.mark.parametrize("role", ["outsider", "member", "owner"])
def test_unknown_org_is_404_like_a_hidden_one(acme, login, role):
    client = login({"outsider": acme.outsider, "member": acme.member, "owner": acme.owner}[role])
    for url in (
        "/orgs/nosuchorg/",
        "/orgs/nosuchorg/settings/permissions/",
        "/orgs/nosuchorg/settings/sign-in/",
        "/orgs/nosuchorg/activity/",
        "/orgs/nosuchorg/activity.csv",
    ):
        assert client.get(url).status_code == 404


def sign_in_as(acme, login, role):
    if role != "anonymous":
        login({"outsider": acme.outsider, "member": acme.member, "owner": acme.owner}[role])


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", LOGIN, LOGIN),
        ("outsider", 404, 404),
        ("member", 404, 404),
        ("owner", 200, 302),
    ],
)
def test_token_revoke_matrix(acme, client, login, role, get, post):
    token, _ = access_token_create(user=acme.owner, name="laptop")
    sign_in_as(acme, login, role)
    url = reverse("tokens:revoke", kwargs={"pk": token.pk})
    assert client.get(url).status_code == get
    token.refresh_from_db()
    assert token.revoked_at is None  # the confirmation page changes nothing
    assert client.post(url).status_code == post
    token.refresh_from_db()
    assert (token.revoked_at is not None) == (role == "owner")


#: An owner action with a confirmation page (GET) and its POST, by role.
REVOKE_MATRIX = [
    ("anonymous", LOGIN, LOGIN),
    ("outsider", 404, 404),
    ("member", 403, 403),
    ("owner", 200, 302),
]


@pytest.mark.parametrize(("role", "get", "post"), REVOKE_MATRIX)
def test_scim_token_revoke_matrix(acme, client, login, role, get, post):
    from provisioning.models import ScimToken
    from provisioning.services import scim_token_create

    token, _ = scim_token_create(organization=acme.org, name="okta", actor=acme.owner)
    sign_in_as(acme, login, role)
    url = reverse("provisioning:token_revoke", kwargs={**ORG, "pk": token.pk})
    assert client.get(url).status_code == get
    assert ScimToken.objects.get(pk=token.pk).revoked_at is None  # the page changes nothing
    assert client.post(url).status_code == post
    assert (ScimToken.objects.get(pk=token.pk).revoked_at is not None) == (role == "owner")
    # Another organisation's token is not found, even by an owner of that one.
    other, _ = scim_token_create(organization=acme.globex, name="entra", actor=acme.gina)
    url = reverse("provisioning:token_revoke", kwargs={**ORG, "pk": other.pk})
    assert client.get(url).status_code == {"owner": 404}.get(role, get)


@pytest.fixture
def invitation(acme):
    """olivia (owner of acme) invited oscar (the outsider) into acme's members team."""
    invitation, token = invite(acme.org, "oscar", by=acme.owner)
    invitation.token = token
    return invitation


@pytest.mark.parametrize(("role", "get", "post"), REVOKE_MATRIX)
def test_invitation_revoke_matrix(acme, invitation, client, login, role, get, post):
    sign_in_as(acme, login, role)
    url = reverse("orgs:invitation_revoke", kwargs={**ORG, "pk": invitation.pk})
    assert client.get(url).status_code == get
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    assert client.post(url).status_code == post
    status = Invitation.objects.get(pk=invitation.pk).status
    assert status == ("revoked" if role == "owner" else "pending")


@pytest.mark.parametrize("answer", ["accept", "decline"])
@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", LOGIN, LOGIN),
        ("outsider", 405, 302),  # the invitee
        ("member", 405, 404),
        ("owner", 405, 404),
    ],
)
def test_invitation_answer_matrix(acme, invitation, client, login, answer, role, get, post):
    sign_in_as(acme, login, role)
    url = reverse(f"invitations:{answer}", kwargs={"pk": invitation.pk})
    assert client.get(url).status_code == get
    assert client.post(url).status_code == post
    status = Invitation.objects.get(pk=invitation.pk).status
    answered = {"accept": "accepted", "decline": "declined"}[answer]
    assert status == (answered if role == "outsider" else "pending")
    joined = TeamMembership.objects.filter(user=acme.outsider, team__organization=acme.org)
    assert joined.exists() == (role == "outsider" and answer == "accept")


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", 200, LOGIN),  # the link is the key: it says whom to sign in as
        ("outsider", 200, 400),  # the invitee; an empty POST is neither accept nor decline
        ("member", 403, 403),  # addressed to someone else
        ("owner", 403, 403),
    ],
)
def test_invitation_link_matrix(acme, invitation, client, login, role, get, post):
    sign_in_as(acme, login, role)
    url = reverse("invitations:open", kwargs={"token": invitation.token})
    assert client.get(url).status_code == get
    assert client.post(url, {}).status_code == post
    if role in ("member", "owner"):
        for answer in ("accept", "decline"):
            assert client.post(url, {"answer": answer}).status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_invitation_link_is_404(acme, client, login, role, method):
    sign_in_as(acme, login, role)
    url = reverse("invitations:open", kwargs={"token": "x" * 43})
    assert getattr(client, method.lower())(url).status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("open_", "get", "post"), [(False, 404, 404), (True, 200, 400)])
def test_signup_matrix(acme, client, login, settings, role, open_, get, post):
    settings.SIGNUP_OPEN = open_
    sign_in_as(acme, login, role)
    url = reverse("invitations:signup")
    if role != "anonymous" and open_:
        get = post = 302  # signed in already: to the organizations page
    assert client.get(url).status_code == get
    assert client.post(url, {}).status_code == post


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", LOGIN, LOGIN),
        ("outsider", 404, 404),
        ("member", 404, 404),
        ("owner", 200, 302),
    ],
)
def test_registry_session_revoke_matrix(acme, client, login, role, get, post):
    token, _ = access_token_create(user=acme.owner, name="laptop")
    session, _ = refresh_token_create(
        user_id=acme.owner.pk, access_token_id=token.pk, client_id="docker"
    )
    sign_in_as(acme, login, role)
    url = reverse("tokens:session_revoke", kwargs={"pk": session.pk})
    assert client.get(url).status_code == get
    assert client.post(url).status_code == post
    session.refresh_from_db()
    assert (session.revoked_at is not None) == (role == "owner")


@pytest.mark.parametrize(
    ("role", "location"),
    [("anonymous", "login")] + [(role, "orgs:list") for role in ("outsider", "member", "owner")],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_home_matrix(acme, client, login, role, location, method):
    """The site's root only sends each visitor on: to sign in, or to their organisations."""
    sign_in_as(acme, login, role)
    response = getattr(client, method.lower())(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(location)


@pytest.mark.parametrize("role", ROLES)
def test_readyz_needs_no_login(acme, client, login, token_keys, role):
    sign_in_as(acme, login, role)
    assert client.get(reverse("readyz")).status_code == 200


def test_healthz_needs_no_login_and_no_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert client.post("/healthz").status_code == 405


@pytest.mark.parametrize("role", ROLES)
def test_favicon_needs_no_login(acme, client, login, role):
    """Browsers ask for /favicon.ico on their own: it leads to the portal's icon, for anyone."""
    sign_in_as(acme, login, role)
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg")
    assert client.post("/favicon.ico").status_code == 405


def test_member_actions_do_nothing_when_refused(acme, login):
    client = login(acme.member)
    client.post(reverse("orgs:member_remove", kwargs={"org": "acme", "username": "olivia"}))
    client.post(reverse("orgs:invitations", kwargs=ORG), {"invitee": "gina", "team": 1})
    client.post(reverse("policies:permissions", kwargs=ORG), {"enabled": "on", "version": "1"})
    acme.org.access_policy.refresh_from_db()
    assert acme.org.access_policy.enabled is False
    assert acme.org.teams.get(name="owners").memberships.filter(user=acme.owner).exists()
    assert AccessToken.objects.count() == 0
    assert Invitation.objects.count() == 0


# --- The API: every endpoint x {anonymous, outsider, member, owner} -------------------------
# Signed in with a bearer from POST /v2/auth/token (the password); anonymous is 401, not a
# redirect. Bodies are empty objects, so a write that gets past the access rules is a 400
# (invalid input) unless an empty body is valid. {entry}, {request} and {token} are acme's
# allowlist entry, an exception request by mike, and one of olivia's access tokens.

ACME = "/api/v1/orgs/acme"
API_MATRIX = [
    ("/v2/auth/token", "POST", (400, 400, 400, 400)),  # signs in: no credentials needed
    ("/v2/orgs/acme/settings", "GET", (401, 404, 200, 200)),
    ("/v2/orgs/acme/settings", "PUT", (401, 404, 403, 400)),
    ("/v2/access-tokens", "GET", (401, 200, 200, 200)),
    ("/v2/access-tokens", "POST", (401, 400, 400, 400)),
    ("/v2/access-tokens/{token}", "GET", (401, 404, 404, 200)),
    ("/v2/access-tokens/{token}", "DELETE", (401, 404, 404, 204)),
    ("/api/schema/", "GET", (200, 200, 200, 200)),
    ("/api/docs/", "GET", (200, 200, 200, 200)),
    ("/api/v1/user", "GET", (401, 200, 200, 200)),
    ("/api/v1/check", "POST", (401, 400, 400, 400)),
    ("/api/v1/exception-requests", "GET", (401, 200, 200, 200)),
    ("/api/v1/user/activity", "GET", (401, 200, 200, 200)),
    ("/api/v1/orgs", "GET", (401, 200, 200, 200)),
    (ACME, "GET", (401, 404, 200, 200)),
    (f"{ACME}/members", "GET", (401, 404, 200, 200)),
    (f"{ACME}/teams", "GET", (401, 404, 200, 200)),
    (f"{ACME}/teams/developers/grant", "GET", (401, 404, 200, 200)),
    (f"{ACME}/teams/developers/grant", "PUT", (401, 404, 403, 400)),
    (f"{ACME}/settings", "GET", (401, 404, 200, 200)),
    (f"{ACME}/settings", "PUT", (401, 404, 403, 400)),
    (f"{ACME}/settings", "PATCH", (401, 404, 403, 200)),  # {} changes nothing
    (f"{ACME}/settings/history", "GET", (401, 404, 200, 200)),
    (f"{ACME}/activity", "GET", (401, 404, 403, 200)),  # owners only
    (f"{ACME}/allowlist", "GET", (401, 404, 200, 200)),
    (f"{ACME}/allowlist", "POST", (401, 404, 403, 400)),
    (f"{ACME}/allowlist/{{entry}}", "DELETE", (401, 404, 403, 204)),
    (f"{ACME}/exception-requests", "GET", (401, 404, 403, 200)),
    (f"{ACME}/exception-requests", "POST", (401, 404, 400, 400)),  # a member's action
    (f"{ACME}/exception-requests/{{request}}", "GET", (401, 404, 403, 200)),
    (f"{ACME}/exception-requests/{{request}}/approve", "POST", (401, 404, 403, 400)),
    (f"{ACME}/exception-requests/{{request}}/decline", "POST", (401, 404, 403, 400)),
    # Access tokens (owners): the organisation's and the members' personal ones.
    (f"{ACME}/tokens", "GET", (401, 404, 403, 200)),
    (f"{ACME}/tokens", "POST", (401, 404, 403, 400)),
    (f"{ACME}/tokens/{{org_token}}", "DELETE", (401, 404, 403, 204)),
    (f"{ACME}/member-tokens", "GET", (401, 404, 403, 200)),
    (f"{ACME}/member-tokens/{{member_token}}", "DELETE", (401, 404, 403, 204)),
]


@pytest.mark.parametrize(
    ("url", "method", "role", "expected"),
    [
        pytest.param(url, method, role, statuses[ROLES.index(role)], id=f"{method}-{url}-{role}")
        for url, method, statuses in API_MATRIX
        for role in ROLES
    ],
)
def test_api_access_matrix(acme, url, method, role, expected):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    entry = add_entry(acme.org, "someone/*", actor=acme.owner)
    request = ask_exception(acme.org, acme.member)
    token, _ = access_token_create(user=acme.owner, name="laptop")
    org_token, _ = organization_token_create(
        organization=acme.org, actor=acme.owner, name="ci", expires_days=30
    )
    member_token, _ = access_token_create(user=acme.member, name="laptop")
    url = url.format(
        entry=entry.pk,
        request=request.pk,
        token=token.uuid,
        org_token=org_token.uuid,
        member_token=member_token.uuid,
    )
    headers = {}
    if role != "anonymous":
        user = {"outsider": acme.outsider, "member": acme.member, "owner": acme.owner}[role]
        headers["HTTP_AUTHORIZATION"] = f"Bearer {sign_in(user.username, PASSWORD)}"
    body = {} if method in ("POST", "PUT", "PATCH") else None
    kwargs = (
        {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    )
    response = getattr(Client(), method.lower())(url, **kwargs, **headers)
    assert response.status_code == expected, response.content[:300]
    if expected == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="iam-portal"'
    if response.status_code >= 400:
        assert response.json()["detail"]
    # Refused calls change nothing.
    assert AllowlistEntry.objects.filter(pk=entry.pk).exists() == (
        not (method == "DELETE" and "allowlist" in url and expected == 204)
    )
    request.refresh_from_db()
    assert request.is_pending


def test_every_api_endpoint_and_method_is_in_the_matrix():
    """A new API URL or method must get a row above."""
    api = next(p for p in get_resolver().url_patterns if getattr(p, "app_name", None) == "api")

    def normal(path: str) -> str:
        path = re.sub(r"<org:\w+>", "<org>", path)
        path = re.sub(r"<team:\w+>", "<team>", path)
        return re.sub(r"<(?:int|uuid):\w+>", "<id>", path)

    def matrix_route(url: str) -> str:
        url = url.replace("/acme", "/<org>").replace("/developers/", "/<team>/")
        return re.sub(r"\{\w+\}", "<id>", url)

    served = set()
    for pattern in api.url_patterns:
        if not hasattr(pattern.callback, "view_class"):
            continue  # the JSON 404 for any other /api/ or /v2/ URL
        view = pattern.callback.view_class
        methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        served |= {("/" + normal(str(pattern.pattern)), method) for method in methods}
    assert served == {(matrix_route(url), method) for url, method, _ in API_MATRIX}


# Pages for people who are not signed in (or who forgot their password): open to everyone.
PUBLIC_PAGES = [
    ("login", 200, 200),  # an empty sign-in form is shown again with its errors
    ("password_reset", 200, 302),  # an empty address is an error; any address gets "sent"
    ("password_reset_done", 200, 405),
    ("password_reset_complete", 200, 405),
]


@pytest.mark.parametrize(("name", "get", "post"), PUBLIC_PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_public_account_pages(acme, client, login, role, name, get, post):
    sign_in_as(acme, login, role)
    url = reverse(name)
    assert client.get(url).status_code == get
    data = {"email": "nobody@example.com"} if name == "password_reset" else {}
    assert client.post(url, data).status_code == post


@pytest.mark.parametrize("role", ROLES)
def test_password_reset_link_matrix(acme, client, login, role):
    """A reset link is its own key: whoever holds a valid one may set that account's password;
    an invalid one shows why, for everyone."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    sign_in_as(acme, login, role)
    uid = urlsafe_base64_encode(force_bytes(acme.member.pk))
    bad = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": "not-a-token"})
    assert client.get(bad).status_code == 200
    assert client.post(bad, {}).status_code == 200
    acme.member.refresh_from_db()  # signing in changed last_login, which the token covers
    token = default_token_generator.make_token(acme.member)
    good = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    response = client.get(good)
    assert response.status_code == 302  # to the same page without the token in the URL
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [("anonymous", 405, 302)] + [(role, 405, 302) for role in ("outsider", "member", "owner")],
)
def test_logout_matrix(acme, client, login, role, get, post):
    sign_in_as(acme, login, role)
    url = reverse("logout")
    assert client.get(url).status_code == get
    response = client.post(url)
    assert response.status_code == post
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", LOGIN, LOGIN),
        ("outsider", 404, 404),
        ("member", 404, 404),
        ("owner", 200, 302),
    ],
)
def test_token_delete_matrix(acme, client, login, role, get, post):
    token, _ = access_token_create(user=acme.owner, name="laptop")
    access_token_revoke(token=token)
    sign_in_as(acme, login, role)
    url = reverse("tokens:delete", kwargs={"pk": token.pk})
    assert client.get(url).status_code == get
    assert AccessToken.objects.filter(pk=token.pk).exists()  # the confirmation page changes nothing
    assert client.post(url).status_code == post
    assert AccessToken.objects.filter(pk=token.pk).exists() is (role != "owner")


@pytest.mark.parametrize(("role", "get", "post"), REVOKE_MATRIX)
def test_organization_token_revoke_matrix(acme, client, login, role, get, post):
    token, _ = organization_token_create(
        organization=acme.org, actor=acme.owner, name="ci", expires_days=30
    )
    sign_in_as(acme, login, role)
    url = reverse("tokens:organization_revoke", kwargs={**ORG, "pk": token.pk})
    assert client.get(url).status_code == get
    assert OrganizationToken.objects.get(pk=token.pk).revoked_at is None
    assert client.post(url).status_code == post
    revoked = OrganizationToken.objects.get(pk=token.pk).revoked_at is not None
    assert revoked is (role == "owner")


@pytest.mark.parametrize(("role", "get", "post"), REVOKE_MATRIX)
def test_member_token_revoke_matrix(acme, client, login, role, get, post):
    token, _ = access_token_create(user=acme.member, name="laptop")
    sign_in_as(acme, login, role)
    url = reverse("tokens:member_revoke", kwargs={**ORG, "pk": token.pk})
    assert client.get(url).status_code == get
    assert AccessToken.objects.get(pk=token.pk).revoked_at is None
    assert client.post(url).status_code == post
    assert (AccessToken.objects.get(pk=token.pk).revoked_at is not None) is (role == "owner")


def test_another_organisations_tokens_are_404_for_its_owners(acme, login):
    """gina owns globex: acme's organisation token and mike's token are not found there."""
    org_token, _ = organization_token_create(
        organization=acme.org, actor=acme.owner, name="ci", expires_days=30
    )
    mikes, _ = access_token_create(user=acme.member, name="laptop")
    client = login(acme.gina)
    globex = {"org": "globex"}
    for name, pk in (
        ("tokens:organization_revoke", org_token.pk),
        ("tokens:member_revoke", mikes.pk),
    ):
        url = reverse(name, kwargs={**globex, "pk": pk})
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert OrganizationToken.objects.get().revoked_at is None
    assert AccessToken.objects.get().revoked_at is None


# --- Completeness: every page of the site is pinned above ------------------------------------

# URL names pinned by a test of their own above rather than by a row of a matrix, and the test.
OWN_TESTS = {
    "home": "test_home_matrix",
    "healthz": "test_healthz_needs_no_login_and_no_database",
    "favicon": "test_favicon_needs_no_login",
    "readyz": "test_readyz_needs_no_login",
    "logout": "test_logout_matrix",
    "password_reset_confirm": "test_password_reset_link_matrix",
    "tokens:revoke": "test_token_revoke_matrix",
    "tokens:delete": "test_token_delete_matrix",
    "tokens:session_revoke": "test_registry_session_revoke_matrix",
    "orgs:invitation_revoke": "test_invitation_revoke_matrix",
    "invitations:accept": "test_invitation_answer_matrix",
    "invitations:decline": "test_invitation_answer_matrix",
    "invitations:open": "test_invitation_link_matrix",
    "invitations:signup": "test_signup_matrix",
    "identity:mapping_delete": "test_group_mapping_delete_matrix",
    "provisioning:token_revoke": "test_scim_token_revoke_matrix",
    "tokens:organization_revoke": "test_organization_token_revoke_matrix",
    "tokens:member_revoke": "test_member_token_revoke_matrix",
    "identity:login": "test_sso_entry_pages_are_open_to_everyone",
    "identity:callback": "test_sso_entry_pages_are_open_to_everyone",
}

# Parts of the site left out of the pages' matrix on purpose (by the start of their route), and
# why.
EXCLUDED_ROUTES = {
    "admin/": "Django's admin: staff only, by Django's own rule.",
    "api/": "The API: API_MATRIX above, with its own completeness test.",
    "v2/": "The Docker Hub-compatible API: API_MATRIX above, as for api/.",
    "^(?:api|v2)/": "The API's JSON 404 for any other URL under api/ or v2/.",
    "auth/token": "The registry's token endpoint: tests/tokens pin every credential and method "
    "(it answers registry clients, not a person in a browser).",
    "scim/v2/": "The SCIM endpoint of identity providers (SCIM tokens, not people): "
    "tests/provisioning/test_scim_access.py pins every credential and organisation.",
}
# Static files are served by WhiteNoise's middleware, not by a URL pattern.


def site_pages():
    """``{name: route}`` of every URL pattern of the site, outside the excluded parts; a pattern
    without a name gets its route as its name, so it can't hide."""

    def walk(patterns, route="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, route + str(pattern.pattern), inner)
            else:
                full_route = route + str(pattern.pattern)
                yield (f"{namespace}{pattern.name}" if pattern.name else full_route), full_route

    return {
        name: route
        for name, route in walk(get_resolver().url_patterns)
        if not route.startswith(tuple(EXCLUDED_ROUTES))
    }


def test_every_page_is_in_the_matrix():
    """A new page must get a row in MATRIX, OBJECT_MATRIX or PUBLIC_PAGES, or a test of its own
    named in OWN_TESTS."""
    pinned = (
        {name for name, _, _ in MATRIX}
        | {name for name, _, _ in OBJECT_MATRIX}
        | {name for name, _, _ in PUBLIC_PAGES}
        | set(OWN_TESTS)
    )
    missing = {name: route for name, route in site_pages().items() if name not in pinned}
    assert not missing, f"Pages with no row in the access matrix: {missing}"
    # ... and no row names a page that is gone, nor a test that does not exist.
    assert pinned <= set(site_pages()), pinned - set(site_pages())
    assert all(test in globals() for test in OWN_TESTS.values())


@pytest.mark.parametrize(("role", "get", "post"), REVOKE_MATRIX)
def test_group_mapping_delete_matrix(acme, client, login, settings, role, get, post):
    from identity.config import Provider
    from identity.models import GroupMapping
    from identity.services import group_mapping_create
    from orgs.models import Team

    provider = Provider(
        id="corp", label="Corp", issuer="https://idp", client_id="c", client_secret="s"
    )
    settings.OIDC_PROVIDERS = (provider,)
    team = Team.objects.get(organization=acme.org, name="developers")
    mapping = group_mapping_create(team=team, provider=provider, group="devs", actor=acme.owner)
    sign_in_as(acme, login, role)
    url = reverse("identity:mapping_delete", kwargs={**ORG, "pk": mapping.pk})
    assert client.get(url).status_code == get
    assert client.post(url).status_code == post
    assert GroupMapping.objects.filter(pk=mapping.pk).exists() is (role != "owner")


@pytest.mark.parametrize("role", ROLES)
def test_sso_entry_pages_are_open_to_everyone(acme, client, login, settings, role):
    """The way to the provider and back: for anyone (signing in is what they are for). Here
    the provider cannot be reached (502) and the callback has no state (400); POST is 405; an
    unknown provider is 404."""
    from identity.config import Provider

    settings.OIDC_PROVIDERS = (
        Provider(
            id="corp", label="Corp", issuer="http://127.0.0.1:9", client_id="c", client_secret="s"
        ),
    )
    sign_in_as(acme, login, role)
    for name, get in (("identity:login", 502), ("identity:callback", 400)):
        assert client.get(reverse(name, args=["corp"])).status_code == get
        assert client.post(reverse(name, args=["corp"])).status_code == 405
        assert client.get(reverse(name, args=["other"])).status_code == 404
