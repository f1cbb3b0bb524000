"""The Docker Hub-compatible endpoints against Docker's documented API (Docker Hub API
reference, ``https://docs.docker.com/reference/api/hub/latest/``): the request examples it
shows, sent as they are, and every answer checked against the schema it documents
(transcribed below), plus the portal's own rules (access, history, throttling, scopes)."""

import jwt
import pytest
from jsonschema import validate

from policies.models import AccessPolicy, PolicyChange
from tests.api.conftest import Api, sign_in
from tests.factories import PASSWORD, set_policy
from tokens.models import AccessToken, RefreshToken
from tokens.services import access_token_create, access_token_revoke, refresh_token_create

SETTINGS = "/v2/orgs/acme/settings"

# --- Docker's documented schemas (components.schemas of the reference) ------------------------

RESTRICTED_IMAGES = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "allow_official_images": {"type": "boolean"},
        "allow_verified_publishers": {"type": "boolean"},
    },
}
ORG_SETTINGS = {"type": "object", "properties": {"restricted_images": RESTRICTED_IMAGES}}
AUTH_CREATE_TOKEN_RESPONSE = {
    "type": "object",
    "properties": {"access_token": {"type": "string"}},
}
ACCESS_TOKEN = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string"},
        "client_id": {"type": "string"},
        "creator_ip": {"type": "string"},
        "creator_ua": {"type": "string"},
        "created_at": {"type": "string"},
        "last_used": {"type": "string", "nullable": True},
        "generated_by": {"type": "string"},
        "is_active": {"type": "boolean"},
        "token": {"type": "string"},
        "token_label": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string"}},
    },
}
GET_ACCESS_TOKENS_RESPONSE = {
    "type": "object",
    "properties": {
        "count": {"type": "number"},
        "next": {"type": ["string", "null"]},
        "previous": {"type": ["string", "null"]},
        "active_count": {"type": "number"},
        "results": {"type": "array", "items": ACCESS_TOKEN},
    },
}
ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "message": {"type": "string"}},
}
VALUE_ERROR = {
    "type": "object",
    "properties": {"fields": {"type": "object"}, "text": {"type": "string"}},
}
# OpenAPI 3.0's "nullable" is not JSON Schema: last_used may be null.
ACCESS_TOKEN["properties"]["last_used"] = {"type": ["string", "null"]}

# --- Docker's documented request examples -----------------------------------------------------

PUT_SETTINGS_EXAMPLE = {
    "restricted_images": {
        "allow_official_images": True,
        "allow_verified_publishers": True,
        "enabled": True,
    }
}
CREATE_TOKEN_EXAMPLE = {"scopes": ["repo:read"], "token_label": "My read only token"}


def docker_settings(policy) -> dict:
    """Docker's three settings of a policy (the portal may have more, e.g. audit_only)."""
    return {field: getattr(policy, field) for field in RESTRICTED_IMAGES["properties"]}


def conforms(response, schema, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    validate(response.json(), schema)
    return response.json()


# --- POST /v2/auth/token ------------------------------------------------------------------------


def test_auth_token_with_an_access_token_as_documented(acme):
    _, secret = access_token_create(user=acme.member, name="ci")
    response = Api().post("/v2/auth/token", {"identifier": "mike", "secret": secret})
    body = conforms(response, AUTH_CREATE_TOKEN_RESPONSE, 200)
    assert set(body) == {"access_token"}
    assert response["Cache-Control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "mike"
    assert claims["exp"] - claims["iat"] == 600  # "This expires in 10 minutes."
    # It works as a bearer, and so does the access token itself.
    for bearer in (body["access_token"], secret):
        me = Api(f"Bearer {bearer}").get("/api/v1/user")
        assert me.json() == {"username": "mike", "scope": "repo:write"}


def test_auth_token_with_the_password(acme):
    bearer = sign_in("mike", PASSWORD)
    assert Api(f"Bearer {bearer}").get("/api/v1/user").json() == {
        "username": "mike",
        "scope": None,
    }


def test_auth_token_with_the_password_can_be_turned_off(acme, settings):
    settings.REGISTRY_PASSWORD_AUTH = False
    response = Api().post("/v2/auth/token", {"identifier": "mike", "secret": PASSWORD})
    conforms(response, ERROR, 401)
    assert "sign in with an access token" in response.json()["detail"]


@pytest.mark.parametrize(
    ("identifier", "secret"),
    [
        ("mike", "wrong-password"),
        ("mike", "iamp_" + "x" * 43),  # an access token shape that is no token
        ("nobody", PASSWORD),
        ("olivia", None),  # mike's token under olivia's name
    ],
)
def test_auth_token_wrong_credentials_are_401(acme, identifier, secret):
    if secret is None:
        secret = access_token_create(user=acme.member, name="ci")[1]
    response = Api().post("/v2/auth/token", {"identifier": identifier, "secret": secret})
    body = conforms(response, ERROR, 401)
    assert body["detail"].startswith("Incorrect username or")
    assert "access_token" not in body
    assert response["WWW-Authenticate"] == 'Bearer realm="iam-portal"'


def test_auth_token_revoked_or_expired_tokens_are_401(acme):
    token, secret = access_token_create(user=acme.member, name="ci")
    bearer = sign_in("mike", secret)
    access_token_revoke(token=token)
    assert Api().post("/v2/auth/token", {"identifier": "mike", "secret": secret}).status_code == 401
    # A bearer made from it stops working at once too.
    assert Api(f"Bearer {bearer}").get("/api/v1/user").status_code == 401


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"identifier": "This field is required.", "secret": "This field is required."}),
        ({"identifier": "mike"}, {"secret": "This field is required."}),
        ({"identifier": "mike", "secret": 7}, {"secret": "Must be a string."}),
        ({"identifier": ["mike"], "secret": "x"}, {"identifier": "Must be a string."}),
        ({"identifier": "mike", "secret": "x", "password": "x"}, {"password": "Unknown field."}),
        (
            {"identifier": "mi\x00ke", "secret": "x"},
            {"identifier": "Null characters are not allowed."},
        ),
        ({"identifier": "m" * 151, "secret": "x"}, None),
    ],
)
def test_auth_token_malformed_bodies_are_400_per_field(acme, body, fields):
    response = Api().post("/v2/auth/token", body)
    answer = conforms(response, VALUE_ERROR, 400)
    if fields is not None:
        assert answer["fields"] == fields
    else:
        assert set(answer["fields"]) <= {"identifier", "secret"}
    assert answer["text"] == answer["detail"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"identifier=mike&secret=x", "application/x-www-form-urlencoded", 415),
    ],
)
def test_auth_token_not_a_json_object(acme, client, content, content_type, status):
    response = client.post("/v2/auth/token", content, content_type=content_type)
    assert response.status_code == status
    assert response.json()["detail"]


def test_wrong_passwords_at_auth_token_count_like_other_sign_ins(acme, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for attempt in range(3):  # the failure that locks is answered 429, as at /auth/token
        response = Api().post("/v2/auth/token", {"identifier": "mike", "secret": "wrong"})
        assert response.status_code == (429 if attempt == 2 else 401)
    response = Api().post("/v2/auth/token", {"identifier": "mike", "secret": PASSWORD})
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed sign-ins for this account")
    assert int(response["Retry-After"]) > 0
    # The account's access tokens still work (they can't be guessed, and someone else's
    # failed passwords must not lock a member out) ...
    _, secret = access_token_create(user=acme.member, name="ci")
    response = Api().post("/v2/auth/token", {"identifier": "mike", "secret": secret})
    assert response.status_code == 200
    # ... and so does another account.
    assert (
        Api().post("/v2/auth/token", {"identifier": "olivia", "secret": PASSWORD}).status_code
        == 200
    )


def test_wrong_access_tokens_are_not_counted(acme, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(4):
        body = {"identifier": "mike", "secret": "iamp_" + "y" * 43}
        assert Api().post("/v2/auth/token", body).status_code == 401
    assert (
        Api().post("/v2/auth/token", {"identifier": "mike", "secret": PASSWORD}).status_code == 200
    )


def test_the_bearer_is_no_registry_token_and_the_registry_token_no_bearer(acme, token_keys, client):
    bearer = sign_in("mike", PASSWORD)
    assert (
        client.get(
            "/auth/token",
            {"scope": "repository:acme/app:pull"},
            HTTP_AUTHORIZATION=f"Bearer {bearer}",
        ).status_code
        == 401
    )
    registry = client.get(
        "/auth/token",
        {"scope": "repository:acme/app:pull", "service": "test-registry"},
        HTTP_AUTHORIZATION="Basic "
        + __import__("base64").b64encode(b"mike:" + PASSWORD.encode()).decode(),
    ).json()["token"]
    assert Api(f"Bearer {registry}").get("/api/v1/user").status_code == 401


# --- GET/PUT /v2/orgs/{name}/settings -------------------------------------------------------


def test_get_settings_as_documented(acme, api):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    for who in (acme.owner, acme.member):
        response = api(who).get(SETTINGS)
        body = conforms(response, ORG_SETTINGS, 200)
        assert body == {
            "restricted_images": {
                "enabled": True,
                "allow_official_images": True,
                "allow_verified_publishers": False,
            }
        }
        assert response["ETag"] == '"2"'


def test_put_settings_with_the_documented_example(acme, owner_api):
    response = owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE)
    assert conforms(response, ORG_SETTINGS, 200) == PUT_SETTINGS_EXAMPLE
    policy = AccessPolicy.objects.get(organization=acme.org)
    assert docker_settings(policy) == {
        "enabled": True,
        "allow_official_images": True,
        "allow_verified_publishers": True,
    }
    assert response["ETag"] == f'"{policy.version}"' == '"2"'
    # Recorded in the history like a form save, by the owner.
    change = PolicyChange.objects.get(organization=acme.org)
    assert change.actor == acme.owner
    assert change.version == 2
    assert change.changes == {
        "enabled": {"from": False, "to": True},
        "allow_official_images": {"from": False, "to": True},
        "allow_verified_publishers": {"from": False, "to": True},
    }
    # Saving the same again changes nothing and records nothing.
    assert owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE)["ETag"] == '"2"'
    assert PolicyChange.objects.count() == 1


def test_a_docker_hub_script_round_trip(acme, owner_api):
    """GET, change one value, PUT it back: what scripts written for Docker Hub do."""
    settings = owner_api.get(SETTINGS).json()
    settings["restricted_images"]["enabled"] = True
    assert owner_api.put(SETTINGS, settings).json() == settings
    assert owner_api.get(SETTINGS).json() == settings


def audit_only(acme, **settings):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=True, **settings)


def test_audit_only_mode_is_not_enabled_for_docker_hub_scripts(acme, api):
    """In audit-only mode nothing is blocked: a script reading Docker Hub's ``enabled`` must
    not believe images are restricted."""
    audit_only(acme, official=True)
    for who in (acme.owner, acme.member):
        assert api(who).get(SETTINGS).json() == {
            "restricted_images": {
                "enabled": False,
                "allow_official_images": True,
                "allow_verified_publishers": False,
            }
        }
    # The portal's own API tells the whole story.
    full = api(acme.member).get("/api/v1/orgs/acme/settings").json()
    assert full["enabled"] is True and full["audit_only"] is True


def test_a_round_trip_in_audit_only_mode_changes_nothing(acme, owner_api):
    audit_only(acme)
    version = AccessPolicy.objects.get(organization=acme.org).version
    settings = owner_api.get(SETTINGS).json()
    assert owner_api.put(SETTINGS, settings).json() == settings
    policy = AccessPolicy.objects.get(organization=acme.org)
    assert (policy.enabled, policy.audit_only, policy.version) == (True, True, version)


def test_enabling_through_the_hub_api_enforces_an_audit_only_policy(acme, owner_api):
    audit_only(acme)
    answer = owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE)
    assert answer.json() == PUT_SETTINGS_EXAMPLE
    policy = AccessPolicy.objects.get(organization=acme.org)
    assert (policy.enabled, policy.audit_only) == (True, False)
    assert PolicyChange.objects.filter(organization=acme.org).latest("version").changes[
        "audit_only"
    ] == {"from": True, "to": False}


def test_disabling_through_the_hub_api_switches_an_enforced_policy_off(acme, owner_api):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    body = {"restricted_images": {**PUT_SETTINGS_EXAMPLE["restricted_images"], "enabled": False}}
    assert owner_api.put(SETTINGS, body).json() == body
    assert AccessPolicy.objects.get(organization=acme.org).enabled is False


def test_put_settings_members_403_nothing_changes(acme, member_api):
    response = member_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE)
    assert conforms(response, ERROR, 403)["detail"] == "Only owners of acme can do that."
    assert AccessPolicy.objects.get(organization=acme.org).version == 1
    assert not PolicyChange.objects.exists()


def test_settings_of_another_or_no_organisation_are_404(acme, api):
    gina = api(acme.gina)  # owns globex, not acme
    for url in (SETTINGS, "/v2/orgs/nosuchorg/settings"):
        assert conforms(gina.get(url), ERROR, 404)["detail"] == "No such organization."
        assert gina.put(url, PUT_SETTINGS_EXAMPLE).status_code == 404
    assert AccessPolicy.objects.get(organization=acme.org).version == 1


def test_settings_anonymous_401(acme):
    for response in (Api().get(SETTINGS), Api().put(SETTINGS, PUT_SETTINGS_EXAMPLE)):
        assert conforms(response, ERROR, 401)["detail"]
        assert response["WWW-Authenticate"] == 'Bearer realm="iam-portal"'


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"restricted_images": "This field is required."}),
        (
            {"restricted_images": {"enabled": True}},
            {
                "restricted_images.allow_official_images": "This field is required.",
                "restricted_images.allow_verified_publishers": "This field is required.",
            },
        ),
        (
            {"restricted_images": {**PUT_SETTINGS_EXAMPLE["restricted_images"], "enabled": "true"}},
            {"restricted_images.enabled": "Must be true or false (a JSON boolean)."},
        ),
        (
            {"restricted_images": {**PUT_SETTINGS_EXAMPLE["restricted_images"], "enabled": 1}},
            {"restricted_images.enabled": "Must be true or false (a JSON boolean)."},
        ),
        (
            {"restricted_images": {**PUT_SETTINGS_EXAMPLE["restricted_images"], "enabled": None}},
            {"restricted_images.enabled": "This field may not be null."},
        ),
        (
            {
                "restricted_images": {
                    **PUT_SETTINGS_EXAMPLE["restricted_images"],
                    "audit_only": True,
                }
            },
            {"restricted_images.audit_only": "Unknown field."},
        ),
        ({**PUT_SETTINGS_EXAMPLE, "sso": {}}, {"sso": "Unknown field."}),
        ({"restricted_images": True}, None),
        ({"restricted_images": None}, {"restricted_images": "This field may not be null."}),
    ],
)
def test_put_settings_malformed_or_incomplete_is_400_per_field(acme, owner_api, body, fields):
    response = owner_api.put(SETTINGS, body)
    answer = conforms(response, VALUE_ERROR, 400)
    if fields is not None:
        assert answer["fields"] == fields
    else:
        assert list(answer["fields"]) == ["restricted_images"]
    assert AccessPolicy.objects.get(organization=acme.org).version == 1
    assert not PolicyChange.objects.exists()


def test_put_settings_body_that_is_not_an_object(acme, owner_api, client):
    for content in (b"[]", b'"x"', b"null", b"{"):
        response = owner_api.client.put(
            SETTINGS, content, content_type="application/json", **owner_api.headers
        )
        assert response.status_code == 400, content
        assert response.json()["detail"]
    assert AccessPolicy.objects.get(organization=acme.org).version == 1


# --- ETag / If-Match ---------------------------------------------------------------------------


def test_a_stale_if_match_is_412_and_changes_nothing(acme, owner_api):
    etag = owner_api.get(SETTINGS)["ETag"]
    set_policy(acme.org, actor=acme.owner, enabled=True)  # someone else saves meanwhile
    response = owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE, HTTP_IF_MATCH=etag)
    assert conforms(response, ERROR, 412)["detail"].startswith(
        'The settings changed since you read them (If-Match: "1"; the current ETag is "2").'
    )
    policy = AccessPolicy.objects.get(organization=acme.org)
    assert (policy.version, policy.allow_official_images) == (2, False)
    assert PolicyChange.objects.count() == 1


@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', "*"])
def test_a_current_if_match_saves(acme, owner_api, if_match):
    response = owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE, HTTP_IF_MATCH=if_match)
    assert response.status_code == 200
    assert response["ETag"] == '"2"'


@pytest.mark.parametrize("if_match", ['W/"1"', "1", '"01"', "garbage", '""'])
def test_an_if_match_that_is_not_the_current_strong_etag_is_412(acme, owner_api, if_match):
    response = owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE, HTTP_IF_MATCH=if_match)
    assert response.status_code == 412
    assert AccessPolicy.objects.get(organization=acme.org).version == 1


def test_without_if_match_the_last_write_wins(acme, owner_api):
    """Docker Hub's API has no preconditions: a PUT without If-Match applies to the current
    version."""
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    response = owner_api.put(SETTINGS, PUT_SETTINGS_EXAMPLE)
    assert response.status_code == 200
    assert AccessPolicy.objects.get(organization=acme.org).version == 3


# --- /v2/access-tokens -------------------------------------------------------------------------


def test_create_access_token_with_the_documented_example(acme, member_api):
    response = member_api.post("/v2/access-tokens", CREATE_TOKEN_EXAMPLE)
    body = conforms(response, ACCESS_TOKEN, 201)
    token = AccessToken.objects.get(user=acme.member)
    assert body["uuid"] == str(token.uuid)
    assert body["token_label"] == "My read only token" == token.name
    assert body["scopes"] == ["repo:read"] == [token.scope]
    assert body["is_active"] is True
    assert body["last_used"] is None
    assert body["token"].startswith("iamp_")  # the secret, once
    assert response["Cache-Control"] == "no-store"
    # The secret works, read-only; it is stored only as a digest.
    assert Api(f"Bearer {body['token']}").get("/api/v1/user").json()["scope"] == "repo:read"
    assert body["token"] not in str(AccessToken.objects.values_list())


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (["repo:write"], "repo:write"),
        (["repo:read", "repo:write"], "repo:write"),  # the lower one is assumed, as on Hub
        (["repo:read", "repo:read"], "repo:read"),
    ],
)
def test_the_highest_scope_given_counts(acme, member_api, scopes, expected):
    body = member_api.post("/v2/access-tokens", {"token_label": "ci", "scopes": scopes}).json()
    assert body["scopes"] == [expected]


def test_create_access_token_with_an_expiry(acme, member_api):
    body = {**CREATE_TOKEN_EXAMPLE, "expires_at": "2030-10-28T18:30:19.520861Z"}
    answer = conforms(member_api.post("/v2/access-tokens", body), ACCESS_TOKEN, 201)
    assert answer["expires_at"] == "2030-10-28T18:30:19.520861Z"
    past = {**CREATE_TOKEN_EXAMPLE, "token_label": "old", "expires_at": "2001-01-01T00:00:00Z"}
    response = member_api.post("/v2/access-tokens", past)
    assert list(conforms(response, VALUE_ERROR, 400)["fields"]) == ["expires_at"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"token_label": "This field is required.", "scopes": "This field is required."}),
        ({"token_label": "ci", "scopes": []}, {"scopes": "This list may not be empty."}),
        (
            {"token_label": "", "scopes": ["repo:read"]},
            {"token_label": "This field may not be blank."},
        ),
        (
            {"token_label": "x" * 101, "scopes": ["repo:read"]},
            {"token_label": "Ensure this field has no more than 100 characters."},
        ),
        (
            {"token_label": "ci", "scopes": "repo:read"},
            {"scopes": 'Expected a list of items but got type "str".'},
        ),
        ({"token_label": "ci", "scopes": ["repo:read"], "x": 1}, {"x": "Unknown field."}),
    ],
)
def test_create_access_token_bad_bodies(acme, member_api, body, fields):
    response = member_api.post("/v2/access-tokens", body)
    assert conforms(response, VALUE_ERROR, 400)["fields"] == fields
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("scope", ["repo:admin", "repo:public_read", "repo:delete", "admin"])
def test_scopes_the_portal_does_not_offer_are_refused(acme, member_api, scope):
    response = member_api.post("/v2/access-tokens", {"token_label": "ci", "scopes": [scope]})
    message = conforms(response, VALUE_ERROR, 400)["fields"]["scopes"]
    assert scope in message and "repo:read or repo:write" in message
    assert not AccessToken.objects.exists()


def test_a_duplicate_label_is_refused_like_on_the_page(acme, member_api):
    access_token_create(user=acme.member, name="ci")
    response = member_api.post("/v2/access-tokens", {"token_label": "ci", "scopes": ["repo:read"]})
    assert conforms(response, VALUE_ERROR, 400)["fields"] == {
        "token_label": "You already have an active token named 'ci'."
    }


def test_list_access_tokens_as_documented(acme, member_api, rf):
    first, _ = access_token_create(user=acme.member, name="one", scope="repo:read")
    access_token_create(user=acme.member, name="two")
    revoked, _ = access_token_create(user=acme.member, name="three")
    access_token_revoke(token=revoked)
    access_token_create(user=acme.owner, name="olivias")
    body = conforms(member_api.get("/v2/access-tokens"), GET_ACCESS_TOKENS_RESPONSE, 200)
    assert body["count"] == 3
    assert body["active_count"] == 2
    assert [t["token_label"] for t in body["results"]] == ["three", "two", "one"]
    assert {t["token_label"]: t["is_active"] for t in body["results"]} == {
        "one": True,
        "two": True,
        "three": False,
    }
    assert all(t["token"] == "" for t in body["results"])  # never the secret again
    page = member_api.get("/v2/access-tokens?page=2&page_size=2").json()
    assert [t["token_label"] for t in page["results"]] == ["one"]
    assert page["previous"] == "http://testserver/v2/access-tokens?page_size=2"
    assert page["next"] is None
    one = member_api.get(f"/v2/access-tokens/{first.uuid}")
    assert conforms(one, ACCESS_TOKEN, 200)["token_label"] == "one"


@pytest.mark.parametrize("query", ["page=0", "page=x", "page_size=0", "page_size=101", "page=5"])
def test_list_access_tokens_bad_pages_are_400(acme, member_api, query):
    response = member_api.get(f"/v2/access-tokens?{query}")
    assert set(conforms(response, VALUE_ERROR, 400)["fields"]) <= {"page", "page_size"}


def test_delete_access_token_revokes_it_and_its_sessions(acme, member_api, api):
    token, secret = access_token_create(user=acme.member, name="ci")
    session, _ = refresh_token_create(
        user_id=acme.member.pk, access_token_id=token.pk, client_id="x"
    )
    response = member_api.delete(f"/v2/access-tokens/{token.uuid}")
    assert response.status_code == 204
    assert response.content == b""
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert RefreshToken.objects.get(pk=session.pk).revoked_at is not None
    assert Api(f"Bearer {secret}").get("/api/v1/user").status_code == 401
    assert member_api.delete(f"/v2/access-tokens/{token.uuid}").status_code == 404
    listed = member_api.get(f"/v2/access-tokens/{token.uuid}").json()
    assert listed["is_active"] is False


def test_someone_elses_token_is_404(acme, member_api):
    token, _ = access_token_create(user=acme.owner, name="olivias")
    for call in (member_api.get, member_api.delete):
        assert conforms(call(f"/v2/access-tokens/{token.uuid}"), ERROR, 404)
    assert AccessToken.objects.get(pk=token.pk).revoked_at is None
    assert Api().get("/v2/access-tokens/not-a-uuid").status_code == 404


@pytest.mark.parametrize("how", ["repo:write", "repo:read", "token:repo:write"])
def test_access_tokens_cannot_manage_access_tokens(acme, api, how):
    """As on Docker Hub ("token issued from personal access token is not allowed"): a leaked
    token must not mint others that outlive its revocation, nor revoke its owner's."""
    caller = api(acme.member, how)
    other, _ = access_token_create(user=acme.member, name="other")
    for response in (
        caller.get("/v2/access-tokens"),
        caller.post("/v2/access-tokens", CREATE_TOKEN_EXAMPLE),
        caller.get(f"/v2/access-tokens/{other.uuid}"),
        caller.delete(f"/v2/access-tokens/{other.uuid}"),
    ):
        assert conforms(response, ERROR, 403)["detail"].startswith(
            "Access tokens cannot manage access tokens"
        )
    assert AccessToken.objects.filter(user=acme.member).count() == 2
    assert AccessToken.objects.get(pk=other.pk).revoked_at is None


def test_access_tokens_anonymous_401(db):
    assert conforms(Api().get("/v2/access-tokens"), ERROR, 401)
    assert conforms(Api().post("/v2/access-tokens", CREATE_TOKEN_EXAMPLE), ERROR, 401)
