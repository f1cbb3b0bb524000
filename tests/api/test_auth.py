"""How API callers are identified: bearers and access tokens, the browser session with CSRF,
and the access token's scope (a repo:read token reads, and is told why it cannot write)."""

import time

import jwt
import pytest
from django.test import Client

from api.bearer import issue_bearer
from api.credentials import bearer_key
from api.permissions import READ_ONLY
from policies.models import POLICY_FIELDS, AccessPolicy, AllowlistEntry
from tests.api.conftest import Api, sign_in
from tests.factories import PASSWORD
from tokens.models import AccessToken
from tokens.selectors import password_binding
from tokens.services import access_token_create

SETTINGS = "/api/v1/orgs/acme/settings"
HUB_SETTINGS = "/v2/orgs/acme/settings"
ALL_ON = dict.fromkeys(POLICY_FIELDS, True)  # every setting of the portal's own endpoint
HUB_ALL_ON = {"enabled": True, "allow_official_images": True, "allow_verified_publishers": True}


def unauthorized(response) -> str:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Bearer realm="iam-portal"'
    return response.json()["detail"]


# --- bearers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "iamp_" + "x" * 43,  # an access token's shape, no token
        "a.b.c",
        "two words",
        "x" * 5000,
        "é",
    ],
)
def test_malformed_or_unknown_bearers_are_401(acme, value):
    response = Client().get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert unauthorized(response)


def test_a_bearer_never_falls_back_to_the_session(acme, login):
    client = login(acme.member)
    assert client.get("/api/v1/user").status_code == 200
    assert unauthorized(client.get("/api/v1/user", HTTP_AUTHORIZATION="Bearer nope"))


def test_other_schemes_are_not_bearers(acme):
    response = Client().get("/api/v1/user", HTTP_AUTHORIZATION="Basic bWlrZTp4")
    assert unauthorized(response) == "Authentication credentials were not provided."


def forged(user, **changes) -> str:
    claims = {
        "iss": "iam-portal",
        "aud": "iam-portal-api",
        "sub": user.username,
        "uid": user.pk,
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "pwd": password_binding(password_hash=user.password),
        **changes,
    }
    return jwt.encode(claims, bearer_key(), algorithm="HS256")


def test_bearers_that_are_not_ours_or_no_longer_valid_are_401(acme, settings):
    mike = acme.member
    settings.TOKEN_ISSUER = "iam-portal"
    assert Api(f"Bearer {forged(mike)}").get("/api/v1/user").status_code == 200
    for bearer in (
        forged(mike, exp=int(time.time()) - 1),  # expired
        forged(mike, aud="iam-registry"),
        forged(mike, iss="someone-else"),
        forged(mike, uid=str(mike.pk)),
        forged(mike, sub="olivia"),  # names another account than uid
        forged(mike, uid=99999),
        forged(mike, pwd=""),  # made with the password, but bound to none
        forged(mike, pwd=password_binding(password_hash="pbkdf2_sha256$1$salt$other")),
        jwt.encode({"sub": "mike", "uid": mike.pk}, "another key " * 4, algorithm="HS256"),
        jwt.encode({"sub": "mike", "uid": mike.pk}, None, algorithm="none"),
    ):
        assert unauthorized(Api(f"Bearer {bearer}").get("/api/v1/user"))


def test_a_bearer_expires_after_ten_minutes(acme, settings):
    past = int(time.time()) - 601
    bearer = issue_bearer(
        key=bearer_key(),
        issuer=settings.TOKEN_ISSUER,
        user_id=acme.member.pk,
        username="mike",
        token_id=None,
        password_binding=password_binding(password_hash=acme.member.password),
        now=past,
    )
    assert unauthorized(Api(f"Bearer {bearer}").get("/api/v1/user"))


def test_a_deactivated_account_loses_its_bearers_and_tokens(acme):
    _, secret = access_token_create(user=acme.member, name="ci")
    bearers = [sign_in("mike", PASSWORD), sign_in("mike", secret), secret]
    acme.member.is_active = False
    acme.member.save()
    for bearer in bearers:
        assert unauthorized(Api(f"Bearer {bearer}").get("/api/v1/user"))


def test_changing_the_secret_key_ends_every_bearer(acme, settings):
    bearer = sign_in("mike", PASSWORD)
    settings.SECRET_KEY = "another-" + "k" * 60
    assert unauthorized(Api(f"Bearer {bearer}").get("/api/v1/user"))


def test_using_an_access_token_records_its_use(acme):
    token, secret = access_token_create(user=acme.member, name="ci")
    assert Api(f"Bearer {secret}").get("/api/v1/orgs").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


# --- the browser session, with CSRF -------------------------------------------------------------


def test_a_session_reads_and_writes_with_the_csrf_token(acme):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="olivia", password=PASSWORD)
    assert client.get(SETTINGS).status_code == 200
    refused = client.put(SETTINGS, ALL_ON, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")
    assert AccessPolicy.objects.get(organization=acme.org).version == 1
    client.get("/settings/tokens/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    saved = client.put(SETTINGS, ALL_ON, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert saved.status_code == 200, saved.content
    assert AccessPolicy.objects.get(organization=acme.org).enabled


def test_a_bearer_needs_no_csrf_token_even_with_a_session_cookie(acme):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="olivia", password=PASSWORD)
    bearer = sign_in("olivia", PASSWORD)
    response = client.put(
        SETTINGS, ALL_ON, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {bearer}"
    )
    assert response.status_code == 200


def test_sign_in_needs_no_csrf_token(acme):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/v2/auth/token",
        {"identifier": "mike", "secret": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200


# --- token scopes -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["repo:read", "token:repo:read"])
def test_a_read_only_token_reads(acme, api, how):
    owner = api(acme.owner, how)
    for url in (SETTINGS, HUB_SETTINGS, "/api/v1/orgs", "/api/v1/orgs/acme/allowlist"):
        assert owner.get(url).status_code == 200, url
    # Checking an image is a read, though a POST.
    assert owner.post("/api/v1/check", {"reference": "ubuntu"}).status_code == 200


@pytest.mark.parametrize("how", ["repo:read", "token:repo:read"])
def test_a_read_only_token_cannot_write_and_is_told_why(acme, api, how):
    owner = api(acme.owner, how)
    for response in (
        owner.put(SETTINGS, ALL_ON),
        owner.patch(SETTINGS, {"enabled": True}),
        owner.put(HUB_SETTINGS, {"restricted_images": HUB_ALL_ON}),
        owner.post("/api/v1/orgs/acme/allowlist", {"repository": "a/b", "reason": "x"}),
        owner.put("/api/v1/orgs/acme/teams/developers/grant", {}),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == READ_ONLY
    assert AccessPolicy.objects.get(organization=acme.org).version == 1
    assert not AllowlistEntry.objects.exists()


@pytest.mark.parametrize("how", ["repo:write", "token:repo:write", "password"])
def test_a_write_token_or_the_password_writes(acme, api, how):
    response = api(acme.owner, how).put(SETTINGS, ALL_ON)
    assert response.status_code == 200, response.content


def test_a_read_only_token_of_an_outsider_learns_nothing_about_the_organisation(acme, api):
    """The scope is refused before the organisation is looked up, with the same answer for
    an organisation that exists and one that does not."""
    outsider = api(acme.outsider, "repo:read")
    answers = {
        outsider.put(url, ALL_ON).json()["detail"]
        for url in (SETTINGS, "/api/v1/orgs/nosuchorg/settings")
    }
    assert answers == {READ_ONLY}


def test_the_scope_is_read_at_every_request(acme, api):
    owner = api(acme.owner, "token:repo:read")
    assert owner.put(SETTINGS, ALL_ON).status_code == 403
    AccessToken.objects.filter(user=acme.owner).update(scope="repo:write")  # e.g. the admin
    assert owner.put(SETTINGS, ALL_ON).status_code == 200
