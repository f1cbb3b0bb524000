"""Every URL x {anonymous, outsider, member, owner} x {GET, POST} -> the expected status.

Anonymous visitors are sent to the login page, outsiders get 404 for anything of an
organisation they are not in, members get 403 on owner actions.
"""

import pytest
from django.urls import reverse

from orgs.models import Invitation, TeamMembership
from policies.models import AllowlistEntry
from policies.references import parse_reference
from policies.services import exception_request_create
from tests.factories import add_entry, invite, set_policy
from tokens.models import AccessToken
from tokens.services import access_token_create, refresh_token_create

ROLES = ("anonymous", "outsider", "member", "owner")
LOGIN = 302  # anonymous -> /accounts/login/?next=...

# (url name, kwargs, {(role, method): status}); "*" for a method means every signed-in role.
ORG = {"org": "acme"}


def row(get, post):
    """Statuses for (outsider, member, owner) on GET and POST."""
    return {"GET": get, "POST": post}


MATRIX = [
    ("orgs:list", {}, row((200, 200, 200), (400, 400, 400))),
    ("orgs:detail", ORG, row((404, 200, 200), (404, 403, 405))),
    # Destructive actions: GET is the confirmation page, POST does it.
    ("orgs:member_remove", {**ORG, "username": "mike"}, row((404, 403, 200), (404, 403, 302))),
    # olivia is acme's last owner: her confirmation page says why she can't leave, POST is 400.
    ("orgs:leave", ORG, row((404, 200, 200), (404, 302, 400))),
    ("orgs:invitations", ORG, row((404, 403, 200), (404, 403, 400))),
    ("orgs:teams", ORG, row((404, 200, 200), (404, 403, 400))),
    ("orgs:team", {**ORG, "team": "developers"}, row((404, 200, 200), (404, 403, 405))),
    (
        "orgs:team_member_remove",
        {**ORG, "team": "developers", "username": "mike"},
        row((404, 403, 200), (404, 403, 302)),
    ),
    ("orgs:settings", ORG, row((404, 302, 302), (404, 403, 302))),
    ("policies:permissions", ORG, row((404, 200, 200), (404, 403, 400))),
    ("policies:sign_in", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:sign_in_registry_json", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:sign_in_reg", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:sign_in_mobileconfig", ORG, row((404, 403, 200), (404, 403, 405))),
    ("tokens:list", {}, row((200, 200, 200), (400, 400, 400))),
    ("invitations:list", {}, row((200, 200, 200), (405, 405, 405))),
    ("policies:allowlist_add", ORG, row((404, 403, 302), (404, 403, 400))),
    ("policies:team_grant", {**ORG, "team": "developers"}, row((404, 403, 302), (404, 403, 400))),
    ("policies:exception_create", ORG, row((404, 200, 200), (404, 400, 400))),
    ("policies:my_requests", {}, row((200, 200, 200), (405, 405, 405))),
    # Pull activity: owners only (the CSV streams); a preview never saves (an empty POST is
    # invalid); members' own activity.
    ("policies:activity", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:activity_csv", ORG, row((404, 403, 200), (404, 403, 405))),
    ("policies:permissions_preview", ORG, row((404, 403, 302), (404, 403, 400))),
    ("policies:my_activity", {}, row((200, 200, 200), (405, 405, 405))),
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
    ("policies:allowlist_remove", (404, 403, 405), (404, 403, 302)),
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
    request = exception_request_create(
        organization=acme.org,
        requester=acme.member,
        reference=parse_reference("other/thing"),
        justification="CI",
    )
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
    request = exception_request_create(
        organization=acme.org,
        requester=acme.member,
        reference=parse_reference("other/thing"),
        justification="CI",
    )
    client = login(acme.gina)
    globex = {"org": "globex"}
    assert (
        client.post(
            reverse("policies:allowlist_remove", kwargs={**globex, "pk": entry.pk})
        ).status_code
        == 302
    )
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


@pytest.fixture
def invitation(acme):
    """olivia (owner of acme) invited oscar (the outsider) into acme's members team."""
    invitation, token = invite(acme.org, "oscar", by=acme.owner)
    invitation.token = token
    return invitation


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("anonymous", LOGIN, LOGIN),
        ("outsider", 404, 404),
        ("member", 403, 403),
        ("owner", 200, 302),
    ],
)
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


def test_healthz_needs_no_login_and_no_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert client.post("/healthz").status_code == 405


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
