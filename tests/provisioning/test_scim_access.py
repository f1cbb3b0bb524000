"""Who may use the SCIM endpoint and what they see: only a working SCIM token, and only its
organisation's users and teams (another organisation's are a 404). Every answer is SCIM
JSON, hostile input included."""

import json

import pytest
from django.test import Client

from orgs.models import Team
from provisioning.models import ScimToken
from provisioning.services import scim_token_create, scim_token_revoke
from provisioning.views import MAX_BODY_BYTES

SCIM = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def call(client: Client, method: str, path: str, secret: str | None, body=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    return client.generic(
        method, f"/scim/v2{path}", data or "", content_type=SCIM, **headers, **extra
    )


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith(SCIM)
    error = response.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["status"] == str(status)
    if scim_type:
        assert error.get("scimType") == scim_type, error
    return error


@pytest.fixture
def tokens(acme):
    """SCIM secrets of acme and of globex."""
    return (
        scim_token_create(organization=acme.org, name="okta", actor=acme.owner)[1],
        scim_token_create(organization=acme.globex, name="entra", actor=acme.gina)[1],
    )


@pytest.mark.parametrize("path", ["/Users", "/Groups", "/Schemas", "/ResourceTypes", "/Users/1"])
def test_without_a_working_token_it_is_401_in_scim_json(acme, client, tokens, path):
    assert_scim_error(call(client, "GET", path, None), 401)
    assert_scim_error(call(client, "GET", path, "iams_" + "x" * 43), 401)
    assert_scim_error(client.get(f"/scim/v2{path}", HTTP_AUTHORIZATION=f"Basic {tokens[0]}"), 401)
    scim_token_revoke(token=ScimToken.objects.get(name="okta"), actor=acme.owner)
    assert_scim_error(call(client, "GET", path, tokens[0]), 401)


def test_the_service_provider_configuration_is_open(client):
    answer = client.get("/scim/v2/ServiceProviderConfig")
    assert answer.status_code == 200
    config = answer.json()
    assert config["patch"]["supported"] and config["filter"]["supported"]
    assert not config["bulk"]["supported"]
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_a_token_sees_only_its_organization(acme, client, tokens):
    acme_secret, globex_secret = tokens
    users = call(client, "GET", "/Users", acme_secret).json()
    assert {user["userName"] for user in users["Resources"]} == {"olivia", "mike"}
    groups = call(client, "GET", "/Groups", acme_secret).json()
    assert {group["displayName"] for group in groups["Resources"]} == {
        "owners",
        "members",
        "developers",
    }
    users = call(client, "GET", "/Users", globex_secret).json()
    assert {user["userName"] for user in users["Resources"]} == {"gina", "oscar"}
    found = call(client, "GET", "/Users?filter=userName%20eq%20%22mike%22", globex_secret).json()
    assert found["totalResults"] == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_organizations_users_and_teams_are_404(acme, client, tokens, method):
    _, globex_secret = tokens
    developers = Team.objects.get(organization=acme.org, name="developers")
    bodies = {
        "PUT": {"schemas": [USER_SCHEMA], "userName": "mike", "active": False},
        "PATCH": {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    }
    for path in (f"/Users/{acme.member.pk}", f"/Users/{acme.owner.pk}"):
        assert_scim_error(call(client, method, path, globex_secret, bodies.get(method)), 404)
    group_body = {
        "PUT": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"},
        "PATCH": {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "displayName", "value": "x"}],
        },
    }.get(method)
    answer = call(client, method, f"/Groups/{developers.pk}", globex_secret, group_body)
    assert_scim_error(answer, 404)
    acme.member.refresh_from_db()
    assert acme.member.is_active
    assert Team.objects.filter(pk=developers.pk, memberships__user=acme.member).exists()


def test_another_organizations_user_cannot_join_a_team(acme, client, tokens):
    _, globex_secret = tokens
    globex_team = Team.objects.get(organization=acme.globex, name="members")
    answer = call(
        client,
        "PATCH",
        f"/Groups/{globex_team.pk}",
        globex_secret,
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": str(acme.member.pk)}]}
            ],
        },
    )
    assert_scim_error(answer, 400, "invalidValue")
    assert not globex_team.memberships.filter(user=acme.member).exists()


# --- Hostile input -------------------------------------------------------------------------


def test_a_huge_body_is_refused_before_it_is_read(client, tokens):
    body = b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}"
    assert_scim_error(call(client, "POST", "/Users", tokens[0], body), 413)


def test_deep_json_is_a_400(client, tokens):
    body = '{"schemas": ["' + USER_SCHEMA + '"], "userName": "x", "name": ' + "[" * 5000
    body += "]" * 5000 + "}"
    assert_scim_error(call(client, "POST", "/Users", tokens[0], body), 400)


@pytest.mark.parametrize(
    "query",
    [
        'userName eq "unterminated',
        "userName zz 1",
        "((((((((((",
        'emails[value eq "x"',
        "nosuchattribute pr and",
    ],
)
def test_a_bad_filter_is_a_scim_400(client, tokens, query):
    answer = client.get(
        "/scim/v2/Users", {"filter": query}, HTTP_AUTHORIZATION=f"Bearer {tokens[0]}"
    )
    assert_scim_error(answer, 400, "invalidFilter")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/Users", "not json", 400),
        ("POST", "/Users", {"schemas": [USER_SCHEMA]}, 400),  # no userName
        ("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "bad name!"}, 400),
        ("POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "x" * 151}, 400),
        ("GET", "/Users/not-a-number", None, 404),
        ("GET", "/Users/99999999999999999999999", None, 404),
        ("GET", "/Nothing", None, 404),
        ("POST", "/Bulk", {"schemas": [], "Operations": []}, 501),
        ("PATCH", "/Users", {}, 405),
    ],
)
def test_bad_requests_answer_scim_json(acme, client, tokens, method, path, body, status):
    assert_scim_error(call(client, method, path, tokens[0], body), status)


def test_a_huge_count_is_bounded(acme, client, tokens):
    answer = call(client, "GET", "/Users?count=100000000&startIndex=1", tokens[0])
    assert answer.status_code == 200
    assert answer.json()["itemsPerPage"] <= 200


def test_pagination(acme, client, tokens):
    page = call(client, "GET", "/Users?startIndex=2&count=1", tokens[0]).json()
    assert page["totalResults"] == 2 and page["startIndex"] == 2
    assert [user["userName"] for user in page["Resources"]] == ["mike"]


def test_a_control_character_in_the_query_is_a_scim_400(client, tokens):
    answer = client.get(
        "/scim/v2/Users",
        {"filter": 'userName eq "a\x00"'},
        HTTP_AUTHORIZATION=f"Bearer {tokens[0]}",
    )
    assert_scim_error(answer, 400)


def test_a_request_django_refuses_is_a_scim_error(client, tokens, settings):
    settings.ALLOWED_HOSTS = ["portal.example"]
    answer = call(client, "GET", "/Users", tokens[0], HTTP_HOST="evil.example")
    assert_scim_error(answer, 400)


def test_a_trailing_slash_is_the_same_endpoint(acme, client, tokens):
    assert call(client, "GET", "/Users/", tokens[0]).json()["totalResults"] == 2


def test_search_by_post(acme, client, tokens):
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName sw "oli"',
    }
    found = call(client, "POST", "/Users/.search", tokens[0], body).json()
    assert [user["userName"] for user in found["Resources"]] == ["olivia"]


def test_a_deleted_user_can_be_provisioned_again(acme, client, tokens):
    body = {"schemas": [USER_SCHEMA], "userName": "alice", "active": True}
    alice_id = call(client, "POST", "/Users", tokens[0], body).json()["id"]
    assert call(client, "DELETE", f"/Users/{alice_id}", tokens[0]).status_code == 204
    again = call(client, "POST", "/Users", tokens[0], body)
    assert again.status_code == 201, again.content
    assert again.json()["id"] == alice_id and again.json()["active"] is True
    assert acme.org.teams.get(name="members").memberships.filter(user_id=alice_id).exists()


def test_a_deactivated_account_cannot_join_a_team(acme, client, tokens):
    """Site staff deactivated mike: the identity provider cannot put him in a team (400, not
    a server error)."""
    acme.member.is_active = False
    acme.member.save()
    members = Team.objects.get(organization=acme.org, name="members")
    answer = call(
        client,
        "PATCH",
        f"/Groups/{members.pk}",
        tokens[0],
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": str(acme.member.pk)}]}
            ],
        },
    )
    assert_scim_error(answer, 400, "invalidValue")
