"""The registry token service, ``/auth/token`` by ``GET`` (Basic auth) and ``POST`` (the OAuth2
form), through Django's test client."""

import base64
import contextlib
import datetime as dt
import logging
import re
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection
from django.utils import timezone

from orgs.models import Team, TeamMembership
from tests.e2e.registry import free_port
from tests.factories import PASSWORD, make_user, set_policy
from tests.tokens.conftest import ISSUER, SERVICE, URL
from tokens.models import AccessToken
from tokens.services import access_token_create, access_token_revoke

FOUR = ["library/alpine", "acme/app", "bitnami/redis", "someone/thing"]


def pulls(*names):
    return [f"repository:{name}:pull" for name in names]


def assert_unauthorized(response):
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["code"] == "UNAUTHORIZED"
    assert body["errors"][0]["message"]
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert "token" not in body


# --- authentication ---------------------------------------------------------------------


def test_access_token_in_basic_auth(acme, ask, granted, token_of):
    response = ask(*pulls("library/alpine"), auth=token_of(acme.member))
    assert granted(response) == {"library/alpine": ["pull"]}


def test_password_in_basic_auth(acme, ask, claims_of):
    claims = claims_of(ask(*pulls("library/alpine"), auth=("mike", PASSWORD)))
    assert claims["sub"] == "mike"
    assert claims["access"] == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]}
    ]


def test_password_sign_in_can_be_turned_off(acme, ask, granted, token_of, settings):
    settings.REGISTRY_PASSWORD_AUTH = False
    response = ask(*pulls("library/alpine"), auth=("mike", PASSWORD))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert granted(ask(*pulls("library/alpine"), auth=token_of(acme.member))) == {
        "library/alpine": ["pull"]
    }


def test_response_is_not_cacheable(acme, ask, token_of):
    response = ask(*pulls("library/alpine"), auth=token_of(acme.member))
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    refused = ask(*pulls("library/alpine"), auth=("mike", "iamp_" + "x" * 43))
    assert refused.status_code == 401
    assert refused["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "case",
    [
        "wrong password",
        "unknown user",
        "revoked token",
        "expired token",
        "inactive user with token",
        "inactive user with password",
        "someone else's token",
        "malformed token",
        "malformed header",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_credentials_are_401(acme, ask, client, token_of, case, method):
    mike = acme.member
    if case == "wrong password":
        auth = ("mike", "not-the-password")
    elif case == "unknown user":
        auth = ("nobody", PASSWORD)
    elif case == "revoked token":
        auth = token_of(mike)
        access_token_revoke(token=AccessToken.objects.get(user=mike))
    elif case == "expired token":
        auth = token_of(mike, expires_days=1)
        AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case.startswith("inactive user"):
        auth = token_of(mike) if case.endswith("token") else ("mike", PASSWORD)
        mike.is_active = False
        mike.save()
    elif case == "someone else's token":
        auth = ("mike", token_of(acme.owner)[1])
    elif case == "malformed token":
        auth = ("mike", token_of(mike)[1][:-1] + "~")
    elif method == "GET":
        response = client.get(
            URL,
            {"service": SERVICE, "scope": "repository:library/alpine:pull"},
            HTTP_AUTHORIZATION="Basic !!!not-base64",
        )
        assert_unauthorized(response)
        return
    else:  # the form's counterpart: a password grant without the password
        auth = ("mike", "")

    assert_unauthorized(ask(*pulls("library/alpine"), auth=auth, method=method))


def test_no_credentials_is_401(acme, ask):
    response = ask(*pulls("library/alpine"))
    assert_unauthorized(response)
    assert "sign-in required" in response.json()["errors"][0]["message"]


def test_anonymous_pulls_when_allowed(acme, ask, claims_of, settings):
    settings.ANONYMOUS_PULLS = True
    claims = claims_of(ask("repository:library/alpine:pull,push", *pulls("acme/app")))
    assert claims["sub"] == ""
    assert claims["access"] == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]},
        {"type": "repository", "name": "acme/app", "actions": ["pull"]},
    ]


# --- the token and the response --------------------------------------------------------------


def test_the_jwt_verifies_with_the_certificate_and_has_the_claims_the_registry_needs(
    acme, ask, claims_of, signing, token_of
):
    before = int(dt.datetime.now(dt.UTC).timestamp())
    response = ask(*pulls("library/alpine"), auth=token_of(acme.member))
    after = int(dt.datetime.now(dt.UTC).timestamp())
    claims = claims_of(response)

    assert claims["iss"] == ISSUER
    assert isinstance(claims["aud"], str) and claims["aud"] == SERVICE
    for name in ("exp", "nbf", "iat"):
        assert type(claims[name]) is int
    assert before <= claims["iat"] <= after
    assert claims["nbf"] <= claims["iat"]
    assert claims["exp"] - claims["iat"] == 300
    assert claims["sub"] == "mike"
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16

    header = jwt.get_unverified_header(response.json()["token"])
    assert header["alg"] == "ES256"
    assert base64.b64decode(header["x5c"][0], validate=True) == signing.public_bytes(Encoding.DER)

    body = response.json()
    assert body["access_token"] == body["token"]
    assert body["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    issued = dt.datetime.strptime(body["issued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert int(issued.timestamp()) == claims["iat"]


def test_each_token_has_its_own_jti(acme, ask, claims_of, token_of):
    auth = token_of(acme.member)
    jtis = {claims_of(ask(*pulls("library/alpine"), auth=auth))["jti"] for _ in range(3)}
    assert len(jtis) == 3


def test_ttl_follows_the_setting(acme, ask, claims_of, settings, token_of):
    settings.TOKEN_TTL_SECONDS = 42
    response = ask(*pulls("library/alpine"), auth=token_of(acme.member))
    claims = claims_of(response)
    assert claims["exp"] - claims["iat"] == 42
    assert response.json()["expires_in"] == 42


def test_several_scopes_in_several_parameters_and_in_one(acme, ask, granted, token_of):
    auth = token_of(acme.member)
    response = ask(
        "repository:library/alpine:pull repository:acme/app:pull,push",
        "repository:bitnami/redis:pull",
        auth=auth,
    )
    assert granted(response) == {
        "library/alpine": ["pull"],
        "acme/app": ["pull", "push"],
        "bitnami/redis": ["pull"],
    }


def test_no_scope_is_a_token_granting_nothing(acme, ask, claims_of, token_of):
    """``docker login`` asks without a scope: the credentials are checked, nothing granted."""
    claims = claims_of(ask(auth=token_of(acme.member)))
    assert claims["access"] == []
    assert claims["sub"] == "mike"


# --- what is granted -----------------------------------------------------------------


def test_management_off_member_pulls_everything(acme, ask, granted, token_of):
    assert granted(ask(*pulls(*FOUR), auth=token_of(acme.member))) == {
        name: ["pull"] for name in FOUR
    }


def test_management_on_official_only(acme, ask, granted, token_of, caplog):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    with caplog.at_level(logging.INFO, logger="tokens.endpoint"):
        response = ask(*pulls(*FOUR, "alpine"), auth=token_of(acme.member))
    assert granted(response) == {
        "library/alpine": ["pull"],
        "alpine": ["pull"],  # Docker Hub's short form of library/alpine
        "acme/app": ["pull"],
    }
    # Operators can see why: each refusal is logged with the engine's reason.
    assert (
        "Refused to 'mike': pull bitnami/redis: Docker Verified Publisher images are blocked "
        "by acme's Image Access Management.; pull someone/thing: Community images are blocked "
        "by acme's Image Access Management." in caplog.text
    )


def test_management_on_verified_publishers_only(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True, publishers=True)
    response = ask(*pulls(*FOUR), auth=token_of(acme.member))
    assert granted(response) == {"acme/app": ["pull"], "bitnami/redis": ["pull"]}


def test_management_on_nothing_allowed_still_allows_own_images(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    response = ask(*pulls(*FOUR), auth=token_of(acme.member))
    assert granted(response) == {"acme/app": ["pull"]}


def test_owners_pull_everything(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    response = ask(*pulls(*FOUR), auth=token_of(acme.owner))
    assert granted(response) == {name: ["pull"] for name in FOUR}


def test_the_policy_change_applies_to_the_next_token(acme, ask, granted, token_of):
    auth = token_of(acme.member)
    assert "bitnami/redis" in granted(ask(*pulls("bitnami/redis"), auth=auth))
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    assert granted(ask(*pulls("bitnami/redis"), auth=auth)) == {}


def test_other_orgs_policy_does_not_apply(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    response = ask(*pulls(*FOUR), auth=token_of(acme.outsider))
    assert granted(response) == {name: ["pull"] for name in FOUR}


def test_members_push_only_to_their_orgs_namespace(acme, ask, granted, token_of):
    response = ask(
        *(f"repository:{name}:pull,push" for name in [*FOUR, "globex/app"]),
        auth=token_of(acme.member),
    )
    assert granted(response) == {
        "library/alpine": ["pull"],
        "acme/app": ["pull", "push"],
        "bitnami/redis": ["pull"],
        "someone/thing": ["pull"],
        "globex/app": ["pull"],
    }


def test_push_is_granted_even_where_the_policy_denies_the_pull(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    response = ask(
        "repository:acme/app:push", "repository:someone/thing:pull,push", auth=token_of(acme.member)
    )
    assert granted(response) == {"acme/app": ["push"]}


def test_staff_push_anywhere(db, ask, granted, token_of):
    admin = make_user("admin", is_staff=True)
    response = ask(*(f"repository:{name}:pull,push" for name in FOUR), auth=token_of(admin))
    assert granted(response) == {name: ["pull", "push"] for name in FOUR}


@pytest.mark.parametrize("staff", [False, True])
def test_delete_and_wildcard_are_never_granted(acme, ask, granted, token_of, staff):
    user = acme.member
    if staff:
        user.is_staff = True
        user.save()
    response = ask(
        "repository:acme/app:pull,push,delete",
        "repository:acme/other:*",
        "repository:library/alpine:delete",
        auth=token_of(user),
    )
    assert granted(response) == {"acme/app": ["pull", "push"]}


def test_registry_catalog_is_dropped(db, ask, claims_of, token_of):
    admin = make_user("admin", is_staff=True)
    response = ask("registry:catalog:*", *pulls("library/alpine"), auth=token_of(admin))
    assert claims_of(response)["access"] == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]}
    ]


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        "repository:library/Alpine:pull",
        "repository:Acme/app:pull",
        "repository:localhost:5000/acme/app:pull,push",
        "repository:alpine",
        "repository:alpine:Pull",
        "junk",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_invalid_scope_is_400(acme, ask, token_of, scope, method):
    response = ask(*pulls("library/alpine"), scope, auth=token_of(acme.member), method=method)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "INVALID_SCOPE"
    assert repr(scope) in error["message"]
    assert "token" not in response.json()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_service_is_400(acme, ask, token_of, method):
    response = ask(
        *pulls("library/alpine"),
        auth=token_of(acme.member),
        service="other-registry",
        method=method,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert "'other-registry'" in response.json()["errors"][0]["message"]


def test_service_may_be_left_out(acme, ask, claims_of, token_of):
    claims = claims_of(ask(*pulls("library/alpine"), auth=token_of(acme.member), service=None))
    assert claims["aud"] == SERVICE


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_get_a_json_405(acme, client, signing, method, caplog):
    response = client.generic(method, URL, "grant_type=password")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert response["Cache-Control"] == "no-store"


def test_missing_signing_key_is_503(acme, ask, settings, tmp_path, token_of, caplog):
    settings.TOKEN_SIGNING_KEY_FILE = tmp_path / "nowhere" / "token.key"
    response = ask(*pulls("library/alpine"), auth=token_of(acme.member))
    assert response.status_code == 503
    assert response.json() == {
        "errors": [{"code": "UNAVAILABLE", "message": "The token service is not configured."}]
    }
    assert "Token signing key unavailable" in caplog.text


@contextlib.contextmanager
def unreachable_database(tmp_path):
    """Point the default connection at a database that really cannot be opened, then restore.

    PostgreSQL: the connection is closed and the port changed to one where nothing listens.
    SQLite: the test database lives in memory and dies with its last connection, so that
    connection is set aside (not closed) and the name changed to a path that cannot be opened.
    """
    saved_settings = dict(connection.settings_dict)
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    saved_connection = connection.connection
    if in_memory:
        connection.connection = None
    else:
        connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-dir" / "db.sqlite3")
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved_settings)
        if in_memory:
            connection.connection = saved_connection


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("credential", ["token", "password"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_database_unreachable_is_503_and_no_token(
    ask, claims_of, tmp_path, caplog, credential, method
):
    mike = make_user("mike")
    auth = (
        ("mike", PASSWORD)
        if credential == "password"
        else ("mike", access_token_create(user=mike, name="ci")[1])
    )

    with unreachable_database(tmp_path):
        response = ask(*pulls("library/alpine"), auth=auth, method=method)

    assert response.status_code == 503
    assert response.json() == {
        "errors": [
            {"code": "UNAVAILABLE", "message": "The token service is temporarily unavailable."}
        ]
    }
    assert "database unavailable" in caplog.text
    assert "Traceback" not in caplog.text
    # The same request succeeds once the database is back: the outage was the only cause.
    assert claims_of(ask(*pulls("library/alpine"), auth=auth, method=method))["sub"] == "mike"


# --- cost -----------------------------------------------------------------------------------


def test_queries_do_not_grow_with_the_organisation(
    acme, ask, granted, token_of, django_assert_num_queries
):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"member{i:04}", password="!") for i in range(1998)
    )
    developers = Team.objects.get(organization=acme.org, name="developers")
    TeamMembership.objects.bulk_create(TeamMembership(team=developers, user=u) for u in users)
    assert (
        TeamMembership.objects.filter(team__organization=acme.org).values("user").distinct().count()
        == 2000
    )

    auth = token_of(acme.member)
    scopes = [*pulls(*FOUR), "repository:acme/app:pull,push"]
    # One query reads the token, its user and the memberships epoch, one the verified
    # publishers among the namespaces, one the allowlist entries that could match the refused
    # repositories, and one INSERT records the decisions (one row per scope asking to pull);
    # the first use adds the read of the memberships with their policies and grants (kept
    # while the epoch stays) and the last_used_at write (at most once a minute).
    with django_assert_num_queries(6):
        first = ask(*scopes, auth=auth)
    with django_assert_num_queries(4):
        response = ask(*scopes, auth=auth)

    expected = {"library/alpine": ["pull"], "acme/app": ["pull", "push"]}
    assert granted(first) == expected
    assert granted(response) == expected


def test_the_token_read_is_a_prepared_statement_on_postgresql(acme, ask, granted, token_of):
    """PostgreSQL plans the token service's read once per connection, not once per request."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL feature")
    auth = token_of(acme.member)
    # psycopg prepares a statement once it has run prepare_threshold times on the connection.
    for _ in range(connection.connection.prepare_threshold + 1):
        assert granted(ask(*pulls("library/alpine", "bitnami/redis"), auth=auth))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('"tokens_accesstoken"' in text and "$1" in text for text in statements), statements
    assert any('"policies_publisher"' in text for text in statements), statements


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("health_checks", [True, False], ids=["web pool", "token pool"])
def test_a_connection_the_server_dropped_is_replaced_without_a_failed_request(
    claims_of, ask, health_checks
):
    """When the server has dropped a kept connection (a restart, an idle timeout), the client
    never sees the failure: on the web pool the next request's first query finds out first
    (Django's CONN_HEALTH_CHECKS, at the start of each request, as the WSGI handler's
    request_started does; the test client skips it) and opens a new one; the token pool has no
    health check, and its read, finding the connection dropped, runs once more on a new one."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: a server-side backend to terminate")
    import psycopg

    connection.settings_dict["CONN_HEALTH_CHECKS"] = health_checks

    mike = make_user("mike")
    auth = ("mike", access_token_create(user=mike, name="ci")[1])
    assert claims_of(ask(*pulls("library/alpine"), auth=auth))["sub"] == "mike"
    backend = connection.connection.info.backend_pid
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    close_old_connections()  # what every request of a WSGI server starts with
    response = ask(*pulls("library/alpine"), auth=auth)
    assert claims_of(response)["access"] == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]}
    ]
    assert connection.connection.info.backend_pid != backend
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
