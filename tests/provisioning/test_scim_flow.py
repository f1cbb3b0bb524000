"""An identity provider's life cycle of one person, over real HTTP against a live server:
created, put in a group, deactivated, deleted; and what follows in the portal (accounts,
memberships, tokens refused by the registry's token service, the organisation's history)."""

import base64

import httpx2
import pytest
from django.contrib.auth import get_user_model

from orgs.models import Team, TeamMembership
from policies.models import PolicyChange
from provisioning.models import ProvisionedAccount, ScimToken
from tests.conftest import REGISTRY_SERVICE
from tests.factories import make_user
from tokens.models import AccessToken, RefreshToken
from tokens.services import access_token_create, refresh_token_create

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def okta_user(username: str, **extra) -> dict:
    """A User as Okta sends it (with attributes the portal does not keep: type, primary)."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": username,
        "name": {"givenName": "Alice", "familyName": "Liddell"},
        "emails": [{"primary": True, "value": f"{username}@acme.example", "type": "work"}],
        "displayName": "Alice Liddell",
        "externalId": "00u1abcd",
        "active": True,
        **extra,
    }


def registry_token(url: str, username: str, secret: str) -> httpx2.Response:
    """A token request as docker sends it: GET with Basic credentials."""
    credentials = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return httpx2.get(
        f"{url}/auth/token",
        params={"service": REGISTRY_SERVICE, "scope": "repository:acme/app:pull"},
        headers={"Authorization": f"Basic {credentials}"},
        timeout=30,
    )


def provisioning_lines(organization) -> list[str]:
    changes = PolicyChange.objects.filter(organization=organization).order_by("id")
    return [line for change in changes for line in change.described() if "Provisioning" in line]


def test_create_group_deactivate_delete(acme, scim_http, scim_token, live_server, token_keys):
    created = scim_http.post("/Users", json=okta_user("alice"))
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"].startswith("application/scim+json")
    alice_id = created.json()["id"]
    assert created.json()["emails"] == [{"value": "alice@acme.example"}]
    alice = User.objects.get(username="alice")
    assert not alice.has_usable_password() and alice.email == "alice@acme.example"
    assert alice.first_name == "Alice" and alice.is_active
    members = Team.objects.get(organization=acme.org, name="members")
    assert TeamMembership.objects.filter(team=members, user=alice).exists()
    account = ProvisionedAccount.objects.get(organization=acme.org, user=alice)
    assert account.created_account and account.external_id == "00u1abcd"

    found = scim_http.get("/Users", params={"filter": 'userName eq "ALICE"'}).json()
    assert [user["id"] for user in found["Resources"]] == [alice_id]
    found = scim_http.get("/Users", params={"filter": 'externalId eq "00u1abcd"'}).json()
    assert found["totalResults"] == 1

    group = scim_http.post(
        "/Groups",
        json={"schemas": [GROUP_SCHEMA], "displayName": "Platform Engineers", "members": []},
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    team = Team.objects.get(pk=group_id)
    assert team.name == "platform-engineers" and team.organization == acme.org
    added = scim_http.patch(
        f"/Groups/{group_id}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": alice_id}]}],
        },
    )
    assert added.status_code in (200, 204), added.text
    assert TeamMembership.objects.filter(team=team, user=alice).exists()
    found = scim_http.get("/Groups", params={"filter": 'displayName eq "Platform Engineers"'})
    assert [member["value"] for member in found.json()["Resources"][0]["members"]] == [alice_id]

    # Alice signs in to the portal (through SSO) and makes a token; docker signs in with it.
    _, secret = access_token_create(user=alice, name="laptop")
    token = AccessToken.objects.get(user=alice)
    session, _ = refresh_token_create(user_id=alice.pk, access_token_id=token.pk, client_id="d")
    assert registry_token(live_server.url, "alice", secret).status_code == 200

    deactivated = scim_http.patch(
        f"/Users/{alice_id}",
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated.status_code in (200, 204), deactivated.text
    alice.refresh_from_db()
    assert not alice.is_active  # the account belonged only to acme's identity provider
    assert not TeamMembership.objects.filter(team__organization=acme.org, user=alice).exists()
    assert AccessToken.objects.get(pk=token.pk).revoked_at is not None
    assert RefreshToken.objects.get(pk=session.pk).revoked_at is not None
    refused = registry_token(live_server.url, "alice", secret)
    assert refused.status_code == 401, refused.text
    assert scim_http.get(f"/Users/{alice_id}").json()["active"] is False
    # A deprovisioned person does not come back through a group.
    again = scim_http.patch(
        f"/Groups/{group_id}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": alice_id}]}],
        },
    )
    assert again.status_code == 400 and again.json()["scimType"] == "invalidValue"

    assert scim_http.delete(f"/Users/{alice_id}").status_code == 204
    assert scim_http.get(f"/Users/{alice_id}").status_code == 404
    assert User.objects.filter(pk=alice.pk, is_active=False).exists()  # kept, deactivated
    assert scim_http.delete(f"/Groups/{group_id}").status_code == 204
    assert not Team.objects.filter(pk=group_id).exists()

    lines = provisioning_lines(acme.org)
    assert lines[:3] == [
        "Provisioning (SCIM): SCIM token 'okta' created",
        "Provisioning (SCIM): account alice created and provisioned (token 'okta')",
        "Provisioning (SCIM): alice joined team members (token 'okta')",
    ]
    assert any(
        "alice deprovisioned: left 2 team(s), 1 access token(s) revoked" in line for line in lines
    )
    assert any("account deactivated" in line for line in lines)
    assert any("team platform-engineers deleted" in line for line in lines)
    assert ScimToken.objects.get(pk=scim_token[0].pk).last_used_at is not None


def test_existing_account_of_another_organization_is_not_taken_over(acme, scim_http):
    """oscar is in globex only: acme's identity provider cannot create (take) him."""
    answer = scim_http.post("/Users", json=okta_user("oscar"))
    assert answer.status_code == 409, answer.text
    assert answer.json()["scimType"] == "uniqueness"
    assert not ProvisionedAccount.objects.filter(user=acme.outsider).exists()
    assert not TeamMembership.objects.filter(team__organization=acme.org, user=acme.outsider)


def test_an_existing_member_is_taken_over_without_changing_the_account(acme, scim_http):
    mike = acme.member
    mike.email = "mike@home.example"
    mike.save()
    answer = scim_http.post("/Users", json=okta_user("mike", active=True))
    assert answer.status_code == 201, answer.text
    mike.refresh_from_db()
    assert mike.email == "mike@home.example" and mike.has_usable_password()
    account = ProvisionedAccount.objects.get(organization=acme.org, user=mike)
    assert not account.created_account
    # Deprovisioned: he leaves acme, his tokens are revoked, but the account is his own: kept.
    _, secret = access_token_create(user=mike, name="ci")
    gone = scim_http.put(f"/Users/{mike.pk}", json=okta_user("mike", active=False))
    assert gone.status_code == 200, gone.text
    mike.refresh_from_db()
    assert mike.is_active
    assert not TeamMembership.objects.filter(team__organization=acme.org, user=mike).exists()
    assert not AccessToken.objects.filter(user=mike, revoked_at__isnull=True).exists()


def test_the_last_owner_is_never_deprovisioned(acme, scim_http):
    olivia = acme.owner
    answer = scim_http.patch(
        f"/Users/{olivia.pk}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert answer.status_code == 409, answer.text
    assert answer.headers["Content-Type"].startswith("application/scim+json")
    assert "last owner of acme" in answer.json()["detail"]
    assert scim_http.delete(f"/Users/{olivia.pk}").status_code == 409
    assert TeamMembership.objects.filter(team__organization=acme.org, user=olivia).exists()
    owners = scim_http.get("/Groups", params={"filter": 'displayName eq "owners"'}).json()
    owners_id = owners["Resources"][0]["id"]
    assert scim_http.delete(f"/Groups/{owners_id}").status_code == 400
    emptied = scim_http.put(
        f"/Groups/{owners_id}",
        json={"schemas": [GROUP_SCHEMA], "displayName": "owners", "members": []},
    )
    assert emptied.status_code == 409, emptied.text
    # With a second owner, the first can go.
    make_user("owen")
    owen = User.objects.get(username="owen")
    TeamMembership.objects.create(team=Team.objects.get(pk=owners_id), user=owen)
    assert scim_http.delete(f"/Users/{olivia.pk}").status_code == 204
