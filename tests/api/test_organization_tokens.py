"""The API of access tokens for owners (an organisation's tokens, its members' personal tokens)
and organisation tokens as the API's bearer."""

import pytest
from django.core import mail

from policies.models import PolicyChange
from tests.api.conftest import Api
from tests.conftest import REGISTRY_SERVICE
from tests.factories import make_org_token, set_policy
from tests.tokens.conftest import basic
from tokens.models import AccessToken, OrganizationToken
from tokens.services import access_token_create, organization_token_revoke

TOKENS = "/api/v1/orgs/acme/tokens"


def test_owners_create_list_and_revoke(acme, api, client, token_keys):
    owner = api(acme.owner)
    body = {"name": "ci", "scope": "repo:write", "repositories": ["acme/app"]}
    response = owner.post(TOKENS, {**body, "expires_in_days": 30})
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    created = response.json()
    assert created["token"].startswith("iamo_")
    assert (created["label"], created["repositories"], created["status"]) == (
        "acme/ci",
        ["acme/app"],
        "active",
    )
    signed_in = client.get(
        "/auth/token",
        {"service": REGISTRY_SERVICE, "scope": "repository:acme/app:push"},
        HTTP_AUTHORIZATION=basic("acme", created["token"]),
    )
    assert signed_in.json()["scope"] == "repository:acme/app:push"
    (listed,) = owner.get(TOKENS).json()["results"]
    assert listed["token"] == "" and listed["uuid"] == created["uuid"]
    assert owner.delete(f"{TOKENS}/{created['uuid']}").status_code == 204
    assert OrganizationToken.objects.get().status == "revoked"
    kinds = [next(iter(change.changes)) for change in PolicyChange.objects.all()]
    assert kinds[:2] == ["org_token_revoked", "org_token_created"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "ci", "expires_in_days": None}, "expires_in_days"),  # never: not allowed
        ({"name": "ci", "expires_in_days": 7}, "expires_in_days"),
        ({"name": "ci", "expires_in_days": 30, "repositories": ["a/*/b"]}, "repositories"),
        ({"name": "ci", "expires_in_days": 30, "repositories": ["acme/a acme/b"]}, "repositories"),
        ({"name": "", "expires_in_days": 30}, "name"),
        ({"name": "ci", "expires_in_days": 30, "scope": "repo:admin"}, "scope"),
    ],
)
def test_creation_says_what_is_wrong(acme, api, body, field):
    response = api(acme.owner).post(TOKENS, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not OrganizationToken.objects.exists()


def test_personal_access_tokens_read_but_never_mint_or_revoke(acme, api):
    token, _ = make_org_token(acme.org, by=acme.owner)
    with_token = api(acme.owner, "repo:write")
    assert with_token.get(TOKENS).status_code == 200
    response = with_token.post(TOKENS, {"name": "x", "expires_in_days": 30})
    assert response.status_code == 403
    assert "cannot manage access tokens" in response.json()["detail"]
    assert with_token.delete(f"{TOKENS}/{token.uuid}").status_code == 403
    assert OrganizationToken.objects.get().status == "active"


def test_another_organisations_token_is_not_found(acme, api):
    token, _ = make_org_token(acme.globex, by=acme.gina)
    assert api(acme.owner).delete(f"{TOKENS}/{token.uuid}").status_code == 404
    assert OrganizationToken.objects.get().status == "active"


def test_members_tokens_listed_and_revoked_with_a_mail(
    acme, api, django_capture_on_commit_callbacks
):
    acme.member.email = "mike@example.com"
    acme.member.save()
    token, secret = access_token_create(user=acme.member, name="laptop")
    owner = api(acme.owner)
    (listed,) = owner.get("/api/v1/orgs/acme/member-tokens").json()["results"]
    assert listed["member"] == "mike" and listed["hint"] == token.hint
    assert secret not in str(listed)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.delete(f"/api/v1/orgs/acme/member-tokens/{token.uuid}")
    assert response.status_code == 204
    assert AccessToken.objects.get().revoked_by_organization == "acme"
    assert [m.to for m in mail.outbox] == [["mike@example.com"]]
    assert owner.delete(f"/api/v1/orgs/acme/member-tokens/{token.uuid}").status_code == 404


# --- an organisation token as the API's bearer ----------------------------------------------


@pytest.fixture
def org_api(acme):
    _token, secret = make_org_token(acme.org, by=acme.owner, repositories="acme/** library/*")
    return Api(f"Bearer {secret}")


def test_it_says_who_it_is(acme, org_api):
    response = org_api.get("/api/v1/user")
    assert response.json() == {"username": "acme/ci-pipeline", "scope": "repo:read"}
    assert OrganizationToken.objects.get().last_used_at is not None


def test_it_checks_as_a_plain_member_of_its_organisation(acme, org_api):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    response = org_api.post("/api/v1/check", {"reference": "ubuntu"})
    assert response.status_code == 200
    assert (response.json()["allowed"], response.json()["organization"]) == (False, "acme")
    assert org_api.post("/api/v1/check", {"reference": "acme/app"}).json()["allowed"] is True


def test_a_check_outside_its_patterns_is_refused(acme, org_api):
    response = org_api.post("/api/v1/check", {"reference": "bitnami/redis"})
    assert response.status_code == 403
    assert "outside the organization token's repositories" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/orgs"),
        ("GET", "/api/v1/orgs/acme"),
        ("GET", TOKENS),
        ("POST", TOKENS),
        ("GET", "/v2/access-tokens"),
        ("GET", "/v2/orgs/acme/settings"),
        ("GET", "/api/v1/user/activity"),
    ],
)
def test_everything_else_is_refused_saying_why(acme, org_api, method, url):
    response = org_api.call(method, url, {} if method == "POST" else None)
    assert response.status_code == 403, response.content
    assert "Organization access tokens pull and push at the registry" in (response.json()["detail"])


def test_a_revoked_token_is_a_401(acme, org_api):
    organization_token_revoke(token=OrganizationToken.objects.get(), actor=acme.owner)
    response = org_api.get("/api/v1/user")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_no_bearer_is_made_from_it(acme):
    _token, secret = make_org_token(acme.org, by=acme.owner, name="x")
    response = Api().post("/v2/auth/token", {"identifier": "acme", "secret": secret})
    assert response.status_code == 401
    assert "send the token itself" in response.json()["detail"]
