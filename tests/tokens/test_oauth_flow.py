"""The OAuth2 flow of the token service (``POST /auth/token``), refresh tokens (registry
sessions) and clean refusals, through Django's test client."""

import hashlib
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, make_user, set_policy
from tests.tokens.conftest import SERVICE, URL, basic, offline, post_form
from tests.tokens.test_token_service import FOUR, assert_unauthorized, pulls
from tokens.models import AccessToken, RefreshToken
from tokens.services import REFRESH_PREFIX, access_token_revoke

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


# --- one code path for GET and POST -----------------------------------------------------------

PUSHES = [f"repository:{name}:pull,push" for name in [*FOUR, "globex/app"]]
ODD = ["repository:acme/app:pull,push,delete", "repository:acme/x:*", "registry:catalog:*"]


@pytest.mark.parametrize(
    ("who", "policy", "scopes"),
    [
        ("member", None, pulls(*FOUR)),
        ("member", {"official": True}, pulls(*FOUR, "alpine")),
        ("member", {"publishers": True}, pulls(*FOUR)),
        ("member", {}, PUSHES),
        ("member", {}, ODD),
        ("member", {"official": True}, []),
        ("owner", {}, pulls(*FOUR)),
        ("owner", {}, PUSHES),
        ("outsider", {}, pulls(*FOUR)),
        ("staff", None, PUSHES + ODD),
    ],
)
@pytest.mark.parametrize("credential", ["access token", "password"])
def test_get_and_post_grant_exactly_the_same(
    acme, ask, claims_of, token_of, who, policy, scopes, credential
):
    users = {"member": acme.member, "owner": acme.owner, "outsider": acme.outsider}
    user = users.get(who) or make_user("admin", is_staff=True)
    if policy is not None:
        set_policy(acme.org, actor=acme.owner, enabled=True, **policy)
    auth = token_of(user) if credential == "access token" else (user.username, PASSWORD)

    by_get, by_post = ask(*scopes, auth=auth), ask(*scopes, auth=auth, method="POST")

    get_claims, post_claims = claims_of(by_get), claims_of(by_post)
    assert get_claims["access"] == post_claims["access"]
    assert get_claims["sub"] == post_claims["sub"] == user.username
    assert by_get.json()["scope"] == by_post.json()["scope"]


# --- the OAuth2 answer -------------------------------------------------------------------------


def test_post_answers_the_oauth2_fields(acme, ask, claims_of, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    response = ask(
        "repository:library/alpine:pull repository:acme/app:pull,push",
        "repository:someone/thing:pull",
        auth=token_of(acme.member),
        method="POST",
    )
    body = response.json()
    claims = claims_of(response)
    assert response["Content-Type"] == "application/json"
    assert body["access_token"] == body["token"]
    assert body["expires_in"] == 300
    assert RFC3339.fullmatch(body["issued_at"])
    assert body["scope"] == "repository:library/alpine:pull repository:acme/app:pull,push"
    assert "refresh_token" not in body
    assert claims["access"][1] == {
        "type": "repository",
        "name": "acme/app",
        "actions": ["pull", "push"],
    }


def test_post_needs_no_csrf_token(acme, signing, token_of):
    client = Client(enforce_csrf_checks=True)
    username, secret = token_of(acme.member)
    response = post_form(
        client,
        {
            "grant_type": "password",
            "username": username,
            "password": secret,
            "service": SERVICE,
            "scope": "repository:library/alpine:pull",
            "client_id": "containerd-client",
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "repository:library/alpine:pull"


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({}, 400, "UNSUPPORTED_GRANT_TYPE"),
        ({"grant_type": "authorization_code"}, 400, "UNSUPPORTED_GRANT_TYPE"),
        ({"grant_type": "password"}, 401, "UNAUTHORIZED"),
        ({"grant_type": "password", "username": "mike"}, 401, "UNAUTHORIZED"),
        ({"grant_type": "refresh_token"}, 401, "UNAUTHORIZED"),
        ({"grant_type": "refresh_token", "refresh_token": "iamp_" + "x" * 43}, 401, "UNAUTHORIZED"),
        (
            {"grant_type": "password", "username": "mike", "password": "x", "client_id": "é"},
            400,
            "INVALID_REQUEST",
        ),
    ],
)
def test_post_refusals_are_json(acme, client, signing, form, status, code):
    response = post_form(client, form)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == code
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    "content_type", ["application/json", "multipart/form-data", "multipart/form-data; boundary="]
)
def test_a_body_that_is_not_a_url_encoded_form_is_a_json_400(acme, client, signing, content_type):
    response = client.post(URL, '{"grant_type": "password"}', content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0] == {
        "code": "INVALID_REQUEST",
        "message": "The OAuth2 token request must be sent as application/x-www-form-urlencoded.",
    }


# --- clean refusals ----------------------------------------------------------------------------


def refusal_log(caplog) -> list[str]:
    """What was logged about refusals: everything but the access log's line per request."""
    return [r.getMessage() for r in caplog.records if r.name != "portal.requests"]


@pytest.mark.parametrize(
    "credentials",
    [("mi\x00ke", PASSWORD), ("mike", "pass\x00word"), ("mi\x1bke", PASSWORD), ("\x00", "x")],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_control_characters_in_credentials_are_a_401_logged_once(
    acme, client, signing, credentials, method, caplog
):
    username, secret = credentials
    with caplog.at_level(logging.INFO):
        if method == "GET":
            response = client.get(
                URL,
                {"service": SERVICE, "scope": "repository:library/alpine:pull"},
                HTTP_AUTHORIZATION=basic(username, secret),
            )
        else:
            response = post_form(
                client, {"grant_type": "password", "username": username, "password": secret}
            )
    assert_unauthorized(response)
    assert response.json()["errors"][0]["message"] == "Malformed credentials."
    assert refusal_log(caplog) == [
        f"Token request refused ({method}, 401 UNAUTHORIZED) for (no username) from 127.0.0.1: "
        "Malformed credentials."
    ]
    assert not any(r.exc_info for r in caplog.records)


def test_wrong_password_is_logged_once_with_the_reason(acme, ask, caplog):
    with caplog.at_level(logging.INFO):
        response = ask(*pulls("library/alpine"), auth=("mike", "wrong"), method="POST")
    assert response.status_code == 401
    assert refusal_log(caplog) == [
        "Token request refused (POST, 401 UNAUTHORIZED) for 'mike' from 127.0.0.1: "
        "Incorrect username or password."
    ]


# --- refresh tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("credential", ["access token", "password"])
def test_offline_sign_in_returns_a_refresh_token_stored_hashed(
    acme, ask, refresh, granted, token_of, credential
):
    auth = token_of(acme.member) if credential == "access token" else ("mike", PASSWORD)
    secret = offline(ask, auth)

    assert re.fullmatch(REFRESH_PREFIX + r"[A-Za-z0-9_-]{43}", secret)
    session = RefreshToken.objects.get()
    assert session.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert session.user == acme.member
    assert session.client_id == "docker"
    assert session.access_token == (
        AccessToken.objects.get() if credential == "access token" else None
    )
    assert secret[len(REFRESH_PREFIX) :] not in str(RefreshToken.objects.values().get())

    response = refresh(secret, *pulls("library/alpine"))
    assert granted(response) == {"library/alpine": ["pull"]}
    assert "refresh_token" not in response.json()
    # access_type=offline on a refresh grant returns the same refresh token, not a new one.
    again = refresh(secret, access_type="offline")
    assert again.json()["refresh_token"] == secret
    assert RefreshToken.objects.count() == 1


def test_get_with_offline_token_returns_one_too(acme, ask, refresh, granted, token_of):
    response = ask(*pulls("library/alpine"), auth=token_of(acme.member), offline_token="true")
    secret = response.json()["refresh_token"]
    assert granted(refresh(secret, *pulls("acme/app"))) == {"acme/app": ["pull"]}


def test_a_refresh_grant_goes_through_the_policy_every_time(acme, ask, refresh, granted, token_of):
    secret = offline(ask, token_of(acme.member))
    assert granted(refresh(secret, *pulls(*FOUR))) == {name: ["pull"] for name in FOUR}
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    response = refresh(secret, *pulls(*FOUR), "repository:globex/app:pull,push")
    assert granted(response) == {"library/alpine": ["pull"], "acme/app": ["pull"]}


def test_refresh_records_its_last_use(acme, ask, refresh, token_of):
    secret = offline(ask, token_of(acme.member))
    assert RefreshToken.objects.get().last_used_at is None
    refresh(secret, *pulls("library/alpine"))
    assert RefreshToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "case",
    [
        "session revoked",
        "access token revoked",
        "access token expired",
        "user deactivated",
        "user removed",
        "unknown",
        "an access token instead",
    ],
)
def test_refresh_tokens_stop_working(acme, ask, refresh, token_of, case):
    auth = token_of(acme.member)
    secret = offline(ask, auth)
    session = RefreshToken.objects.get()
    if case == "session revoked":
        session.revoked_at = timezone.now()
        session.save()
    elif case == "access token revoked":
        access_token_revoke(token=session.access_token)
        session.refresh_from_db()
        assert session.revoked_at is not None  # revoking the token ends its sessions
    elif case == "access token expired":
        AccessToken.objects.update(expires_at=timezone.now())
    elif case == "user deactivated":
        acme.member.is_active = False
        acme.member.save()
    elif case == "user removed":
        acme.member.delete()
        assert not RefreshToken.objects.exists()
    elif case == "unknown":
        secret = REFRESH_PREFIX + "x" * 43
    else:
        secret = auth[1]
    assert_unauthorized(refresh(secret, *pulls("library/alpine")))


def test_a_refresh_token_is_not_a_password(acme, ask, token_of):
    secret = offline(ask, token_of(acme.member))
    assert_unauthorized(ask(*pulls("library/alpine"), auth=("mike", secret)))
    assert_unauthorized(ask(*pulls("library/alpine"), auth=("mike", secret), method="POST"))


def test_an_anonymous_request_gets_no_refresh_token(acme, ask, settings):
    settings.ANONYMOUS_PULLS = True
    response = ask(*pulls("library/alpine"), offline_token="true")
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert not RefreshToken.objects.exists()


# --- registry sessions on the tokens page -----------------------------------------------------


def test_sessions_are_listed_and_revoked_after_confirmation(acme, ask, refresh, token_of, login):
    secret = offline(ask, token_of(acme.member))
    offline(ask, ("mike", PASSWORD))
    web = login(acme.member)
    page = web.get(reverse("tokens:list")).content.decode()
    assert "Registry sessions" in page
    assert page.count("<code>docker</code>") == 2
    assert "token 'registry'" in page and ">password<" in page

    session = RefreshToken.objects.get(access_token__isnull=False)
    url = reverse("tokens:session_revoke", kwargs={"pk": session.pk})
    confirm = web.get(url)
    assert confirm.status_code == 200
    assert b"Revoke the registry session of &#x27;docker&#x27;?" in confirm.content
    session.refresh_from_db()
    assert session.revoked_at is None  # asking is not revoking

    response = web.post(url)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert_unauthorized(refresh(secret, *pulls("library/alpine")))
    assert web.get(reverse("tokens:list")).content.decode().count("<code>docker</code>") == 1


def test_someone_elses_session_is_a_404(acme, ask, token_of, login):
    offline(ask, token_of(acme.owner))
    session = RefreshToken.objects.get()
    url = reverse("tokens:session_revoke", kwargs={"pk": session.pk})
    web = login(acme.member)
    assert web.get(url).status_code == 404
    assert web.post(url).status_code == 404
    session.refresh_from_db()
    assert session.revoked_at is None
